"""Workload balance: minimise the most loaded staff member (weighted load per FTE).

The flow plan is optimal for placement, exception places, moves and match; balance may change it
only while those stay optimal and the program's match stays at least its *floor*: the flow's (best)
match less `balance_match_tolerance` of it, rounded down to whole points given up (the *slack*). The
families and staff split into independent components (no eligible pair crosses them), linked only by
the floor: one component may give up more of its match than another. With no slack every component
keeps its own best match, and they are balanced apart. With some, a lone component gets the
program's floor; several are first balanced apart, each giving up at most `balance_match_tolerance`
of its own match (together within the slack: on two generated 600-family programs side by side this
proved each in 7 s, where one block from the flow plan ended at a larger load in 20 s), then, in the
time kept for it (BLOCK_SHARE), as one block under the program's floor from that plan (the largest
load of a block is the largest over its components and its match their sum, so every model below is
exact for it); only the block's bound holds for the program. Each generated program, `rural` to
`state`, is one component. A component (or block) of moderate size is solved exactly through load
levels (`solver.levels`): an LP bound over the levels a largest load can take, then a HiGHS MIP for
the plan of most match at the lowest level, one level up whenever a level is proven empty; if HiGHS
runs out of time, transfer chains lower the largest load towards the bound and a MIP minimising the
largest load, started from their plan, takes over. A large component: its bound (max-flow
relaxation, under fewest moves also the kept-caseloads bound) is raised to the lowest load level at
or above it; when affordable, the load-level LP of the whole component from there up gives the
stronger bound and, rounded, a near-balanced plan; when not, the caseload-mix model
(`solver.caseload_mix`: whole families of each type per staff member) proves levels empty and gives
a plan at the lowest one it can (also tried by a moderate component whose first MIP finds no plan);
transfer chains (`solver.transfers`: min-cost flows that move families from every staff member above
a target at once, then CP-SAT repairs of the few left) lower the largest load level by level; the
neighbourhood search (`solver.neighbourhoods`) uses the time left. The plan is `proven` exactly when
its largest load meets the program's bound (the largest component bound, or the block's: a bound
under the program's floor); `BalancedPlan.bound_kind` names which bound that is. With no match to
give up, or under fewest moves, every method works only on the pairs of the optimal face of the flow
(`solver.optimal_face`), and with no match to give up its components are those of the face.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from famassign.solver.arrays import LOAD_SCALE, IntArray, ProblemArrays
from famassign.solver.caseload_mix import lowest_mix_plan
from famassign.solver.component_model import ComponentModel
from famassign.solver.components import Component, component_match, components, load_per_fte
from famassign.solver.flow import FlowPlan
from famassign.solver.flow_rounding import rounded_flow_plan
from famassign.solver.group_repair import repair_groups
from famassign.solver.incumbent import note_largest_load
from famassign.solver.levels import (
    NODES_PER_SECOND,
    Budget,
    LoadLevels,
    candidate_levels,
    fte_units,
    plan_level,
)
from famassign.solver.load_bound import (
    BoundKind,
    flow_bound_limits,
    kept_caseload_bound,
    level_kind,
    max_flow_bound,
    relaxed_load_bound,
    whole_families_level,
)
from famassign.solver.neighbourhoods import search
from famassign.solver.optimal_face import face_pairs
from famassign.solver.settings import SolverSettings
from famassign.solver.transfers import descend

log = logging.getLogger(__name__)

MAX_EXACT_PAIRS = 40_000
"""Components with more eligible pairs than this are balanced by neighbourhood search."""
MIP_SHARE = 0.6
"""Share of a component's time left that one level's MIP may use (CP-SAT keeps the rest)."""
MIN_EXACT_SHARE = 0.25
"""Least share of the time left that a moderate component may use (a small one beside a large
one would otherwise get seconds in proportion to its few pairs)."""
QUICK_SHARE = 0.7
"""Share of a moderate component's time left for its MIP at each level before caseload mixes,
transfer chains and the min-max MIP take over (most plans of most match at the lowest level are
found in a fraction of it; where none is, the chains do better with the rest)."""
ROUNDED_START_SHARE = 0.3
"""Share of a moderate component's time for its rounded start (the level LP at the bound,
rounded, then transfer chains) before the MIP: on the generated 2,000-family programs (30 s) it
took 0.1-2.5 s and ended `part_time` at 63.5 and `agency` at 48.0 where the MIP first had ended
them at 64.0 and 48.5-50.5 (bounds 63.0 and 46.0-46.43)."""
GAP_SHARE = 0.4
"""Share of a moderate component's time left for the MIP at the highest level within the
balance gap of the bound, when that level is above the bound (tried before the bound)."""
ROUNDED_LP_SHARE = 0.5
"""Share of the rounded start's time for the LP at the bound (the chains get the rest)."""
QUICK_SECONDS = 5.0
"""Seconds the MIP at a level gets at least (within MIP_SHARE of the time left): a short time
limit must not hand a small program's easy MIP to the slower methods."""
MODERATE_CHAIN_SHARE = 0.5
"""Share of a moderate component's time left for transfer chains once its MIP found no plan
(they end sooner when no lower level is reached; the min-max MIP gets the rest)."""
LP_SHARE = 0.6
"""Share of a large component's time left that its level LP (bound and rounded plan) may use."""
CHAIN_SHARE = 0.8
"""Share of a large component's time left, after the LP, for transfer chains (then search)."""
GROUP_SHARE = 0.8
"""Share of a large component's time left, after the transfer chains, for group repairs
(`solver.group_repair`; the neighbourhood search gets the rest)."""
MIX_SHARE = 0.6
"""Share of a large component's time left that the caseload-mix model may use when the level LP
is not affordable (`solver.caseload_mix`)."""
MAX_LP_PAIRS = 400_000
"""Largest component (eligible pairs) whose level LP is tried: above it, building and solving
the LP overran the time limit (the 1.6-million-pair `dense` program, a shared 2-core machine)."""
BLOCK_SHARE = 0.5
"""Share of the time kept, when several components may give up match, for balancing them as one
block under the program's floor (each first balanced apart within its own share of the match)."""
BOUND_TOLERANCE = 1e-3
"""A largest load within this of its bound (per FTE) meets it (the max-flow bound is found by
bisection to this precision; level bounds are exact)."""


