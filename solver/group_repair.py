"""Group repair: re-plan exactly the group of staff around the most loaded one, when transfer
chains stall on a large component.

Where a few staff members alone serve some families (specialists of a rarer language serving
every site), their loads can only fall together: each sheds families others could take to
colleagues with room, and the group's own families are spread again among its members. Transfer
chains move families of one load along paths and the neighbourhood search re-plans eight staff at
a time; neither coordinates a group of twenty or more. Here the group (every staff member who may
serve one of the top staff member's families that few can serve, up to MAX_GROUP) and, for each
of the group's families others could take, its lightest eligible colleague are re-planned as one
sub-problem of the load-level model (`solver.levels`): the group's families with their pairs to
every member, each colleague's own families kept with it (so every member's load in the
sub-problem is its whole load), the component's match floor kept. The sub-problem's level LP at
its bound, rounded, then transfer chains; its MIP when that does not lower the group's level."""

from __future__ import annotations

import logging
import time

import numpy as np

from famassign.solver.arrays import IntArray, ProblemArrays
from famassign.solver.components import Component, component_match, load_per_fte
from famassign.solver.incumbent import note_largest_load
from famassign.solver.levels import Budget, LoadLevels, plan_level
from famassign.solver.settings import SolverSettings
from famassign.solver.transfers import descend

log = logging.getLogger(__name__)

FEW_STAFF = 64
"""A family "few can serve" has at most this many eligible staff: its staff form the group."""
MAX_GROUP = 48
"""Most staff of a group re-planned at once (those sharing most such families with the top)."""
COLLEAGUES = 96
"""Most colleagues added to take the group's other families (for each such family, its
lightest eligible colleague); their own families stay with them."""
GROUP_SECONDS = 8.0
"""Most seconds for one group's re-plan (on `newcomers` at 30,000 families each language's
group, 24-83 staff and up to 1,904 families, took 0.4-1.4 s by its LP rounded and chains)."""


def repair_groups(
    arrays: ProblemArrays,
    comp: Component,
    plan: IntArray,
    match_floor: int,
    minimize_moves: bool,
    bound_level: int,
    settings: SolverSettings,
    seconds: float,
) -> None:
    """Lower the component's largest load (in place) by re-planning the group of its most
    loaded staff member, one group after another, within `seconds`; stops at `bound_level`, when
    a group cannot go lower, or when asked to stop."""
    deadline = time.monotonic() + seconds
    tried: set[bytes] = set()
    rounds = 0
    while time.monotonic() < deadline and not settings.stopped:
        level = plan_level(arrays, comp.families, comp.staff, plan)
        if level <= bound_level:
            break
        per_fte = load_per_fte(arrays, plan)
        top = int(comp.staff[np.argmax(per_fte[comp.staff])])
        group, colleagues = _group(arrays, comp.pairs, plan, top, per_fte)
        key = group.tobytes() + colleagues.tobytes()
        if key in tried or len(group) + len(colleagues) < 2:
            break
        tried.add(key)
        rounds += 1
        seconds_left = min(GROUP_SECONDS, deadline - time.monotonic())
        sub = _sub_problem(arrays, comp.pairs, plan, group, colleagues)
        if not _replan(
            arrays,
            comp,
            sub,
            plan,
            match_floor,
            minimize_moves,
            settings,
            bound_level,
            seconds_left,
        ):
            break
        note_largest_load(arrays, plan)
    log.debug(
        "group repair: %d groups, level %d (bound %d)",
        rounds,
        plan_level(arrays, comp.families, comp.staff, plan),
        bound_level,
    )


def _group(
    arrays: ProblemArrays, pairs: IntArray, plan: IntArray, top: int, per_fte: np.ndarray
) -> tuple[IntArray, IntArray]:
    """The group of staff member `top` (it, and the staff of its families few can serve; see
    the module), and the colleagues who could take the group's other families."""
    a = arrays
    family, staff = a.pair_family[pairs], a.pair_staff[pairs]
    eligible = np.bincount(family, minlength=a.n_families)
    mine = plan[family] == top
    few = mine & (eligible[family] <= FEW_STAFF)
    shared = np.bincount(staff[few], minlength=a.n_staff)
    shared[top] = 0
    candidates = np.flatnonzero(shared)
    candidates = candidates[a.staff_active[candidates]]
    group = candidates[np.argsort(-shared[candidates], kind="stable")][: MAX_GROUP - 1]
    group = np.union1d(group, [top]).astype(np.int64)
    held = np.isin(plan[family], group)
    others = held & (eligible[family] > FEW_STAFF) & ~np.isin(staff, group)
    others &= a.staff_active[staff]
    # for each family of the group that others could take, its lightest eligible colleague
    order = np.lexsort((per_fte[staff[others]], family[others]))
    fam_sorted, staff_sorted = family[others][order], staff[others][order]
    first = np.ones(len(fam_sorted), dtype=bool)
    first[1:] = fam_sorted[1:] != fam_sorted[:-1]
    colleagues = np.unique(staff_sorted[first])
    colleagues = colleagues[np.argsort(per_fte[colleagues], kind="stable")][:COLLEAGUES]
    return group, colleagues.astype(np.int64)


