"""Sweeps on Dask: plan many samples of an uncertain year, locally or on a cluster.

:func:`sweep` maps :func:`famassign.scenarios.sweep.plan_sample` over seeded
:class:`SampleTask` s and then :func:`check_hires` over the samples while
:func:`robust_hires` settles the hires; :func:`sweep_programs` does it for several programs on one
cluster. Where the tasks run:

- ``scheduler=None`` (default): a local Dask cluster of worker processes on this machine;
- ``scheduler="tcp://host:8786"``: an existing Dask cluster (``dask scheduler`` / ``dask worker``,
  dask-jobqueue, Kubernetes); the workers need famassign installed;
- ``scheduler="inline"``: in this process, one task after another, without Dask.

A task carries only a sample's number and seed (and, for the hire checks, the hire vectors);
the scenario and its uncertainty block travel to the workers once (``scatter``). Each sample is
a pure function of the scenario and its seed, so a task lost with a worker runs again elsewhere
with the same answer, and sweep.csv is identical for identical input and seed wherever it runs.

Dask is an optional extra (``pip install 'famassign[sweep]'``), imported only here and only when
a sweep runs on it.
"""

from __future__ import annotations

import html
import logging
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import pandas as pd

from famassign.models import Scenario
from famassign.models.errors import FamassignError, check_argument
from famassign.report import fmt_number, frame_table, histogram_counts, html_page, svg_histogram
from famassign.safe_io import atomic_output_dir, write_csv
from famassign.scenarios.sweep import (
    SAMPLE_COLUMNS,
    Hires,
    RobustAnswer,
    SampleOutcome,
    SampleTask,
    check_hires,
    hire_rows,
    plan_sample,
    robust_hires,
    sample_seed,
)
from famassign.scenarios.uncertainty import Uncertainty, uncertainty_of
from famassign.solver.options import SWEEP_TIME_LIMIT, OptionsError
from famassign.solver.solve import Progress

log = logging.getLogger(__name__)

INLINE = "inline"
"""`scheduler` value that runs every task in this process, without Dask."""
SWEEP_CSV = "sweep.csv"
ROBUST_CSV = "robust_staffing.csv"
PROGRAMS_CSV = "programs.csv"
REPORT_HTML = "report.html"
ROBUST_COLUMNS = [
    "kind",
    "language",
    "site",
    "program_option",
    "additional_staff",
    "share_without_one",
    "exception_id",
    "probability_needed",
    "share_placed",
    "confidence",
    "samples",
    "lower_bound",
]
"""Columns of robust_staffing.csv: a ``total`` row, one ``staff`` row per group that needs
hires, one ``exception`` row per exception in force."""


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


Payload = tuple[Scenario, Uncertainty]
T = TypeVar("T")
R = TypeVar("R")


class SweepDependencyError(FamassignError, ImportError):
    """Dask is not installed; the message says how to install it."""


# --------------------------------------------------------------------------------------------
# Tasks (module-level so that workers import them by name)


@contextmanager
def _quiet_solver() -> Iterator[None]:
    """A sample with unplaced families is the expected case in a sweep, not a warning."""
    solver_log = logging.getLogger("famassign.solver.solve")
    level = solver_log.level
    solver_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        solver_log.setLevel(level)


def _sample_task(task: SampleTask, payload: Payload) -> SampleOutcome:
    with _quiet_solver():
        return plan_sample(payload[0], payload[1], task)


def _check_task(item: tuple[SampleTask, list[Hires]], payload: Payload) -> list[bool]:
    return check_hires(payload[0], payload[1], item[0], item[1])


# --------------------------------------------------------------------------------------------
# Runners


class Runner(Protocol):
    """Where tasks run: :meth:`put` sends a payload once, :meth:`map` runs tasks in order."""

    def put(self, payload: Payload) -> Any:
        """Send `payload` to wherever tasks run; return a handle for :meth:`map`."""

    def map(
        self,
        fn: Callable[[Any, Payload], R],
        items: Sequence[Any],
        handle: Any,
        progress: Callable[[int, int], None],
    ) -> list[R]:
        """`fn(item, payload)` for every item; results in the order of `items`."""


