"""Step 4, read the plan: the plan page of one version (steps 4-7 are its sections), its
families table alone, one staff member's view, and its output files (step 7 hands them out;
per-staff files such as ``handover/S1.html`` and ``rosters/S1.pdf`` by their path)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from famassign.models import StaffStatus
from famassign.models.words import staff_people
from famassign.server.pages.checkins import latest_checkins
from famassign.server.pages.frame import guard, plan_record, reader, render
from famassign.server.pages.views import (
    choices,
    family_page,
    plan_context,
    since_in_force,
    staff_views,
)
from famassign.store import NotFoundError

router = APIRouter(include_in_schema=False)


@router.get("/p/{pid}", response_class=HTMLResponse)
def plan_page(request: Request, pid: str) -> Response:
    """Steps 4-7 for one plan version: read, adjust, what if, publish and hand out."""
    guard(request)
    record = plan_record(request, pid)
    context = {
        "step": "read",
        **plan_context(request, record),
        "checkins": latest_checkins(request, record),
    }
    return render(request, "plan.html", context)


@router.get("/p/{pid}/families", response_class=HTMLResponse)
def families_fragment(request: Request, pid: str) -> Response:
    """The families table alone (the filter form asks for it without reloading the page)."""
    guard(request)
    record = plan_record(request, pid)
    context = {
        **since_in_force(request, record),
        "people": staff_people(record.scenario),
        "record": record,
        "families": family_page(record, dict(request.query_params)),
        "choices": choices(record.scenario),
    }
    return render(request, "families.html", context)


@router.get("/p/{pid}/staff/{sid}", response_class=HTMLResponse)
def staff_page(request: Request, pid: str, sid: str) -> Response:
    """One staff member in the plan, printable: their families and needs, load per FTE against
    the program's, the exceptions covering them, what changed since the plan in force."""
    guard(request)
    record = plan_record(request, pid)
    context = {"step": "read", "record": record, **staff_views(request, record, [sid])}
    return render(request, "staff.html", context)


@router.get("/p/{pid}/rosters", response_class=HTMLResponse)
def rosters_page(request: Request, pid: str) -> Response:
    """Every staff member's view of the plan who carries families or is active, one after the
    other; printed, each on its own page."""
    guard(request)
    record = plan_record(request, pid)
    carrying = {c.staff_id for c in record.result.caseloads if c.families}
    staff = record.scenario.staff
    ids = [s.staff_id for s in staff if s.staff_id in carrying or s.status is StaffStatus.active]
    context = {"step": "read", "record": record, **staff_views(request, record, ids)}
    return render(request, "staff.html", context)


@router.get("/p/{pid}/files/{name:path}")
def plan_file(request: Request, pid: str, name: str) -> Response:
    """Step 7: download one output file of the plan."""
    guard(request)
    try:
        path = reader(request).plan_file(pid, name)
    except NotFoundError:
        raise HTTPException(404, "No such file.") from None
    return FileResponse(path, filename=path.name)


__all__ = ["router"]
