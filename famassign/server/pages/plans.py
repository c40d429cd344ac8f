"""The program's plans: every published plan and draft with its date, name, who and why, the
audit log (read-only), and renaming or deleting a draft (a published plan is kept as it is)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from famassign.server.pages.frame import guard, plan_record, render, service
from famassign.server.pages.refusal import refuse
from famassign.store import ConflictError

router = APIRouter(include_in_schema=False)

PAGE_BY = "planner page"
"""Who the audit log names for a rename or deletion made on the page without a name."""


@router.get("/plans", response_class=HTMLResponse)
def plans_page(request: Request) -> Response:
    """Every plan of the store, newest first (published ones with who, when and why; what-ifs
    marked), and the audit log, newest first."""
    guard(request)
    jobs = service(request)
    plans = jobs.store.list_plans()
    whatifs = {p.id for p in plans if jobs.whatif_origin(p.id) is not None}
    labels = {p.id: p.label or "first plan" for p in plans}
    context = {
        "step": "publish",
        "plans": plans,
        "whatifs": whatifs,
        "labels": labels,
        "audit": list(reversed(jobs.audit_log())),
    }
    return render(request, "plans.html", context)


@router.post("/p/{pid}/rename")
async def rename(request: Request, pid: str) -> Response:
    """Rename a draft (audit entry with the old name); refused on the plan page for a blank
    name or a published plan."""
    guard(request)
    form = await request.form()
    label = str(form.get("label", ""))
    by = str(form.get("by", "")).strip() or PAGE_BY

    def run() -> Response:
        record = plan_record(request, pid)
        try:
            service(request).rename_plan(pid, label, by=by)
        except (ValueError, ConflictError) as exc:
            return refuse(request, record, str(exc))
        return RedirectResponse(f"/p/{pid}#plan-name", status_code=303)

    return await run_in_threadpool(run)


@router.post("/p/{pid}/delete")
async def delete(request: Request, pid: str) -> Response:
    """Delete a draft and its files (audit entry); refused on the plan page for a published
    plan or a plan that other versions were made from."""
    guard(request)
    form = await request.form()
    by = str(form.get("by", "")).strip() or PAGE_BY

    def run() -> Response:
        record = plan_record(request, pid)
        jobs = service(request)
        if jobs.store.children(pid):
            return refuse(
                request, record, "Other versions were made from this plan: delete them first."
            )
        try:
            jobs.delete_plan(pid, by=by, reason="deleted from the page")
        except ConflictError as exc:
            return refuse(request, record, str(exc))
        return RedirectResponse("/plans", status_code=303)

    return await run_in_threadpool(run)


__all__ = ["router"]
