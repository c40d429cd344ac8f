"""The planner's page workspace: scenarios, plan versions, jobs beside the page, the audit log.

This is the page's thin store on disk, kept to what the page needs until the server's
store and job service (``famassign.server.service``) take it over: every operation is a call
of the public library (:func:`famassign.read_scenario`, :func:`famassign.solve`,
:func:`famassign.reassign`, :func:`famassign.write_plan`) and nothing here plans or checks by
itself.

Layout of a workspace folder::

    scenarios/<sid>/files/   the scenario folder (as uploaded, or written for a derived one)
    scenarios/<sid>/meta.json
    imports/<iid>/           export files waiting for the planner to confirm their mapping
    mapping.yaml             the last import mapping confirmed, proposed again next time
    plans/<pid>/out/         the plan files (write_plan, with plan.xlsx), staff_lists.xlsx
    plans/<pid>/result.json  the Result
    plans/<pid>/meta.json    scenario, parent plan, label, published (by, reason, at)
    audit.jsonl              every publish and cancellation: who, when, why

Logs carry identifiers only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from famassign.models import Scenario
from famassign.models.importing import ImportResult, write_import
from famassign.models.loading import LoadedScenario, read_scenario
from famassign.models.mapping import MAPPING_FILE
from famassign.models.writing import write_scenario
from famassign.outputs import summary_dict, with_staff_names, write_plan
from famassign.report import ReportSection
from famassign.solver import PlanOptions, Result
from famassign.solver.stop import StopSignal
from famassign.store import ConflictError, NotFoundError, Store
from famassign.workbook import plan_sheets, staff_names, write_workbook

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "done", "failed", "cancelled"]
STAFF_LISTS = "staff_lists.xlsx"


class NotFound(KeyError):
    """An id the workspace does not hold."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(5)}"


@dataclass(frozen=True)
class PlanDraft:
    """What a job hands back: the scenario planned, its result and how it came about."""

    scenario: Scenario
    result: Result
    label: str
    parent_plan_id: str | None = None
    kind: Literal["plan", "version", "what-if"] = "plan"
    sections: tuple[ReportSection | str, ...] = ()
    extra_files: dict[str, pd.DataFrame] = field(default_factory=dict)
    scenario_id: str | None = None
    time_limit: float | None = None


Work = Callable[[Callable[[str, int, int], None], StopSignal], PlanDraft]


@dataclass
class Job:
    """A plan being computed beside the page: state, progress, the plan when done."""

    id: str
    label: str
    state: JobState = "queued"
    stage: str = "queued"
    done: int = 0
    total: int = 1
    plan_id: str | None = None
    message: str | None = None
    started: float = field(default_factory=time.monotonic)
    stop: StopSignal = field(default_factory=StopSignal)

    def as_dict(self) -> dict[str, Any]:
        """The job as JSON for the page's progress poll."""
        return {
            "id": self.id,
            "state": self.state,
            "stage": self.stage,
            "done": self.done,
            "total": self.total,
            "plan_id": self.plan_id,
            "message": self.message,
            "elapsed_s": round(time.monotonic() - self.started, 1),
        }


@dataclass(frozen=True)
class PlanRecord:
    """A stored plan version and the scenario it was planned for."""

    id: str
    scenario_id: str
    scenario: Scenario
    result: Result
    meta: dict[str, Any]

    @property
    def folder(self) -> Path:
        """The folder of its output files."""
        return Path(self.meta["out"])