@dataclass(frozen=True)
class BalancedPlan:
    """The balanced plan, its largest load per FTE, and a proven lower bound on it."""

    staff_of: IntArray
    max_load_per_fte: float
    max_load_bound: float
    proven: bool
    bound_kind: BoundKind = BoundKind.none


def _balance_exactly(
    arrays: ProblemArrays,
    comp: Component,
    plan: IntArray,
    settings: SolverSettings,
    seconds: float,
    match_floor: int,
    minimize_moves: bool,
) -> tuple[IntArray | None, float, BoundKind]:
    """Balance a component of moderate size: the load-level bound (LP), then the plan of most
    match at the lowest level (MIP), one level up whenever a level is proven empty. Should HiGHS
    run out of time first (its first try gets QUICK_SHARE of the time), transfer chains lower
    the flow plan's largest load towards the bound, and the MIP minimising the largest load,
    started from their plan, uses the time left (deterministic mode: CP-SAT continues from the
    proven bound instead).

    Returns (plan of the component or None, lower bound on its max load per FTE, its kind)."""
    clock = _Clock(settings, seconds)
    levels = LoadLevels.of_component(arrays, comp, plan, settings, match_floor, minimize_moves)
    relaxed = relaxed_load_bound(arrays, comp, plan, *flow_bound_limits(settings, clock.left()))
    low = math.floor(relaxed * LOAD_SCALE)
    bound = levels.bound(low, levels.level_now)
    # `bound` falls back to `low` when HiGHS is stopped: a max-flow bound then.
    kind = level_kind(minimize_moves) if levels.bound_complete else BoundKind.max_flow
    whole = whole_families_level(arrays, comp, plan, bound, levels.level_now)
    if whole > bound:
        bound, kind = whole, BoundKind.whole_families
    early = None
    if not settings.deterministic and levels.bound_complete:
        seconds = clock.left() * ROUNDED_START_SHARE
        early = _rounded_start(
            arrays, comp, plan, levels, bound, settings, seconds, match_floor, minimize_moves
        )
        if early is not None and plan_level(arrays, comp.families, comp.staff, early) <= bound:
            return early[comp.families], bound / LOAD_SCALE, kind
    early_level = (
        levels.level_now if early is None else plan_level(arrays, comp.families, comp.staff, early)
    )
    share = MIP_SHARE if settings.deterministic else QUICK_SHARE
    candidates = levels.levels(bound, levels.level_now).tolist()
    for level, above in zip(candidates, [*candidates[1:], levels.level_now], strict=True):
        if clock.left() <= 0 or settings.stopped or (early is not None and level >= early_level):
            break  # (with a plan at `early_level` in hand, no MIP from there up)
        within = [c for c in candidates if level < c <= level * (1 + settings.relative_gap)]
        if within and early_level > within[-1] and not settings.deterministic:
            # A plan within the balance gap first: a MIP with more room is often much easier
            # (the agency program at 2,000 families found none at its bound in 40 s).
            found, _ = levels.plan_at(within[-1], Budget(clock.left() * GAP_SHARE, False))
            if found is not None:
                early = plan.copy()
                early[comp.families] = found
                early_level = within[-1]
                note_largest_load(arrays, early)
        left = clock.left()
        budget = Budget(
            max(left * share, min(left * MIP_SHARE, QUICK_SECONDS)), settings.deterministic
        )
        found, empty = levels.plan_at(level, budget)
        clock.spent(levels.nodes())
        if found is not None:
            log.debug("balanced at level %d, bound %d", level, bound)
            return found, bound / LOAD_SCALE, kind
        if not empty:
            break
        bound = above  # no plan at this level, so none below the next level either
    if clock.left() <= 0 or settings.stopped:
        return None if early is None else early[comp.families], bound / LOAD_SCALE, kind
    best = plan.copy() if early is None else early
    if not settings.deterministic and not minimize_moves and (plan[comp.families] >= 0).all():
        # the caseload-mix model (`solver.caseload_mix`; crowded's 35,000-pair component: its
        # bound in 0.2 s where the chains and CP-SAT had ended a level above it in 25 s)
        low, mixed = lowest_mix_plan(
            arrays,
            comp,
            plan,
            match_floor,
            levels.levels(bound, levels.level_now),
            clock.left() * MIX_SHARE,
            lambda: settings.stopped,
        )
        if low > bound:
            bound, kind = low, BoundKind.caseload_mix
        if mixed is not None:
            trial = best.copy()
            trial[comp.families] = mixed
            reached = plan_level(arrays, comp.families, comp.staff, trial)
            if reached <= bound:
                return mixed, bound / LOAD_SCALE, kind
            if reached < plan_level(arrays, comp.families, comp.staff, best):
                best = trial
    if settings.deterministic:
        model = ComponentModel(arrays, comp, plan, match_floor, minimize_moves, load_floor=bound)
        new_plan, cp_bound, _ = model.solve_in_order(settings, max(clock.left(), 0.01))
        if cp_bound > bound / LOAD_SCALE:
            return new_plan, cp_bound, BoundKind.cp_sat
        return new_plan, bound / LOAD_SCALE, kind
    chains = clock.left() * MODERATE_CHAIN_SHARE
    descend(arrays, comp, best, match_floor, minimize_moves, bound, settings, chains)
    reached = plan_level(arrays, comp.families, comp.staff, best)
    if reached > bound and clock.left() > 0 and not settings.stopped:
        lower = levels.min_max(best[comp.families], Budget(clock.left(), False))
        if lower is not None:
            trial = best.copy()
            trial[comp.families] = lower
            if plan_level(arrays, comp.families, comp.staff, trial) < reached:
                best = trial
    return best[comp.families], bound / LOAD_SCALE, kind


