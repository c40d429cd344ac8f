"""Lower bounds on a component's best largest load per FTE: the max-flow relaxation (cheap,
without caps or the match floor) and the load-level LP of the whole balance model."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from ortools.graph.python import max_flow

from famassign.solver.arrays import LOAD_SCALE, IntArray, ProblemArrays
from famassign.solver.components import Component
from famassign.solver.levels import candidate_levels, fte_units, level_caps, plan_level
from famassign.solver.settings import SolverSettings

log = logging.getLogger(__name__)


class BoundKind(StrEnum):
    """Which lower bound on the largest load per FTE a plan is measured against (strongest
    first). summary.json names it as ``max_load_bound_kind``."""

    level_lp_moves = "level_lp_moves"
    """The load-level LP of the balance model with the match floor and the number of moves
    fixed at its optimum (reassign, update)."""
    level_lp = "level_lp"
    """The load-level LP of the balance model with the match floor."""
    caseload_mix = "caseload_mix"
    """The lowest load level at which the families of each type (one weighted load, one set of
    eligible staff) fit, as whole families, within the caps, count limits and exception places
    (`solver.caseload_mix`; match floor left out): for a component too large for the level LP,
    stronger than the max-flow relaxation."""
    whole_families = "whole_families"
    """The lowest load level at which each group of families with one set of eligible staff
    fits on those staff as whole families: no staff member can take more of a group's load than
    the largest multiple of its loads' common divisor under the cap, nor more of its families
    than its count limit (:func:`whole_families_level`; match floor left out). Stronger than
    the max-flow relaxation and the level LP where a few staff alone serve families of one
    heavy load (staff of a rarer language whose families are all of high intensity)."""
    cp_sat = "cp_sat"
    """CP-SAT's proven bound on the balance model (a moderate component HiGHS did not finish)."""
    kept_caseloads = "kept_caseloads"
    """Under fewest moves: the families each staff member must keep when no more families move
    than in the optimum (cheap; the level LP was not affordable)."""
    fte_mean = "fte_mean"
    """The families' total weighted load over the active staff's total FTE (no balance stage,
    or every other bound is weaker)."""
    max_flow = "max_flow"
    """The max-flow relaxation: loads split fractionally, without count caps, match floor or
    moves (the LP was not affordable in the time limit)."""
    forced = "forced"
    """Caseloads no plan can change (staff alone in their component)."""
    forced_face = "forced_face"
    """With no match given up for balance: caseloads that every plan as good as the flow plan
    on each level (placed, exception places, moves, match) keeps, the staff members alone in
    their component of the optimal face (`solver.optimal_face`)."""
    none = "none"
    """No bound was computed (no balance stage, or no time left for it): 0."""


def level_kind(minimize_moves: bool) -> BoundKind:
    """The kind of a load-level LP bound."""
    return BoundKind.level_lp_moves if minimize_moves else BoundKind.level_lp


FLOW_BOUND_SHARE = 0.4
"""Share of a component's time the max-flow bound may use (its bisection runs a handful of
maximum flows, each linear-ish in the pairs)."""


def flow_bound_limits(
    settings: SolverSettings, seconds: float
) -> tuple[float | None, Callable[[], bool]]:
    """The deadline and stop test of :func:`relaxed_load_bound` for a component with `seconds`
    left: FLOW_BOUND_SHARE of them, or (deterministic mode, which never reads the clock) none.

    Parameters
    ----------
    settings
        The balance stage's settings (determinism, stop signal).
    seconds
        The component's time left.

    Returns
    -------
    tuple
        (deadline as ``time.monotonic()`` or None, a test that is True once asked to stop).
    """
    deadline = None if settings.deterministic else time.monotonic() + seconds * FLOW_BOUND_SHARE
    return deadline, lambda: settings.stopped


@dataclass(frozen=True)
class FlowBound:
    """The max-flow bound of one component (:func:`max_flow_bound`)."""

    value: float
    """The lower bound on the largest load per FTE."""
    level: int | None
    """The lowest level at which the loads fit, when the bisection finished (else None)."""
    pairs: IntArray
    """The component's pairs in the flow network (its pairs to active staff)."""
    flows: IntArray | None
    """The load each of `pairs` carries in a flow at `level` (None with `level`)."""


def relaxed_load_bound(
    arrays: ProblemArrays,
    comp: Component,
    plan: IntArray,
    deadline: float | None = None,
    stopped: Callable[[], bool] | None = None,
) -> float:
    """A valid lower bound on the component's best largest load per FTE: the value of
    :func:`max_flow_bound` (see there for the parameters)."""
    return max_flow_bound(arrays, comp, plan, deadline, stopped).value


