"""Step 5, adjust: move or pin a family, mark a staff member absent or departed, add a cap
exception; each a new plan version, re-planned from the plan's form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from famassign.server.adjustments import (
    Replan,
    check_move,
    exception_replan,
    leave_replan,
    move_replan,
)
from famassign.server.pages.forms import EXCEPTION_FIELDS, filled, form_date, plan_options
from famassign.server.pages.refusal import Refused
from famassign.server.pages.replan import start_replan
from famassign.server.planner import PlanRecord

router = APIRouter(include_in_schema=False)


def _move(record: PlanRecord, form: Mapping[str, Any]) -> Replan:
    """The plan with the form's family moved to its staff member; Refused when the evaluator
    finds a rule broken."""
    family_id = str(form.get("family_id", "")).strip()
    staff_id = str(form.get("staff_id", "")).strip()
    verdict = check_move(record, family_id, staff_id)
    if not verdict.allowed:
        rules = sorted({rule for rule, _ in verdict.broken})
        raise Refused("; ".join(rules), [v for _, v in verdict.broken])
    return move_replan(record, verdict, pin=bool(form.get("pin")), options=plan_options(form))


@router.post("/p/{pid}/move")
async def move(request: Request, pid: str) -> Response:
    """Move or pin a family: the evaluator checks the move; a rule broken refuses it."""
    return await start_replan(request, pid, _move)


def _leave(record: PlanRecord, form: Mapping[str, Any]) -> Replan:
    """The plan with the form's staff member absent (until a date, at a temporary cap) or
    departed."""
    cap_text = str(form.get("temporary_cap") or "").strip()
    return leave_replan(
        record,
        str(form.get("staff_id", "")),
        status=str(form.get("status", "departed")),
        until=form_date(form.get("until")),
        temporary_cap=int(cap_text) if cap_text else None,
        options=plan_options(form),
    )


@router.post("/p/{pid}/leave")
async def leave(request: Request, pid: str) -> Response:
    """Mark a staff member absent or departed and re-plan moving the fewest families."""
    return await start_replan(request, pid, _leave)


def _exception(record: PlanRecord, form: Mapping[str, Any]) -> Replan:
    """The plan under one more cap exception, the form's."""
    return exception_replan(record, filled(form, EXCEPTION_FIELDS), plan_options(form))


@router.post("/p/{pid}/exception")
async def add_exception(request: Request, pid: str) -> Response:
    """Add a waiver or a temporary exception with its reference and dates, then re-plan."""
    return await start_replan(request, pid, _exception)


__all__ = ["router"]