def _rounded_start(
    arrays: ProblemArrays,
    comp: Component,
    plan: IntArray,
    levels: LoadLevels,
    bound: int,
    settings: SolverSettings,
    seconds: float,
    match_floor: int,
    minimize_moves: bool,
) -> IntArray | None:
    """A plan near the bound in a few seconds, before any MIP: the level LP at `bound` (most
    match there) rounded (`LoadLevels.rounded_at`), then transfer chains towards `bound` within
    the match given up. None when the LP cannot be rounded or its rounding is below the floor."""
    deadline = time.monotonic() + seconds
    rounded = levels.rounded_at(bound, seconds * ROUNDED_LP_SHARE)
    if rounded is None:
        return None
    trial = plan.copy()
    trial[comp.families] = rounded
    if component_match(arrays, comp, trial) < match_floor:
        return None
    note_largest_load(arrays, trial)
    left = deadline - time.monotonic()
    if left > 0:
        descend(arrays, comp, trial, match_floor, minimize_moves, bound, settings, left)
    return trial


class _Clock:
    """Time left for one component: wall seconds, or in deterministic mode a budget charged by
    the HiGHS nodes searched (never the clock)."""

    def __init__(self, settings: SolverSettings, seconds: float) -> None:
        self.deterministic, self.seconds = settings.deterministic, seconds
        self.start = time.monotonic()
        self.charged = 0.0

    def spent(self, nodes: int) -> None:
        """Charge one HiGHS solve that searched `nodes` nodes."""
        self.charged += nodes / NODES_PER_SECOND + 0.01

    def left(self) -> float:
        """Seconds (or deterministic seconds) left."""
        if self.deterministic:
            return self.seconds - self.charged
        return self.seconds - (time.monotonic() - self.start)


