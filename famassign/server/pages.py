"""The planner's page: server-rendered steps from the data system's export to a published plan.

1 bring the data, 2 check, 3 plan, 4 read the plan, 5 adjust, 6 what if, 7 publish and hand out.
Every page is a Jinja2 template rendered here; the only scripts are two small modules in
``static/`` (file drop, progress poll). Every asset is served by famassign itself. The token
guards every page: ``/?token=TOKEN`` signs the browser in with the session cookie of
:mod:`famassign.server.auth`. Logs carry
identifiers only.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from famassign.models import Scenario, ScenarioError, StaffStatus
from famassign.models.columns import TABLES
from famassign.models.domain import ExceptionKind, ProgramOption
from famassign.models.importing import apply_mapping, infer_mapping, read_exports
from famassign.models.mapping import ImportMapping
from famassign.models.summary import capacity_shortfalls, most_allowed
from famassign.outputs import PLAN_XLSX
from famassign.report import caseload_bars, fmt_number, legend_html, plan_facts, svg_bar_chart
from famassign.server.adjustments import (
    AdjustmentError,
    Replan,
    check_move,
    exception_replan,
    leave_replan,
    move_replan,
    plan_diff,
    problems_text,
    whatif_replan,
    with_weights,
)
from famassign.server.auth import is_signed_in, sign_in
from famassign.server.jobs import QueueFull
from famassign.server.planner import STAFF_LISTS, PlanReader, PlanRecord
from famassign.server.service import (
    SCENARIO_FILES,
    InvalidRequest,
    InvalidScenario,
    PlanRequest,
    PlanVersion,
    Service,
)
from famassign.solver.options import PAGE_TIME_LIMIT
from famassign.store import ConflictError, NotFoundError

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
PAGE_SIZE = 50
STEPS = (
    ("data", "1 Bring the data"),
    ("check", "2 Check"),
    ("plan", "3 Plan"),
    ("read", "4 Read the plan"),
    ("adjust", "5 Adjust"),
    ("whatif", "6 What if"),
    ("publish", "7 Publish"),
)
DOWNLOADS = (
    (PLAN_XLSX, "Plan workbook (Excel)"),
    (STAFF_LISTS, "Per-staff family lists (Excel, one sheet per staff member)"),
    ("compliance.md", "Compliance statement (compliance.md)"),
    ("report.html", "Report (report.html)"),
    ("assignments.csv", "Assignments (CSV)"),
    ("caseloads.csv", "Caseloads (CSV)"),
)
WHATIF_KINDS = (
    ("add_staff", "Add a staff member"),
    ("change_staff", "Change a staff member (FTE, status, languages, sites)"),
    ("remove_staff", "Remove a staff member"),
    ("add_exception", "Add a cap exception"),
    ("remove_exception", "Withdraw a cap exception"),
    ("scale_enrollment", "Scale enrollment"),
    ("close_site", "Close a site"),
    ("set_policy", "Lower the cap"),
)

templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals.update(steps=STEPS, fmt=fmt_number, page_time_limit=PAGE_TIME_LIMIT)


# ---------------------------------------------------------------------------- auth


def _guard(request: Request) -> None:
    if not is_signed_in(request):
        raise HTTPException(401, "Sign in by opening the address famassign serve printed.")


def _reader(request: Request) -> PlanReader:
    """The page's reading of the server's store (made once the service has started)."""
    reader: PlanReader | None = getattr(request.app.state, "plans", None)
    if reader is None:
        reader = request.app.state.plans = PlanReader(request.app.state.service)
    return reader


def _service(request: Request) -> Service:
    return _reader(request).service


def _render(
    request: Request, name: str, context: Mapping[str, Any], status_code: int = 200
) -> HTMLResponse:
    """Render a page. A refused form is answered 200 with the refusal on the page (the
    browser would log a 4xx document as a console error; the API answers 422 instead)."""
    return templates.TemplateResponse(request, name, dict(context), status_code=status_code)


router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, token: str | None = None) -> Response:
    """Step 1: bring the data. ``?token=`` signs the browser in and redirects here."""
    if token is not None:
        response = RedirectResponse("/", status_code=303)
        if not sign_in(request, response, token):
            raise HTTPException(401, "That token is not this server's.")
        return response
    _guard(request)
    scenarios = [
        {"id": s.id, "name": s.name, "created": s.created_at.isoformat(timespec="seconds")}
        for s in _reader(request).uploaded()
    ]
    return _render(request, "upload.html", {"step": "data", "scenarios": scenarios})


# ---------------------------------------------------------------------------- 1-2 data, check


@router.post("/upload", response_class=HTMLResponse)
async def upload(request: Request) -> Response:
    """Step 1 -> 2: store the uploaded files and check them."""
    _guard(request)
    form = await request.form()
    files: list[tuple[str, bytes]] = []
    for item in form.getlist("files"):
        if isinstance(item, str) or not item.filename:
            continue
        files.append((str(item.filename), await item.read()))
    if not files:
        problems = [("", "", "", "Choose the scenario files first (families and staff).")]
        return _render(
            request, "upload.html", {"step": "data", "problems": problems, "scenarios": []}
        )
    reader = _reader(request)
    if not all(name.lower() in SCENARIO_FILES for name, _ in files):
        iid = await run_in_threadpool(reader.stage_import, files)
        log.info("upload %s needs a mapping (%d files)", iid, len(files))
        return RedirectResponse(f"/import/{iid}", status_code=303)
    try:
        info = await run_in_threadpool(reader.service.create_scenario, files)
    except InvalidScenario as exc:
        log.info("upload refused: %d problems", len(exc.problems))
        context = {"step": "check", "problems": _problem_rows(exc), "names": [n for n, _ in files]}
        return _render(request, "upload.html", context)
    return RedirectResponse(f"/s/{info.id}", status_code=303)


def _problem_rows(exc: ScenarioError | InvalidScenario) -> list[tuple[str, object, str, str]]:
    return [
        (
            getattr(p, "file", "") or "",
            getattr(p, "line", "") or "",
            getattr(p, "column", "") or "",
            getattr(p, "message", str(p)),
        )
        for p in exc.problems
    ]


# ---------------------------------------------------------------------------- 1 import mapping


def _proposal(reader: PlanReader, paths: list[Path]) -> tuple[ImportMapping, list[str]]:
    """The mapping to show: the one kept from last time when it covers these files, else
    the importer's inference (with its notes)."""
    staged = paths[0].parent / ".proposal.yaml"
    if staged.is_file():
        return ImportMapping.from_yaml(staged.read_text(encoding="utf-8")), []
    notes: list[str] = []
    mapping: ImportMapping | None = None
    kept = reader.last_mapping()
    csv_files = [p for p in paths if p.suffix.lower() == ".csv"]
    if kept is not None and all(kept.file_mapping(p.name, None) for p in csv_files):
        mapping = kept
        notes.append("The mapping you confirmed last time fits these files; check it below.")
    if mapping is None:
        inference = infer_mapping(paths)
        mapping, notes = inference.mapping, list(inference.notes)
    staged.write_text(mapping.to_yaml(), encoding="utf-8")
    return mapping, notes


