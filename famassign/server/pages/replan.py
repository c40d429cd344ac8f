"""Plans the page starts: a first plan, a version or a what-if, each a job of the server's
process pool; a re-plan the page refuses is shown on the plan page with why."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from famassign.models import ScenarioError
from famassign.server.adjustments import AdjustmentError, Replan, problems_text
from famassign.server.jobs import QueueFull
from famassign.server.pages.frame import guard, plan_record, reader
from famassign.server.pages.refusal import Refused, refuse
from famassign.server.pages.views import problem_rows
from famassign.server.planner import PlanReader, PlanRecord
from famassign.server.service import InvalidRequest, InvalidScenario

Adjustment = Callable[[PlanRecord, Mapping[str, Any]], Replan]
"""A re-plan made from a plan version and the form that asks for it."""


def start(plans: PlanReader, replan: Replan, scenario_id: str | None) -> str:
    """Record the scenario to plan (unless it is the stored `scenario_id`: then it is derived
    from the version's parent plan) and start its plan in the server's process pool; return
    the job's id."""
    if scenario_id is None:
        parent = replan.version.parent_plan_id or ""
        scenario_id = plans.add_scenario(replan.scenario, derived_from=parent)
    return plans.service.start_plan(scenario_id, replan.request, replan.version).id


async def start_replan(
    request: Request,
    pid: str,
    make: Adjustment,
    *,
    started: Callable[[str], None] | None = None,
) -> Response:
    """Read the form, make the re-plan from plan `pid` and start it in the server's pool; a
    request the page refuses is shown on the plan page with why. `started` is called with the
    job's id once the job is queued."""
    guard(request)
    form = dict(await request.form())

    def run() -> Response:
        record = plan_record(request, pid)
        try:
            replan = make(record, form)
            job_id = start(reader(request), replan, None)
            if started is not None:
                started(job_id)
        except Refused as exc:
            return refuse(request, record, exc.messages, exc.rules)
        except ScenarioError as exc:
            return refuse(request, record, problems_text(exc))
        except InvalidScenario as exc:
            return refuse(request, record, [row[3] for row in problem_rows(exc)])
        except InvalidRequest as exc:
            return refuse(request, record, exc.message)
        except (AdjustmentError, QueueFull, ValueError) as exc:
            return refuse(request, record, str(exc))
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)

    return await run_in_threadpool(run)


__all__ = ["Adjustment", "start", "start_replan"]
