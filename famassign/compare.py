"""`compare(scenario) -> Comparison`: solve the base scenario and every what-if variant.

Variants come from ``scenario.variants`` (scenario.yaml ``variants:``), parsed and applied
(:mod:`scenarios.variants`) before anything is solved, so an invalid variant raises
:class:`ScenarioError` and nothing is solved. The base and the variants are then solved with
:func:`solver.solve` in up to `processes` worker processes.

The comparison table has one row per plan (``base`` first), see :data:`COMPARISON_COLUMNS`:

- ``families``, ``placed``, ``unplaced``; ``staff_active``, ``fte_active``;
- ``caseloads_above_40`` (caseloads above 1302.52(d)(2)'s 40), ``caseloads_above_cap`` (above the
  person's policy cap), ``over_cap_places`` and ``exceptions_used``;
- caseload and weighted-load distribution over active staff: mean, max, and the largest weighted
  load per FTE;
- match quality: ``objective`` (match score) and ``bound``, ``status``;
- ``families_moved``: families that have a ``current_staff_id`` in the base scenario and that
  this plan puts with someone else or leaves unplaced (families a variant adds or removes are not
  counted);
- ``runtime_s``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import pandas as pd

from famassign.models import POLICY_CAP_LIMIT, LocatedProblem, Scenario, ScenarioError, StaffStatus
from famassign.models.errors import check_argument
from famassign.scenarios.staffing import StaffingAnswer, staffing
from famassign.scenarios.variants import Variant, apply_variant, variants_of
from famassign.solver import COMPARE_TIME_LIMIT, PlanOptions, Result, solve

log = logging.getLogger(__name__)

BASE = "base"
"""The name of the unchanged scenario in a comparison."""
MAX_PROCESSES = 2

COMPARISON_COLUMNS = [
    "variant",
    "description",
    "status",
    "families",
    "placed",
    "unplaced",
    "staff_active",
    "fte_active",
    "caseloads_above_40",
    "caseloads_above_cap",
    "over_cap_places",
    "exceptions_used",
    "caseload_mean",
    "caseload_max",
    "weighted_load_mean",
    "weighted_load_max",
    "max_load_per_fte",
    "objective",
    "bound",
    "families_moved",
    "runtime_s",
]


@dataclass(frozen=True)
class Outcome:
    """One solved plan of a comparison: the (variant) scenario and its result."""

    name: str
    description: str
    scenario: Scenario
    result: Result


@dataclass(frozen=True)
class Comparison:
    """The base and every variant, solved; `frame` is comparison.csv; `staffing` the staffing
    analysis of the base (None when not asked for)."""

    base: Outcome
    variants: tuple[Outcome, ...]
    frame: pd.DataFrame
    staffing: StaffingAnswer | None
    runtime_s: float

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        """The base first, then the variants in scenario.yaml order."""
        return (self.base, *self.variants)


def _solve_job(scenario: Scenario, options: PlanOptions) -> Result:
    return solve(scenario, options)


def families_moved(base: Scenario, result: Result) -> int:
    """Families with a current_staff_id in `base` that `result` places elsewhere or not at all."""
    current = {f.family_id: f.current_staff_id for f in base.families if f.current_staff_id}
    return sum(
        1
        for a in result.assignments
        if a.family_id in current and a.staff_id != current[a.family_id]
    )


def _mean(values: Sequence[float]) -> float:
    return round(sum(values) / len(values), 2) if values else 0.0


def comparison_row(outcome: Outcome, base: Scenario) -> dict[str, object]:
    """One row of the comparison table (see the module docstring)."""
    scenario, result = outcome.scenario, outcome.result
    active = {s.staff_id for s in scenario.staff if s.status is StaffStatus.active}
    loads = [c for c in result.caseloads if c.staff_id in active]
    counts = [float(c.families) for c in loads]
    weighted = [c.weighted_load for c in loads]
    return {
        "variant": outcome.name,
        "description": outcome.description,
        "status": result.status.value,
        "families": len(result.assignments),
        "placed": result.placed,
        "unplaced": len(result.unplaced),
        "staff_active": len(active),
        "fte_active": round(sum(s.fte for s in scenario.staff if s.staff_id in active), 2),
        "caseloads_above_40": sum(1 for c in result.caseloads if c.families > POLICY_CAP_LIMIT),
        "caseloads_above_cap": sum(1 for c in result.caseloads if c.families > c.cap),
        "over_cap_places": result.terms.over_cap,
        "exceptions_used": ";".join(result.exceptions_used),
        "caseload_mean": _mean(counts),
        "caseload_max": int(max(counts, default=0)),
        "weighted_load_mean": _mean(weighted),
        "weighted_load_max": round(max(weighted, default=0.0), 2),
        "max_load_per_fte": result.terms.max_load_per_fte,
        "objective": result.objective,
        "bound": result.bound,
        "families_moved": families_moved(base, result),
        "runtime_s": result.runtime_s,
    }


def prepare(scenario: Scenario, seed: int = 0) -> list[tuple[Variant, Scenario]]:
    """Parse and apply every variant of `scenario`; raises ScenarioError listing every problem."""
    variants = variants_of(scenario)
    prepared: list[tuple[Variant, Scenario]] = []
    problems: list[LocatedProblem] = []
    for i, variant in enumerate(variants):
        try:
            prepared.append((variant, apply_variant(scenario, variant, seed, index=i)))
        except ScenarioError as exc:
            problems.extend(p for p in exc.problems if isinstance(p, LocatedProblem))
    if problems:
        raise ScenarioError(problems)
    return prepared


def compare(
    scenario: Scenario,
    options: PlanOptions | None = None,
    *,
    processes: int | None = None,
    with_staffing: bool = True,
) -> Comparison:
    """Solve the base scenario and each of its variants and compare them.

    Each plan gets `options` (default: ``PlanOptions(time_limit=COMPARE_TIME_LIMIT)``). Plans
    are solved in up to `processes` processes (default and most :data:`MAX_PROCESSES`; 1 solves
    in this process); unless `options.workers` is set, each solve gets the cores divided among
    the processes. `with_staffing` adds the staffing analysis of the base. Raises ScenarioError
    when a variant is invalid (before any solving).
    """
    check_argument("compare", scenario, Scenario)
    start = time.monotonic()
    options = options or PlanOptions(time_limit=COMPARE_TIME_LIMIT)
    prepared = prepare(scenario, options.seed)
    jobs = [scenario] + [s for _, s in prepared]
    n_proc = max(1, min(processes or MAX_PROCESSES, MAX_PROCESSES, len(jobs)))
    threads = options.workers or max(1, (os.cpu_count() or 1) // n_proc)
    job_options = dataclasses.replace(options, workers=threads)
    log.info("comparing %d plans in %d process(es), %d worker(s) each", len(jobs), n_proc, threads)
    if n_proc == 1:
        results = [_solve_job(s, job_options) for s in jobs]
    else:
        with ProcessPoolExecutor(max_workers=n_proc) as pool:
            futures = [
                pool.submit(_solve_job, s, dataclasses.replace(job_options, stop=None))
                for s in jobs
            ]
            results = [f.result() for f in futures]
    base = Outcome(BASE, "the scenario as given", scenario, results[0])
    variants = tuple(
        Outcome(v.name, v.description, s, r)
        for (v, s), r in zip(prepared, results[1:], strict=True)
    )
    frame = pd.DataFrame(
        [comparison_row(o, scenario) for o in (base, *variants)], columns=COMPARISON_COLUMNS
    )
    answer = staffing(scenario, time_limit=options.time_limit) if with_staffing else None
    runtime = time.monotonic() - start
    log.info("comparison ready in %.2fs", runtime)
    return Comparison(base, variants, frame, answer, round(runtime, 3))


__all__ = [
    "BASE",
    "COMPARISON_COLUMNS",
    "Comparison",
    "Outcome",
    "compare",
    "comparison_row",
    "families_moved",
    "prepare",
]