def max_flow_bound(
    arrays: ProblemArrays,
    comp: Component,
    plan: IntArray,
    deadline: float | None = None,
    stopped: Callable[[], bool] | None = None,
) -> FlowBound:
    """A valid lower bound on the component's best largest load per FTE, from the max-flow
    relaxation: at a load level (`solver.levels`) each staff member may carry at most that
    level's cap (its load rounded down to the loads' lattice), the families' loads split
    fractionally among their eligible staff (count caps and match dropped). The lowest level
    at which the loads fit is found by bisection over the levels a plan can take
    (:func:`~famassign.solver.levels.candidate_levels`, from the FTE-weighted mean up to the
    plan's own level): one flow network, built once, only its staff-to-sink capacities change
    between solves.

    Parameters
    ----------
    arrays, comp
        The problem and the component.
    plan
        The present plan (its level is the top of the bisection). Families unplaced in it are
        left out, which keeps the bound valid only when all are placed (else 0).
    deadline
        ``time.monotonic()`` after which no further max flow is started (None: no limit).
    stopped
        Called before each max flow; True ends the bisection as the deadline does.

    Returns
    -------
    FlowBound
        The bound proven so far: when the deadline passes, from the highest level found
        infeasible (at least the FTE-weighted mean). For the highest infeasible level, some
        staff member must exceed its cap there by a whole lattice step, so the bound is the
        smallest such load per FTE; rounded up to a level, it is the lowest feasible level.
        With it, when the bisection finished below the plan's level, that level and a flow
        there.
    """
    a = arrays
    nothing = FlowBound(0.0, None, comp.pairs[:0], None)
    if (plan[comp.families] < 0).any() or len(comp.staff) == 0:
        return nothing
    fte = a.staff_fte[comp.staff]
    load = a.family_load[comp.families]
    total = int(load.sum())
    if total == 0 or fte.sum() <= 0:
        return nothing
    mean = float(total / LOAD_SCALE / fte.sum())
    units = fte_units(a)[comp.staff]
    gcd = int(np.gcd.reduce(load)) or 1
    top = plan_level(a, comp.families, comp.staff, plan)
    levels = candidate_levels(units, gcd, math.floor(mean * LOAD_SCALE), max(top, 0))
    # the plan itself fits its own level: only the levels below it need a flow
    untried = levels[levels < top]
    if len(untried) == 0:
        return FlowBound(mean, None, comp.pairs[:0], None)
    flow: _LevelFlow | None = None
    solves, start = 0, time.monotonic()

    def fits(level: int) -> bool:
        nonlocal flow, solves
        caps = level_caps(level, units, gcd)
        if caps.sum() < total:  # too little room in all: no flow needed
            return False
        if flow is None:
            flow = _LevelFlow(a, comp, load)
        solves += 1
        return flow.fits(caps)

    def out_of_time() -> bool:
        if stopped is not None and stopped():
            return True
        return deadline is not None and time.monotonic() >= deadline

    # Below the lowest candidate level the caps are those of the level just under it.
    under = int(untried[0]) - 1
    infeasible = under if under >= 0 and level_caps(under, units, gcd).sum() < total else None
    # Invariant: every level below untried[lo] is infeasible (or below the mean), every level
    # from untried[hi] up (the plan's own level at len) is feasible.
    lo, hi = 0, len(untried)
    flows = None
    while lo < hi and not out_of_time():
        # the lowest level first: on an evenly eligible program it is feasible at once
        mid = lo if lo == 0 else (lo + hi) // 2
        level = int(untried[mid])
        if fits(level):
            assert flow is not None
            hi, flows = mid, flow.pair_flows()
        else:
            lo, infeasible = mid + 1, level
    found = int(untried[hi]) if lo == hi and hi < len(untried) else None
    log.debug(
        "max-flow bound: %d of %d levels tried in %.2fs, lowest feasible %s",
        solves,
        len(untried),
        time.monotonic() - start,
        found,
    )
    value = mean
    if infeasible is not None:
        # No plan keeps every staff member within the caps of `infeasible`: some staff member
        # carries at least its cap there plus one lattice step (loads are multiples of `gcd`).
        above = (level_caps(infeasible, units, gcd) + gcd) / fte / LOAD_SCALE
        value = max(mean, float(above.min()))
    if flow is None or found is None:
        return FlowBound(value, None, comp.pairs[:0], None)
    return FlowBound(value, found, flow.pairs, flows)


