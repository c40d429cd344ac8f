"""The people to hire that are robust over many planned samples of an uncertain year, validated on
samples they were not chosen on.

:func:`robust_people` chooses the hires on the *training* samples; :func:`validate` measures the
share they place on fresh *validation* samples (another seed) with a Wilson interval.

Method. Each sample s records ``h_s``, the fewest full-time staff of one (language, site, option)
group each that would place it (:attr:`StaffingAnswer.needs`). Starting from every sample that
hiring can place completely, the sample whose removal lowers ``sum(max over kept samples of h_s)``
most is dropped (ties: the larger total, then the higher index) until ``k = ceil(confidence x
samples)`` are kept. :func:`~famassign.scenarios.hiring.fewest_people` then
gives, exactly, the fewest people (over the candidate profiles) who place every one of the kept
samples with that sample's own staff (one MIP; the hires are shared by the samples). Then, with
:func:`~famassign.scenarios.sampling.check_hires` on every training sample, one person at a time
is taken away while the share that places every family stays at least `confidence` (the largest
share first, then hire order). The answer is *minimal* on the training samples: removing any one
person drops the share below `confidence`. ``lower_bound`` (the k-th smallest per-sample proven
fewest people) bounds it from below.

A share measured on the samples the hires were chosen for is optimistic. :func:`validate` counts
the fresh samples placed completely and gives the Wilson score interval of that share at `level`,
and the number of samples an interval of a stated half-width needs.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import Any

import numpy as np

from famassign.models import Policy
from famassign.scenarios.hiring import (
    HIRE_PREFIX,
    Hire,
    candidate_profiles,
    fewest_people,
)
from famassign.scenarios.sampling import SampleOutcome, Team

log = logging.getLogger(__name__)

INTERVAL_LEVEL = 0.95
"""Level of the validated share's confidence interval."""

PRECISION = 0.02
"""Half-width of the interval the outputs say how many validation samples need."""


@dataclass(frozen=True)
class Validation:
    """The hires measured on `samples` fresh samples: `placed` of them placed completely with no
    exception; the Wilson score interval [`low`, `high`] of that share at `level`."""

    samples: int
    placed: int
    level: float = INTERVAL_LEVEL

    @property
    def share(self) -> float:
        """Share of the validation samples placed completely with no exception."""
        return self.placed / self.samples

    @property
    def interval(self) -> tuple[float, float]:
        """The Wilson score interval of the share at :attr:`level`."""
        return wilson_interval(self.placed, self.samples, self.level)

    def samples_for(self, half_width: float = PRECISION) -> int:
        """Validation samples an interval of +- `half_width` needs at :attr:`level` (normal
        approximation with the share measured, 0.5 when it is 0 or 1)."""
        p = self.share if 0 < self.placed < self.samples else 0.5
        z = NormalDist().inv_cdf(0.5 + self.level / 2)
        return math.ceil(z * z * p * (1 - p) / half_width**2)


def wilson_interval(successes: int, n: int, level: float = INTERVAL_LEVEL) -> tuple[float, float]:
    """The Wilson score interval of a share `successes` / `n` at confidence `level`.

    Raises ValueError when `n` < 1 or `successes` is not in 0..n.
    """
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n >= 1, got {successes}, {n}")
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class RobustAnswer:
    """The people that at least `confidence` of the training samples need (see the module
    docstring).

    `hires` is None when fewer than the confidence share of samples can be placed by hiring at
    all. `share` is the share of training samples the hires place completely with no exception;
    `share_without_one[hire]` the share without that person; `validation` the share on fresh
    samples (None until measured).
    """

    confidence: float
    samples: int
    hires: tuple[Hire, ...] | None
    share: float
    share_without_one: dict[str, float] = field(default_factory=dict)
    lower_bound: int = 0
    rounds: int = 0
    validation: Validation | None = None

    @property
    def total(self) -> int:
        """Number of people named (0 when none are needed or it is not achievable)."""
        return len(self.hires) if self.hires else 0

    @property
    def target_met(self) -> bool | None:
        """Whether the validated share reaches the confidence (None before validation)."""
        if self.validation is None or self.hires is None:
            return None
        return self.validation.share >= self.confidence

    def verdict(self) -> str:
        """The answer in words: the people, the claimed share, the validated share and its
        interval, and whether the target is met."""
        if self.hires is None:
            return (
                f"Not achievable: only {self.share:.1%} of the samples can be placed completely by "
                "hiring (families no allowed hire can place)."
            )
        text = (
            f"{self.total} people place every family with no exception in {self.share:.1%} of "
            f"the {self.samples} samples they were chosen on (target {self.confidence:.0%}; lower "
            f"bound {self.lower_bound}; removing any one drops that share below the target)."
        )
        check = self.validation
        if check is None:
            return text
        low, high = check.interval
        text += (
            f" On {check.samples} fresh samples: {check.share:.1%} ({check.placed} of "
            f"{check.samples}; {check.level:.0%} interval {low:.1%} to {high:.1%}; +-"
            f"{PRECISION:.0%} needs {check.samples_for()} samples)."
        )
        if not self.target_met:
            text += (
                f" The target of {self.confidence:.0%} is NOT met on fresh samples: these hires "
                "were fitted to too few samples; sweep more samples or add a hire."
            )
        return text