class InlineRunner:
    """Every task in this process, one after another (no Dask)."""

    def put(self, payload: Payload) -> Any:
        """The payload itself."""
        return payload

    def map(
        self,
        fn: Callable[[Any, Payload], R],
        items: Sequence[Any],
        handle: Any,
        progress: Callable[[int, int], None],
    ) -> list[R]:
        """Run the tasks in order."""
        results = []
        for done, item in enumerate(items, start=1):
            results.append(fn(item, handle))
            progress(done, len(items))
        return results


class DaskRunner:
    """Tasks on a Dask cluster through `client` (a ``distributed.Client``)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def put(self, payload: Payload) -> Any:
        """Scatter the payload to every worker once (a new worker fetches it from a peer)."""
        [handle] = self.client.scatter([payload], broadcast=True, hash=False)
        return handle

    def map(
        self,
        fn: Callable[[Any, Payload], R],
        items: Sequence[Any],
        handle: Any,
        progress: Callable[[int, int], None],
    ) -> list[R]:
        """Submit one task per item; a task lost with its worker is run again by the scheduler."""
        from distributed import as_completed

        prefix = f"famassign-{fn.__name__.strip('_')}-{uuid.uuid4().hex[:12]}"
        futures = self.client.map(
            fn, items, payload=handle, key=[f"{prefix}-{i}" for i in range(len(items))], pure=False
        )
        finished = as_completed(futures)  # type: ignore[no-untyped-call]
        for done, _ in enumerate(finished, start=1):
            progress(done, len(items))
        results: list[R] = self.client.gather(futures)
        return results


@contextmanager
def _quiet_dask() -> Iterator[None]:
    """Dask's own INFO lines (and warnings while workers shut down) only with --verbose/--debug."""
    dask_log = logging.getLogger("distributed")
    level = dask_log.level
    if logging.getLogger().getEffectiveLevel() > logging.INFO:
        dask_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        dask_log.setLevel(level)


@contextmanager
def runner_for(scheduler: str | None, workers: int | None) -> Iterator[Runner]:
    """The runner for `scheduler` (None: a local cluster of `workers` processes, default the
    cores; ``"inline"``: this process; else the address of a Dask scheduler).

    Raises :class:`SweepDependencyError` when Dask is needed and not installed.
    """
    if scheduler == INLINE:
        yield InlineRunner()
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise SweepDependencyError(
            "famassign sweep runs on Dask, which is not installed: "
            "pip install 'famassign[sweep]' (or use --scheduler inline to run in this process)"
        ) from exc
    with _quiet_dask():
        if scheduler is None:
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            try:
                with Client(cluster) as client:  # type: ignore[no-untyped-call]
                    yield DaskRunner(client)
            finally:
                cluster.close()
        else:
            with Client(scheduler, timeout="30s") as client:  # type: ignore[no-untyped-call]
                yield DaskRunner(client)


# --------------------------------------------------------------------------------------------
# The sweep


@dataclass(frozen=True)
class SweepResult:
    """One program's sweep: sweep.csv (`samples`), robust_staffing.csv (`robust`), the answer."""

    name: str
    samples: pd.DataFrame
    robust: pd.DataFrame
    answer: RobustAnswer
    exception_probability: dict[str, float]

    def summary_row(self) -> dict[str, object]:
        """The program's row of programs.csv."""
        frame = self.samples
        return {
            "program": self.name,
            "samples": len(frame),
            "families_mean": round(float(frame["families"].mean()), 2),
            "placed_mean": round(float(frame["placed"].mean()), 2),
            "unplaced_mean": round(float(frame["unplaced"].mean()), 2),
            "unplaced_without_exceptions_mean": round(
                float(frame["unplaced_without_exceptions"].mean()), 2
            ),
            "share_placed_without_exceptions": round(
                float(frame["all_placed_without_exceptions"].mean()), 4
            ),
            "exception_places_mean": round(float(frame["exception_places"].mean()), 2),
            "confidence": self.answer.confidence,
            "robust_additional_staff": self.answer.total if self.answer.hires is not None else None,
            "robust_share_placed": round(self.answer.share, 4),
            "lower_bound": self.answer.lower_bound,
        }