def _sub_problem(
    arrays: ProblemArrays,
    pairs: IntArray,
    plan: IntArray,
    group: IntArray,
    colleagues: IntArray,
) -> Component:
    """The families the group and its colleagues carry; the group's families with their pairs
    to every member, the colleagues' own families fixed (their one pair to their staff)."""
    a = arrays
    members = np.union1d(group, colleagues)
    families = np.flatnonzero(np.isin(plan, members))
    family, staff = a.pair_family[pairs], a.pair_staff[pairs]
    of_group = np.isin(plan[family], group) & np.isin(staff, members)
    fixed = np.isin(plan[family], colleagues) & (staff == plan[family])
    return Component(families, members.astype(np.int64), pairs[of_group | fixed])


def _replan(
    arrays: ProblemArrays,
    comp: Component,
    sub: Component,
    plan: IntArray,
    match_floor: int,
    minimize_moves: bool,
    settings: SolverSettings,
    bound_level: int,
    seconds: float,
) -> bool:
    """Re-plan the families of `sub` (see :func:`_sub_problem`) towards its level LP bound
    (at least `bound_level`): the LP there rounded and passed through transfer chains, else the
    MIP at that level, then halfway up to their level now. True when their largest load fell
    (the component's match floor kept)."""
    a = arrays
    if len(sub.families) == 0 or seconds <= 0:
        return False
    floor = component_match(a, sub, plan) - (component_match(a, comp, plan) - match_floor)
    levels = LoadLevels.of_component(a, sub, plan, settings, floor, minimize_moves)
    now = levels.level_now
    below = levels.levels(bound_level, now)
    below = below[below < now]
    if len(below) == 0:
        return False
    start = time.monotonic()
    low = levels.bound_from_below(int(below[0]), now, seconds / 2)
    log.debug(
        "group: %d staff, %d families, %d pairs, level now %d, LP %s, %.1fs",
        len(sub.staff),
        len(sub.families),
        len(sub.pairs),
        now,
        low,
        time.monotonic() - start,
    )
    if low is None or low >= now:
        return False
    found = _rounded(
        a, comp, sub, plan, levels, low, floor, match_floor, minimize_moves, settings, seconds / 2
    )
    if found is None:
        found = _by_mip(levels, low, now, seconds - (time.monotonic() - start))
    if found is None:
        return False
    trial = plan.copy()
    trial[sub.families] = found
    if plan_level(a, sub.families, sub.staff, trial) >= now:
        return False
    if component_match(a, comp, trial) < match_floor:
        return False
    plan[sub.families] = found
    return True


def _rounded(
    arrays: ProblemArrays,
    comp: Component,
    sub: Component,
    plan: IntArray,
    levels: LoadLevels,
    low: int,
    floor: int,
    match_floor: int,
    minimize_moves: bool,
    settings: SolverSettings,
    seconds: float,
) -> IntArray | None:
    """The sub-problem's LP at `low` rounded, then transfer chains towards `low` (within the
    sub-problem's match `floor`): its families' staff when that lowers their level."""
    rounded = levels.rounded_at(low, seconds / 2)
    if rounded is None:
        return None
    trial = plan.copy()
    trial[sub.families] = rounded
    if component_match(arrays, comp, trial) < match_floor:
        return None
    descend(arrays, sub, trial, floor, minimize_moves, low, settings, seconds / 2)
    reached = plan_level(arrays, sub.families, sub.staff, trial)
    log.debug("group LP rounded, then chains: level %d", reached)
    return trial[sub.families] if reached < levels.level_now else None


def _by_mip(levels: LoadLevels, low: int, now: int, seconds: float) -> IntArray | None:
    """A plan of the sub-problem from its MIP at `low`, else halfway up to `now`."""
    start = time.monotonic()
    candidates = levels.levels(low, now)
    for target in dict.fromkeys([low, int(candidates[(len(candidates) - 1) // 2])]):
        left = seconds - (time.monotonic() - start)
        if left <= 0 or target >= now:
            return None
        found, _ = levels.plan_at(target, Budget(left / 2 if target == low else left, False))
        if found is not None:
            return found
    return None