class _LevelFlow:
    """The max-flow relaxation of one component: source -> family (its load) -> eligible
    staff -> sink (the staff member's cap, set per solve)."""

    def __init__(self, arrays: ProblemArrays, comp: Component, load: IntArray) -> None:
        a = arrays
        nf, ns = len(comp.families), len(comp.staff)
        self.total = int(load.sum())
        self.source, self.sink = nf + ns, nf + ns + 1
        # node of each family and staff member (a lookup: faster than a search per pair)
        node = np.full(a.n_families + a.n_staff, -1, dtype=np.int32)
        node[comp.families] = np.arange(nf, dtype=np.int32)
        node[a.n_families + comp.staff] = nf + np.arange(ns, dtype=np.int32)
        staff_node = node[a.n_families + a.pair_staff[comp.pairs]]
        mine = staff_node >= 0  # pairs to staff outside it (inactive) drop
        self.pairs = comp.pairs[mine] if not mine.all() else comp.pairs
        staff_node = staff_node[mine] if not mine.all() else staff_node
        n_pairs = len(self.pairs)
        starts = np.empty(nf + n_pairs + ns, dtype=np.int32)
        ends = np.empty_like(starts)
        capacity = np.empty(len(starts), dtype=np.int64)
        starts[:nf], ends[:nf], capacity[:nf] = self.source, np.arange(nf), load
        pairs = slice(nf, nf + n_pairs)
        starts[pairs], ends[pairs] = node[a.pair_family[self.pairs]], staff_node
        capacity[pairs] = self.total + 1
        starts[nf + n_pairs :], ends[nf + n_pairs :] = nf + np.arange(ns), self.sink
        capacity[nf + n_pairs :] = 0
        self.flow = max_flow.SimpleMaxFlow()
        self.flow.add_arcs_with_capacity(starts, ends, capacity)
        self.pair_arcs = np.arange(nf, nf + n_pairs, dtype=np.int32)
        # the staff -> sink arcs, the last ones added
        self.cap_arcs = np.arange(nf + n_pairs, nf + n_pairs + ns, dtype=np.int32)

    def fits(self, caps: np.ndarray) -> bool:
        """Whether every family's load fits within these staff caps, split fractionally.
        (SimpleMaxFlow keeps the arcs and rebuilds its graph on each solve, so a solve after
        changing capacities is a fresh one.)"""
        self.flow.set_arcs_capacity(self.cap_arcs, caps.astype(np.int64))
        self.flow.solve(self.source, self.sink)
        return bool(self.flow.optimal_flow() >= self.total)

    def pair_flows(self) -> IntArray:
        """The load each pair carries in the last flow (aligned with `pairs`)."""
        return np.asarray(self.flow.flows(self.pair_arcs), dtype=np.int64)


def kept_caseload_bound(arrays: ProblemArrays, comp: Component, plan: IntArray) -> float:
    """A lower bound under fewest moves (reassign, update): the plan may take at most as many
    families from their current staff members as it does now (`plan`'s moves, the optimum), so
    a staff member keeps all its current families but the few it gives away, and the moves
    given away in total stay within that number. The smallest T for which each staff member
    can shed down to T x FTE within that total (pinned families never leave), found by
    bisection. Every plan as good leaves exactly as many of the component's families unplaced as
    `plan` (placement ranks first), and a family taken from its staff member and left unplaced
    is one of the moves: so the total shed is at most the families `plan` places elsewhere plus
    those it leaves unplaced (an allowance at least the moves of any plan as good)."""
    a = arrays
    families = comp.families
    current = a.family_current[families]
    active = current >= 0
    active[active] = a.staff_active[current[active]]
    placed = plan[families] >= 0
    moves_now = int((active & placed & (plan[families] != current)).sum())
    shed_now = moves_now + int((~placed).sum())
    in_comp = np.isin(current, comp.staff) & active
    per_staff: list[tuple[float, float, np.ndarray, float]] = []
    for s in np.unique(current[in_comp]).tolist():
        mine = families[in_comp & (current == s)]
        load = a.family_load[mine].astype(np.float64)
        pinned = a.family_pinned[mine]
        movable = np.sort(load[~pinned])[::-1]
        # what the staff member carries after giving away its k heaviest movable families
        after = load.sum() - np.concatenate([[0.0], np.cumsum(movable)])
        per_staff.append((float(a.staff_fte[s]), float(load.sum()), after, float(after[-1])))
    if not per_staff:
        return 0.0

    def shed(t: float) -> int | None:
        """Moves needed to bring every staff member to `t` per FTE (None: impossible)."""
        total = 0
        for fte, _, after, least in per_staff:
            limit = t * fte * LOAD_SCALE + 1e-9
            if least > limit:
                return None
            total += int(np.argmax(after <= limit))
        return total

    lo, hi = 0.0, max(carried / LOAD_SCALE / fte for fte, carried, _, _ in per_staff)
    for _ in range(40):
        if hi - lo <= 1e-4:
            break
        mid = (lo + hi) / 2
        needed = shed(mid)
        if needed is not None and needed <= shed_now:
            hi = mid
        else:
            lo = mid
    # The smallest feasible T is a load one staff member can shed down to: snap to it.
    points = np.unique(np.concatenate([after / fte / LOAD_SCALE for fte, _, after, _ in per_staff]))
    for point in points[(points > lo) & (points <= hi + 1e-9)].tolist():
        needed = shed(point)
        if needed is not None and needed <= shed_now:
            return float(point)
    return lo