def _robust_frame(answer: RobustAnswer, exception_probability: dict[str, float]) -> pd.DataFrame:
    rows: list[dict[str, object]] = [
        {
            "kind": "total",
            "additional_staff": answer.total if answer.hires is not None else None,
            "share_placed": round(answer.share, 4),
            "confidence": answer.confidence,
            "samples": answer.samples,
            "lower_bound": answer.lower_bound,
        }
    ]
    for language, site, option, count in hire_rows(answer.hires or {}):
        rows.append(
            {
                "kind": "staff",
                "language": language,
                "site": site,
                "program_option": option.value,
                "additional_staff": count,
                "share_without_one": round(answer.share_without_one[(language, site, option)], 4),
            }
        )
    for exception_id, probability in exception_probability.items():
        rows.append(
            {"kind": "exception", "exception_id": exception_id, "probability_needed": probability}
        )
    frame = pd.DataFrame(rows, columns=ROBUST_COLUMNS)
    return frame.astype({"additional_staff": "Int64", "samples": "Int64", "lower_bound": "Int64"})


def _sweep_on(
    runner: Runner,
    scenario: Scenario,
    uncertainty: Uncertainty,
    *,
    samples: int,
    confidence: float,
    seed: int,
    balance: bool,
    time_limit: float,
    progress: Progress,
) -> SweepResult:
    tasks = [
        SampleTask(i, sample_seed(seed, i), balance=balance, time_limit=time_limit)
        for i in range(samples)
    ]
    handle = runner.put((scenario, uncertainty))
    outcomes: list[SampleOutcome] = runner.map(
        _sample_task, tasks, handle, lambda d, t: progress("samples", d, t)
    )
    rounds = 0

    def check(vectors: Sequence[Hires]) -> np.ndarray:
        nonlocal rounds
        rounds += 1
        items = [(task, list(vectors)) for task in tasks]
        answers = runner.map(
            _check_task, items, handle, lambda d, t: progress(f"hires {rounds}", d, t)
        )
        return np.array(answers, dtype=bool).reshape(len(tasks), len(vectors))

    answer = robust_hires(outcomes, confidence, check)
    in_force = sorted(e.exception_id for e in scenario.exceptions_in_force())
    probability = {
        e: round(sum(e in o.exceptions_needed for o in outcomes) / samples, 4) for e in in_force
    }
    frame = pd.DataFrame([o.row for o in outcomes], columns=SAMPLE_COLUMNS)
    return SweepResult(
        scenario.name, frame, _robust_frame(answer, probability), answer, probability
    )


