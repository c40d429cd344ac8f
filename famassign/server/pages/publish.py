"""Step 7, publish: the plan of record, with who and why (the store's audit log keeps them)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from famassign.server.pages.frame import guard, plan_record, service
from famassign.server.pages.refusal import refuse
from famassign.server.roles import signed_in
from famassign.store import ConflictError

router = APIRouter(include_in_schema=False)


@router.post("/p/{pid}/publish")
async def publish(request: Request, pid: str) -> Response:
    """Publish with why (kept in the store's audit log); who published is the signed-in
    person."""
    guard(request)
    form = await request.form()
    by = signed_in(request).name
    reason = str(form.get("reason", "")).strip()

    def run() -> Response:
        record = plan_record(request, pid)
        if not by or not reason:
            return refuse(request, record, "Publishing needs a reason.")
        try:
            service(request).publish(pid, by=by, reason=reason)
        except ConflictError as exc:
            return refuse(request, record, str(exc))
        return RedirectResponse(f"/p/{pid}#publish", status_code=303)

    return await run_in_threadpool(run)


__all__ = ["router"]
