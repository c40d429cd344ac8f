"""The planner's page reads the server's store: scenarios and plan versions as the page shows them.

Everything the page keeps goes through :class:`famassign.server.service.Service` (the same
operations as ``/api/v1``): uploads are checked by ``create_scenario``, plans are jobs of the
server's process pool, publishing and cancelling write the store's audit log. This module only
reads the records back as domain objects for rendering (a plan's :class:`famassign.Result` from
its ``result.json``, the scenario it was planned for), caching the heavy parts in memory, and
records the scenarios the page derives (a plan version's starting point, a what-if, changed
weights, an import) through the service.

Export files waiting for the planner to confirm their mapping are staged under
``<workspace>/imports/<id>/``, each under the plain name it was uploaded with (a name that is not
plain is refused before anything is written); they are deleted ``import_ttl_s`` seconds after
their upload (:meth:`PlanReader.clean_imports`, and when an expired import is asked for). The
confirmed mapping is kept in the store.

Logs carry identifiers only.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from famassign.models import Scenario
from famassign.models.errors import FamassignError
from famassign.models.loading import LoadedScenario
from famassign.models.mapping import ImportMapping
from famassign.models.writing import write_scenario
from famassign.outputs import summary_dict, with_staff_names
from famassign.scenarios.reading import read_scenario
from famassign.server.service import Service
from famassign.server.worker import PLANNED_SCENARIO, RESULT_FILE, read_in_force
from famassign.solver import Result
from famassign.store import NotFoundError, PlanInfo, ScenarioInfo
from famassign.workbook import PlanInForce, plan_sheets, staff_names, write_workbook

log = logging.getLogger(__name__)

STAGED_MAPPING = ".proposal.yaml"
"""The file, beside an import's staged exports, holding its mapping as the planner left it."""

STAFF_LISTS = "staff_lists.xlsx"
STAFF_LISTS_DIR = ".staff-lists"
"""The plan folder's subfolder of the per-staff lists written on download, one folder per plan
in force they compare with."""
STAGED_MARK = ".staged"
"""The file whose time is a staged import's upload time (names starting with a dot are the
page's own)."""
MAX_NAME_BYTES = 200
"""Longest uploaded file name kept (in UTF-8 bytes); file systems refuse 256."""
CACHED = 32
"""Scenarios and plans kept in memory (the least recently used go first)."""


class UploadNamesRefused(FamassignError):
    """Uploaded files whose names cannot be kept: `problems` holds ``(name, why)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{name!r}: {why}" for name, why in problems))


def upload_name_problem(name: str) -> str | None:
    """Why an uploaded file cannot be kept under `name`, or None when it can.

    Refused: an empty name, ``.`` and ``..``, a name starting with a dot (the page's own
    files), a path separator (``/``, ``\\``), a control or format character or a lone
    surrogate, more than :data:`MAX_NAME_BYTES` bytes.
    """
    if not name.strip():
        return "an empty file name"
    if name in (".", ".."):
        return "not a file name"
    if "/" in name or "\\" in name:
        return "a file name with a folder in it (/ or \\)"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in name):
        return "a file name with a control or invalid character"
    if name.startswith("."):
        return "a file name starting with a dot"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return f"a file name longer than {MAX_NAME_BYTES} bytes"
    return None


@dataclass(frozen=True)
class PlanRecord:
    """A stored plan version as the page shows it: its record, the scenario planned, the result."""

    info: PlanInfo
    scenario: Scenario
    result: Result
    folder: Path

    @property
    def id(self) -> str:
        """The plan's id."""
        return self.info.id

    @property
    def scenario_id(self) -> str | None:
        """The scenario the plan's job planned."""
        return self.info.scenario_id

    @property
    def meta(self) -> dict[str, Any]:
        """What the templates show: label, kind, parent, time limit, created, publication."""
        info = self.info
        published = None
        if info.published_at is not None:
            published = {
                "by": info.published_by,
                "reason": info.publish_reason,
                "at": info.published_at.isoformat(timespec="seconds"),
            }
        return {
            "id": info.id,
            "label": info.label or "first plan",
            "kind": info.kind,
            "parent_plan_id": info.parent_id,
            "scenario_id": info.scenario_id,
            "time_limit": info.options.get("time_limit"),
            "created": info.created_at.isoformat(timespec="seconds"),
            "published": published,
        }