def _check_arguments(samples: int, confidence: float, seed: int) -> None:
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise OptionsError(f"samples must be a whole number >= 1, got {samples!r}")
    if not 0 < confidence <= 1:
        raise OptionsError(f"confidence must be in (0, 1], got {confidence!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise OptionsError(f"seed must be a whole number >= 0, got {seed!r}")


def sweep_programs(
    scenarios: Sequence[Scenario],
    *,
    samples: int = 100,
    confidence: float = 0.95,
    seed: int = 0,
    scheduler: str | None = None,
    workers: int | None = None,
    balance: bool = False,
    time_limit: float = SWEEP_TIME_LIMIT,
    progress: Progress | None = None,
) -> list[SweepResult]:
    """:func:`sweep` for several programs on one cluster, in order (see :func:`sweep`)."""
    _check_arguments(samples, confidence, seed)
    blocks = [uncertainty_of(s) for s in scenarios]  # every block checked before any work
    report = progress or (lambda stage, done, total: None)
    results = []
    with runner_for(scheduler, workers) as runner:
        for scenario, block in zip(scenarios, blocks, strict=True):
            results.append(
                _sweep_on(
                    runner,
                    scenario,
                    block,
                    samples=samples,
                    confidence=confidence,
                    seed=seed,
                    balance=balance,
                    time_limit=time_limit,
                    progress=report,
                )
            )
    return results


def sweep(
    scenario: Scenario,
    *,
    samples: int = 100,
    confidence: float = 0.95,
    seed: int = 0,
    scheduler: str | None = None,
    workers: int | None = None,
    balance: bool = False,
    time_limit: float = SWEEP_TIME_LIMIT,
    progress: Progress | None = None,
) -> SweepResult:
    """Sample the scenario's ``uncertainty:`` block `samples` times, plan every sample, and find
    the staffing that is robust at `confidence`.

    Parameters
    ----------
    scenario
        A checked scenario with an ``uncertainty:`` block (docs/sweep.md); without one every
        sample is the scenario itself.
    samples
        Number of samples, >= 1.
    confidence
        Share of samples, in (0, 1], that the robust hires must place completely with no
        exception.
    seed
        Seed of the sweep; sample i is drawn from ``sample_seed(seed, i)``.
    scheduler
        None: a local Dask cluster; ``"tcp://host:port"``: an existing one; ``"inline"``: this
        process, without Dask.
    workers
        Worker processes of the local cluster (default: the cores).
    balance
        Also balance every sample's workload (slower; largest load per FTE then reflects it).
    time_limit
        Seconds of the balance stage per sample.
    progress
        Called as ``progress(stage, done, total)``.

    Returns
    -------
    SweepResult
        ``samples`` (sweep.csv), ``robust`` (robust_staffing.csv) and the answer.

    Raises
    ------
    ArgumentTypeError
        When `scenario` is not a Scenario.
    OptionsError
        When an argument is out of range (a ValueError).
    ScenarioError
        When the uncertainty block is invalid.
    SweepDependencyError
        When Dask is needed and not installed.
    """
    check_argument("sweep", scenario, Scenario)
    return sweep_programs(
        [scenario],
        samples=samples,
        confidence=confidence,
        seed=seed,
        scheduler=scheduler,
        workers=workers,
        balance=balance,
        time_limit=time_limit,
        progress=progress,
    )[0]


# --------------------------------------------------------------------------------------------
# Outputs


def _svg_ecdf(values: Sequence[float], *, title: str, x_label: str, width: int = 380) -> str:
    """An empirical CDF as an inline ``<svg>`` step line (share of samples at or below x)."""
    data = np.sort(np.asarray(values, dtype=float))
    height, left, right, top_pad, bottom = 200, 36, 10, 22, 34
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    low, high = (float(data[0]), float(data[-1])) if data.size else (0.0, 1.0)
    if high <= low:
        low, high = low - 0.5, high + 0.5

    def x(v: float) -> float:
        return left + plot_w * (v - low) / (high - low)

    def y(share: float) -> float:
        return top_pad + plot_h * (1 - share)

    points = [f"{x(low):.1f},{y(0):.1f}"]
    n = max(data.size, 1)
    for i, v in enumerate(data):
        points.append(f"{x(float(v)):.1f},{y(i / n):.1f}")
        points.append(f"{x(float(v)):.1f},{y((i + 1) / n):.1f}")
    points.append(f"{x(high):.1f},{y(1.0 if data.size else 0.0):.1f}")
    parts = [
        f'<svg class="chart ecdf" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(title)}" '
        'font-family="sans-serif" font-size="10">',
        f"<title>{_esc(title)}</title>",
        f'<text x="{left}" y="12" font-weight="bold">{_esc(title)}</text>',
    ]
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line x1="{left}" y1="{y(share):.1f}" x2="{width - right}" y2="{y(share):.1f}" '
            f'stroke="#eee"/><text x="{left - 4}" y="{y(share) + 3:.1f}" text-anchor="end" '
            f'fill="#555">{share:.0%}</text>'
        )
    parts.append(
        f'<polyline class="ecdf-line" fill="none" stroke="#1f77b4" stroke-width="1.5" '
        f'points="{" ".join(points)}"/>'
    )
    base = top_pad + plot_h
    for v, anchor in ((low, "start"), (high, "end")):
        parts.append(
            f'<text x="{x(v):.1f}" y="{base + 12}" text-anchor="{anchor}" fill="#555">'
            f"{fmt_number(v)}</text>"
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle">'
        f"{_esc(x_label)}</text></svg>"
    )
    return "".join(parts)


