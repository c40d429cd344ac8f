"""Step 1, bring the data: sign in (and out), upload the exported files, and check and correct
the column and value mapping the importer proposes for files not in the scenario format."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from famassign.models import ScenarioError
from famassign.models.columns import TABLES
from famassign.models.importing import apply_mapping, infer_mapping, read_exports
from famassign.models.mapping import ImportMapping
from famassign.server.auth import caller, sign_in, sign_out
from famassign.server.pages.forms import mapping_from_form
from famassign.server.pages.frame import guard, reader, render
from famassign.server.pages.views import problem_rows
from famassign.server.planner import PlanReader, UploadNamesRefused
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


def _proposal(plans: PlanReader, paths: list[Path]) -> tuple[ImportMapping, list[str]]:
    """The mapping to show: the one kept from last time when it covers these files, else
    the importer's inference (with its notes)."""
    staged = paths[0].parent / ".proposal.yaml"
    if staged.is_file():
        return ImportMapping.from_yaml(staged.read_text(encoding="utf-8")), []
    notes: list[str] = []
    mapping: ImportMapping | None = None
    kept = plans.last_mapping()
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
    """The mapping page of import `iid`: `mapping` with the importer's `notes` and the
    `problems` of the last try."""
    paths = reader(request).import_paths(iid)
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
    return render(request, "mapping.html", context)


@router.get("/import/{iid}", response_class=HTMLResponse)
def import_page(request: Request, iid: str) -> Response:
    """Step 1: the column and value mapping the importer inferred, to check and correct."""
    guard(request)
    plans = reader(request)
    try:
        paths = plans.import_paths(iid)
        mapping, notes = _proposal(plans, paths)
    except NotFoundError:
        raise HTTPException(404, NO_IMPORT) from None
    except ScenarioError as exc:
        context = {"step": "data", "problems": problem_rows(exc), "scenarios": []}
        return render(request, "upload.html", context)
    return _mapping_page(request, iid, mapping, notes)


@router.post("/import/{iid}", response_class=HTMLResponse)
async def import_confirm(request: Request, iid: str) -> Response:
    """Step 1 -> 2: apply the mapping as corrected; keep it for next time; check."""
    guard(request)
    plans = reader(request)
    form = await request.form()
    try:
        paths = plans.import_paths(iid)
        proposal, _ = _proposal(plans, paths)
    except NotFoundError:
        raise HTTPException(404, NO_IMPORT) from None
    try:
        mapping = mapping_from_form(proposal, dict(form))
    except ValidationError as exc:
        return _mapping_page(request, iid, proposal, [], [("mapping", "", "", str(exc))])
    try:
        result = apply_mapping(paths, mapping)
    except ScenarioError as exc:
        return _mapping_page(request, iid, mapping, [], problem_rows(exc))
    try:
        sid = await run_in_threadpool(plans.add_imported, iid, result.scenario, mapping)
    except InvalidScenario as exc:
        return _mapping_page(request, iid, mapping, [], problem_rows(exc))
    return RedirectResponse(f"/s/{sid}", status_code=303)


__all__ = ["router"]
