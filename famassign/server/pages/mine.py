"""The advocate's own page: my families in the newest published plan (what each needs, what
changed), my load per FTE beside the program's, my hand-outs, and the workload check-in of
45 CFR 1302.52(d)(3). Everything shown is the signed-in advocate's own; the API enforces the
same (:mod:`famassign.server.roles`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from famassign.server.pages.frame import guard, reader, render, service
from famassign.server.roles import may_check_in, own_files, signed_in

router = APIRouter(include_in_schema=False)


def _number(text: object, low: float, high: float) -> float | None:
    """A form's number within [low, high], None when blank or not one."""
    try:
        value = float(str(text).strip())
    except ValueError:
        return None
    return value if low <= value <= high else None


def _my_plan(request: Request, staff_id: str) -> dict[str, Any] | None:
    """What the page shows of the newest published plan for staff member `staff_id`."""
    published = service(request).store.list_plans(published=True)
    if not published:
        return None
    record = reader(request).plan(published[0].id)
    fte = {s.staff_id: s.fte for s in record.scenario.staff}
    mine = [a for a in record.result.assignments if a.staff_id == staff_id]
    placed = sum(1 for a in record.result.assignments if a.staff_id is not None)
    working = sum(fte[c.staff_id] for c in record.result.caseloads if c.families > 0)
    return {
        "id": record.id,
        "families": mine,
        "my_per_fte": len(mine) / fte.get(staff_id, 1.0),
        "program_per_fte": placed / working if working else 0.0,
        "handouts": own_files(record.info.files, staff_id),
    }


@router.get("/mine", response_class=HTMLResponse)
def mine(request: Request) -> Response:
    """My families, my load, my hand-outs and the check-in form."""
    guard(request)
    who = signed_in(request)
    plan = _my_plan(request, who.staff_id) if who.staff_id else None
    checkins = service(request).store.list_checkins(staff_id=who.staff_id) if who.staff_id else []
    context = {"step": "", "me": who, "plan": plan, "checkins": checkins[-5:]}
    return render(request, "mine.html", context)


@router.post("/mine/checkin")
async def check_in(request: Request) -> Response:
    """File a workload check-in for my own caseload; back to my page."""
    guard(request)
    form = await request.form()
    who = signed_in(request)

    def run() -> Response:
        may_check_in(who, who.staff_id or "")
        manageable = _number(form.get("manageable"), 1, 5)
        if manageable is None:
            return RedirectResponse("/mine?refused=manageable", status_code=303)
        serve = _number(form.get("families_i_can_serve"), 0, 10000)
        service(request).store.add_checkin(
            staff_id=who.staff_id or "",
            user_id=who.subject or "",
            manageable=int(manageable),
            families_i_can_serve=int(serve) if serve is not None else None,
            hours_over=_number(form.get("hours_over"), 0, 1000),
            note=str(form.get("note") or "")[:5000],
        )
        return RedirectResponse("/mine#checkin", status_code=303)

    return await run_in_threadpool(run)


__all__ = ["router"]
