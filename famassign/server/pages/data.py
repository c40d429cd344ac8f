"""Step 1, bring the data: sign in (and out), upload the exported files, and check and correct
the column and value mapping the importer proposes for files not in the scenario format."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from famassign.models import ScenarioError
from famassign.models.columns import TABLES
from famassign.models.importing import (
    Inference,
    apply_mapping,
    infer_mapping,
    merge_new_labels,
    read_exports,
)
from famassign.models.mapping import ImportMapping
from famassign.server.auth import caller, sign_in, sign_out
from famassign.server.pages.forms import CODE_CHOICES, mapping_from_form
from famassign.server.pages.frame import guard, reader, render
from famassign.server.pages.views import problem_groups, problem_rows
from famassign.server.planner import STAGED_MAPPING, PlanReader, UploadNamesRefused
from famassign.server.roles import PAGE_PLANNERS
from famassign.server.service import SCENARIO_FILES, InvalidScenario
from famassign.store import NotFoundError

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


NO_IMPORT = (
    "No such import: files waiting for their mapping are deleted after a while. "
    "Bring the files again."
)
"""The answer (404) for an import that never was or has expired."""


@router.get("/", response_class=HTMLResponse)
def home(request: Request, token: str | None = None) -> Response:
    """Step 1: bring the data. ``?token=`` signs the browser in (a new session) and redirects
    here, so the token leaves the address bar."""
    if token is not None:
        response = RedirectResponse("/", status_code=303)
        if not sign_in(request, response, token):
            raise HTTPException(401, "That token is not this server's.")
        return response
    guard(request)
    who = caller(request)
    if who is not None and who.role not in PAGE_PLANNERS:
        return RedirectResponse("/mine", status_code=303)  # an advocate's or viewer's page
    scenarios = [
        {"id": s.id, "name": s.name, "created": s.created_at.isoformat(timespec="seconds")}
        for s in reader(request).uploaded()
    ]
    return render(request, "upload.html", {"step": "data", "scenarios": scenarios})


@router.post("/signout")
def signout(request: Request) -> Response:
    """End the browser's session and delete its cookie; off to the signed-out page. A browser
    whose session has already ended is signed out as well (its cookie deleted)."""
    response = RedirectResponse("/signed-out", status_code=303)
    sign_out(request, response)
    return response


@router.get("/signed-out", response_class=HTMLResponse)
def signed_out(request: Request) -> Response:
    """The page after signing out (open to all: it shows nothing of the program's)."""
    return render(request, "signed_out.html", {"step": ""})


@router.post("/upload", response_class=HTMLResponse)
async def upload(request: Request) -> Response:
    """Step 1 -> 2: store the uploaded files and check them."""
    guard(request)
    form = await request.form()
    files: list[tuple[str, bytes]] = []
    for item in form.getlist("files"):
        if isinstance(item, str) or not item.filename:
            continue
        files.append((str(item.filename), await item.read()))
    if not files:
        problems = [("", "", "", "Choose the scenario files first (families and staff).")]
        return render(
            request, "upload.html", {"step": "data", "problems": problems, "scenarios": []}
        )
    plans = reader(request)
    if not all(name.lower() in SCENARIO_FILES for name, _ in files):
        try:
            iid = await run_in_threadpool(plans.stage_import, files)
        except UploadNamesRefused as exc:
            refused = {
                "step": "data",
                "problems": [(name, "", "", why) for name, why in exc.problems],
                "scenarios": [],
            }
            return render(request, "upload.html", refused, 422)
        log.info("upload %s needs a mapping (%d files)", iid, len(files))
        return RedirectResponse(f"/import/{iid}", status_code=303)
    try:
        info = await run_in_threadpool(plans.service.create_scenario, files)
    except InvalidScenario as exc:
        log.info("upload refused: %d problems", len(exc.problems))
        context = {"step": "check", "problems": problem_rows(exc), "names": [n for n, _ in files]}
        return render(request, "upload.html", context)
    return RedirectResponse(f"/s/{info.id}", status_code=303)


@dataclass(frozen=True)
class Proposal:
    """What the mapping page shows: the mapping (kept, or inferred), the notes of what was
    inferred and every distinct label's reading (with the mapping's code when it has one)."""

    mapping: ImportMapping
    notes: list[str]
    inference: Inference

    @property
    def readings(self) -> list[dict[str, Any]]:
        """Every label as read, with the code `mapping` gives it (see :func:`_readings`)."""
        return _readings(self.inference, self.mapping)


def _readings(inference: Inference, mapping: ImportMapping) -> list[dict[str, Any]]:
    """One row per vocabulary and label (counts summed over files): the code the mapping gives
    it, how it was read, and its suggestions."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for r in inference.readings:
        key = (r.vocabulary, r.label)
        if key in rows:
            rows[key]["count"] += r.count
            continue
        given = mapping.values.get(r.vocabulary, {}).get(r.label)
        rows[key] = {
            "vocabulary": r.vocabulary,
            "where": f"{r.file}: {r.header}",
            "label": r.label,
            "count": r.count,
            "code": given if given is not None else (r.code or ""),
            "how": "set" if given is not None and given != r.code else r.how,
            "reason": r.reason,
            "suggestions": list(r.suggestions),
            "to_confirm": given is None and r.to_confirm,
            "unknown": given is None and r.code is None,
        }
    return list(rows.values())


def _proposal(plans: PlanReader, paths: list[Path]) -> Proposal:
    """The mapping to show: the one staged for this import (the planner's edits so far), else
    the one kept from last time when it covers these files (with any new label it lacks read),
    else the importer's inference; with the reading of every label."""
    inference = infer_mapping(paths)
    staged = paths[0].parent / STAGED_MAPPING
    if staged.is_file():
        mapping = ImportMapping.from_yaml(staged.read_text(encoding="utf-8"))
        return Proposal(mapping, list(inference.notes), inference)
    kept = plans.last_mapping()
    if kept is not None and _fits(kept, paths):
        mapping, new = merge_new_labels(kept, inference)
        notes = ["The mapping you confirmed last time fits these files; check it below.", *new]
    else:
        mapping, notes = inference.mapping, list(inference.notes)
    plans.keep_mapping(paths, mapping, edited=False)
    return Proposal(mapping, notes, inference)


def _fits(kept: ImportMapping, paths: list[Path]) -> bool:
    """Whether `kept` names every CSV file of `paths` and finds each header it maps."""
    csv_files = [p for p in paths if p.suffix.lower() == ".csv"]
    if not all(kept.file_mapping(p.name, None) for p in csv_files):
        return False
    headers = _headers(paths, kept)
    return all(
        set(entry.columns) <= set(row) for entry, row in zip(kept.files, headers, strict=True)
    )


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
    proposal: Proposal,
    problems: list[dict[str, Any]] | None = None,
) -> Response:
    """The mapping page of import `iid`: the proposal and the grouped `problems` of the last
    try (see :func:`famassign.server.pages.views.problem_groups`)."""
    paths = reader(request).import_paths(iid)
    mapping = proposal.mapping
    context = {
        "step": "data",
        "iid": iid,
        "mapping": mapping,
        "notes": proposal.notes,
        "readings": proposal.readings,
        "to_confirm": sum(r["to_confirm"] for r in proposal.readings),
        "unknown": sum(r["unknown"] for r in proposal.readings),
        "problems": problems or [],
        "headers": _headers(paths, mapping),
        "columns": {name: list(spec.columns) for name, spec in TABLES.items()},
        "codes": CODE_CHOICES,
        "files": [p.name for p in paths],
        "today": date.today().isoformat(),
    }
    return render(request, "mapping.html", context)


def _paths(request: Request, iid: str) -> list[Path]:
    try:
        return reader(request).import_paths(iid)
    except NotFoundError:
        raise HTTPException(404, NO_IMPORT) from None


@router.get("/import/{iid}", response_class=HTMLResponse)
def import_page(request: Request, iid: str) -> Response:
    """Step 1: every column and label as the importer read it, to check and correct (a sync
    handler: FastAPI runs it off the event loop)."""
    guard(request)
    paths = _paths(request, iid)
    try:
        proposal = _proposal(reader(request), paths)
    except ScenarioError as exc:
        context = {"step": "data", "problems": problem_rows(exc), "scenarios": []}
        return render(request, "upload.html", context)
    return _mapping_page(request, iid, proposal)


@router.get("/import/{iid}/mapping.yaml")
def download_mapping(request: Request, iid: str) -> Response:
    """The mapping of import `iid` as it stands (``mapping.yaml``), to keep or edit."""
    guard(request)
    paths = _paths(request, iid)
    mapping = _proposal(reader(request), paths).mapping
    return Response(
        mapping.to_yaml(),
        media_type="application/yaml",
        headers={"Content-Disposition": 'attachment; filename="mapping.yaml"'},
    )


@router.post("/import/{iid}/mapping", response_class=HTMLResponse)
async def upload_mapping(request: Request, iid: str) -> Response:
    """Replace the mapping of import `iid` by an uploaded ``mapping.yaml`` (kept at once)."""
    guard(request)
    form = await request.form()
    item = form.get("mapping")
    text = (
        (await item.read()).decode("utf-8-sig", "replace")
        if not isinstance(item, str) and item
        else ""
    )
    return await run_in_threadpool(_take_mapping, request, iid, text)


def _take_mapping(request: Request, iid: str, text: str) -> Response:
    plans = reader(request)
    paths = _paths(request, iid)
    try:
        mapping = ImportMapping.from_yaml(text)
    except ScenarioError as exc:
        return _mapping_page(request, iid, _proposal(plans, paths), problem_groups(exc))
    plans.keep_mapping(paths, mapping, edited=True)
    log.info("import %s: mapping uploaded", iid)
    return RedirectResponse(f"/import/{iid}", status_code=303)


@router.post("/import/{iid}", response_class=HTMLResponse)
async def import_confirm(request: Request, iid: str) -> Response:
    """Step 1 -> 2: keep the corrections at once, apply the mapping, check (off the event
    loop)."""
    guard(request)
    form = await request.form()
    return await run_in_threadpool(_confirm, request, iid, dict(form))


def _confirm(request: Request, iid: str, form: dict[str, Any]) -> Response:
    plans = reader(request)
    try:
        paths = plans.import_paths(iid)
    except NotFoundError:
        if form.get("quiet"):  # a change kept while the check made the scenario: nothing to keep
            return Response(status_code=204)
        raise HTTPException(404, NO_IMPORT) from None
    proposal = _proposal(plans, paths)
    try:
        mapping = mapping_from_form(proposal.mapping, form)
    except ValidationError as exc:
        problems = [{"file": "mapping", "line": "", "column": "", "message": str(exc),
                     "count": 1, "rest": []}]  # fmt: skip
        return _mapping_page(request, iid, proposal, problems)
    plans.keep_mapping(paths, mapping, edited=True)  # a failed check loses no correction
    proposal = replace(proposal, mapping=mapping)
    if form.get("action") == "save":  # kept on each change by page.js (quiet), or by the button
        return (
            Response(status_code=204)
            if form.get("quiet")
            else RedirectResponse(f"/import/{iid}", status_code=303)
        )
    try:
        result = apply_mapping(paths, mapping)
        sid = plans.add_imported(iid, result.scenario, mapping)
    except (ScenarioError, InvalidScenario) as exc:
        return _mapping_page(request, iid, proposal, problem_groups(exc))
    return RedirectResponse(f"/s/{sid}", status_code=303)


__all__ = ["router"]