def _headers(paths: list[Path], mapping: ImportMapping) -> list[list[str]]:
    """The header cells of each mapped file, as written."""
    raws = read_exports(paths, mapping)
    headers = []
    for entry in mapping.files:
        raw = next(
            (
                r
                for r in raws
                if r.path.name == entry.file and (r.sheet or "") == (entry.sheet or "")
            ),
            None,
        )
        row: list[str] = []
        if raw is not None and entry.header_row in raw.lines:
            row = [c for c in raw.rows[raw.lines.index(entry.header_row)] if c.strip()]
        headers.append(row or list(entry.columns))
    return headers


def _mapping_page(
    request: Request,
    iid: str,
    mapping: ImportMapping,
    notes: list[str],
    problems: list[tuple[str, object, str, str]] | None = None,
) -> Response:
    paths = _reader(request).import_paths(iid)
    context = {
        "step": "data",
        "iid": iid,
        "mapping": mapping,
        "notes": notes,
        "problems": problems or [],
        "headers": _headers(paths, mapping),
        "columns": {name: list(spec.columns) for name, spec in TABLES.items()},
        "files": [p.name for p in paths],
    }
    return _render(request, "mapping.html", context)


@router.get("/import/{iid}", response_class=HTMLResponse)
def import_page(request: Request, iid: str) -> Response:
    """Step 1: the column and value mapping the importer inferred, to check and correct."""
    _guard(request)
    reader = _reader(request)
    try:
        paths = reader.import_paths(iid)
        mapping, notes = _proposal(reader, paths)
    except NotFoundError:
        raise HTTPException(404, "No such import.") from None
    except ScenarioError as exc:
        context = {"step": "data", "problems": _problem_rows(exc), "scenarios": []}
        return _render(request, "upload.html", context)
    return _mapping_page(request, iid, mapping, notes)


