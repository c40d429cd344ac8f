"""A sweep: plan many samples of an uncertain year on a runner, then settle the people to hire and
validate them on fresh samples.

:func:`sweep` maps :func:`famassign.scenarios.sampling.plan_sample` over seeded
:class:`SampleTask` s (the training samples), then :func:`check_hires` over them while
:func:`~famassign.scenarios.robust_staffing.robust_people` settles the people to hire, then
:func:`check_hires` over fresh validation samples (seeds apart from the training ones, not rows of
sweep.csv) to measure the share those people place; :func:`sweep_programs` does it for several
programs on one runner. Where the tasks run is the runner's business
(:mod:`famassign.task_runners`: this process, a local Dask cluster, or an existing one).

A task carries only a sample's number and seed (and, for the hire checks, the hire vectors);
the scenario and its uncertainty block travel to the workers once (``put``). Each sample is
a pure function of the scenario and its seed, so a task lost with a worker runs again elsewhere
with the same answer, and sweep.csv is identical for identical input and seed wherever it runs.
The outputs are written by :mod:`famassign.sweep_outputs`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from famassign.models import Scenario
from famassign.models.errors import check_argument
from famassign.scenarios.hiring import HIRES_COLUMNS, hire_row
from famassign.scenarios.robust_staffing import (
    PRECISION,
    RobustAnswer,
    robust_people,
    validate,
)
from famassign.scenarios.sampling import (
    SAMPLE_COLUMNS,
    SampleOutcome,
    SampleTask,
    Team,
    check_hires,
    plan_sample,
    sample_seed,
    validation_seed,
)
from famassign.scenarios.uncertainty import Uncertainty, uncertainty_of
from famassign.solver.options import SWEEP_TIME_LIMIT, OptionsError
from famassign.solver.solve import Progress
from famassign.task_runners import Runner, runner_for

VALIDATION_SAMPLES = 200
"""Default number of validation samples of a sweep (``--validation-samples``)."""

ROBUST_COLUMNS = [
    "kind",
    "hire",
    "profile",
    "fte",
    "languages",
    "sites",
    "program_options",
    "additional_staff",
    "share_without_one",
    "exception_id",
    "probability_needed",
    "share_placed",
    "confidence",
    "samples",
    "lower_bound",
    "validation_samples",
    "validated_share",
    "validated_low",
    "validated_high",
    "interval_level",
    "samples_for_precision",
    "target_met",
]
"""Columns of robust_staffing.csv: a ``total`` row (the people, their share on the training
samples, and the validated share with its interval), one ``hire`` row per person, one
``exception`` row per exception in force."""

Payload = tuple[Scenario, Uncertainty]
"""What every task of a sweep reads: the scenario and its uncertainty block (sent once)."""


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


def _check_task(item: tuple[int, list[Team]], payload: Payload) -> list[bool]:
    return check_hires(payload[0], payload[1], item[0], item[1])


@dataclass(frozen=True)
class SweepResult:
    """One program's sweep: sweep.csv (`samples`), robust_staffing.csv (`robust`), the answer."""

    name: str
    samples: pd.DataFrame
    robust: pd.DataFrame
    answer: RobustAnswer
    exception_probability: dict[str, float]

    def hires_frame(self) -> pd.DataFrame:
        """hires.csv: one row per person to hire (empty when none or not achievable)."""
        hires = self.answer.hires or ()
        return pd.DataFrame([hire_row(h.profile, h.hire) for h in hires], columns=HIRES_COLUMNS)

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
            "validated_share": _validated(self.answer, "share"),
            "validated_low": _validated(self.answer, "low"),
            "validated_high": _validated(self.answer, "high"),
            "lower_bound": self.answer.lower_bound,
        }


def _validated(answer: RobustAnswer, what: str) -> float | None:
    check = answer.validation
    if check is None:
        return None
    value = {"share": check.share, "low": check.interval[0], "high": check.interval[1]}[what]
    return round(value, 4)


