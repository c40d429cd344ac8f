"""What runs inside a job's worker process: plan, compare, sweep, recommend, staffing.

The server never solves in its own process: :class:`famassign.server.jobs.JobRunner` sends a
:class:`JobSpec` to a worker of its process pool, which calls :func:`run_job`. The worker

- reads the uploaded scenario (an update: the plan folder) with the same public loader as the
  command line and the library (:func:`famassign.scenarios.reading.read_scenario`), and an
  update's export as ``famassign update --families-export`` does
  (:func:`famassign.models.month.read_families_export` and ``month_changes``),
- reports progress into ``<control>/progress.json`` (replaced atomically, read by the server),
- stops the search when ``<control>/cancel`` appears (the best plan so far is then dropped),
- writes the plan with :func:`famassign.outputs.write_plan` (a reassignment or an update with
  :func:`famassign.replan_outputs.write_replan`, the command line's writer: moves, handover
  notes, changes.csv, the next scenario) into its folder, atomically
  (:func:`famassign.safe_io.atomic_output_dir`): the folder is complete or absent,
- writes a sweep's files with :func:`famassign.sweep_outputs.write_sweep` (atomically too),
- returns a small JSON-safe dict the server records in the store.

A watchdog thread ends the worker when the server process is gone (killed), so no orphan solves
on. Logs carry job and scenario identifiers only.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import os
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from famassign.models.errors import FamassignError
from famassign.models.problems import LocatedProblem, ScenarioError
from famassign.models.scenario import Scenario
from famassign.safe_io import MARKER
from famassign.scenarios.reading import read_scenario
from famassign.server.job_options import (
    CompareJob,
    JobKind,
    JobOptions,
    PlanJob,
    PlanRequest,
    SweepJob,
    UpdateJob,
    plan_options,
)
from famassign.server.logs import OneLineFormatter
from famassign.solver.options import PlanOptions
from famassign.solver.stop import StopSignal

if TYPE_CHECKING:
    from famassign.models.month import FamilyChange
    from famassign.solver.update import UpdateResult

log = logging.getLogger(__name__)

PROGRESS_FILE = "progress.json"
RESULT_FILE = "result.json"
"""Every plan's full result (:class:`famassign.Result` as JSON), read back by the planner's page."""
PLANNED_SCENARIO = "scenario"
"""The sub-folder of a reassign plan holding the scenario as planned (staff statuses changed)."""
CANCEL_FILE = "cancel"
_PROGRESS_EVERY_S = 0.25
_WATCH_EVERY_S = 0.2
WORKER_NICENESS = 10
"""Worker processes run at this lower CPU priority, so the server answers while they solve."""


@dataclass(frozen=True)
class JobSpec:
    """One job for a worker: what to compute (`options`, whose ``kind`` is ``solve``,
    ``reassign``, ``update``, ``compare`` or ``sweep``), from which scenario folder, into which
    folder.

    `plan_dir` is the plan's (or the sweep's) final folder (unused by compare); `control_dir` the
    job's folder of progress and cancel files; `export_dir` the folder of an update's export files
    and mapping; `in_force_dir` the folder of the plan in force (published last,
    :meth:`famassign.server.service.Service.plan_in_force`), which the plan's hand-outs compare
    with, None when nothing is published (then they compare with the scenario's current staff,
    as on the command line).
    """

    job_id: str
    scenario_dir: str
    plan_dir: str
    control_dir: str
    options: JobOptions
    export_dir: str | None = None
    checkins: tuple[dict[str, Any], ...] = ()
    """The advocates' workload check-ins received so far, without notes (see
    :mod:`famassign.report.engagement`): a plan then has checkins.csv, its workbook sheet and
    the (d)(3) section of compliance.md."""
    in_force_dir: str | None = None

    @property
    def kind(self) -> JobKind:
        """``solve``, ``reassign``, ``update``, ``compare`` or ``sweep``."""
        return self.options.kind


class JobCancelled(FamassignError):
    """The job was cancelled while it ran."""


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)  # the server is gone: stop at once, write nothing more


def init_worker(parent: int, level: int = logging.WARNING, memory: int | None = None) -> None:
    """Process-pool initializer: log to stderr at the server's `level` (identifiers only, a
    record per line: :class:`~famassign.server.logs.OneLineFormatter`), limit this process's
    address space to `memory` bytes (``RLIMIT_AS``; an allocation above it fails: MemoryError,
    or the process ends), lower its CPU priority (:data:`WORKER_NICENESS`), and start a
    watchdog that ends this worker when the server dies."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        OneLineFormatter("%(asctime)s %(levelname)s %(name)s[worker %(process)d]: %(message)s")
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    if memory is not None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # solving is batch work: the server's own process (health, job status) goes first
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def warm_up() -> bool:
    """Import the solver stack once, so the first job does not pay for it."""
    import famassign.compare
    import famassign.outputs
    import famassign.solver  # noqa: F401

    return True


