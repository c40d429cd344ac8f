"""The server's operations, shared by the API routes (:mod:`famassign.server.api`) and the
planner's page: create a scenario from uploaded files, list and get scenarios, start, get and
cancel jobs, update a plan with the month's export, get a plan and its files, publish, delete,
recommend, staffing.

Every method is synchronous (call it from a worker thread: FastAPI runs plain ``def`` routes in
its thread pool); the computing itself happens in :class:`~famassign.server.jobs.JobRunner`'s
worker processes. Errors are the exceptions below plus the store's
(:class:`~famassign.store.NotFoundError` 404, :class:`~famassign.store.ConflictError` 409) and
:class:`~famassign.server.jobs.QueueFull` (429); the API maps them to HTTP answers.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from famassign.models.absence import ABSENCES_CSV
from famassign.models.columns import CONFIG_FILE, TABLES
from famassign.models.errors import FamassignError
from famassign.models.problems import LocatedProblem
from famassign.server import worker
from famassign.server.job_options import (
    CompareJob,
    CompareRequest,
    JobOptions,
    PlanJob,
    PlanRequest,
    PlanVersion,
    SearchRequest,
    SweepJob,
    SweepRequest,
    UpdateJob,
    UpdateRequest,
)
from famassign.server.jobs import JobRunner, WorkerLimit
from famassign.server.settings import Settings
from famassign.server.worker import problem_dict
from famassign.solver.options import OptionsError, PlanOptions
from famassign.solver.reassign import ReassignError, check_leave_request
from famassign.store import (
    AuditEntry,
    CheckinInfo,
    ConflictError,
    JobInfo,
    NotFoundError,
    PlanInfo,
    ScenarioInfo,
    Store,
    new_id,
)

log = logging.getLogger(__name__)

SCENARIO_FILES = frozenset(
    [CONFIG_FILE, ABSENCES_CSV] + [f"{name}.{ext}" for name in TABLES for ext in ("csv", "xlsx")]
)
"""The file names an upload may hold (the scenario folder's files, absences.csv included);
besides these, one program workbook (any ``NAME.xlsx`` with a sheet per table) is accepted, as by
the loader."""
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,100}")
STAFF_FILES = frozenset({"staff.csv", "staff.xlsx"})
"""The names a staff table given with an update may have (it replaces the plan's)."""
PLAN_SCENARIO = "scenario"
"""The sub-folder of an update's export folder holding the plan's scenario with the staff
table given (deleted with the export when the job ends)."""
_CLI_OPTION = re.compile(r"--([a-z][a-z-]*)")


def api_words(message: str) -> str:
    """A library message in the API's words: the command line's options (``--as-of``,
    ``--temporary-cap``) as the request's fields (``as_of``, ``temporary_cap``)."""
    return _CLI_OPTION.sub(lambda m: m.group(1).replace("-", "_"), message)


class InvalidScenario(FamassignError):
    """The uploaded files are not a valid scenario: every problem, located (HTTP 422)."""

    def __init__(self, problems: Sequence[LocatedProblem]) -> None:
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s) in the uploaded scenario")


class InvalidRequest(FamassignError):
    """Request options that cannot be used: the option (as `column`) and why (HTTP 422)."""

    def __init__(self, option: str | None, message: str) -> None:
        self.option, self.message = option, message
        super().__init__(message)


@dataclass(frozen=True)
class PlanView:
    """A plan's record with what the API shows: its files' names and whether it is published."""

    plan: PlanInfo

    def as_dict(self, *, details: bool = True) -> dict[str, Any]:
        """The plan as JSON: id, scenario, options, summary, published..., caseloads and
        unplaced (with their reasons) when `details`."""
        p = self.plan
        out: dict[str, Any] = {
            "id": p.id,
            "scenario_id": p.scenario_id,
            "job_id": p.job_id,
            "kind": p.kind,
            "created_at": p.created_at.isoformat(),
            "status": p.status,
            "options": p.options,
            "solver_version": p.solver_version,
            "seed": p.seed,
            "runtime_s": p.runtime_s,
            "published": p.published,
            "published_at": p.published_at.isoformat() if p.published_at else None,
            "published_by": p.published_by,
            "publish_reason": p.publish_reason,
            "parent_id": p.parent_id,
            "label": p.label,
            "files": p.files,
            "summary": p.summary,
        }
        if details:
            out["caseloads"] = p.details.get("caseloads", [])
            out["unplaced"] = p.details.get("unplaced", [])
        return out


def scenario_dict(info: ScenarioInfo) -> dict[str, Any]:
    """A scenario as JSON."""
    return {
        "id": info.id,
        "name": info.name,
        "created_at": info.created_at.isoformat(),
        "content_hash": info.content_hash,
        "files": info.files,
        "summary": info.summary,
        "derived_from": info.derived_from,
    }


def checkin_dict(info: CheckinInfo) -> dict[str, Any]:
    """A workload check-in as JSON (its note included: only planners and the advocate read
    it; the compliance record never does)."""
    return {
        "id": info.id,
        "at": info.at.isoformat(),
        "staff_id": info.staff_id,
        "manageable": info.manageable,
        "families_i_can_serve": info.families_i_can_serve,
        "hours_over": info.hours_over,
        "note": info.note,
        "acted_job_id": info.acted_job_id,
        "acted_by": info.acted_by,
    }


def job_dict(job: JobInfo, progress: dict[str, Any] | None = None) -> dict[str, Any]:
    """A job as JSON; `progress` overrides the stored progress of a running job."""
    live = progress or {"stage": job.stage, "done": job.done, "total": job.total}
    out: dict[str, Any] = {
        "id": job.id,
        "scenario_id": job.scenario_id,
        "kind": job.kind,
        "state": job.state,
        "progress": {
            "stage": live.get("stage"),
            "done": live.get("done", 0),
            "total": live.get("total", 0),
        },
        "plan_id": job.plan_id,
        "message": job.message,
        "options": job.options,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
    if job.result is not None:
        out["result"] = job.result
    return out


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_hash(files: dict[str, str]) -> str:
    """SHA-256 over the sorted ``name:sha256`` lines of a scenario's files."""
    lines = "".join(f"{name}:{digest}\n" for name, digest in sorted(files.items()))
    return _sha256(lines.encode("utf-8"))


class Service:
    """The operations of the server (see the module docstring).

    Parameters
    ----------
    settings
        The server's settings (workspace, limits).
    store
        The store of scenarios, jobs, plans and the audit log.
    runner
        The job runner (started).
    """

    def __init__(self, settings: Settings, store: Store, runner: JobRunner) -> None:
        self.settings = settings
        self.store = store
        self.runner = runner
        self.workspace = settings.workspace.resolve()

    # ------------------------------------------------------------------ scenarios

    def _check_names(self, parts: Sequence[tuple[str, bytes]]) -> list[LocatedProblem]:
        problems: list[LocatedProblem] = []
        seen: set[str] = set()
        if not parts:
            problems.append(
                LocatedProblem("files", None, None, "no files: upload families and staff files")
            )
        for name, _data in parts:
            shown = name[:120]
            if not _SAFE_NAME.fullmatch(name) or name in (".", ".."):
                problems.append(
                    LocatedProblem(
                        shown, None, None, "not a plain file name (no folders or special signs)"
                    )
                )
            elif name not in SCENARIO_FILES and not name.endswith(".xlsx"):
                problems.append(
                    LocatedProblem(
                        shown,
                        None,
                        None,
                        "not a scenario file; expected "
                        + ", ".join(sorted(SCENARIO_FILES))
                        + " or one program workbook (.xlsx) with a sheet per table",
                    )
                )
            elif name in seen:
                problems.append(LocatedProblem(shown, None, None, "uploaded twice"))
            seen.add(name)
        return problems

    def create_scenario(
        self, parts: Sequence[tuple[str, bytes]], *, derived_from: str | None = None
    ) -> ScenarioInfo:
        """Check uploaded scenario files with the command line's loader and keep them.

        Parameters
        ----------
        parts
            ``(file name, content)`` for each uploaded file (``families.csv``, ``staff.xlsx``,
            ``scenario.yaml``, ...).
        derived_from
            The plan the planner's page derived these files from (a version, a what-if).

        Returns
        -------
        ScenarioInfo
            The recorded scenario (files in the workspace, content-hashed, summary).

        Raises
        ------
        InvalidScenario
            Every problem found: bad file names (folders, unknown names, duplicates) or the
            loader's located problems; or "could not be read within the limits" when the check
            went over its worker's memory limit or ``settings.check_timeout_s`` (the worker is
            replaced; the upload is not checked again).
        """
        problems = self._check_names(parts)
        if problems:
            raise InvalidScenario(problems)
        root = self.workspace / "scenarios"
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".upload-", dir=root))
        try:
            for name, data in parts:
                (tmp / name).write_bytes(data)
            try:
                checked = self.runner.call(
                    worker.check_scenario, str(tmp), timeout=self.settings.check_timeout_s
                )
            except WorkerLimit as exc:
                log.warning("an upload ended its check's worker: %s", exc)
                message = f"could not be read within the limits: {exc}"
                raise InvalidScenario([LocatedProblem("", None, None, message)]) from None
            if "problems" in checked:
                raise InvalidScenario(
                    [
                        LocatedProblem(p["file"], p["row"], p["column"], p["message"])
                        for p in checked["problems"]
                    ]
                )
            files = {name: _sha256(data) for name, data in parts}
            summary = checked["summary"]
            scenario_id = new_id()
            final = root / scenario_id
            tmp.rename(final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        info = self.store.record_scenario(
            scenario_id=scenario_id,
            name=summary["name"],
            content_hash=content_hash(files),
            files=files,
            folder=str(final.relative_to(self.workspace)),
            summary=summary,
            derived_from=derived_from,
        )
        log.info("scenario %s uploaded (%d files)", info.id, len(files))
        return info

    def get_scenario(self, scenario_id: str) -> ScenarioInfo:
        """The scenario; raises NotFoundError."""
        return self.store.get_scenario(scenario_id)

    def list_scenarios(self, *, uploaded_only: bool = False) -> list[ScenarioInfo]:
        """Every scenario, newest first (not those derived from a plan when `uploaded_only`)."""
        return self.store.list_scenarios(uploaded_only=uploaded_only)

    def scenario_dir(self, scenario: ScenarioInfo) -> Path:
        """The folder holding a scenario's files."""
        return self.workspace / scenario.folder

    # ------------------------------------------------------------------ jobs

    def _check_search(self, request: SearchRequest) -> None:
        if request.time_limit > self.settings.max_time_limit_s:
            raise InvalidRequest(
                "time_limit",
                f"time_limit {request.time_limit} is above this server's limit of "
                f"{self.settings.max_time_limit_s} seconds",
            )
        try:
            PlanOptions(time_limit=request.time_limit, seed=request.seed, workers=request.workers)
        except OptionsError as exc:
            raise InvalidRequest(None, str(exc)) from None

    def _check_plan_request(
        self, folder: Path, request: PlanRequest, *, reassign: bool = False
    ) -> None:
        """Refuse a plan request as the command line refuses it (a reassign: as ``famassign
        reassign`` does, :func:`famassign.solver.reassign.check_reassign`, in a worker); the
        scenario is the one in `folder`. `reassign`: the request must be one."""
        self._check_search(request)
        if request.kind == "solve" and not reassign:
            for name in ("until", "temporary_cap", "as_of"):
                if getattr(request, name) is not None:
                    raise InvalidRequest(name, f"{name} is only for a reassign (departed/absent)")
            if request.allow_backdate:
                raise InvalidRequest(
                    "allow_backdate", "allow_backdate is only for a reassign (departed/absent)"
                )
            return
        try:
            check_leave_request(
                tuple(request.departed), tuple(request.absent), request.until, request.temporary_cap
            )
        except ReassignError as exc:
            raise InvalidRequest(None, api_words(str(exc))) from None
        self._refuse(
            self.runner.call(
                worker.check_reassign_request,
                str(folder),
                request,
                timeout=self.settings.check_timeout_s,
            )
        )

    @staticmethod
    def _refuse(answer: dict[str, Any]) -> None:
        """Raise what a worker's check answered (:func:`worker.check_reassign_request`,
        :func:`worker.check_update_request`): nothing when it is ``{}``."""
        if "problems" in answer:
            raise InvalidScenario(
                [
                    LocatedProblem(p["file"], p["row"], p["column"], p["message"])
                    for p in answer["problems"]
                ]
            )
        if "refused" in answer:
            refused = answer["refused"]
            raise InvalidRequest(refused["option"], api_words(refused["message"]))

    def start_plan(
        self, scenario_id: str, request: PlanRequest, version: PlanVersion | None = None
    ) -> JobInfo:
        """Queue a plan (solve, or reassign when someone leaves) of a scenario; return the job.

        `version` says how the planner's page makes this plan from another (label, parent,
        fewest moves, families pinned for the solve); the API leaves it out.

        Raises
        ------
        NotFoundError
            No such scenario.
        InvalidRequest
            Options that cannot be used (out of range, reassign's argument rules, unknown staff).
        QueueFull
            Too many jobs waiting.
        """
        scenario = self.store.get_scenario(scenario_id)
        self._check_plan_request(self.scenario_dir(scenario), request)
        return self._queue(scenario, PlanJob.of(request, self.settings.threads_per_job, version))

    def start_reassign(
        self, plan_id: str, request: PlanRequest, version: PlanVersion | None = None
    ) -> JobInfo:
        """Queue a reassignment of a plan (``famassign reassign PLAN``): the plan's folder is
        the scenario (the next scenario a plan folder holds); the new plan belongs to the plan's
        scenario. The request is refused as the command line refuses it, before any job starts.

        Raises
        ------
        NotFoundError
            No such plan.
        InvalidRequest
            Options that cannot be used: out of range, reassign's argument rules (nobody
            named, a temporary cap without its end...), unknown staff, an end before ``as_of``,
            an ``as_of`` before the plan's own without ``allow_backdate``.
        InvalidScenario
            The plan's scenario fails its checks on the request's ``as_of``.
        QueueFull
            Too many jobs waiting.
        """
        plan = self.store.get_plan(plan_id)
        scenario = self._scenario_of(plan)
        folder = self.workspace / plan.folder
        self._check_plan_request(folder, request, reassign=True)
        options = PlanJob.of(request, self.settings.threads_per_job, version)
        return self._queue(scenario, options, scenario_dir=folder)

    def _scenario_of(self, plan: PlanInfo) -> ScenarioInfo:
        if plan.scenario_id is None:
            raise InvalidRequest(None, f"plan {plan.id} belongs to no scenario")
        return self.store.get_scenario(plan.scenario_id)

    def start_compare(self, scenario_id: str, request: CompareRequest) -> JobInfo:
        """Queue a comparison of the base scenario and its what-if variants; return the job.

        The job's ``result`` holds the comparison table and the staffing analysis when done.
        Raises NotFoundError, InvalidRequest or QueueFull.
        """
        scenario = self.store.get_scenario(scenario_id)
        if request.time_limit > self.settings.max_time_limit_s:
            raise InvalidRequest("time_limit", "time_limit is above this server's limit")
        options = CompareJob(**request.model_dump(), workers=self.settings.threads_per_job)
        return self._queue(scenario, options)

    def start_update(
        self,
        plan_id: str,
        request: UpdateRequest,
        exports: Sequence[tuple[str, bytes]] = (),
        mapping: tuple[str, bytes] | None = None,
        version: PlanVersion | None = None,
        *,
        staff: tuple[str, bytes] | None = None,
    ) -> JobInfo:
        """Queue an update of a plan with this month's export (``famassign update PLAN
        --families-export FILE.. [--mapping M]``): the plan's folder is the scenario, the export
        files and the mapping are kept for the job; the new plan belongs to the plan's scenario.

        The request is refused before any job starts, as the command line refuses it: the
        export read and compared with the plan by the same functions
        (:func:`famassign.models.month.read_families_export`, ``month_changes``), the date
        checked by :func:`famassign.solver.update.check_update` (in a worker).

        Parameters
        ----------
        plan_id
            The plan to update (the plan in force).
        request
            The update's options.
        exports
            ``(file name, content)`` of each export file (a families.csv, or the files the
            mapping names); none: the plan's families as they are.
        mapping
            ``(file name, content)`` of the importer's mapping.yaml, or None.
        version
            How the planner's page makes this plan (label, parent); the API leaves it out.
        staff
            ``(file name, content)`` of the staff table as it now stands (``staff.csv`` or
            ``staff.xlsx``: a hire added, a change of FTE...), which replaces the plan's for
            this update; None: the plan's own. The plan's scenario files with it are read by
            the loader, as a plan folder with its staff.csv edited is.

        Raises
        ------
        NotFoundError
            No such plan.
        InvalidRequest
            Options out of range, a file name that is not a plain ``NAME.csv``/``NAME.xlsx``
            (mapping: ``NAME.yaml``; staff: ``staff.csv`` or ``staff.xlsx``), a name given
            twice, a mapping without export files, or an ``as_of`` before the plan's own
            without ``allow_backdate``.
        InvalidScenario
            Every problem of the export (or of the plan's scenario with the staff table
            given), located in its files: nothing is kept, no job starts.
        QueueFull
            Too many jobs waiting.
        """
        plan = self.store.get_plan(plan_id)
        self._check_search(request)
        scenario = self._scenario_of(plan)
        if mapping is not None and not exports:
            raise InvalidRequest("mapping", "a mapping needs the export files it names")
        names = [name for name, _ in exports] + ([mapping[0]] if mapping else [])
        for i, name in enumerate(names):
            field = "mapping" if mapping is not None and i == len(exports) else "files"
            suffixes = (".yaml", ".yml") if field == "mapping" else (".csv", ".xlsx")
            if not _SAFE_NAME.fullmatch(name) or not name.lower().endswith(suffixes):
                raise InvalidRequest(
                    field, f"{name!r}: give a plain file name ending in {' or '.join(suffixes)}"
                )
            if name in names[:i]:
                raise InvalidRequest(field, f"{name!r} given twice")
        if staff is not None and staff[0] not in STAFF_FILES:
            raise InvalidRequest(
                "staff", f"{staff[0][:120]!r}: give the staff table as staff.csv or staff.xlsx"
            )
        export_dir = self.workspace / "exports" / new_id()
        export_dir.mkdir(parents=True)
        try:
            for name, data in [*exports, *([mapping] if mapping else [])]:
                (export_dir / name).write_bytes(data)
            folder = self.workspace / plan.folder
            if staff is not None:
                folder = self._with_staff(folder, staff, export_dir / PLAN_SCENARIO)
            options = UpdateJob.model_validate(
                {
                    **request.model_dump(),
                    "workers": request.workers or self.settings.threads_per_job,
                    "export_files": tuple(name for name, _ in exports),
                    "mapping_file": mapping[0] if mapping else None,
                    "staff_file": staff[0] if staff else None,
                    "version": version,
                }
            )
            self._refuse(
                self.runner.call(
                    worker.check_update_request,
                    str(folder),
                    options,
                    str(export_dir),
                    timeout=self.settings.check_timeout_s,
                )
            )
            return self._queue(scenario, options, scenario_dir=folder, export_dir=export_dir)
        except BaseException:
            shutil.rmtree(export_dir, ignore_errors=True)
            raise

    @staticmethod
    def _with_staff(plan_dir: Path, staff: tuple[str, bytes], folder: Path) -> Path:
        """`folder` made the plan's scenario with its staff table replaced by `staff`: the
        scenario files of `plan_dir` (:data:`SCENARIO_FILES`; the plan's own outputs are not
        scenario files) but its staff table, and `staff` under its name."""
        folder.mkdir()
        for name in sorted(SCENARIO_FILES - STAFF_FILES):
            if (plan_dir / name).is_file():
                shutil.copyfile(plan_dir / name, folder / name)
        (folder / staff[0]).write_bytes(staff[1])
        return folder

    def start_sweep(self, scenario_id: str, request: SweepRequest) -> JobInfo:
        """Queue a sweep of a scenario's ``uncertainty:`` block (docs/sweep.md); return the job.

        The job's ``result`` holds the people to hire, their share on the training samples, the
        validated share with its interval, and the names of the sweep's files
        (:meth:`sweep_file`). Raises NotFoundError or QueueFull.
        """
        scenario = self.store.get_scenario(scenario_id)
        return self._queue(scenario, SweepJob(**request.model_dump()))

    def sweep_file(self, job_id: str, name: str) -> Path:
        """The path of one output file of a finished sweep job.

        Raises NotFoundError when the job is not a finished sweep or has no file of that name
        (only the recorded names are served: no path tricks).
        """
        job = self.store.get_job(job_id)
        files = (job.result or {}).get("files", []) if job.kind == "sweep" else []
        if name not in files:
            raise NotFoundError(f"job {job_id} has no sweep file {name!r}")
        path = self.workspace / "sweeps" / job.id / name
        if not path.is_file():
            raise NotFoundError(f"file {name!r} of sweep {job_id} is missing from the workspace")
        return path

    def engagement_record(self, info: CheckinInfo) -> dict[str, Any]:
        """A check-in as a plan's compliance record and workbook get it
        (:mod:`famassign.report.engagement`): no note, no user; ``acted_plan_id`` the plan
        that made it a personal cap once that plan's job is done."""
        plan_id = None
        if info.acted_job_id is not None:
            try:
                plan_id = self.store.get_job(info.acted_job_id).plan_id
            except NotFoundError:
                plan_id = None
        return {
            "staff_id": info.staff_id,
            "at": info.at.isoformat(),
            "manageable": info.manageable,
            "families_i_can_serve": info.families_i_can_serve,
            "hours_over": info.hours_over,
            "acted_plan_id": plan_id,
        }

    def _queue(
        self,
        scenario: ScenarioInfo,
        options: JobOptions,
        *,
        scenario_dir: Path | None = None,
        export_dir: Path | None = None,
    ) -> JobInfo:
        if self.runner.queued >= self.settings.max_queued_jobs:
            from famassign.server.jobs import QueueFull

            raise QueueFull(
                f"{self.runner.queued} jobs are waiting already (the limit is "
                f"{self.settings.max_queued_jobs}); try again when some have finished"
            )
        job = self.store.create_job(scenario.id, options.kind, options.model_dump(mode="json"))
        in_force = self.plan_in_force()
        spec = worker.JobSpec(
            job_id=job.id,
            scenario_dir=str(scenario_dir or self.scenario_dir(scenario)),
            plan_dir=str(
                self.workspace / "sweeps" / job.id
                if options.kind == "sweep"
                else self.workspace / "plans" / new_id()
            ),
            control_dir=str(self.runner.control_dir(job.id)),
            options=options,
            export_dir=str(export_dir) if export_dir is not None else None,
            checkins=tuple(self.engagement_record(c) for c in self.store.list_checkins()),
            in_force_dir=str(self.workspace / in_force.folder) if in_force else None,
        )
        try:
            self.runner.submit(spec)
        except Exception as exc:
            self.store.finish_job(job.id, "failed", message=str(exc))
            raise
        log.info("job %s (%s) queued for scenario %s", job.id, options.kind, scenario.id)
        return job

    def get_job(self, job_id: str) -> JobInfo:
        """The job; raises NotFoundError."""
        return self.store.get_job(job_id)

    def job_view(self, job: JobInfo) -> dict[str, Any]:
        """The job as JSON, with the live progress of a running job."""
        live = self.runner.progress(job.id) if job.state == "running" else None
        return job_dict(job, live)

    def list_jobs(self, scenario_id: str | None = None) -> list[JobInfo]:
        """Jobs, oldest first (of one scenario when given)."""
        return self.store.list_jobs(scenario_id=scenario_id)

    def cancel_job(self, job_id: str, *, by: str = "api", reason: str = "") -> JobInfo:
        """Cancel a queued or running job (audit entry: who, why); its worker stops at once.

        Raises NotFoundError, or ConflictError when the job already ended.
        """
        job = self.store.cancel_job(job_id, by=by, reason=reason)
        self.runner.cancel(job_id)
        log.info("job %s cancelled", job_id)
        return job

    # ------------------------------------------------------------------ plans

    def get_plan(self, plan_id: str) -> PlanInfo:
        """The plan; raises NotFoundError."""
        return self.store.get_plan(plan_id)

    def list_plans(self, scenario_id: str) -> list[PlanInfo]:
        """A scenario's plans, newest first (raises NotFoundError for an unknown scenario)."""
        self.store.get_scenario(scenario_id)
        return self.store.list_plans(scenario_id)

    def plan_files(self, plan_id: str) -> list[str]:
        """The names of a plan's output files."""
        return list(self.store.get_plan(plan_id).files)

    def plan_file(self, plan_id: str, name: str) -> Path:
        """The path of one output file of a plan.

        `name` is the file's path in the plan folder, ``/``-separated (``rosters/S1.pdf``).
        Raises NotFoundError when the plan has no file of that name: only the recorded names
        are served, and a name with an empty, ``.`` or ``..`` part, a backslash or a leading
        ``/``, or one whose path leaves the plan folder, never is (no path tricks).
        """
        plan = self.store.get_plan(plan_id)
        parts = name.split("/")
        if name not in plan.files or "\\" in name or any(part in ("", ".", "..") for part in parts):
            raise NotFoundError(f"plan {plan_id} has no file {name!r}; it has {plan.files}")
        folder = (self.workspace / plan.folder).resolve()
        path = folder.joinpath(*parts)
        if not path.resolve().is_relative_to(folder) or not path.is_file():
            raise NotFoundError(f"file {name!r} of plan {plan_id} is missing from the workspace")
        return path

    def plan_in_force(self, plan_id: str | None = None) -> PlanInfo | None:
        """The plan staff last received, which hand-outs compare with ("new to you"): the plan
        published last, never a draft; for a published `plan_id`, the plan published last
        before it (the one it replaced). None when there is none. Raises NotFoundError (no
        plan `plan_id`)."""
        published = self.store.list_plans(published=True)
        if plan_id is not None:
            own = self.store.get_plan(plan_id)
            if own.published_at is not None:
                published = [
                    p
                    for p in published
                    if p.published_at is not None and p.published_at < own.published_at
                ]
        return max(published, key=lambda p: p.published_at or p.created_at, default=None)

    def whatif_origin(self, plan_id: str) -> PlanInfo | None:
        """The what-if plan `plan_id` is or was made from (itself or a parent), else None.

        A what-if is imaginary (a hire who does not exist, a site that has not closed) and so
        are versions adjusted from it. Making it a real change means planning from the
        program's own data with the change in it (e.g. the hire added to staff.csv and
        uploaded): that plan has no what-if parent. Raises NotFoundError."""
        plan: PlanInfo | None = self.store.get_plan(plan_id)
        while plan is not None:
            if (plan.options.get("version") or {}).get("whatif"):
                return plan
            plan = self.store.get_plan(plan.parent_id) if plan.parent_id else None
        return None

    def plan_assignments(self, plan_id: str) -> list[dict[str, str | None]]:
        """Every family of a plan as its ``assignments.csv`` has it (``family_id``,
        ``staff_id`` (None when unplaced), ``previous_staff_id``, ``changed``, ...; blanks as
        None); [] for a plan without that file (a comparison)."""
        plan = self.store.get_plan(plan_id)
        if "assignments.csv" not in plan.files:
            return []
        path = self.workspace / plan.folder / "assignments.csv"
        with path.open(encoding="utf-8", newline="") as handle:
            return [{k: v or None for k, v in row.items()} for row in csv.DictReader(handle)]

    def publish(self, plan_id: str, *, by: str, reason: str) -> PlanInfo:
        """Publish a plan (audit entry). Raises ValueError (blank by/reason), NotFoundError,
        ConflictError (already published, or a what-if: :meth:`whatif_origin`)."""
        origin = self.whatif_origin(plan_id)
        if origin is not None:
            raise ConflictError(
                f"plan {plan_id} is a what-if (made from “{origin.label}”) and is never "
                "published: add the change to the program's data for real (e.g. the hire to "
                "staff.csv), upload it and plan it"
            )
        plan = self.store.publish(plan_id, by=by, reason=reason)
        log.info("plan %s published", plan_id)
        return plan

    def rename_plan(self, plan_id: str, label: str, *, by: str) -> PlanInfo:
        """Rename an unpublished plan (audit entry). Raises ValueError (blank label),
        NotFoundError, ConflictError (published)."""
        plan = self.store.rename_plan(plan_id, label, by=by)
        log.info("plan %s renamed", plan_id)
        return plan

    def audit_log(self) -> list[AuditEntry]:
        """The store's audit log, oldest first."""
        return self.store.audit_log()

    def delete_plan(self, plan_id: str, *, by: str, reason: str = "") -> PlanInfo:
        """Delete an unpublished plan and its files (audit entry). Raises NotFoundError, or
        ConflictError for a published plan."""
        plan = self.store.delete_plan(plan_id, by=by, reason=reason)
        shutil.rmtree(self.workspace / plan.folder, ignore_errors=True)
        log.info("plan %s deleted", plan_id)
        return plan

    # ------------------------------------------------------------------ answers computed now

    def recommend(self, scenario_id: str, family_id: str, top: int = 5) -> dict[str, Any]:
        """Staff ranked for one family of a scenario, with the reasons (computed in a worker).

        Raises NotFoundError (scenario or family), WorkerLimit (memory or request time limit).
        """
        from famassign.solver.recommend import RecommendError

        scenario = self.store.get_scenario(scenario_id)
        try:
            return self.runner.call(
                worker.recommendation_of, str(self.scenario_dir(scenario)), family_id, top
            )
        except RecommendError as exc:
            raise NotFoundError(str(exc)) from None

    def staffing(self, scenario_id: str) -> dict[str, Any]:
        """The staffing analysis of a scenario (computed in a worker).

        Raises NotFoundError, WorkerLimit (memory or request time limit).
        """
        scenario = self.store.get_scenario(scenario_id)
        return self.runner.call(worker.staffing_of, str(self.scenario_dir(scenario)))


__all__ = [
    "SCENARIO_FILES",
    "STAFF_FILES",
    "InvalidRequest",
    "InvalidScenario",
    "PlanView",
    "Service",
    "api_words",
    "checkin_dict",
    "content_hash",
    "job_dict",
    "problem_dict",
    "scenario_dict",
]
