"""Plan one sample of an uncertain year, and the staffing that is robust over many samples.

The pure half of ``famassign sweep`` (the Dask runner in :mod:`famassign.sweep` only maps these
functions over tasks):

- :func:`plan_sample` draws one sampled scenario (:func:`sample_scenario`) from a
  :class:`SampleTask`, plans it (placement and exceptions by the exact flow; workload balance only
  when the task asks) and analyses its staffing (:func:`staffing`): one row of sweep.csv plus
  the per-group shortfall and the exceptions it needed;
- :func:`check_hires` tells, for one sample, which of several hire vectors (additional staff per
  (language, site, option) group) place every family with no exception;
- :func:`robust_hires` chooses the hires that at least a `confidence` share of the samples need:

Method of :func:`robust_hires`. Each sample's staffing answer ``h_s`` is a vector of hires that
places all of that sample's families (``not_placeable`` samples, whose pinned families no hire
can place, never count). Hires ``h >= h_s`` (component-wise) place sample s too (more places never
place fewer families). Starting from every sample, the sample whose removal lowers
``sum(max over kept samples)`` most is dropped (ties: the larger total, then the higher index)
until ``k = ceil(confidence * samples)`` are kept; ``h`` is their component-wise maximum. Then,
with :func:`check_hires` on every sample, one hire is taken away at a time while the share that
places every family stays at least `confidence` (the largest share first, then group order).
The answer is therefore *minimal* on the samples: removing any single hire drops the share
below `confidence`. ``lower_bound`` (the k-th smallest per-sample lower bound) proves it the
*fewest* when equal.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from famassign.models import ProgramOption, Scenario
from famassign.scenarios.staffing import (
    GroupKey,
    groups_of,
    new_staff_cap,
    placed_with_hires,
    staffing,
    with_group_staff,
)
from famassign.scenarios.uncertainty import Uncertainty, sample_scenario
from famassign.solver import SWEEP_TIME_LIMIT, PlanOptions
from famassign.solver import solve as solve_plan
from famassign.solver.arrays import build_arrays
from famassign.solver.components import load_per_fte
from famassign.solver.flow import solve_flow

log = logging.getLogger(__name__)

Hires = dict[GroupKey, int]
"""Additional full-time staff per (language, site, program option) group."""

SAMPLE_COLUMNS = [
    "sample",
    "seed",
    "families",
    "active_staff",
    "staff_left",
    "placed",
    "unplaced",
    "unplaced_without_exceptions",
    "exception_places",
    "largest_caseload",
    "largest_load_per_fte",
    "all_placed_without_exceptions",
    "additional_staff",
    "additional_staff_lower_bound",
    "not_placeable",
    "exceptions_needed",
    "shortfall",
]
"""Columns of sweep.csv (one row per sample), in order."""


def sample_seed(seed: int, index: int) -> int:
    """The seed of sample `index` of a sweep seeded `seed` (independent streams per sample)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1, dtype=np.uint32)[0])


@dataclass(frozen=True)
class SampleTask:
    """What one task of a sweep carries: the sample's number and seed, and how to plan it."""

    index: int
    seed: int
    balance: bool = False
    time_limit: float = SWEEP_TIME_LIMIT


@dataclass(frozen=True)
class SampleOutcome:
    """One planned sample: its sweep.csv `row`, the hires it needs and the exceptions it needs."""

    row: dict[str, object]
    needs: Hires
    lower_bound: int
    placeable: bool
    exceptions_needed: tuple[str, ...]


def group_label(key: GroupKey) -> str:
    """``language/site/option`` of a group, as written in sweep.csv."""
    return f"{key[0]}/{key[1]}/{key[2].value}"


