"""Step 4, read the plan: the plan page of one version (steps 4-7 are its sections), its
families table alone, and its output files (step 7 hands them out)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from famassign.server.pages.checkins import latest_checkins
from famassign.server.pages.frame import guard, plan_record, reader, render
from famassign.server.pages.views import choices, family_page, plan_context
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
        "record": record,
        "families": family_page(record, dict(request.query_params)),
        "choices": choices(record.scenario),
    }
    return render(request, "families.html", context)


@router.get("/p/{pid}/files/{name}")
def plan_file(request: Request, pid: str, name: str) -> Response:
    """Step 7: download one output file of the plan."""
    guard(request)
    try:
        path = reader(request).plan_file(pid, name)
    except NotFoundError:
        raise HTTPException(404, "No such file.") from None
    return FileResponse(path, filename=name)


__all__ = ["router"]
