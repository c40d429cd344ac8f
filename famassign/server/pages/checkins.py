"""The advocates' workload check-ins (45 CFR 1302.52(d)(3)) on the plan page: the latest one of
each staff member beside their caseload, and one action that turns a stated number into a
personal cap (a new plan version moving the fewest families,
:func:`famassign.server.adjustments.cap_replan`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from famassign.server.adjustments import AdjustmentError, Replan, cap_replan
from famassign.server.pages.forms import plan_options
from famassign.server.pages.frame import service
from famassign.server.pages.replan import start_replan
from famassign.server.planner import PlanRecord
from famassign.server.roles import signed_in
from famassign.store import CheckinInfo, NotFoundError

router = APIRouter(include_in_schema=False)


def latest_checkins(request: Request, record: PlanRecord) -> list[dict[str, Any]]:
    """The latest check-in of each staff member of the plan, beside their families in it."""
    latest: dict[str, CheckinInfo] = {}
    for c in service(request).store.list_checkins():
        latest[c.staff_id] = c
    families = {c.staff_id: c.families for c in record.result.caseloads}
    return [
        {"checkin": c, "families": families.get(staff_id, 0)}
        for staff_id, c in sorted(latest.items())
        if staff_id in families
    ]


@router.post("/p/{pid}/cap")
async def personal_cap(request: Request, pid: str) -> Response:
    """Make a check-in's stated number the staff member's personal cap: a new plan version,
    re-planned moving the fewest families; the check-in records the job and who made it."""
    who = signed_in(request)
    chosen: list[int] = []

    def make(record: PlanRecord, form: Mapping[str, Any]) -> Replan:
        try:
            checkin = service(request).store.get_checkin(int(str(form.get("checkin_id", ""))))
        except (ValueError, NotFoundError):
            raise AdjustmentError("No such check-in.") from None
        if checkin.families_i_can_serve is None:
            raise AdjustmentError("This check-in states no number of families.")
        chosen.append(checkin.id)
        return cap_replan(
            record, checkin.staff_id, checkin.families_i_can_serve, plan_options(form)
        )

    def acted(job_id: str) -> None:
        service(request).store.mark_checkin_acted(chosen[0], job_id=job_id, by=who.name)

    return await start_replan(request, pid, make, started=acted)


__all__ = ["latest_checkins", "router"]
