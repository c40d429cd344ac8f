"""Step 3, plan: start the first plan of a scenario, follow its job's progress, cancel it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from famassign.models import ScenarioError
from famassign.models.summary import unplaceable
from famassign.server.adjustments import AdjustmentError, Replan, problems_text, with_weights
from famassign.server.job_options import PlanVersion
from famassign.server.jobs import QueueFull
from famassign.server.pages.forms import changed_weights, plan_options
from famassign.server.pages.frame import guard, reader, render, service
from famassign.server.pages.replan import start
from famassign.server.pages.views import job_view
from famassign.server.roles import signed_in
from famassign.server.service import InvalidRequest
from famassign.store import ConflictError, NotFoundError

router = APIRouter(include_in_schema=False)


@router.post("/s/{sid}/plan")
async def start_plan(request: Request, sid: str) -> Response:
    """Step 3: start planning; the job page shows progress."""
    guard(request)
    form = await request.form()
    return await run_in_threadpool(_start_plan, request, sid, dict(form))


def _start_plan(request: Request, sid: str, form: Mapping[str, Any]) -> Response:
    """Plan scenario `sid` (or, when the form changes its objective weights, a scenario derived
    from it with those weights); off to the job's page. 422 when the form is refused."""
    plans = reader(request)
    try:
        scenario = plans.scenario(sid)
        without = unplaceable(scenario)
        if without.confirm and not form.get("confirm_unplaced"):
            raise AdjustmentError(
                f"{without.families} families have no eligible staff member at all "
                f"({without.causes[0].cause}, ...): confirm to plan anyway"
            )
        options = plan_options(form)
        weights = changed_weights(scenario.weights.model_dump(), form)
        planned: str | None = sid
        if weights:
            changed = with_weights(scenario, weights)
            planned = plans.add_scenario(changed, derived_from=sid)
        replan = Replan(scenario, options, PlanVersion("first plan"))
        job_id = start(plans, replan, planned)
    except NotFoundError:
        raise HTTPException(404, "No such scenario.") from None
    except ScenarioError as exc:
        raise HTTPException(422, "; ".join(problems_text(exc))) from None
    except InvalidRequest as exc:
        raise HTTPException(422, exc.message) from None
    except (AdjustmentError, QueueFull, ValueError) as exc:
        raise HTTPException(422, str(exc)) from None
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@router.get("/jobs/{jid}", response_class=HTMLResponse)
def job_page(request: Request, jid: str) -> Response:
    """Step 3: live progress with a cancel button (a small module polls the status)."""
    guard(request)
    job = job_view(request, jid)
    if job["state"] == "done" and job["plan_id"]:
        return RedirectResponse(f"/p/{job['plan_id']}", status_code=303)
    return render(request, "job.html", {"step": "plan", "job": job})


@router.get("/jobs/{jid}/status")
def job_status(request: Request, jid: str) -> JSONResponse:
    """The job as JSON for the progress poll."""
    guard(request)
    return JSONResponse(job_view(request, jid))


@router.post("/jobs/{jid}/cancel")
def job_cancel(request: Request, jid: str) -> Response:
    """Cancel a job: the server's pool stops it; the store's audit log records it."""
    guard(request)
    try:
        service(request).cancel_job(
            jid, by=signed_in(request).name, reason="cancelled from the page"
        )
    except NotFoundError:
        raise HTTPException(404, "No such job.") from None
    except ConflictError:
        pass  # it ended meanwhile: the job page says how
    return RedirectResponse(f"/jobs/{jid}", status_code=303)


__all__ = ["router"]
