"""The staffing that is robust over many planned samples of an uncertain year.

:func:`robust_hires` chooses the hires that at least a `confidence` share of the samples need.

Method. Each sample's staffing answer ``h_s`` is a vector of hires that
places all of that sample's families (``not_placeable`` samples, whose pinned families no hire
can place, never count). Hires ``h >= h_s`` (component-wise) place sample s too (more places never
place fewer families). Starting from every sample, the sample whose removal lowers
``sum(max over kept samples)`` most is dropped (ties: the larger total, then the higher index)
until ``k = ceil(confidence * samples)`` are kept; ``h`` is their component-wise maximum. Then,
with :func:`~famassign.scenarios.sampling.check_hires` on every sample, one hire is taken away at a
time while the share that places every family stays at least `confidence` (the largest share
first, then group order). The answer is therefore *minimal* on the samples: removing any single
hire drops the share below `confidence`. ``lower_bound`` (the k-th smallest per-sample lower
bound) proves it the *fewest* when equal.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from famassign.models import ProgramOption
from famassign.scenarios.sampling import Hires, SampleOutcome
from famassign.scenarios.staffing import GroupKey

log = logging.getLogger(__name__)


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
    the samples place every family with no exception. `check` runs
    :func:`~famassign.scenarios.sampling.check_hires` on every sample (in order) for a list of
    hire vectors.

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
    "HireCheck",
    "RobustAnswer",
    "hire_rows",
    "robust_hires",
]