def mapping_from_form(proposal: ImportMapping, form: Mapping[str, Any]) -> ImportMapping:
    """The proposed mapping with the planner's corrections from the mapping form.

    Parameters
    ----------
    proposal
        The mapping shown (inferred, or kept from last time).
    form
        ``table|i``, ``per_child|i``, ``colname|i|j`` with ``col|i|j`` (header -> column,
        blank: not used), ``val|vocabulary|k`` (code of the k-th label), ``date_order``.

    Returns
    -------
    ImportMapping
        The corrected mapping.

    Raises
    ------
    pydantic.ValidationError
        When a table or date order is not one the importer knows.
    """
    files = []
    for i, entry in enumerate(proposal.files):
        columns = {}
        j = 0
        while f"colname|{i}|{j}" in form:
            header, column = str(form[f"colname|{i}|{j}"]), str(form.get(f"col|{i}|{j}", ""))
            if column:
                columns[header] = column
            j += 1
        update = {
            "table": str(form.get(f"table|{i}", entry.table)),
            "columns": columns,
            "per_child": bool(form.get(f"per_child|{i}")),
        }
        files.append(entry.model_copy(update=update))
    values: dict[str, dict[str, str]] = {}
    for vocabulary, labels in proposal.values.items():
        values[vocabulary] = {}
        for k, label in enumerate(labels):
            code = str(form.get(f"val|{vocabulary}|{k}", labels[label])).strip()
            if code:
                values[vocabulary][label] = code
    data = proposal.model_dump(mode="json")
    data.update(
        files=[f.model_dump(mode="json") for f in files],
        values=values,
        date_order=str(form.get("date_order", proposal.date_order)),
    )
    return ImportMapping.model_validate(data)


@router.post("/import/{iid}", response_class=HTMLResponse)
async def import_confirm(request: Request, iid: str) -> Response:
    """Step 1 -> 2: apply the mapping as corrected; keep it for next time; check."""
    _guard(request)
    reader = _reader(request)
    form = await request.form()
    try:
        paths = reader.import_paths(iid)
        proposal, _ = _proposal(reader, paths)
    except NotFoundError:
        raise HTTPException(404, "No such import.") from None
    try:
        mapping = mapping_from_form(proposal, dict(form))
    except ValidationError as exc:
        return _mapping_page(request, iid, proposal, [], [("mapping", "", "", str(exc))])
    try:
        result = apply_mapping(paths, mapping)
    except ScenarioError as exc:
        return _mapping_page(request, iid, mapping, [], _problem_rows(exc))
    try:
        sid = await run_in_threadpool(reader.add_imported, iid, result.scenario, mapping)
    except InvalidScenario as exc:
        return _mapping_page(request, iid, mapping, [], _problem_rows(exc))
    return RedirectResponse(f"/s/{sid}", status_code=303)


def demand_rows(scenario: Scenario) -> list[dict[str, Any]]:
    """Families against the capacity that could serve them, by language x site x option."""
    groups: Counter[tuple[str, str, ProgramOption]] = Counter(
        (f.language, f.site, f.program_option) for f in scenario.families
    )
    active = [s for s in scenario.staff if s.status is StaffStatus.active]
    allowed = {s.staff_id: most_allowed(s, scenario) for s in active}
    short = {(s.language, s.site, s.program_option) for s in capacity_shortfalls(scenario)}
    rows = []
    for (language, site, option), count in sorted(groups.items(), key=lambda g: str(g[0])):
        able = [
            s
            for s in active
            if language in s.languages and s.serves_site(site) and option in s.program_options
        ]
        rows.append(
            {
                "language": language,
                "site": site,
                "option": option.value,
                "families": count,
                "staff": len(able),
                "capacity": sum(allowed[s.staff_id] for s in able),
                "short": (language, site, option) in short or (None, site, option) in short,
            }
        )
    return rows


@router.get("/s/{sid}", response_class=HTMLResponse)
def check(request: Request, sid: str) -> Response:
    """Step 2 and 3: the check summary and the plan options."""
    _guard(request)
    reader = _reader(request)
    try:
        loaded = reader.loaded(sid)
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
        "plans": reader.plans_of(sid),
        "weights": scenario.weights.model_dump(),
    }
    return _render(request, "check.html", context)