def plan_sample(scenario: Scenario, uncertainty: Uncertainty, task: SampleTask) -> SampleOutcome:
    """Draw sample `task.seed` of `scenario`, plan it and analyse its staffing (pure, seeded).

    The plan is the exact flow (placement, urgency, exception places, match: the first stage of
    :func:`famassign.solver.solve`) or, when ``task.balance``, :func:`famassign.solver.solve`
    with one deterministic worker and ``task.time_limit``. Staffing is :func:`staffing` on the
    sample.
    """
    sample = sample_scenario(scenario, uncertainty, task.seed)
    arrays = build_arrays(sample)
    if task.balance:
        options = PlanOptions(
            time_limit=task.time_limit, seed=task.seed % 2**31, workers=1, deterministic=True
        )
        result = solve_plan(sample, options)
        placed, exception_places = result.placed, result.terms.over_cap
        largest = max((c.families for c in result.caseloads), default=0)
        largest_load = result.terms.max_load_per_fte
    else:  # the flow stage of solve, without the explanations a sweep does not write
        flow = solve_flow(arrays)
        counts = np.bincount(flow.staff_of[flow.staff_of >= 0], minlength=arrays.n_staff)
        placed, exception_places = flow.placed, flow.over_cap
        largest = int(counts.max(initial=0))
        largest_load = float(
            load_per_fte(arrays, flow.staff_of)[arrays.staff_active].max(initial=0.0)
        )
    answer = staffing(sample, arrays=arrays)
    needed = tuple(e.exception_id for e in answer.exceptions if (e.needed_by or 0) > 0)
    needs: Hires = {(n.language, n.site, n.program_option): n.staff for n in answer.needs}
    active = sum(1 for s in sample.staff if s.status.value == "active")
    row: dict[str, object] = {
        "sample": task.index,
        "seed": task.seed,
        "families": len(sample.families),
        "active_staff": active,
        "staff_left": sum(
            1
            for before, after in zip(scenario.staff, sample.staff, strict=True)
            if before.status != after.status
        ),
        "placed": placed,
        "unplaced": len(sample.families) - placed,
        "unplaced_without_exceptions": answer.unplaced_without_exceptions,
        "exception_places": exception_places,
        "largest_caseload": largest,
        "largest_load_per_fte": round(largest_load, 4),
        "all_placed_without_exceptions": answer.unplaced_without_exceptions == 0,
        "additional_staff": answer.total_staff,
        "additional_staff_lower_bound": answer.lower_bound,
        "not_placeable": len(answer.not_placeable),
        "exceptions_needed": ";".join(needed),
        "shortfall": ";".join(f"{group_label(k)}={v}" for k, v in sorted(needs.items())),
    }
    return SampleOutcome(
        row=row,
        needs=needs,
        lower_bound=answer.lower_bound,
        placeable=not answer.not_placeable,
        exceptions_needed=needed,
    )


def check_hires(
    scenario: Scenario, uncertainty: Uncertainty, task: SampleTask, vectors: Sequence[Hires]
) -> list[bool]:
    """For sample `task.seed`: does each hire vector place every family with no exception?

    Hires for a group the sample does not have are ignored (they have no family to serve).
    """
    sample = sample_scenario(scenario, uncertainty, task.seed)
    arrays = build_arrays(sample)
    keys, group = groups_of(sample)
    augmented = with_group_staff(arrays, group, len(keys))
    cap = new_staff_cap(sample)
    answers = []
    for hires in vectors:
        room = np.array([hires.get(k, 0) * cap for k in keys], dtype=np.int64)
        answers.append(placed_with_hires(arrays, augmented, room) == arrays.n_families)
    return answers


@dataclass(frozen=True)
class RobustAnswer:
    """The hires that at least `confidence` of the samples need (see the module docstring).

    `hires` is None when fewer than the confidence share of samples can be placed by hiring at
    all (pinned families no hire can place). `share` is the share of samples the hires place
    completely with no exception; `share_without_one[g]` the share with one hire fewer in group g.
    """

    confidence: float
    samples: int
    hires: Hires | None
    share: float
    share_without_one: dict[GroupKey, float] = field(default_factory=dict)
    lower_bound: int = 0
    rounds: int = 0

    @property
    def total(self) -> int:
        """Number of additional staff named (0 when none are needed or it is not achievable)."""
        return sum(self.hires.values()) if self.hires else 0