def whole_families_level(
    arrays: ProblemArrays, comp: Component, plan: IntArray, low: int, high: int
) -> int:
    """A lower bound on the component's best level (`solver.levels`): the lowest of the levels
    a plan can take in [`low`, `high`] at which every group of families with one set of
    eligible staff fits on those staff as whole families.

    At a level, staff member *s* can carry at most its cap there; of a group whose loads are
    all multiples of *g*, it can carry at most the largest multiple of *g* under that cap, and
    at most as many of its families as its count limit. Where the group's load is more than
    its staff can carry so, no plan has this level. The max-flow relaxation and the level LP
    split families, so they miss this (three families of load 3 on two staff members: 4.5
    each split, 6 whole). Necessary conditions only, each checked per group: the bound is
    valid, not exact.

    Parameters
    ----------
    arrays, comp
        The problem and the component.
    plan
        The present plan: with a family of the component unplaced the groups need not be
        placed whole, and `low` is returned.
    low, high
        The levels searched (LOAD_SCALE units); `high` at least the plan's level.

    Returns
    -------
    int
        The lowest level in [`low`, `high`] that passes (a plan's own level always does).
    """
    a = arrays
    if (plan[comp.families] < 0).any() or len(comp.staff) == 0 or low >= high:
        return low
    pairs = comp.pairs[np.isin(a.pair_staff[comp.pairs], comp.staff)]
    family = np.searchsorted(comp.families, a.pair_family[pairs])
    staff = np.searchsorted(comp.staff, a.pair_staff[pairs])
    # one group per set of eligible staff (pairs are sorted by family, then staff)
    starts = np.flatnonzero(np.r_[True, family[1:] != family[:-1]])
    group_of: dict[bytes, int] = {}
    labels = np.empty(len(starts), dtype=np.int64)
    for i, chunk in enumerate(np.split(staff, starts[1:])):
        labels[i] = group_of.setdefault(chunk.tobytes(), len(group_of))
    members = family[starts]
    load = a.family_load[comp.families[members]]
    n_groups = len(group_of)
    total = np.bincount(labels, weights=load, minlength=n_groups)
    divisor = np.zeros(n_groups, dtype=np.int64)
    np.gcd.at(divisor, labels, load)
    heaviest = np.zeros(n_groups, dtype=np.int64)
    np.maximum.at(heaviest, labels, load)
    # each group's staff once: the pairs of its first family
    first = np.full(n_groups, -1, dtype=np.int64)
    first[labels[::-1]] = starts[::-1]
    ends = np.r_[starts[1:], len(staff)]
    end_of = dict(zip(starts.tolist(), ends.tolist(), strict=True))
    entry_group = np.concatenate(
        [np.full(end_of[f] - f, g, dtype=np.int64) for g, f in enumerate(first.tolist())]
    )
    entry_staff = np.concatenate([staff[f : end_of[f]] for f in first.tolist()])
    units = fte_units(a)[comp.staff]
    gcd = int(np.gcd.reduce(a.family_load[comp.families])) or 1
    limit = a.staff_limit[comp.staff][entry_staff] * heaviest[entry_group]
    step = divisor[entry_group]

    def fits(level: int) -> bool:
        caps = level_caps(level, units, gcd)[entry_staff]
        room = np.minimum(np.floor(caps / step + 1e-9) * step, limit)
        carried = np.bincount(entry_group, weights=room, minlength=n_groups)
        return bool((carried >= total - 1e-6).all())

    levels = candidate_levels(units, gcd, low, high)
    lo, hi = 0, len(levels) - 1  # the level `high` passes: the plan is a witness
    while lo < hi:
        mid = (lo + hi) // 2
        if fits(int(levels[mid])):
            hi = mid
        else:
            lo = mid + 1
    found = int(levels[lo])
    if found > low:
        log.debug("whole-families bound: level %d (from %d), %d groups", found, low, n_groups)
    return found