class Workspace:
    """Scenarios, plans and jobs of the page, kept under one folder."""

    def __init__(self, root: Path | str, *, workers: int = 1) -> None:
        self.root = Path(root)
        (self.root / "scenarios").mkdir(parents=True, exist_ok=True)
        (self.root / "plans").mkdir(parents=True, exist_ok=True)
        (self.root / "imports").mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._files_lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._scenarios: dict[str, Scenario] = {}
        self._loaded: dict[str, LoadedScenario] = {}
        self._plans: dict[str, PlanRecord] = {}
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="famassign-job")
        self.store: Store | None = None
        """The server's store: every plan the page makes is recorded there too (the API serves
        it, and publishing goes to the store's audit log); None for the page alone."""

    # ------------------------------------------------------------------ scenarios

    def add_uploaded(self, files: Sequence[tuple[str, bytes]]) -> tuple[str, LoadedScenario]:
        """Store uploaded scenario files and read them.

        Parameters
        ----------
        files
            (file name, content) pairs; names are reduced to their base name.

        Returns
        -------
        tuple
            The new scenario id and the loaded scenario with its warnings.

        Raises
        ------
        ScenarioError
            Every problem found; nothing is kept.
        """
        sid = _new_id("s")
        folder = self.root / "scenarios" / sid
        staging = Path(tempfile.mkdtemp(prefix=".upload-", dir=self.root / "scenarios"))
        try:
            for name, content in files:
                (staging / Path(name).name).write_bytes(content)
            loaded = read_scenario(staging)
            folder.mkdir()
            staging.rename(folder / "files")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._write_meta(folder, {"id": sid, "name": loaded.scenario.name, "created": _now()})
        with self._lock:
            self._scenarios[sid] = loaded.scenario
            self._loaded[sid] = loaded
        log.info("scenario %s stored (%d files)", sid, len(files))
        return sid, loaded

    def add_scenario(self, scenario: Scenario, *, derived_from: str | None = None) -> str:
        """Store a scenario made by the page (a version or a what-if); return its id."""
        sid = _new_id("s")
        folder = self.root / "scenarios" / sid
        write_scenario(scenario, folder / "files")
        meta = {"id": sid, "name": scenario.name, "created": _now(), "derived_from": derived_from}
        self._write_meta(folder, meta)
        with self._lock:
            self._scenarios[sid] = scenario
        return sid

    def scenario(self, sid: str) -> Scenario:
        """The checked scenario `sid` (read once, then kept in memory)."""
        with self._lock:
            cached = self._scenarios.get(sid)
        if cached is not None:
            return cached
        folder = self._folder("scenarios", sid) / "files"
        scenario = read_scenario(folder).scenario
        with self._lock:
            self._scenarios[sid] = scenario
        return scenario

    def loaded(self, sid: str) -> LoadedScenario:
        """The scenario `sid` with the loader's warnings and notes (read once, then kept)."""
        with self._lock:
            cached = self._loaded.get(sid)
        if cached is not None:
            return cached
        loaded = read_scenario(self._folder("scenarios", sid) / "files")
        with self._lock:
            self._loaded[sid] = loaded
            self._scenarios.setdefault(sid, loaded.scenario)
        return loaded

    def scenario_folder(self, sid: str) -> Path:
        """The folder of the scenario's files."""
        return self._folder("scenarios", sid) / "files"

    def scenarios(self) -> list[dict[str, Any]]:
        """Every uploaded scenario (not the derived ones), newest first."""
        metas = [self._read_meta(p) for p in (self.root / "scenarios").iterdir() if p.is_dir()]
        metas = [m for m in metas if m and not m.get("derived_from")]
        return sorted(metas, key=lambda m: str(m["created"]), reverse=True)

    # ------------------------------------------------------------------ imports

    def stage_import(self, files: Sequence[tuple[str, bytes]]) -> str:
        """Keep export files that need a mapping until the planner has checked it; their id."""
        iid = _new_id("i")
        folder = self.root / "imports" / iid
        folder.mkdir(parents=True)
        for name, content in files:
            (folder / Path(name).name).write_bytes(content)
        return iid

    def import_paths(self, iid: str) -> list[Path]:
        """The staged export files of import `iid`."""
        folder = self._folder("imports", iid)
        return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))

    @property
    def mapping_path(self) -> Path:
        """Where the last mapping used is kept for next time."""
        return self.root / MAPPING_FILE

    def add_imported(self, result: ImportResult) -> str:
        """Store an imported scenario (with its mapping.yaml) and keep the mapping for next time."""
        sid = _new_id("s")
        folder = self.root / "scenarios" / sid
        write_import(result, folder / "files")
        self._write_meta(folder, {"id": sid, "name": result.scenario.name, "created": _now()})
        self.mapping_path.write_text(result.mapping.to_yaml(), encoding="utf-8")
        with self._lock:
            self._scenarios[sid] = result.scenario
        log.info("imported scenario %s stored", sid)
        return sid

    # ------------------------------------------------------------------ jobs

    def submit(self, label: str, work: Work) -> Job:
        """Run `work` beside the page.

        Parameters
        ----------
        label
            What the job does (identifiers only: it is logged).
        work
            Called with a progress callback and the job's stop signal; returns the plan.

        Returns
        -------
        Job
            The job; it ends done (with a stored plan), failed (with a message) or cancelled.
        """
        job = Job(_new_id("j"), label)
        with self._lock:
            self._jobs[job.id] = job
        self._pool.submit(self._run, job, work)
        log.info("job %s queued", job.id)
        return job

    def _run(self, job: Job, work: Work) -> None:
        if job.stop.stopped:
            return
        job.state = "running"
        job.started = time.monotonic()

        def progress(stage: str, done: int, total: int) -> None:
            job.stage, job.done, job.total = stage, done, max(total, 1)

        try:
            draft = work(progress, job.stop)
            if job.stop.stopped:
                job.state = "cancelled"
                return
            job.stage = "writing"
            job.plan_id = self._store_plan(draft)
            job.state = "done"
            log.info("job %s done: plan %s", job.id, job.plan_id)
        except Exception as exc:  # a failed job is reported on its page; the server stays up
            if job.stop.stopped:
                job.state = "cancelled"
                return
            job.state = "failed"
            job.message = str(exc) or type(exc).__name__
            # the message may quote input values: it goes to the page, the log gets the type only
            log.error("job %s failed: %s", job.id, type(exc).__name__)

    def job(self, jid: str) -> Job:
        """The job `jid`."""
        with self._lock:
            job = self._jobs.get(jid)
        if job is None:
            raise NotFound(jid)
        return job

    def cancel(self, jid: str, *, by: str = "planner") -> Job:
        """Stop a queued or running job (recorded in the audit log)."""
        job = self.job(jid)
        if job.state in ("queued", "running"):
            job.stop.stop()
            job.state = "cancelled"
            self.audit("cancel", job=jid, by=by, reason="cancelled from the page")
            log.info("job %s cancelled", jid)
        return job

    def close(self) -> None:
        """Stop every job and the worker threads."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.stop.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ plans

    def _store_plan(self, draft: PlanDraft) -> str:
        sid = draft.scenario_id or self.add_scenario(draft.scenario, derived_from="page")
        pid = _new_id("p")
        folder = self.root / "plans" / pid
        out = folder / "out"
        folder.mkdir()
        write_plan(
            draft.result,
            draft.scenario,
            out,
            extra_sections=list(draft.sections),
            extra_files=draft.extra_files,
        )
        (folder / "result.json").write_text(draft.result.model_dump_json(), encoding="utf-8")
        meta = {
            "id": pid,
            "scenario_id": sid,
            "parent_plan_id": draft.parent_plan_id,
            "label": draft.label,
            "kind": draft.kind,
            "created": _now(),
            "published": None,
            "time_limit": draft.time_limit,
            "out": str(out),
        }
        self._write_meta(folder, meta)
        record = PlanRecord(pid, sid, draft.scenario, draft.result, meta)
        with self._lock:
            self._plans[pid] = record
        self._record_in_store(record, draft)
        return pid

    def _record_in_store(self, record: PlanRecord, draft: PlanDraft) -> None:
        """Record the scenario (once) and the plan in the server's store, under the same ids."""
        if self.store is None:
            return
        from famassign.server.service import content_hash

        folder = self.scenario_folder(record.scenario_id)
        try:
            self.store.get_scenario(record.scenario_id)
        except NotFoundError:
            files = {
                p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.iterdir())
                if p.is_file()
            }
            self.store.record_scenario(
                name=record.scenario.name,
                content_hash=content_hash(files),
                files=files,
                folder=str(folder),
                summary={
                    "families": len(record.scenario.families),
                    "staff": len(record.scenario.staff),
                    "made_by": "planner page",
                },
                scenario_id=record.scenario_id,
            )
        result = record.result
        summary = json.loads((record.folder / "summary.json").read_text(encoding="utf-8"))
        self.store.record_plan(
            folder=str(record.folder),
            files=sorted(p.name for p in record.folder.iterdir() if p.is_file()),
            options={
                "time_limit": draft.time_limit,
                "made_by": "planner page",
                "label": draft.label,
                "parent_plan_id": draft.parent_plan_id,
            },
            solver_version=result.version,
            seed=result.seed,
            runtime_s=result.runtime_s,
            status=result.status.value,
            summary=summary,
            details={
                "caseloads": [c.model_dump() for c in result.caseloads],
                "unplaced": [u.model_dump() for u in result.unplaced],
            },
            scenario_id=record.scenario_id,
            kind="reassign" if "moves.csv" in draft.extra_files else "solve",
            plan_id=record.id,
        )

    def plan(self, pid: str) -> PlanRecord:
        """The stored plan `pid` with its scenario."""
        with self._lock:
            cached = self._plans.get(pid)
        if cached is not None:
            return cached
        folder = self._folder("plans", pid)
        meta = self._read_meta(folder)
        result = Result.model_validate_json((folder / "result.json").read_text(encoding="utf-8"))
        record = PlanRecord(
            pid, meta["scenario_id"], self.scenario(meta["scenario_id"]), result, meta
        )
        with self._lock:
            self._plans[pid] = record
        return record

    def lineage(self, pid: str) -> list[PlanRecord]:
        """The plan and its parents, oldest first."""
        chain = [self.plan(pid)]
        while chain[0].meta.get("parent_plan_id"):
            chain.insert(0, self.plan(chain[0].meta["parent_plan_id"]))
        return chain

    def children(self, pid: str) -> list[dict[str, Any]]:
        """Plans made from `pid` (versions and what-ifs), oldest first."""
        metas = [self._read_meta(p) for p in (self.root / "plans").iterdir() if p.is_dir()]
        kids = [m for m in metas if m and m.get("parent_plan_id") == pid]
        return sorted(kids, key=lambda m: str(m["created"]))

    def plans_of(self, sid: str) -> list[dict[str, Any]]:
        """The plans first made for scenario `sid` and all their descendants, oldest first."""
        metas = [self._read_meta(p) for p in (self.root / "plans").iterdir() if p.is_dir()]
        metas = [m for m in metas if m]
        by_id = {m["id"]: m for m in metas}

        def root_scenario(meta: dict[str, Any]) -> str:
            while meta.get("parent_plan_id") in by_id:
                meta = by_id[meta["parent_plan_id"]]
            return str(meta["scenario_id"])

        mine = [m for m in metas if root_scenario(m) == sid]
        return sorted(mine, key=lambda m: str(m["created"]))

    def publish(self, pid: str, *, by: str, reason: str) -> dict[str, Any]:
        """Mark plan `pid` published (who, when, why), recorded in the audit log.

        Parameters
        ----------
        pid
            The plan.
        by, reason
            Who publishes it and why.

        Returns
        -------
        dict
            The plan's record with ``published``.

        Raises
        ------
        NotFound
            For an unknown plan.
        famassign.store.ConflictError
            When the plan is published already (a published record never changes).
        """
        record = self.plan(pid)
        folder = self._folder("plans", pid)
        if record.meta.get("published"):
            raise ConflictError(f"plan {pid} is published already")
        if self.store is not None:
            try:
                self.store.publish(pid, by=by, reason=reason)
            except NotFoundError:  # a plan made before the page had the server's store
                log.warning("plan %s is not in the server's store; published on the page", pid)
        meta = dict(record.meta)
        meta["published"] = {"by": by, "reason": reason, "at": _now()}
        self._write_meta(folder, meta)
        with self._lock:
            self._plans[pid] = PlanRecord(
                pid, record.scenario_id, record.scenario, record.result, meta
            )
        self.audit("publish", plan=pid, by=by, reason=reason)
        log.info("plan %s published", pid)
        return meta

    def plan_file(self, pid: str, name: str) -> Path:
        """The path of one output file of plan `pid` (only a plain file name is accepted).

        The workbooks are written on their first download (they take seconds at 10,000
        families, and most plan versions are never handed out).
        """
        record = self.plan(pid)
        if name != Path(name).name or name.startswith("."):
            raise NotFound(name)
        path = record.folder / name
        if name in WORKBOOKS and not path.is_file():
            with self._files_lock:
                if not path.is_file():
                    WORKBOOKS[name](record.result, record.scenario, path)
        if not path.is_file():
            raise NotFound(name)
        return path

    # ------------------------------------------------------------------ audit

    def audit(self, action: str, **fields: str) -> None:
        """Append one entry to the audit log."""
        entry = {"at": _now(), "action": action, **fields}
        with self._lock, open(self.root / "audit.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def audit_entries(self) -> list[dict[str, Any]]:
        """Every audit log entry, oldest first."""
        path = self.root / "audit.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]

    # ------------------------------------------------------------------ helpers

    def _folder(self, kind: str, item_id: str) -> Path:
        if not item_id.isalnum():
            raise NotFound(item_id)
        folder = self.root / kind / item_id
        if not folder.is_dir():
            raise NotFound(item_id)
        return folder

    @staticmethod
    def _write_meta(folder: Path, meta: dict[str, Any]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".meta.json.tmp-{os.getpid()}"
        tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
        tmp.replace(folder / "meta.json")

    @staticmethod
    def _read_meta(folder: Path) -> dict[str, Any]:
        path = folder / "meta.json"
        if not path.is_file():
            return {}
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data


def write_staff_lists(result: Result, scenario: Scenario, path: Path) -> None:
    """The per-staff lists: the staff members' sheets of plan.xlsx alone (written whole)."""
    names = staff_names(scenario)
    sheets = plan_sheets(
        result,
        scenario,
        summary=summary_dict(result, scenario),
        assignments=with_staff_names(result.assignments_frame(), names),
        caseloads=with_staff_names(result.caseloads_frame(), names),
    )
    lists = {key: frame for key, frame in sheets.items() if key.startswith("staff:")}
    _write_whole(lambda tmp: write_workbook(lists, tmp), path)


def _write_whole(write: Callable[[Path], object], path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


WORKBOOKS: dict[str, Callable[[Result, Scenario, Path], None]] = {
    STAFF_LISTS: write_staff_lists,
}
"""Files of a plan written on their first download."""


def solve_work(scenario: Scenario, options: PlanOptions, label: str, **draft: Any) -> Work:
    """A job that solves `scenario` with `options` (the stop signal is the job's)."""
    from famassign.solver import solve

    def work(progress: Callable[[str, int, int], None], stop: StopSignal) -> PlanDraft:
        import dataclasses

        result = solve(scenario, dataclasses.replace(options, stop=stop), progress=progress)
        return PlanDraft(scenario, result, label, time_limit=options.time_limit, **draft)

    return work


__all__ = [
    "STAFF_LISTS",
    "WORKBOOKS",
    "Job",
    "NotFound",
    "PlanDraft",
    "PlanRecord",
    "Workspace",
    "solve_work",
    "write_staff_lists",
]
