"""Step 8, mid-year: this month's export against the plan in force, then the update.

``GET /p/{pid}/midyear`` lists, for the plan (its folder is the next scenario), the temporary
exceptions that end within 30 days or have ended and the returns from leave due, and asks for the
month's family export. ``POST /p/{pid}/midyear`` reads the export as ``famassign update
--families-export`` does (:func:`famassign.models.month.read_families_export`,
:func:`~famassign.models.month.month_changes`) and shows the enrolments, withdrawals,
re-assessments and advocate disagreements against the plan; the export is kept until
``POST /p/{pid}/midyear/{staged}/plan`` starts the update
(:meth:`famassign.server.service.Service.start_update`: the API's operation, one job) and
deletes it. The new plan is published from its own page like any other.

The export is staged as an import is (:meth:`famassign.server.planner.PlanReader.stage_import`:
plain names only, deleted after ``import_ttl_s`` by the server's housekeeping when no update
is planned from it).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from famassign.models import Scenario, ScenarioError
from famassign.models.mapping import ImportMapping
from famassign.models.month import AdvocateSource, MonthChanges, month_changes, read_families_export
from famassign.scenarios.reading import read_scenario
from famassign.server.job_options import PlanVersion, UpdateRequest
from famassign.server.jobs import QueueFull
from famassign.server.pages.forms import form_date
from famassign.server.pages.frame import guard, plan_record, reader, render, service
from famassign.server.planner import UploadNamesRefused
from famassign.server.service import InvalidRequest, InvalidScenario
from famassign.solver.exception_ends import WARN_DAYS
from famassign.store import NotFoundError

router = APIRouter(include_in_schema=False)

MAPPING_NAMES = ("mapping.yaml", "mapping.yml")
"""The names of a staged mapping (the page keeps the uploaded mapping as ``mapping.yaml``)."""
_KINDS = ("enrolled", "withdrawn", "reassessed", "details", "advocate_differs")


@dataclass(frozen=True)
class Upcoming:
    """What the plan's year holds next: exception ends and returns from leave."""

    exception_ends: list[dict[str, Any]]
    returns: list[dict[str, Any]]


def upcoming(scenario: Scenario, as_of: date) -> Upcoming:
    """The temporary exceptions of `scenario` that end within :data:`WARN_DAYS` days of `as_of`
    (or have ended by it) and the absences whose families return by then."""
    horizon = as_of + timedelta(days=WARN_DAYS)
    ends = [
        {
            "id": e.exception_id,
            "ends": e.ends.isoformat(),
            "staff": e.staff_id or "every staff member",
            "ended": e.ends < as_of,
        }
        for e in sorted(scenario.exceptions, key=lambda e: (e.ends, e.exception_id))
        if e.kind.temporary and e.ends <= horizon
    ]
    returns = [
        {
            "staff": a.staff_id,
            "until": a.until.isoformat(),
            "families": len(a.families),
            "due": a.ended(as_of),
        }
        for a in sorted(scenario.absences, key=lambda a: (a.until, a.staff_id))
        if a.until <= horizon
    ]
    return Upcoming(ends, returns)


def _context(
    request: Request, pid: str, as_of: date | None, **more: Any
) -> tuple[dict[str, Any], Scenario]:
    record = plan_record(request, pid)
    scenario = read_scenario(record.folder).scenario
    day = as_of or scenario.as_of
    context = {
        "step": "midyear",
        "record": record,
        "as_of": day.isoformat(),
        "upcoming": upcoming(scenario, day),
        "warn_days": WARN_DAYS,
        **more,
    }
    return context, scenario


@router.get("/p/{pid}/midyear", response_class=HTMLResponse)
def midyear(request: Request, pid: str) -> Response:
    """The plan's upcoming exception ends and returns, and the form for this month's export."""
    guard(request)
    context, _ = _context(request, pid, None)
    return render(request, "midyear.html", context)


def _staged(request: Request, staged: str) -> list[Path]:
    """The files of the export staged as `staged`; 404 when it is gone (planned or expired)."""
    try:
        return reader(request).import_paths(staged)
    except NotFoundError:
        raise HTTPException(404, "This export is no longer kept: bring it again.") from None