def _progress_writer(control: Path) -> Callable[[str, int, int], None]:
    last = [0.0]

    def update(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < _PROGRESS_EVERY_S and done < total:
            return
        last[0] = now
        tmp = control / f".{PROGRESS_FILE}.{os.getpid()}"
        tmp.write_text(json.dumps({"stage": stage, "done": done, "total": total}))
        os.replace(tmp, control / PROGRESS_FILE)

    return update


def read_progress(control: Path) -> dict[str, Any] | None:
    """The last progress a worker reported for the job whose control folder is `control`."""
    try:
        value = json.loads((control / PROGRESS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


class _CancelWatch:
    """Stops the solve when the cancel file appears."""

    def __init__(self, control: Path, stop: StopSignal) -> None:
        self._control, self._stop = control, stop
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def cancelled(self) -> bool:
        return (self._control / CANCEL_FILE).exists()

    def _run(self) -> None:
        while not self._done.wait(_WATCH_EVERY_S):
            if self.cancelled:
                self._stop.stop()
                return

    def __enter__(self) -> _CancelWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", date_format="iso"))
    return records


def plan_files(folder: Path) -> list[str]:
    """The names of a plan folder's files, sorted: their paths in the folder, ``/``-separated
    (``summary.json``, ``rosters/S1.pdf``, ``handover/S1.html``), without famassign's marker
    and the scenario as planned (:data:`PLANNED_SCENARIO`, the page's own)."""
    return sorted(
        name
        for name in (p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        if name != MARKER and not name.startswith(f"{PLANNED_SCENARIO}/")
    )


def read_in_force(plan_dir: Path) -> dict[str, str | None]:
    """The plan in a plan folder, as the plan in force of hand-outs
    (:data:`famassign.workbook.PlanInForce`): family_id -> staff_id from its assignments.csv
    (None for a family placed with nobody)."""
    from famassign.outputs import ASSIGNMENTS_CSV

    with (plan_dir / ASSIGNMENTS_CSV).open(encoding="utf-8", newline="") as fh:
        return {row["family_id"]: row["staff_id"] or None for row in csv.DictReader(fh)}


def problem_dict(problem: LocatedProblem) -> dict[str, Any]:
    """A located problem as the API's JSON: ``{file, row, column, message}``."""
    return {
        "file": problem.file,
        "row": problem.line,
        "column": problem.column,
        "message": problem.message,
    }


def without_folder(text: str, folder: str | Path) -> str:
    """`text` with the server path `folder` taken out: a path inside it relative to it, the
    folder itself ``.``; an answer names the user's files, never where the server keeps them."""
    root = str(folder).rstrip(os.sep)
    return text.replace(root + os.sep, "").replace(root, ".")


def _as_uploaded(problem: object, *folders: str) -> dict[str, Any]:
    """A loader's problem (or warning) as the API's JSON, its file named as uploaded (the
    server's `folders` taken out, in their order)."""
    if not isinstance(problem, LocatedProblem):
        problem = LocatedProblem("", None, None, str(problem))
    file, message = problem.file, problem.message
    for folder in folders:
        file, message = without_folder(file, folder), without_folder(message, folder)
    return problem_dict(LocatedProblem(file, problem.line, problem.column, message))


def check_scenario(folder: str) -> dict[str, Any]:
    """Check the scenario files in `folder` with the command line's loader (run in a worker).

    Returns ``{"problems": [...]}`` (each a :func:`problem_dict`) when it is invalid, else
    ``{"summary": {...}}``: name, planning date, counts, the loader's warnings (ignored columns
    and keys) and notes (exceptions not in force), capacity shortfalls. Problems and warnings
    name files relative to `folder` (:func:`without_folder`).
    """
    from famassign.models.domain import StaffStatus
    from famassign.models.summary import capacity_shortfalls

    try:
        loaded = read_scenario(folder)
    except ScenarioError as exc:
        return {"problems": [_as_uploaded(p, folder) for p in exc.problems]}
    scenario = loaded.scenario
    active = [s for s in scenario.staff if s.status is StaffStatus.active]
    return {
        "summary": {
            "name": scenario.name,
            "as_of": scenario.as_of.isoformat(),
            "families": len(scenario.families),
            "staff": len(scenario.staff),
            "active_staff": len(active),
            "exceptions": len(scenario.exceptions),
            "exceptions_in_force": len(scenario.exceptions_in_force()),
            "conflicts": len(scenario.conflicts),
            "variants": len(scenario.variants),
            "warnings": [_as_uploaded(w, folder) for w in loaded.warnings],
            "notes": list(loaded.notes),
            "capacity_shortfalls": [str(s) for s in capacity_shortfalls(scenario)],
        }
    }


def _refused(option: str | None, message: str) -> dict[str, Any]:
    return {"refused": {"option": option, "message": message}}


def check_reassign_request(folder: str, request: PlanRequest) -> dict[str, Any]:
    """Refuse what ``famassign reassign`` refuses for `request` on the scenario in `folder`
    (a plan folder, or an uploaded scenario), without searching (run in a worker before the
    job is queued): :func:`famassign.solver.reassign.check_reassign`.

    Returns ``{}`` when the job may run; ``{"refused": {"option", "message"}}`` for a request
    that cannot be used (the message in the command line's words: ``--as-of``); or
    ``{"problems": [...]}`` (:func:`problem_dict`) when the scenario fails its checks on the
    request's ``as_of``.
    """
    from famassign.solver.reassign import ReassignError, check_not_backdated, check_reassign

    scenario = read_scenario(folder).scenario
    for name in ("departed", "absent"):
        unknown = [s for s in getattr(request, name) if s not in scenario.staff_by_id]
        if unknown:
            return _refused(name, f"unknown staff_id {', '.join(map(repr, unknown))}")
    try:
        check_not_backdated(scenario, request.as_of, request.allow_backdate, ReassignError)
    except ReassignError as exc:
        return _refused("as_of", str(exc))
    try:
        check_reassign(
            scenario,
            departed=tuple(request.departed),
            absent=tuple(request.absent),
            until=request.until,
            temporary_cap=request.temporary_cap,
            as_of=request.as_of,
            allow_backdate=request.allow_backdate,
        )
    except ReassignError as exc:
        return _refused(None, str(exc))
    except ScenarioError as exc:
        return {"problems": [_as_uploaded(p, folder) for p in exc.problems]}
    return {}


def check_update_request(folder: str, job: UpdateJob, export_dir: str | None) -> dict[str, Any]:
    """Refuse what ``famassign update PLAN --families-export ..`` refuses, without searching
    (run in a worker before the job is queued): the scenario in `folder` (the plan folder, or
    it with the staff table replaced) read by the loader, the export in `export_dir` read and
    compared with it (:func:`_month`), then :func:`famassign.solver.update.check_update`.

    Returns ``{}`` when the job may run, ``{"problems": [...]}`` (:func:`problem_dict`, files
    named as uploaded) for the scenario's or the export's problems, or ``{"refused": {"option",
    "message"}}`` for a backdated ``as_of``.
    """
    from famassign.solver.update import UpdateError, check_update

    try:
        scenario, _ = _month(job, read_scenario(folder).scenario, export_dir)
        check_update(
            scenario,
            as_of=job.as_of,
            allow_backdate=job.allow_backdate,
            max_moves_per_staff=job.max_moves_per_staff,
        )
    except ScenarioError as exc:
        # the scenario folder first: with a staff table given it lies inside the export's
        folders = (folder, export_dir) if export_dir is not None else (folder,)
        return {"problems": [_as_uploaded(p, *folders) for p in exc.problems]}
    except UpdateError as exc:
        return _refused("as_of", str(exc))
    return {}


def run_job(spec: JobSpec) -> dict[str, Any]:
    """Compute one job in this worker process; see the module docstring.

    Returns
    -------
    dict
        For a plan: ``status``, ``seed``, ``runtime_s``, ``version``, ``summary``,
        ``details`` (caseloads, unplaced, exceptions_used) and ``files``. For a comparison:
        ``result`` (the comparison table and the staffing analysis). For a sweep: ``result``
        (:func:`sweep_dict`).

    Raises
    ------
    JobCancelled
        When the cancel file appeared while the job ran (nothing is written).
    """
    control = Path(spec.control_dir)
    control.mkdir(parents=True, exist_ok=True)
    stop = StopSignal()
    progress = _progress_writer(control)
    started = time.monotonic()
    log.info("job %s (%s) started in process %d", spec.job_id, spec.kind, os.getpid())
    loaded = read_scenario(spec.scenario_dir)
    with _CancelWatch(control, stop) as watch:
        if isinstance(spec.options, SweepJob):
            outcome = _sweep(
                spec, spec.options, loaded.scenario, _cancellable(progress, watch, spec.job_id)
            )
        elif isinstance(spec.options, CompareJob):
            outcome = _compare(loaded.scenario, plan_options(spec.options, stop))
        else:
            outcome = _plan(
                spec, spec.options, loaded.scenario, plan_options(spec.options, stop), progress
            )
        if watch.cancelled:
            raise JobCancelled(spec.job_id)
    log.info("job %s finished in %.2fs", spec.job_id, time.monotonic() - started)
    return outcome


def _month(
    job: UpdateJob, scenario: Scenario, export_dir: str | None
) -> tuple[Scenario, tuple[FamilyChange, ...]]:
    """The plan folder `scenario` brought to the job's export, and the changes (none without
    an export), as ``famassign update --families-export`` does
    (:func:`famassign.models.month.read_families_export` and ``month_changes``).

    Raises ScenarioError: every problem of the export, located in its files."""
    from famassign.models.mapping import ImportMapping
    from famassign.models.month import month_changes, read_families_export

    if not job.export_files:
        return scenario, ()
    folder = Path(export_dir or ".")
    mapping = ImportMapping.read(folder / job.mapping_file) if job.mapping_file else None
    month = month_changes(
        scenario,
        read_families_export([folder / n for n in job.export_files], scenario, mapping),
        advocate_from=job.advocate_from,
    )
    return month.scenario, month.changes


def _within_limit(options: PlanOptions, scenario: Scenario) -> PlanOptions:
    """The options with the time the plan's outputs are expected to take to write kept back
    from the time limit, as the command line does (`famassign.outputs.write_seconds`): the same
    ``time_limit`` gives the same deterministic budget, so the same plan, both ways."""
    from famassign.outputs import write_seconds

    writing = write_seconds(len(scenario.families), len(scenario.staff))
    return replace(options, time_limit=max(options.time_limit - writing, 0.0))


def _update(
    spec: JobSpec,
    job: UpdateJob,
    scenario: Scenario,
    options: PlanOptions,
    progress: Callable[[str, int, int], None],
) -> UpdateResult:
    """The update of the plan folder `scenario` with the job's export (the command line's
    :func:`famassign.models.month.month_changes` and :func:`famassign.solver.update.update`)."""
    from famassign.solver.update import update

    scenario, changes = _month(job, scenario, spec.export_dir)
    return update(
        scenario,
        as_of=job.as_of,
        allow_backdate=job.allow_backdate,
        max_moves_per_staff=job.max_moves_per_staff,
        options=_within_limit(options, scenario),
        progress=progress,
        changes=changes,
    )


def _plan(
    spec: JobSpec,
    job: PlanJob | UpdateJob,
    scenario: Scenario,
    options: PlanOptions,
    progress: Callable[[str, int, int], None],
) -> dict[str, Any]:
    from famassign.outputs import summary_dict, write_plan

    in_force = read_in_force(Path(spec.in_force_dir)) if spec.in_force_dir else None
    if isinstance(job, UpdateJob):
        from famassign.replan_outputs import replan_summary, write_replan

        updated = _update(spec, job, scenario, options, progress)
        if options.stop is not None and options.stop.stopped:
            raise JobCancelled(spec.job_id)
        result, planned = updated.result, updated.scenario
        extra = replan_summary(updated)
        write_replan(updated, spec.plan_dir, in_force=in_force)
    elif job.kind == "reassign":
        from famassign.replan_outputs import replan_summary, write_replan
        from famassign.solver.reassign import reassign

        outcome = reassign(
            scenario,
            departed=tuple(job.departed),
            absent=tuple(job.absent),
            until=job.until,
            temporary_cap=job.temporary_cap,
            as_of=job.as_of,
            allow_backdate=job.allow_backdate,
            options=_within_limit(options, scenario),
            progress=progress,
        )
        if options.stop is not None and options.stop.stopped:
            raise JobCancelled(spec.job_id)
        result, planned = outcome.result, outcome.scenario
        extra = replan_summary(outcome)
        files, sections = _engagement(spec, result)
        write_replan(
            outcome, spec.plan_dir, extra_files=files, extra_sections=sections, in_force=in_force
        )
    else:
        from famassign.solver import solve
        from famassign.solver.continuation import away_on_leave, next_scenario

        planned, extra = away_on_leave(scenario), None  # staff on a running absence kept away
        within = _within_limit(options, planned)
        result = solve(pinned(planned, job.pin_for_solve), within, progress=progress)
        if options.stop is not None and options.stop.stopped:
            raise JobCancelled(spec.job_id)
        files, sections = _engagement(spec, result)
        write_plan(
            result,
            planned,
            spec.plan_dir,
            extra_files=files,
            extra_sections=sections,
            next_scenario=next_scenario(planned, result, staff=scenario.staff),
            in_force=in_force,
        )
    _write_readback(Path(spec.plan_dir), result, planned if planned is not scenario else None)
    return {
        "status": result.status.value,
        "seed": result.seed,
        "runtime_s": result.runtime_s,
        "version": result.version,
        "summary": summary_dict(result, planned, extra=extra),
        "details": {
            "caseloads": _records(result.caseloads_frame()),
            "unplaced": [u.model_dump() for u in result.unplaced],
            "exceptions_used": list(result.exceptions_used),
        },
        "files": plan_files(Path(spec.plan_dir)),
    }


def _engagement(spec: JobSpec, result: Any) -> tuple[dict[str, Any], list[Any]]:
    """The check-ins table and (d)(3) section of a plan: none when no check-in was received."""
    if not spec.checkins:
        return {}, []
    from famassign.report.engagement import CHECKINS_CSV, checkins_frame, engagement_section

    families = {str(c.staff_id): int(c.families) for c in result.caseloads}
    frame = checkins_frame(spec.checkins, families)
    return {CHECKINS_CSV: frame}, [engagement_section(spec.checkins)]


def pinned(scenario: Scenario, family_ids: Iterable[str]) -> Scenario:
    """`scenario` with the families `family_ids` pinned to their current staff member (for one
    solve: a moved family stays where the planner put it, the others move as little as they
    can), checked again; the scenario itself when there are none."""
    wanted = set(family_ids)
    if not wanted:
        return scenario
    return scenario.rebuilt(
        families=tuple(
            f.model_copy(update={"pinned": True}) if f.family_id in wanted else f
            for f in scenario.families
        )
    )


def _write_readback(plan_dir: Path, result: Any, planned: Any | None) -> None:
    """Beside the plan's files: :data:`RESULT_FILE` and, when the plan changed the scenario
    (a reassign, or staff kept away by a running absence), the scenario as planned in
    :data:`PLANNED_SCENARIO` (the planner's page reads both back). The server records the plan
    only once this returned: a plan folder without them is never recorded, and is removed at the
    next start."""
    from famassign.models.writing import write_scenario

    if planned is not None:
        write_scenario(planned, plan_dir / PLANNED_SCENARIO)
    tmp = plan_dir / f".{RESULT_FILE}.{os.getpid()}"
    tmp.write_text(result.model_dump_json(), encoding="utf-8")
    os.replace(tmp, plan_dir / RESULT_FILE)


def _compare(scenario: Scenario, options: PlanOptions) -> dict[str, Any]:
    from famassign.compare import compare

    comparison = compare(scenario, options, processes=1)
    result: dict[str, Any] = {
        "comparison": _records(comparison.frame),
        "runtime_s": comparison.runtime_s,
    }
    if comparison.staffing is not None:
        result["staffing"] = staffing_dict(comparison.staffing)
    return {"result": result}


def _cancellable(
    progress: Callable[[str, int, int], None], watch: _CancelWatch, job_id: str
) -> Callable[[str, int, int], None]:
    """`progress` that stops the job (JobCancelled) once the cancel file appeared: a sweep has
    no stop signal, it stops between two samples."""

    def update(stage: str, done: int, total: int) -> None:
        if watch.cancelled:
            raise JobCancelled(job_id)
        progress(stage, done, total)

    return update


def _sweep(
    spec: JobSpec, job: SweepJob, scenario: Scenario, progress: Callable[[str, int, int], None]
) -> dict[str, Any]:
    from famassign.sweep_outputs import write_sweep
    from famassign.sweep_runner import sweep

    result = sweep(
        scenario,
        samples=job.samples,
        confidence=job.confidence,
        seed=job.seed,
        scheduler="inline",
        validation_samples=job.validation_samples,
        progress=progress,
    )
    write_sweep([result], spec.plan_dir)
    return {"result": sweep_dict(result.answer) | {"files": plan_files(Path(spec.plan_dir))}}


def sweep_dict(answer: Any) -> dict[str, Any]:
    """A sweep's RobustAnswer as JSON: the people to hire (None when no hiring reaches the
    target on the training samples) with their share there, the validated share with its
    interval (None without validation samples), whether the target is met, and the words."""
    from famassign.scenarios.hiring import hire_row

    check = answer.validation
    hires = answer.hires
    return {
        "confidence": answer.confidence,
        "samples": answer.samples,
        "lower_bound": answer.lower_bound,
        "people": answer.total if hires is not None else None,
        "hires": None if hires is None else [hire_row(h.profile, h.hire) for h in hires],
        "share": answer.share,
        "validation": None
        if check is None
        else {
            "samples": check.samples,
            "placed": check.placed,
            "share": check.share,
            "low": check.interval[0],
            "high": check.interval[1],
            "level": check.level,
        },
        "target_met": answer.target_met,
        "verdict": answer.verdict(),
    }


_STAFFING_TOTALS = (
    "families",
    "proven_fewest",
    "lower_bound",
    "cap_per_new_staff",
    "placed_with_exceptions",
    "unplaced_without_exceptions",
)
"""The StaffingAnswer's totals the API shows under their own names."""


def staffing_dict(answer: Any) -> dict[str, Any]:
    """A StaffingAnswer as JSON: totals, the people to hire, the needs per group and what each
    exception carries."""
    return {
        **{name: getattr(answer, name) for name in _STAFFING_TOTALS},
        "additional_staff": answer.total_staff,
        "people": answer.people.people,
        "people_proven": answer.people.proven,
        "hires": _records(answer.people.frame()),
        "needs": _records(answer.needs_frame()),
        "exceptions": _records(answer.exceptions_frame()),
        "not_placeable": list(answer.not_placeable),
        "text": answer.text(),
    }


def staffing_of(scenario_dir: str) -> dict[str, Any]:
    """The staffing analysis of the scenario in `scenario_dir` (run in a worker)."""
    from famassign.scenarios.staffing import staffing

    return staffing_dict(staffing(read_scenario(scenario_dir).scenario))


def recommendation_of(scenario_dir: str, family_id: str, top: int) -> dict[str, Any]:
    """Staff ranked for one family of the scenario in `scenario_dir` (run in a worker).

    Raises RecommendError when the family is unknown.
    """
    from dataclasses import asdict

    from famassign.solver.recommend import recommend

    return asdict(recommend(read_scenario(scenario_dir).scenario, family_id, top=top))


__all__ = [
    "CANCEL_FILE",
    "PLANNED_SCENARIO",
    "PROGRESS_FILE",
    "RESULT_FILE",
    "JobCancelled",
    "JobSpec",
    "check_reassign_request",
    "check_scenario",
    "check_update_request",
    "init_worker",
    "pinned",
    "plan_files",
    "plan_options",
    "problem_dict",
    "read_in_force",
    "read_progress",
    "recommendation_of",
    "run_job",
    "staffing_dict",
    "staffing_of",
    "sweep_dict",
    "warm_up",
    "without_folder",
]