_DISTRIBUTIONS = (
    ("unplaced_without_exceptions", "families unplaced without exceptions"),
    ("exception_places", "exception places used"),
    ("largest_caseload", "largest caseload (families)"),
    ("largest_load_per_fte", "largest weighted load per FTE"),
    ("additional_staff", "additional staff this sample needs"),
)


_STAFF_SHOWN = ["language", "site", "program_option", "additional_staff", "share_without_one"]


def _rows_of(frame: pd.DataFrame, kind: str, columns: list[str]) -> pd.DataFrame:
    return frame.loc[frame["kind"] == kind, columns].reset_index(drop=True)


def render_sweep(result: SweepResult) -> str:
    """report.html of a sweep: the answer, then a histogram and empirical CDF per measure."""
    answer, frame = result.answer, result.samples
    if answer.hires is None:
        verdict = (
            f"Not achievable: only {answer.share:.0%} of samples can be placed completely by "
            "hiring (pinned families no hire can place)."
        )
    else:
        verdict = (
            f"{answer.total} additional full-time staff place every family with no exception in "
            f"{answer.share:.1%} of {answer.samples} samples (confidence {answer.confidence:.0%}; "
            f"lower bound {answer.lower_bound}; removing any one of them drops the share below "
            "the confidence)."
        )
    body = [
        f"<h1>Sweep: {_esc(result.name)}</h1>",
        f'<p class="sub">{len(frame)} samples of the uncertainty block</p>',
        f"<p>{_esc(verdict)}</p>",
        "<h2>Robust staffing</h2>",
        frame_table(_rows_of(result.robust, "staff", _STAFF_SHOWN)),
        '<p class="note">share_without_one: the share of samples placed completely with one '
        "hire fewer in that group.</p>",
        "<h2>Exceptions in force: probability each is needed</h2>",
        frame_table(_rows_of(result.robust, "exception", ["exception_id", "probability_needed"])),
        "<h2>Distributions over samples</h2>",
    ]
    for column, label in _DISTRIBUTIONS:
        values = [float(v) for v in frame[column]]
        counts, _ = histogram_counts(values)
        body.append(
            '<div class="row">'
            + svg_histogram(values, title=label, x_label=label, max_count=max(counts, default=1))
            + _svg_ecdf(values, title=f"{label}: empirical CDF", x_label=label)
            + "</div>"
        )
    return html_page(f"Sweep: {result.name}", "\n".join(body))


def _write_one(result: SweepResult, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(result.samples, folder / SWEEP_CSV)
    write_csv(result.robust, folder / ROBUST_CSV)
    (folder / REPORT_HTML).write_text(render_sweep(result), encoding="utf-8")


def write_sweep(results: Sequence[SweepResult], out: Path | str, names: Sequence[str] = ()) -> Path:
    """Write the outputs into `out`, atomically: for one program sweep.csv, robust_staffing.csv
    and report.html; for several, programs.csv and one such folder per program (`names`)."""
    target = Path(out)
    with atomic_output_dir(target) as tmp:
        if len(results) == 1:
            _write_one(results[0], tmp)
        else:
            table = pd.DataFrame([r.summary_row() for r in results])
            table.insert(
                1, "folder", list(names) or [f"program-{i + 1}" for i in range(len(results))]
            )
            write_csv(table, tmp / PROGRAMS_CSV)
            for name, result in zip(table["folder"], results, strict=True):
                _write_one(result, tmp / str(name))
    return target


__all__ = [
    "INLINE",
    "ROBUST_COLUMNS",
    "DaskRunner",
    "InlineRunner",
    "Runner",
    "SweepDependencyError",
    "SweepResult",
    "render_sweep",
    "runner_for",
    "sweep",
    "sweep_programs",
    "write_sweep",
]
