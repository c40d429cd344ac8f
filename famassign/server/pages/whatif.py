"""Step 6, what if: plan a variant of the plan (one change of docs/variants.md), compare two
plans side by side, ask the staffing question (the people to hire, computed in a worker), and
sweep the scenario's uncertain year (docs/sweep.md: a job of the server's pool, its progress
and then the people to hire, their shares and the sweep's files on one page)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from famassign.models.words import staff_people
from famassign.report import caseload_bars, legend_html, plan_facts, svg_bar_chart
from famassign.server.adjustments import Replan, plan_diff, whatif_replan
from famassign.server.job_options import SweepRequest
from famassign.server.jobs import QueueFull
from famassign.server.pages.forms import WHATIF_FIELDS, filled, plan_options
from famassign.server.pages.frame import guard, plan_record, render, service
from famassign.server.pages.refusal import refuse
from famassign.server.pages.replan import start_replan
from famassign.server.pages.views import job_view, named_bars
from famassign.server.planner import PlanRecord
from famassign.store import ConflictError, NotFoundError

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


NO_UNCERTAINTY = (
    "This scenario has no uncertainty: block, so every sample would be the scenario itself. "
    "Add one to scenario.yaml (enrollment, staff_leave, mix: docs/sweep.md) and upload it again."
)
"""What the page says instead of sweeping a scenario without an ``uncertainty:`` block."""


def _sweep_request(form: Mapping[str, Any]) -> SweepRequest:
    """The sweep options of the form (the target as a percentage); ValueError naming every
    option out of range."""
    defaults = SweepRequest()
    try:
        target = float(form.get("target") or defaults.confidence * 100) / 100
        return SweepRequest(
            samples=form.get("samples") or defaults.samples,
            validation_samples=form.get("validation_samples") or 0,
            confidence=target,
            seed=form.get("seed") or 0,
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(problems) from None


@router.post("/p/{pid}/sweep")
async def start_sweep(request: Request, pid: str) -> Response:
    """Sweep the plan's scenario (``famassign sweep``, a job of the server's pool); off to the
    sweep's page, which shows its progress and then the people to hire. A scenario without an
    ``uncertainty:`` block, or options out of range, are refused on the plan page with why."""
    guard(request)
    form = dict(await request.form())

    def run() -> Response:
        record = plan_record(request, pid)
        if record.scenario_id is None:
            raise HTTPException(404, "This plan has no scenario to sweep.")
        if not record.scenario.uncertainty:
            return refuse(request, record, NO_UNCERTAINTY)
        try:
            job = service(request).start_sweep(record.scenario_id, _sweep_request(form))
        except (QueueFull, ValueError) as exc:
            return refuse(request, record, str(exc))
        return RedirectResponse(f"/p/{pid}/sweeps/{job.id}", status_code=303)

    return await run_in_threadpool(run)


def _sweep_job(request: Request, jid: str) -> dict[str, Any]:
    """The sweep job's page view and, once done, its result; 404 for a job not a sweep."""
    view = job_view(request, jid)
    job = service(request).get_job(jid)
    if job.kind != "sweep":
        raise HTTPException(404, "No such sweep.")
    return {**view, "result": job.result, "options": job.options}


@router.get("/p/{pid}/sweeps/{jid}", response_class=HTMLResponse)
def sweep_page(request: Request, pid: str, jid: str) -> Response:
    """A sweep of the plan's scenario: its progress while it runs (samples done of the stage's
    total, a small module polls), then the people to hire as a table, their share on the
    training samples, the validated share with its interval, whether the target is met (in
    words when it is not), and the sweep's files."""
    guard(request)
    record = plan_record(request, pid)
    context = {"step": "whatif", "record": record, "job": _sweep_job(request, jid)}
    return render(request, "sweep.html", context)


@router.post("/p/{pid}/sweeps/{jid}/cancel")
def sweep_cancel(request: Request, pid: str, jid: str) -> Response:
    """Cancel a sweep (the worker stops between two samples, nothing is kept; the store's
    audit log records it); back to the sweep's page, which says how it ended."""
    guard(request)
    plan_record(request, pid)
    _sweep_job(request, jid)
    with contextlib.suppress(ConflictError):  # it ended meanwhile: the sweep's page says how
        service(request).cancel_job(jid, by="planner page", reason="cancelled from the page")
    return RedirectResponse(f"/p/{pid}/sweeps/{jid}", status_code=303)


@router.get("/p/{pid}/sweeps/{jid}/files/{name}")
def sweep_file(request: Request, pid: str, jid: str, name: str) -> Response:
    """Download one file of a finished sweep (only the names it recorded)."""
    guard(request)
    plan_record(request, pid)
    try:
        path = service(request).sweep_file(jid, name)
    except NotFoundError:
        raise HTTPException(404, "No such file.") from None
    return FileResponse(path, filename=name)


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