def _options(form: Mapping[str, Any]) -> PlanRequest:
    """The plan options of a form, checked as the API checks a plan request."""
    try:
        return PlanRequest(
            time_limit=form.get("time_limit") or PAGE_TIME_LIMIT,
            seed=form.get("seed") or 0,
            deterministic=bool(form.get("deterministic")),
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise AdjustmentError(problems) from None


def _start(reader: PlanReader, replan: Replan, scenario_id: str | None) -> str:
    """Record the scenario to plan (unless it is the stored `scenario_id`: then it is derived
    from the version's parent plan) and start its plan in the server's process pool; return
    the job's id."""
    if scenario_id is None:
        parent = replan.version.parent_plan_id or ""
        scenario_id = reader.add_scenario(replan.scenario, derived_from=parent)
    return reader.service.start_plan(scenario_id, replan.request, replan.version).id


@router.post("/s/{sid}/plan")
async def start_plan(request: Request, sid: str) -> Response:
    """Step 3: start planning; the job page shows progress."""
    _guard(request)
    form = await request.form()
    return await run_in_threadpool(_start_plan, request, sid, dict(form))


def _start_plan(request: Request, sid: str, form: Mapping[str, Any]) -> Response:
    reader = _reader(request)
    try:
        scenario = reader.scenario(sid)
        options = _options(form)
        weights = {}
        for key, default in scenario.weights.model_dump().items():
            raw = form.get(f"w_{key}")
            if isinstance(raw, str) and raw.strip() and float(raw) != default:
                weights[key] = raw.strip()
        planned: str | None = sid
        if weights:
            changed = with_weights(scenario, weights)
            planned = reader.add_scenario(changed, derived_from=sid)
        replan = Replan(scenario, options, PlanVersion("first plan"))
        job_id = _start(reader, replan, planned)
    except NotFoundError:
        raise HTTPException(404, "No such scenario.") from None
    except ScenarioError as exc:
        raise HTTPException(422, "; ".join(problems_text(exc))) from None
    except InvalidRequest as exc:
        raise HTTPException(422, exc.message) from None
    except (AdjustmentError, QueueFull, ValueError) as exc:
        raise HTTPException(422, str(exc)) from None
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


# ---------------------------------------------------------------------------- jobs


def _job(request: Request, jid: str) -> dict[str, Any]:
    """The job as the page shows it: state, stage, progress, plan, message, seconds so far."""
    service = _service(request)
    try:
        view = service.job_view(service.get_job(jid))
    except NotFoundError:
        raise HTTPException(404, "No such job.") from None
    started = view["started_at"] or view["created_at"]
    ended = view["finished_at"]
    elapsed = (
        (datetime.fromisoformat(ended) if ended else datetime.now(UTC))
        - datetime.fromisoformat(started)
    ).total_seconds()
    progress = view["progress"]
    return {
        "id": view["id"],
        "state": view["state"],
        "stage": progress["stage"] or view["state"],
        "done": progress["done"],
        "total": max(1, progress["total"]),
        "plan_id": view["plan_id"],
        "message": view["message"],
        "elapsed_s": round(max(0.0, elapsed), 1),
    }


@router.get("/jobs/{jid}", response_class=HTMLResponse)
def job_page(request: Request, jid: str) -> Response:
    """Step 3: live progress with a cancel button (a small module polls the status)."""
    _guard(request)
    job = _job(request, jid)
    if job["state"] == "done" and job["plan_id"]:
        return RedirectResponse(f"/p/{job['plan_id']}", status_code=303)
    return _render(request, "job.html", {"step": "plan", "job": job})


@router.get("/jobs/{jid}/status")
def job_status(request: Request, jid: str) -> JSONResponse:
    """The job as JSON for the progress poll."""
    _guard(request)
    return JSONResponse(_job(request, jid))


@router.post("/jobs/{jid}/cancel")
def job_cancel(request: Request, jid: str) -> Response:
    """Cancel a job: the server's pool stops it; the store's audit log records it."""
    _guard(request)
    try:
        _service(request).cancel_job(jid, by="planner page", reason="cancelled from the page")
    except NotFoundError:
        raise HTTPException(404, "No such job.") from None
    except ConflictError:
        pass  # it ended meanwhile: the job page says how
    return RedirectResponse(f"/jobs/{jid}", status_code=303)


# ---------------------------------------------------------------------------- 4 read the plan


def _record(request: Request, pid: str) -> PlanRecord:
    try:
        return _reader(request).plan(pid)
    except NotFoundError:
        raise HTTPException(404, "No such plan.") from None


def staff_rows(record: PlanRecord) -> list[dict[str, Any]]:
    """One row per staff member: families, weighted load, cap, exception, status."""
    by_id = record.scenario.staff_by_id
    rows = []
    for c in record.result.caseloads:
        staff = by_id.get(c.staff_id)
        rows.append(
            {
                "staff_id": c.staff_id,
                "name": (staff.name if staff else None) or "",
                "families": c.families,
                "weighted_load": c.weighted_load,
                "cap": c.cap,
                "exception_id": c.exception_id or "",
                "over": c.families > c.cap,
                "status": staff.status.value if staff else "",
                "languages": ", ".join(staff.languages) if staff else "",
                "sites": ", ".join(staff.sites) if staff else "",
            }
        )
    return rows


def family_page(record: PlanRecord, query: Mapping[str, str]) -> dict[str, Any]:
    """Filter and page the families on the server.

    Parameters
    ----------
    record
        The plan version.
    query
        ``q`` (family or staff id, any part), ``staff`` (an id or ``(unplaced)``), ``site``,
        ``language``, ``urgency``, ``page`` (from 1).

    Returns
    -------
    dict
        ``rows`` (assignment, family) of the page, ``total``, ``page``, ``pages``, ``filters``.
    """
    families = record.scenario.family_by_id
    text = query.get("q", "").strip().lower()
    staff = query.get("staff", "")
    site = query.get("site", "")
    language = query.get("language", "")
    urgency = query.get("urgency", "")
    rows = []
    for a in record.result.assignments:
        fam = families[a.family_id]
        if staff == "(unplaced)" and a.staff_id is not None:
            continue
        if staff and staff != "(unplaced)" and a.staff_id != staff:
            continue
        if site and fam.site != site:
            continue
        if language and fam.language != language:
            continue
        if urgency and str(fam.urgency) != urgency:
            continue
        if text and text not in a.family_id.lower() and text not in (a.staff_id or "").lower():
            continue
        rows.append((a, fam))
    try:
        page = max(1, int(query.get("page", "1")))
    except ValueError:
        page = 1
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    page = min(page, pages)
    shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return {
        "rows": shown,
        "total": len(rows),
        "page": page,
        "pages": pages,
        "filters": {
            "q": query.get("q", ""),
            "staff": staff,
            "site": site,
            "language": language,
            "urgency": urgency,
        },
    }


def _choices(scenario: Scenario) -> dict[str, list[str]]:
    return {
        "staff": [s.staff_id for s in scenario.staff],
        "active_staff": [s.staff_id for s in scenario.staff if s.status is StaffStatus.active],
        "sites": sorted({f.site for f in scenario.families}),
        "languages": sorted({f.language for f in scenario.families}),
        "exception_kinds": [k.value for k in ExceptionKind],
        "exceptions": [e.exception_id for e in scenario.exceptions],
    }


def plan_context(request: Request, record: PlanRecord) -> dict[str, Any]:
    """Everything the plan page shows."""
    reader = _reader(request)
    facts = plan_facts(record.result, record.scenario)
    bars = caseload_bars(record.result, record.scenario, facts)
    chart = svg_bar_chart(bars, title="Families per staff member", value_label="families")
    parent_id = record.meta.get("parent_plan_id")
    diff = None
    parent = None
    if parent_id:
        parent = reader.plan(parent_id)
        diff = plan_diff(parent.result, record.result)
    query = dict(request.query_params)
    return {
        "record": record,
        "facts": facts,
        "chart": chart,
        "legend": legend_html(),
        "over_marks": [b for b in bars if b.state in ("over", "breach")],
        "staff_rows": staff_rows(record),
        "families": family_page(record, query),
        "choices": _choices(record.scenario),
        "parent": parent,
        "diff": diff,
        "lineage": reader.lineage(record.id),
        "children": reader.children(record.id),
        "downloads": [
            (n, label) for n, label in DOWNLOADS if n == STAFF_LISTS or n in record.info.files
        ],
        "whatif_kinds": WHATIF_KINDS,
        "today": record.scenario.as_of.isoformat(),
        "time_limit": fmt_number(record.meta.get("time_limit") or PAGE_TIME_LIMIT).replace(",", ""),
    }


@router.get("/p/{pid}", response_class=HTMLResponse)
def plan_page(request: Request, pid: str) -> Response:
    """Steps 4-7 for one plan version: read, adjust, what if, publish and hand out."""
    _guard(request)
    record = _record(request, pid)
    context = {"step": "read", **plan_context(request, record)}
    return _render(request, "plan.html", context)


@router.get("/p/{pid}/families", response_class=HTMLResponse)
def families_fragment(request: Request, pid: str) -> Response:
    """The families table alone (the filter form asks for it without reloading the page)."""
    _guard(request)
    record = _record(request, pid)
    context = {
        "record": record,
        "families": family_page(record, dict(request.query_params)),
        "choices": _choices(record.scenario),
    }
    return _render(request, "families.html", context)


@router.get("/p/{pid}/files/{name}")
def plan_file(request: Request, pid: str, name: str) -> Response:
    """Step 7: download one output file of the plan."""
    _guard(request)
    try:
        path = _reader(request).plan_file(pid, name)
    except NotFoundError:
        raise HTTPException(404, "No such file.") from None
    return FileResponse(path, filename=name)


# ---------------------------------------------------------------------------- 5 adjust


def _refuse(
    request: Request, record: PlanRecord, message: list[str] | str, rule: str = ""
) -> Response:
    context = {"step": "adjust", **plan_context(request, record)}
    context["refusal"] = {
        "rule": rule,
        "messages": [message] if isinstance(message, str) else message,
    }
    log.info("adjustment of plan %s refused", record.id)
    return _render(request, "plan.html", context)


class _Refused(Exception):
    """A move the evaluator refuses: the rules broken and its words."""

    def __init__(self, rules: str, messages: list[str]) -> None:
        self.rules, self.messages = rules, messages
        super().__init__(rules)


Adjustment = Callable[[PlanRecord, Mapping[str, Any]], Replan]


async def _adjust(request: Request, pid: str, make: Adjustment) -> Response:
    """Read the form, make the re-plan from plan `pid` and start it in the server's pool; a
    request the page refuses is shown on the plan page with why."""
    _guard(request)
    form = dict(await request.form())

    def run() -> Response:
        record = _record(request, pid)
        try:
            replan = make(record, form)
            job_id = _start(_reader(request), replan, None)
        except _Refused as exc:
            return _refuse(request, record, exc.messages, exc.rules)
        except ScenarioError as exc:
            return _refuse(request, record, problems_text(exc))
        except InvalidScenario as exc:
            return _refuse(request, record, [row[3] for row in _problem_rows(exc)])
        except InvalidRequest as exc:
            return _refuse(request, record, exc.message)
        except (AdjustmentError, QueueFull, ValueError) as exc:
            return _refuse(request, record, str(exc))
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)

    return await run_in_threadpool(run)


