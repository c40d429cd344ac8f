"""Step 6, what if: plan a variant of the plan (one change of docs/variants.md), compare two
plans side by side, and ask the staffing question (the people to hire, computed in a worker)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from famassign.models.words import staff_people
from famassign.report import caseload_bars, legend_html, plan_facts, svg_bar_chart
from famassign.server.adjustments import Replan, plan_diff, whatif_replan
from famassign.server.pages.forms import WHATIF_FIELDS, filled, plan_options
from famassign.server.pages.frame import guard, plan_record, render, service
from famassign.server.pages.replan import start_replan
from famassign.server.pages.views import named_bars
from famassign.server.planner import PlanRecord

router = APIRouter(include_in_schema=False)


def _whatif(record: PlanRecord, form: Mapping[str, Any]) -> Replan:
    """The plan's variant under the form's change (named by the form, else by its kind)."""
    kind = str(form.get("change", ""))
    name = str(form.get("name", "")).strip() or kind.replace("_", " ")
    change = {kind: filled(form, WHATIF_FIELDS)}
    return whatif_replan(record, name, change, plan_options(form))


@router.post("/p/{pid}/whatif")
async def whatif(request: Request, pid: str) -> Response:
    """Plan a variant (one change of docs/variants.md) and compare it with this plan."""
    return await start_replan(request, pid, _whatif)


@router.post("/p/{pid}/staffing", response_class=HTMLResponse)
def staffing_page(request: Request, pid: str) -> Response:
    """The fewest people to hire that place every family of the plan's scenario with no
    exception (``famassign staffing``, run in a worker), shown as people."""
    guard(request)
    record = plan_record(request, pid)
    if record.scenario_id is None:
        raise HTTPException(404, "This plan has no scenario to ask about.")
    answer = service(request).staffing(record.scenario_id)
    return render(request, "staffing.html", {"step": "whatif", "record": record, "answer": answer})


@router.get("/compare/{left}/{right}", response_class=HTMLResponse)
def compare_page(request: Request, left: str, right: str) -> Response:
    """Two plans side by side: numbers, caseload charts on one scale, what changed."""
    guard(request)
    a, b = plan_record(request, left), plan_record(request, right)
    sides = []
    people = {**staff_people(a.scenario), **staff_people(b.scenario)}
    top = max([1.0] + [max(c.families, c.cap) for r in (a, b) for c in r.result.caseloads])
    for record in (a, b):
        facts = plan_facts(record.result, record.scenario)
        bars = named_bars(caseload_bars(record.result, record.scenario, facts), people)
        chart = svg_bar_chart(
            bars,
            title=f"Families per staff member: {record.meta['label']}",
            width=560,
            label_width=150,
            max_value=top,
        )
        sides.append({"record": record, "facts": facts, "chart": chart})
    context = {
        "step": "whatif",
        "sides": sides,
        "diff": plan_diff(a.result, b.result),
        "people": people,
        "legend": legend_html(),
    }
    return render(request, "compare.html", context)


__all__ = ["router"]