def _robust_frame(answer: RobustAnswer, exception_probability: dict[str, float]) -> pd.DataFrame:
    check = answer.validation
    rows: list[dict[str, object]] = [
        {
            "kind": "total",
            "additional_staff": answer.total if answer.hires is not None else None,
            "share_placed": round(answer.share, 4),
            "confidence": answer.confidence,
            "samples": answer.samples,
            "lower_bound": answer.lower_bound,
            "validation_samples": check.samples if check else None,
            "validated_share": _validated(answer, "share"),
            "validated_low": _validated(answer, "low"),
            "validated_high": _validated(answer, "high"),
            "interval_level": check.level if check else None,
            "samples_for_precision": check.samples_for(PRECISION) if check else None,
            "target_met": answer.target_met,
        }
    ]
    for hire in answer.hires or ():
        row = hire_row(hire.profile, hire.hire)
        del row["cost"]
        rows.append(
            {
                "kind": "hire",
                **row,
                "additional_staff": 1,
                "share_without_one": round(answer.share_without_one[hire.hire], 4),
            }
        )
    for exception_id, probability in exception_probability.items():
        rows.append(
            {"kind": "exception", "exception_id": exception_id, "probability_needed": probability}
        )
    frame = pd.DataFrame(rows, columns=ROBUST_COLUMNS)
    return frame.astype(
        {
            "additional_staff": "Int64",
            "samples": "Int64",
            "lower_bound": "Int64",
            "validation_samples": "Int64",
            "samples_for_precision": "Int64",
        }
    )


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
    validation_samples: int,
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

    def check(teams: Sequence[Team]) -> np.ndarray:
        nonlocal rounds
        rounds += 1
        items = [(task.seed, [list(team) for team in teams]) for task in tasks]
        answers = runner.map(
            _check_task, items, handle, lambda d, t: progress(f"hires {rounds}", d, t)
        )
        return np.array(answers, dtype=bool).reshape(len(tasks), len(teams))

    answer = robust_people(
        outcomes, confidence, check, policy=scenario.policy, hiring=scenario.hiring
    )
    if answer.hires is not None and validation_samples:
        team = [h.staff() for h in answer.hires]
        fresh = [(validation_seed(seed, i), [team]) for i in range(validation_samples)]
        placed = runner.map(_check_task, fresh, handle, lambda d, t: progress("validation", d, t))
        answer = validate(answer, [p[0] for p in placed])
    in_force = sorted(e.exception_id for e in scenario.exceptions_in_force())
    probability = {
        e: round(sum(e in o.exceptions_needed for o in outcomes) / samples, 4) for e in in_force
    }
    frame = pd.DataFrame([o.row for o in outcomes], columns=SAMPLE_COLUMNS)
    return SweepResult(
        scenario.name, frame, _robust_frame(answer, probability), answer, probability
    )


def _check_whole(name: str, value: int, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise OptionsError(f"{name} must be a whole number >= {least}, got {value!r}")


def _check_arguments(samples: int, confidence: float, seed: int, validation_samples: int) -> None:
    _check_whole("samples", samples, 1)
    if not 0 < confidence <= 1:
        raise OptionsError(f"confidence must be in (0, 1], got {confidence!r}")
    _check_whole("seed", seed, 0)
    _check_whole("validation_samples", validation_samples, 0)


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
    validation_samples: int = VALIDATION_SAMPLES,
    progress: Progress | None = None,
) -> list[SweepResult]:
    """:func:`sweep` for several programs on one cluster, in order (see :func:`sweep`)."""
    _check_arguments(samples, confidence, seed, validation_samples)
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
                    validation_samples=validation_samples,
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
    validation_samples: int = VALIDATION_SAMPLES,
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
        Share of samples, in (0, 1], that the people to hire must place completely with no
        exception (chosen on the `samples` training samples, then measured on the validation
        ones).
    seed
        Seed of the sweep; sample i is drawn from ``sample_seed(seed, i)``.
    scheduler
        None: :func:`~famassign.task_runners.default_scheduler` (this process on a machine of
        2 cores or fewer, else a local Dask cluster); ``"local"``: a local Dask cluster;
        ``"tcp://host:port"``: an existing one; ``"inline"``: this process, without Dask.
    workers
        Worker processes of the local cluster (default: the cores).
    balance
        Also balance every sample's workload (slower; largest load per FTE then reflects it).
    time_limit
        Seconds of the balance stage per sample.
    validation_samples
        Fresh samples (seeds :func:`~famassign.scenarios.sampling.validation_seed`, apart from
        the training ones and not rows of sweep.csv) the people are measured on, >= 0 (0: none).
    progress
        Called as ``progress(stage, done, total)``.

    Returns
    -------
    SweepResult
        ``samples`` (sweep.csv), ``robust`` (robust_staffing.csv) and the answer (the people,
        their share on the training samples, and the validated share with its interval).

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
        validation_samples=validation_samples,
        progress=progress,
    )[0]


__all__ = [
    "ROBUST_COLUMNS",
    "VALIDATION_SAMPLES",
    "SweepResult",
    "sweep",
    "sweep_programs",
]