def _move(record: PlanRecord, form: Mapping[str, Any]) -> Replan:
    family_id = str(form.get("family_id", "")).strip()
    staff_id = str(form.get("staff_id", "")).strip()
    verdict = check_move(record, family_id, staff_id)
    if not verdict.allowed:
        rules = sorted({rule for rule, _ in verdict.broken})
        raise _Refused("; ".join(rules), [v for _, v in verdict.broken])
    return move_replan(record, verdict, pin=bool(form.get("pin")), options=_options(form))


@router.post("/p/{pid}/move")
async def move(request: Request, pid: str) -> Response:
    """Move or pin a family: the evaluator checks the move; a rule broken refuses it."""
    return await _adjust(request, pid, _move)


def _date(value: Any) -> date | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise AdjustmentError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _leave(record: PlanRecord, form: Mapping[str, Any]) -> Replan:
    cap_text = str(form.get("temporary_cap") or "").strip()
    return leave_replan(
        record,
        str(form.get("staff_id", "")),
        status=str(form.get("status", "departed")),
        until=_date(form.get("until")),
        temporary_cap=int(cap_text) if cap_text else None,
        options=_options(form),
    )


@router.post("/p/{pid}/leave")
async def leave(request: Request, pid: str) -> Response:
    """Mark a staff member absent or departed and re-plan moving the fewest families."""
    return await _adjust(request, pid, _leave)