class _Cache:
    """A small thread-safe LRU of heavy objects read from disk."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


class PlanReader:
    """The page's reading of the server's store (see the module docstring).

    Parameters
    ----------
    service
        The server's operations (store, job pool, workspace).
    """

    def __init__(self, service: Service) -> None:
        self.service = service
        self.imports = service.workspace / "imports"
        self._loaded = _Cache(CACHED)
        self._plans = _Cache(CACHED)
        self._files_lock = threading.Lock()

    # ------------------------------------------------------------------ scenarios

    def loaded(self, scenario_id: str) -> LoadedScenario:
        """The scenario with the loader's warnings and notes (read once, then kept).

        Raises NotFoundError for an unknown scenario.
        """
        info = self.service.get_scenario(scenario_id)
        folder = self.service.scenario_dir(info)
        loaded: LoadedScenario = self._loaded.get(info.id, lambda: read_scenario(folder))
        return loaded

    def scenario(self, scenario_id: str) -> Scenario:
        """The checked scenario (raises NotFoundError)."""
        return self.loaded(scenario_id).scenario

    def uploaded(self) -> list[ScenarioInfo]:
        """The scenarios brought by the planner (not those derived from a plan), newest first."""
        return self.service.list_scenarios(uploaded_only=True)

    def add_scenario(self, scenario: Scenario, *, derived_from: str) -> str:
        """Record a scenario the page made (from a plan or a scenario) through the service,
        checked as an upload is; return its id.

        Raises
        ------
        famassign.server.service.InvalidScenario
            When the written files do not read back (a bug: the page only writes checked
            scenarios).
        """
        with tempfile.TemporaryDirectory(prefix="famassign-page-") as tmp:
            folder = write_scenario(scenario, Path(tmp) / "scenario")
            parts = [(p.name, p.read_bytes()) for p in sorted(folder.iterdir()) if p.is_file()]
        return self.service.create_scenario(parts, derived_from=derived_from).id

    # ------------------------------------------------------------------ imports

    def stage_import(self, files: Sequence[tuple[str, bytes]]) -> str:
        """Keep export files that need a mapping until the planner has checked it (at most
        ``import_ttl_s`` seconds); their id.

        Raises
        ------
        UploadNamesRefused
            When a name is not plain (:func:`upload_name_problem`) or comes twice; nothing is
            written then.
        """
        problems = [(n, why) for n, _ in files if (why := upload_name_problem(n)) is not None]
        names = [n for n, _ in files]
        problems += [(n, "uploaded twice") for n in sorted(set(names)) if names.count(n) > 1]
        if problems:
            raise UploadNamesRefused(problems)
        import_id = f"i{secrets.token_hex(8)}"
        folder = self.imports / import_id
        folder.mkdir(parents=True)
        try:
            (folder / STAGED_MARK).touch()
            for name, content in files:
                (folder / name).write_bytes(content)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return import_id

    def _expired(self, folder: Path) -> bool:
        """True when the staged import in `folder` is older than ``import_ttl_s``."""
        mark = folder / STAGED_MARK
        try:
            staged = (mark if mark.exists() else folder).stat().st_mtime
        except FileNotFoundError:  # deleted meanwhile
            return True
        return time.time() - staged >= self.service.settings.import_ttl_s

    def import_paths(self, import_id: str) -> list[Path]:
        """The staged export files of an import.

        Raises NotFoundError when there is none, or when it has expired (it is deleted then).
        """
        folder = self.imports / import_id
        if not import_id.isalnum() or not folder.is_dir():
            raise NotFoundError(f"no import with id {import_id!r}")
        if self._expired(folder):
            shutil.rmtree(folder, ignore_errors=True)
            log.info("import %s expired", import_id)
            raise NotFoundError(f"import {import_id!r} has expired")
        return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))

    def clean_imports(self) -> int:
        """Delete every staged import older than ``import_ttl_s``; return how many."""
        if not self.imports.is_dir():
            return 0
        expired = [f for f in self.imports.iterdir() if f.is_dir() and self._expired(f)]
        for folder in expired:
            shutil.rmtree(folder, ignore_errors=True)
        if expired:
            log.info("%d expired import(s) deleted", len(expired))
        return len(expired)

    def keep_mapping(self, paths: list[Path], mapping: ImportMapping, *, edited: bool) -> None:
        """Keep the mapping of the import holding `paths` as it now stands, staged with the
        import (:data:`STAGED_MAPPING`); when `edited` (the planner's edit), in the store too,
        so the edit outlives a failed check and the staged upload's expiry, and is proposed
        for the program's next export."""
        text = mapping.to_yaml()
        (paths[0].parent / STAGED_MAPPING).write_text(text, encoding="utf-8")
        if edited and self.service.store.last_mapping() != text:
            self.service.store.save_mapping(text)

    def last_mapping(self) -> ImportMapping | None:
        """The mapping the planner confirmed last (kept in the store), or None."""
        text = self.service.store.last_mapping()
        return ImportMapping.from_yaml(text) if text else None

    def add_imported(self, import_id: str, scenario: Scenario, mapping: ImportMapping) -> str:
        """Record an imported scenario through the service (checked as an upload is), keep its
        mapping for next time and drop the staged exports; return the scenario's id."""
        with tempfile.TemporaryDirectory(prefix="famassign-import-") as tmp:
            folder = write_scenario(scenario, Path(tmp) / "scenario")
            parts = [(p.name, p.read_bytes()) for p in sorted(folder.iterdir()) if p.is_file()]
        info = self.service.create_scenario(parts)
        self.service.store.save_mapping(mapping.to_yaml())
        shutil.rmtree(self.imports / import_id, ignore_errors=True)
        log.info("import %s recorded as scenario %s", import_id, info.id)
        return info.id

    # ------------------------------------------------------------------ plans

    def plan(self, plan_id: str) -> PlanRecord:
        """The stored plan with the scenario it was planned for (raises NotFoundError)."""
        info = self.service.get_plan(plan_id)
        folder = self.service.workspace / info.folder

        def read() -> tuple[Scenario, Result]:
            result_path = folder / RESULT_FILE
            if not result_path.is_file():
                raise NotFoundError(f"plan {plan_id} has no {RESULT_FILE} (made elsewhere)")
            result = Result.model_validate_json(result_path.read_text(encoding="utf-8"))
            planned = folder / PLANNED_SCENARIO
            if planned.is_dir():
                return read_scenario(planned).scenario, result
            if info.scenario_id is None:
                raise NotFoundError(f"plan {plan_id} names no scenario")
            return self.scenario(info.scenario_id), result

        scenario, result = self._plans.get(info.id, read)
        return PlanRecord(info, scenario, result, folder)

    def lineage(self, plan_id: str) -> list[PlanRecord]:
        """The plan and its parents, oldest first."""
        chain = [self.plan(plan_id)]
        while chain[0].info.parent_id:
            chain.insert(0, self.plan(chain[0].info.parent_id))
        return chain

    def children(self, plan_id: str) -> list[dict[str, Any]]:
        """Plans made from `plan_id` (versions and what-ifs), oldest first, as template rows."""
        return [_row(p) for p in self.service.store.children(plan_id)]

    def plans_of(self, scenario_id: str) -> list[dict[str, Any]]:
        """The plans first made for an uploaded scenario (or for it with changed weights) and
        all their descendants, oldest first, as template rows."""
        store = self.service.store
        plans = {p.id: p for p in store.list_plans()}
        origin = {s.id: s.derived_from or s.id for s in store.list_scenarios()}

        def root(plan: PlanInfo) -> str | None:
            while plan.parent_id in plans:
                plan = plans[plan.parent_id]
            return origin.get(plan.scenario_id or "")

        mine = [p for p in plans.values() if root(p) == scenario_id]
        return [_row(p) for p in sorted(mine, key=lambda p: p.created_at)]

    def plan_file(self, plan_id: str, name: str) -> Path:
        """One output file of a plan: the service's recorded files, and the per-staff lists,
        written on their first download (seconds at 10,000 families; most versions are never
        handed out) comparing with the plan in force
        (:meth:`famassign.server.service.Service.plan_in_force`; before any publication, the
        scenario's current staff). They are kept per plan in force, so a new publication gives
        new lists. Raises NotFoundError."""
        if name != STAFF_LISTS:
            return self.service.plan_file(plan_id, name)
        record = self.plan(plan_id)
        previous = self.service.plan_in_force(plan_id)
        key = f"in-force-{previous.id}" if previous else "current-staff"
        path = record.folder / STAFF_LISTS_DIR / key / STAFF_LISTS
        with self._files_lock:
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                in_force = (
                    read_in_force(self.service.workspace / previous.folder) if previous else None
                )
                write_staff_lists(record.result, record.scenario, path, in_force)
        return path


def _row(plan: PlanInfo) -> dict[str, Any]:
    return {
        "id": plan.id,
        "label": plan.label or "first plan",
        "kind": plan.kind,
        "created": plan.created_at.isoformat(timespec="seconds"),
        "published": plan.published,
        "parent_plan_id": plan.parent_id,
    }


def write_staff_lists(
    result: Result, scenario: Scenario, path: Path, in_force: PlanInForce | None = None
) -> None:
    """The per-staff lists: the staff members' sheets of plan.xlsx alone (written whole), the
    hand-out words comparing with `in_force` (family_id -> staff_id of the plan staff last
    received; by default the families' current staff in `scenario`)."""
    names = staff_names(scenario)
    sheets = plan_sheets(
        result,
        scenario,
        summary=summary_dict(result, scenario),
        assignments=with_staff_names(result.assignments_frame(), names),
        caseloads=with_staff_names(result.caseloads_frame(), names),
        in_force=in_force,
    )
    lists = {key: frame for key, frame in sheets.items() if key.startswith("staff:")}
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        write_workbook(lists, tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


__all__ = [
    "MAX_NAME_BYTES",
    "STAFF_LISTS",
    "STAGED_MARK",
    "PlanReader",
    "PlanRecord",
    "UploadNamesRefused",
    "upload_name_problem",
    "write_staff_lists",
]