HireCheck = Callable[[Sequence[Hires]], np.ndarray]
"""Given hire vectors, a (samples x vectors) boolean array: which samples each one places."""


def _greedy_cover(needs: np.ndarray, keep: int) -> np.ndarray:
    """Indexes (into `needs`' rows) of `keep` rows whose component-wise maximum is small."""
    rows = np.arange(len(needs))
    while len(rows) > keep:
        sub = needs[rows]
        top = sub.max(axis=0)
        at_top = sub == top
        single = at_top.sum(axis=0) == 1
        second = np.where(at_top, -1, sub).max(axis=0)
        gain = ((at_top & single) * (top - np.maximum(second, 0))).sum(axis=1)
        order = np.lexsort((-rows, -sub.sum(axis=1), -gain))
        rows = np.delete(rows, order[0])
    return rows


def robust_hires(
    outcomes: Sequence[SampleOutcome], confidence: float, check: HireCheck
) -> RobustAnswer:
    """The fewest hires (minimal, see the module docstring) such that at least `confidence` of
    the samples place every family with no exception. `check` runs :func:`check_hires` on every
    sample (in order) for a list of hire vectors.

    Raises ValueError when `confidence` is not in (0, 1] or there are no samples.
    """
    if not 0 < confidence <= 1:
        raise ValueError(f"confidence must be in (0, 1], got {confidence}")
    n = len(outcomes)
    if n == 0:
        raise ValueError("no samples")
    keep = math.ceil(confidence * n - 1e-9)
    bounds = sorted(o.lower_bound if o.placeable else 10**9 for o in outcomes)
    lower_bound = bounds[keep - 1]
    placeable = [i for i, o in enumerate(outcomes) if o.placeable]
    if len(placeable) < keep:
        return RobustAnswer(confidence, n, None, len(placeable) / n, lower_bound=lower_bound)
    keys = sorted({k for o in outcomes for k in o.needs})
    matrix = np.array(
        [[outcomes[i].needs.get(k, 0) for k in keys] for i in placeable], dtype=np.int64
    ).reshape(len(placeable), len(keys))
    chosen = _greedy_cover(matrix, keep)
    counts = matrix[chosen].max(axis=0) if len(keys) else np.zeros(0, dtype=np.int64)
    hires: Hires = {k: int(c) for k, c in zip(keys, counts, strict=True) if c > 0}
    rounds = 0
    while True:
        rounds += 1
        groups = sorted(hires)
        trials = [hires] + [{**hires, g: hires[g] - 1} for g in groups]
        shares = check(trials).mean(axis=0)
        share, without = (
            float(shares[0]),
            {g: float(s) for g, s in zip(groups, shares[1:], strict=True)},
        )
        if share < keep / n - 1e-12:  # pragma: no cover - h covers the kept samples by construction
            raise RuntimeError("robust staffing: the chosen hires place fewer samples than kept")
        droppable = [g for g in groups if without[g] * n >= keep]
        if not droppable:
            break
        best = min(droppable, key=lambda g: (-without[g], groups.index(g)))
        hires = {g: c - (g == best) for g, c in hires.items() if c - (g == best) > 0}
    log.info(
        "robust staffing: %d hires in %d rounds, share %.3f", sum(hires.values()), rounds, share
    )
    return RobustAnswer(
        confidence=confidence,
        samples=n,
        hires=hires,
        share=share,
        share_without_one=without,
        lower_bound=lower_bound,
        rounds=rounds,
    )


def hire_rows(hires: Hires) -> list[tuple[str, str, ProgramOption, int]]:
    """(language, site, option, staff) rows of `hires`, sorted by site, language, option."""
    return [
        (k[0], k[1], k[2], c)
        for k, c in sorted(hires.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2]))
    ]


__all__ = [
    "SAMPLE_COLUMNS",
    "HireCheck",
    "Hires",
    "RobustAnswer",
    "SampleOutcome",
    "SampleTask",
    "check_hires",
    "group_label",
    "hire_rows",
    "plan_sample",
    "robust_hires",
    "sample_seed",
]