EXCEPTION_FIELDS = (
    "exception_id",
    "kind",
    "staff_id",
    "max_families",
    "starts",
    "ends",
    "reference",
    "note",
)


def _filled(form: Mapping[str, Any], names: Sequence[str]) -> dict[str, str]:
    """The form's fields among `names` that are not blank, stripped."""
    fields = {k: str(form.get(k, "")).strip() for k in names}
    return {k: v for k, v in fields.items() if v}


def _exception(record: PlanRecord, form: Mapping[str, Any]) -> Replan:
    return exception_replan(record, _filled(form, EXCEPTION_FIELDS), _options(form))


@router.post("/p/{pid}/exception")
async def add_exception(request: Request, pid: str) -> Response:
    """Add a waiver or a temporary exception with its reference and dates, then re-plan."""
    return await _adjust(request, pid, _exception)


# ---------------------------------------------------------------------------- 6 what if

WHATIF_FIELDS = (
    *EXCEPTION_FIELDS,
    "languages",
    "sites",
    "program_options",
    "fte",
    "status",
    "factor",
    "site",
    "language",
    "merge_into",
    "max_families_per_staff",
)
"""The fields of every what-if change kind (those of an exception included)."""


def _whatif(record: PlanRecord, form: Mapping[str, Any]) -> Replan:
    kind = str(form.get("change", ""))
    name = str(form.get("name", "")).strip() or kind.replace("_", " ")
    change = {kind: _filled(form, WHATIF_FIELDS)}
    return whatif_replan(record, name, change, _options(form))


