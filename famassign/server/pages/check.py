"""Step 2, check: the scenario's summary, capacity against demand, the families no staff member
may serve (planning then asks to confirm), the exceptions in force, and the plan options of
step 3."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from famassign.models.summary import unplaceable
from famassign.server.pages.frame import guard, reader, render
from famassign.server.pages.views import demand_rows
from famassign.store import NotFoundError

router = APIRouter(include_in_schema=False)


@router.get("/s/{sid}", response_class=HTMLResponse)
def check(request: Request, sid: str) -> Response:
    """Step 2 and 3: the check summary and the plan options."""
    guard(request)
    plans = reader(request)
    try:
        loaded = plans.loaded(sid)
    except NotFoundError:
        raise HTTPException(404, "No such scenario.") from None
    scenario = loaded.scenario
    staff_status = Counter(s.status.value for s in scenario.staff)
    context = {
        "step": "check",
        "sid": sid,
        "scenario": scenario,
        "warnings": loaded.warnings,
        "notes": loaded.notes,
        "staff_status": staff_status,
        "demand": demand_rows(scenario),
        "in_force": scenario.exceptions_in_force(),
        "plans": plans.plans_of(sid),
        "weights": scenario.weights.model_dump(),
        "unplaceable": unplaceable(scenario),
    }
    return render(request, "check.html", context)


__all__ = ["router"]