def _preview(paths: list[Path], scenario: Scenario, advocate: AdvocateSource) -> MonthChanges:
    exports = [p for p in paths if p.name not in MAPPING_NAMES]
    mapping_file = next((p for p in paths if p.name in MAPPING_NAMES), None)
    mapping = ImportMapping.read(mapping_file) if mapping_file is not None else None
    families = read_families_export(exports, scenario, mapping)
    return month_changes(scenario, families, advocate_from=advocate)


@router.post("/p/{pid}/midyear", response_class=HTMLResponse)
async def preview(request: Request, pid: str) -> Response:
    """Read this month's export and show its changes against the plan; keep it for the update."""
    guard(request)
    form = await request.form()
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    parts = [(Path(f.filename or "").name, await f.read()) for f in uploads]
    given = form.get("mapping")
    if isinstance(given, UploadFile) and given.filename:
        parts.append((MAPPING_NAMES[0], await given.read()))

    def run() -> Response:
        problems: list[str] = []
        try:
            as_of = form_date(form.get("as_of"))
            advocate = AdvocateSource(str(form.get("advocate_from") or "plan"))
        except ValueError as exc:
            as_of, advocate, problems = None, AdvocateSource.plan, [str(exc)]
        context, scenario = _context(request, pid, as_of, advocate_from=advocate.value)
        if not any(name not in MAPPING_NAMES for name, _ in parts):
            problems.append("Choose this month's family export.")
        if problems:
            return render(request, "midyear.html", {**context, "problems": problems})
        plans = reader(request)
        try:
            staged_id = plans.stage_import(parts)
        except UploadNamesRefused as exc:
            problems = [f"{name}: {why}" for name, why in exc.problems]
            return render(request, "midyear.html", {**context, "problems": problems})
        try:
            month = _preview(plans.import_paths(staged_id), scenario, advocate)
        except ScenarioError as exc:
            shutil.rmtree(plans.imports / staged_id, ignore_errors=True)
            problems = [str(p) for p in exc.problems]
            return render(request, "midyear.html", {**context, "problems": problems})
        rows = [
            {
                "family": c.family_id,
                "change": c.kind.value,
                "field": c.field,
                "plan": c.plan_value,
                "export": c.export_value,
                "kept": c.kept,
            }
            for c in month.changes
        ]
        counts = {kind: sum(1 for r in rows if r["change"] == kind) for kind in _KINDS}
        return render(
            request,
            "midyear.html",
            {**context, "staged": staged_id, "changes": rows, "counts": counts},
        )

    return await run_in_threadpool(run)


@router.post("/p/{pid}/midyear/{staged}/plan")
async def plan_update(request: Request, pid: str, staged: str) -> Response:
    """Plan the update with fewest moves from the export kept for plan `pid` (a job)."""
    guard(request)
    form = await request.form()

    def run() -> Response:
        files = _staged(request, staged)
        record = plan_record(request, pid)
        try:
            options = UpdateRequest(
                as_of=form_date(form.get("as_of")),
                advocate_from=str(form.get("advocate_from") or "plan"),
                time_limit=form.get("time_limit") or 30,
                deterministic=bool(form.get("deterministic")),
            )
        except (ValidationError, ValueError) as exc:
            context, _ = _context(request, pid, None)
            return render(request, "midyear.html", {**context, "problems": [str(exc)]})
        exports = [(p.name, p.read_bytes()) for p in files if p.name not in MAPPING_NAMES]
        mapping = next(((p.name, p.read_bytes()) for p in files if p.name in MAPPING_NAMES), None)
        version = PlanVersion(label="mid-year update", parent_plan_id=record.id)
        try:
            job = service(request).start_update(pid, options, exports, mapping, version)
        except InvalidScenario as exc:
            context, _ = _context(request, pid, None)
            problems = [str(p) for p in exc.problems]
            return render(request, "midyear.html", {**context, "problems": problems})
        except (InvalidRequest, QueueFull) as exc:
            context, _ = _context(request, pid, None)
            return render(request, "midyear.html", {**context, "problems": [str(exc)]})
        finally:
            shutil.rmtree(reader(request).imports / staged, ignore_errors=True)
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    return await run_in_threadpool(run)


__all__ = ["Upcoming", "router", "upcoming"]