@router.post("/p/{pid}/whatif")
async def whatif(request: Request, pid: str) -> Response:
    """Plan a variant (one change of docs/variants.md) and compare it with this plan."""
    return await _adjust(request, pid, _whatif)


@router.get("/compare/{left}/{right}", response_class=HTMLResponse)
def compare_page(request: Request, left: str, right: str) -> Response:
    """Two plans side by side: numbers, caseload charts on one scale, what changed."""
    _guard(request)
    a, b = _record(request, left), _record(request, right)
    sides = []
    top = max([1.0] + [max(c.families, c.cap) for r in (a, b) for c in r.result.caseloads])
    for record in (a, b):
        facts = plan_facts(record.result, record.scenario)
        bars = caseload_bars(record.result, record.scenario, facts)
        chart = svg_bar_chart(
            bars,
            title=f"Families per staff member: {record.meta['label']}",
            width=560,
            label_width=90,
            max_value=top,
        )
        sides.append({"record": record, "facts": facts, "chart": chart})
    context = {
        "step": "whatif",
        "sides": sides,
        "diff": plan_diff(a.result, b.result),
        "legend": legend_html(),
    }
    return _render(request, "compare.html", context)


# ---------------------------------------------------------------------------- 7 publish


@router.post("/p/{pid}/publish")
async def publish(request: Request, pid: str) -> Response:
    """Publish with who and why (kept in the store's audit log)."""
    _guard(request)
    form = await request.form()
    by = str(form.get("by", "")).strip()
    reason = str(form.get("reason", "")).strip()

    def run() -> Response:
        record = _record(request, pid)
        if not by or not reason:
            return _refuse(request, record, "Publishing needs your name and a reason.")
        try:
            _service(request).publish(pid, by=by, reason=reason)
        except ConflictError as exc:
            return _refuse(request, record, str(exc))
        return RedirectResponse(f"/p/{pid}#publish", status_code=303)

    return await run_in_threadpool(run)


# ---------------------------------------------------------------------------- app


async def _page_error(request: Request, exc: Exception) -> Response:
    """HTTP errors of the page as a page; the API's stay JSON."""
    if request.url.path.startswith("/api/") or not isinstance(exc, HTTPException):
        return await http_exception_handler(request, exc)  # type: ignore[arg-type]
    context = {"step": "", "status": exc.status_code, "detail": exc.detail}
    return _render(request, "error.html", context, exc.status_code)


def mount_pages(app: FastAPI) -> None:
    """Add the planner's page and its static assets to `app`.

    `app.state.settings` (:class:`famassign.server.settings.Settings`) holds the token that
    guards every page (:mod:`famassign.server.auth`); `app.state.service` (set when the app
    starts) is what the page reads and writes through.
    """
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(router)
    app.add_exception_handler(HTTPException, _page_error)


__all__ = [
    "demand_rows",
    "family_page",
    "mount_pages",
    "router",
    "staff_rows",
]