TeamCheck = Callable[[Sequence[Team]], np.ndarray]
"""Given teams of hires, a (samples x teams) boolean array: which samples each one places."""


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


def _numbered(hires: Sequence[Hire]) -> tuple[Hire, ...]:
    return tuple(replace(h, hire=f"{HIRE_PREFIX}{n + 1:03d}") for n, h in enumerate(hires))


def robust_people(
    outcomes: Sequence[SampleOutcome],
    confidence: float,
    check: TeamCheck,
    *,
    policy: Policy,
    hiring: Mapping[str, Any],
) -> RobustAnswer:
    """The fewest people (minimal, see the module docstring) such that at least `confidence` of
    the training samples place every family with no exception.

    Parameters
    ----------
    outcomes
        The planned training samples, in order.
    confidence
        Share of samples, in (0, 1], the people must place completely.
    check
        Runs :func:`~famassign.scenarios.sampling.check_hires` on every training sample (in
        order) for a list of teams.
    policy, hiring
        The program's policy and ``hiring:`` block (the candidate profiles).

    Returns
    -------
    RobustAnswer
        The people, their share on the training samples and the share without each one.

    Raises
    ------
    ValueError
        When `confidence` is not in (0, 1] or there are no samples.
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
    kept = [outcomes[placeable[i]].demand for i in _greedy_cover(matrix, keep)]
    groups = sorted({k for d in kept for k in d.keys})
    people = fewest_people(policy, kept, candidate_profiles(hiring, groups))
    hires = list(people.hires)
    rounds = 0
    while True:
        rounds += 1
        teams = [[h.staff() for h in hires]] + [
            [h.staff() for h in hires if h is not out] for out in hires
        ]
        shares = check(teams).mean(axis=0)
        share = float(shares[0])
        without = {h.hire: float(s) for h, s in zip(hires, shares[1:], strict=True)}
        if share < keep / n - 1e-12:  # pragma: no cover - the people take D by construction
            raise RuntimeError("robust staffing: the chosen people place fewer samples than kept")
        droppable = [h for h in hires if without[h.hire] * n >= keep]
        if not droppable:
            break
        best = min(droppable, key=lambda h: (-without[h.hire], hires.index(h)))
        hires.remove(best)
    named = _numbered(hires)
    log.info("robust staffing: %d people in %d rounds, share %.3f", len(named), rounds, share)
    return RobustAnswer(
        confidence=confidence,
        samples=n,
        hires=named,
        share=share,
        share_without_one={
            new.hire: without[old.hire] for new, old in zip(named, hires, strict=True)
        },
        lower_bound=lower_bound,
        rounds=rounds,
    )


def validate(answer: RobustAnswer, placed: Sequence[bool]) -> RobustAnswer:
    """`answer` with its :class:`Validation`: `placed[i]` tells whether validation sample i is
    placed completely with no exception by the answer's people."""
    return replace(answer, validation=Validation(samples=len(placed), placed=int(sum(placed))))


__all__ = [
    "INTERVAL_LEVEL",
    "PRECISION",
    "RobustAnswer",
    "TeamCheck",
    "Validation",
    "robust_people",
    "validate",
    "wilson_interval",
]