def balance(
    arrays: ProblemArrays,
    flow: FlowPlan,
    settings: SolverSettings,
    *,
    tolerance: float,
    minimize_moves: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> BalancedPlan:
    """Balance the flow plan within `settings.time_limit`, giving up at most `tolerance` of the
    program's best match (the flow's) in all: component by component, then, when several may
    give up match, all of them as one block under the program's floor (see the module)."""
    start = time.monotonic()
    plan = flow.staff_of.copy()
    # With no match to give up, only the optimal flows qualify: their pairs (the optimal face)
    # split the program into smaller independent components. With some match to give up under
    # fewest moves, only the pairs of the flows optimal down to the moves qualify; the
    # components stay whole (the match given up is shared within each).
    split = face_pairs(arrays, plan, minimize_moves) if tolerance == 0 else None
    usable = split
    if tolerance > 0 and minimize_moves:
        usable = face_pairs(arrays, plan, minimize_moves, with_match=False)
    fam_label, staff_label = components(arrays, None if split is None else np.flatnonzero(split))
    note_largest_load(arrays, plan)
    per_fte = load_per_fte(arrays, plan)
    pair_label = fam_label[arrays.pair_family]
    if usable is not None:
        pair_label = np.where(usable, pair_label, -1)
    comps: list[Component] = []
    for c in np.unique(staff_label[arrays.staff_active]).tolist():
        staff = np.flatnonzero((staff_label == c) & arrays.staff_active)
        pairs = np.flatnonzero(pair_label == c)
        families = np.flatnonzero(fam_label == c)
        # Alone, a staff member's load is forced, unless it can leave out other families.
        if len(pairs) and (len(staff) >= 2 or (plan[families] < 0).any()):
            comps.append(Component(families, staff, pairs))
    # The match floor is the program's: at most `slack` of match given up in all. One component
    # balanced: its floor is the program's. Several: first each gives up at most `tolerance` of
    # its own match (together within the slack); then, with the time kept for it, all of them
    # as one block under the program's floor from that plan: only its bound holds for the
    # program (a component may give up more than its own share of the slack).
    slack = flow.match - math.ceil(flow.match * (1 - tolerance))
    shared = slack > 0 and len(comps) > 1
    block = _block(comps) if shared else None
    block_floor = 0 if block is None else component_match(arrays, block, plan) - slack
    apart = 1 - BLOCK_SHARE if shared else 1.0
    # Moderate components first (usually solved exactly in little time, the rest then goes to
    # the large ones), each group most loaded first.
    comps.sort(key=lambda comp: (len(comp.pairs) > MAX_EXACT_PAIRS, -per_fte[comp.staff].max()))
    lower, kind = 0.0, BoundKind.none
    total_pairs = sum(len(c.pairs) for c in comps)
    steps = len(comps) + (block is not None)
    for done, comp in enumerate(comps):
        if settings.deterministic:  # a budget that does not depend on the clock
            remaining = (
                settings.time_limit
                * apart
                * (1 - sum(len(c.pairs) for c in comps[:done]) / max(total_pairs, 1))
            )
        else:
            remaining = settings.time_limit * apart - (time.monotonic() - start)
        pairs_left = sum(len(c.pairs) for c in comps[done:])
        share = len(comp.pairs) / max(pairs_left, 1)
        if len(comp.pairs) <= MAX_EXACT_PAIRS and not settings.deterministic:
            share = max(share, MIN_EXACT_SHARE)
        seconds = remaining * min(share, 1.0)
        match_now = component_match(arrays, comp, plan)
        own = match_now - math.ceil(match_now * (1 - tolerance)) if shared else slack
        worst = float(per_fte[comp.staff].max(initial=0.0))
        if worst <= lower or remaining <= 0.05 or settings.stopped:
            # Cannot raise the program's largest load nor lower it below what is proven.
            continue
        bound, comp_kind = _balance_one(
            arrays, comp, plan, settings, seconds, match_now - own, minimize_moves
        )
        if bound > lower:
            lower, kind = bound, comp_kind
        note_largest_load(arrays, plan)
        if progress is not None:
            progress(done + 1, steps)
        log.debug("component %d/%d balanced (%d pairs)", done + 1, len(comps), len(comp.pairs))
    if block is not None:
        # The bounds above hold under each component's own floor only: none is kept.
        lower, kind = 0.0, BoundKind.none
        if settings.deterministic:
            remaining = settings.time_limit * BLOCK_SHARE
        else:
            remaining = settings.time_limit - (time.monotonic() - start)
        if remaining > 0.05 and not settings.stopped:
            apart_plan = plan.copy()
            lower, kind = _balance_one(
                arrays, block, plan, settings, remaining, block_floor, minimize_moves
            )
            if plan_level(arrays, block.families, block.staff, plan) > plan_level(
                arrays, block.families, block.staff, apart_plan
            ):
                plan = apart_plan
            note_largest_load(arrays, plan)
        if progress is not None:
            progress(steps, steps)
    final = load_per_fte(arrays, plan)
    max_load = float(final[arrays.staff_active].max(initial=0.0))
    forced = _unbalanced_bound(arrays, plan, (fam_label, staff_label), comps, final)
    if forced > lower:
        lower, kind = forced, BoundKind.forced if split is None else BoundKind.forced_face
    # The program's largest load is the largest over its components, its bound the largest
    # component bound: the plan is optimal exactly when it meets that bound.
    proven = max_load <= lower + BOUND_TOLERANCE
    return BalancedPlan(plan, max_load, min(lower, max_load), proven, kind)


def _balance_one(
    arrays: ProblemArrays,
    comp: Component,
    plan: IntArray,
    settings: SolverSettings,
    seconds: float,
    match_floor: int,
    minimize_moves: bool,
) -> tuple[float, BoundKind]:
    """Balance a component (or block) in place, exactly when of moderate size.

    Returns (lower bound on its largest load per FTE under `match_floor`, its kind)."""
    if len(comp.pairs) <= MAX_EXACT_PAIRS:
        new_plan, bound, kind = _balance_exactly(
            arrays, comp, plan, settings, seconds, match_floor, minimize_moves
        )
        if new_plan is not None:
            plan[comp.families] = new_plan
        return bound, kind
    return _balance_large(arrays, comp, plan, settings, seconds, match_floor, minimize_moves)


def _block(comps: list[Component]) -> Component:
    """The components as one: their families, staff and pairs, each ascending."""
    return Component(
        np.sort(np.concatenate([c.families for c in comps])),
        np.sort(np.concatenate([c.staff for c in comps])),
        np.sort(np.concatenate([c.pairs for c in comps])),
    )


def _balance_large(
    arrays: ProblemArrays,
    comp: Component,
    plan: IntArray,
    settings: SolverSettings,
    seconds: float,
    match_floor: int,
    minimize_moves: bool,
) -> tuple[float, BoundKind]:
    """Balance a large component in place. The bound first: the max-flow relaxation (and,
    under fewest moves, the kept-caseloads bound), raised to the lowest load level at or above
    it; then, when affordable, the load-level LP of the whole component from that level up
    (within LP_SHARE of the time), whose solution at the lowest feasible level, rounded, is the
    new plan when it is better; when the LP is not affordable, the caseload-mix model
    (`solver.caseload_mix`, within MIX_SHARE of the time) instead: it raises the bound past the
    levels no mix of whole families fits, and its plan at the lowest level it reaches is kept.
    Then transfer chains (`solver.transfers`) lower the largest load level by level towards the
    bound, and neighbourhood search uses the time left.

    Returns (lower bound on the component's largest load per FTE, its kind)."""
    clock = _Clock(settings, seconds)
    flow_bound = max_flow_bound(arrays, comp, plan, *flow_bound_limits(settings, clock.left()))
    bound, kind = flow_bound.value, BoundKind.max_flow
    if minimize_moves:
        kept = kept_caseload_bound(arrays, comp, plan)
        if kept >= bound:  # equal: name the bound that holds under the moves
            bound, kind = kept, BoundKind.kept_caseloads
    # the flow that proves the bound, rounded, is often a plan at it (`solver.flow_rounding`)
    rounded = rounded_flow_plan(arrays, comp, plan, flow_bound, match_floor, minimize_moves)
    if rounded is not None:
        plan[comp.families] = rounded
        note_largest_load(arrays, plan)
    units = fte_units(arrays)[comp.staff]
    gcd = int(np.gcd.reduce(arrays.family_load[comp.families])) or 1
    level_now = plan_level(arrays, comp.families, comp.staff, plan)
    # every plan's level is one of these: the bound rises to the lowest at or above it
    low = math.floor(bound * LOAD_SCALE + 1e-9)
    at_or_above = candidate_levels(units, gcd, low, max(low, level_now))
    at_or_above = at_or_above[at_or_above >= bound * LOAD_SCALE - 1e-6]
    bound_level = int(at_or_above[0]) if len(at_or_above) else low
    bound = max(bound, bound_level / LOAD_SCALE)
    whole = whole_families_level(arrays, comp, plan, bound_level, max(bound_level, level_now))
    if whole > bound_level:
        bound_level, bound, kind = whole, whole / LOAD_SCALE, BoundKind.whole_families
    affordable = len(comp.pairs) <= MAX_LP_PAIRS and not settings.deterministic
    mixable = not (affordable or minimize_moves or settings.deterministic)
    if (
        mixable
        and level_now > bound_level
        and clock.left() > 0
        and (plan[comp.families] >= 0).all()
    ):
        # too large for the level LP: the caseload-mix model (exact but for the match) instead
        low, mixed = lowest_mix_plan(
            arrays,
            comp,
            plan,
            match_floor,
            candidate_levels(units, gcd, bound_level, level_now),
            clock.left() * MIX_SHARE,
            lambda: settings.stopped,
        )
        if low > bound_level:
            bound_level, bound, kind = low, low / LOAD_SCALE, BoundKind.caseload_mix
        if mixed is not None:
            plan[comp.families] = mixed
            note_largest_load(arrays, plan)
        level_now = plan_level(arrays, comp.families, comp.staff, plan)
    if level_now > bound_level and affordable and clock.left() > 0:
        levels = LoadLevels.of_component(arrays, comp, plan, settings, match_floor, minimize_moves)
        level = levels.bound_from_below(bound_level, levels.level_now, clock.left() * LP_SHARE)
        log.debug("large component: level LP bound %s", level)
        if level is not None and level >= bound_level:
            if level > bound_level or kind is not BoundKind.whole_families:
                bound_level, bound, kind = level, level / LOAD_SCALE, level_kind(minimize_moves)
            rounded = levels.rounded_at(level, clock.left() * LP_SHARE)
            if rounded is not None:
                trial = plan.copy()
                trial[comp.families] = rounded
                better = (
                    load_per_fte(arrays, trial)[comp.staff].max()
                    < load_per_fte(arrays, plan)[comp.staff].max()
                )
                if better and component_match(arrays, comp, trial) >= match_floor:
                    plan[comp.families] = rounded
                    note_largest_load(arrays, plan)
    if plan_level(arrays, comp.families, comp.staff, plan) <= bound_level:
        return bound, kind  # the plan meets the bound
    if clock.left() > 0 and not settings.stopped:
        descend(
            arrays,
            comp,
            plan,
            match_floor,
            minimize_moves,
            bound_level,
            settings,
            clock.left() * (1.0 if settings.deterministic else CHAIN_SHARE),
        )
    if (
        not settings.deterministic
        and clock.left() > 0
        and not settings.stopped
        and plan_level(arrays, comp.families, comp.staff, plan) > bound_level
    ):
        repair_groups(
            arrays,
            comp,
            plan,
            match_floor,
            minimize_moves,
            bound_level,
            settings,
            clock.left() * GROUP_SHARE,
        )
    if not settings.deterministic and clock.left() > 0 and not settings.stopped:
        target = bound * (1 + settings.relative_gap)
        search(arrays, comp, plan, settings, clock.left(), match_floor, minimize_moves, target)
    return bound, kind


def _unbalanced_bound(
    arrays: ProblemArrays,
    plan: IntArray,
    labels: tuple[IntArray, IntArray],
    comps: list[Component],
    final: np.ndarray,
) -> float:
    """Bound from staff alone in their component: their caseload is forced when every family of
    the component is placed, so their load is a lower bound on the program's largest."""
    fam_label, staff_label = labels
    balanced = np.zeros(arrays.n_staff, dtype=bool)
    for comp in comps:
        balanced[comp.staff] = True
    unplaced = np.bincount(fam_label[plan < 0], minlength=arrays.n_families + arrays.n_staff)
    forced = arrays.staff_active & ~balanced & (unplaced[staff_label] == 0)
    return float(final[forced].max(initial=0.0))


__all__ = [
    "BalancedPlan",
    "SolverSettings",
    "balance",
    "components",
    "load_per_fte",
]
