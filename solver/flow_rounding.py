"""A plan from the max-flow bound: the flow that proves a component's lowest feasible load level
(`solver.load_bound.max_flow_bound`) is itself nearly a plan there. Each family goes to the staff
member carrying most of its load in that flow; with one family load (or loads that split little)
every staff member then stays within the level's caps. On a large component this reaches the
bound in one step, where transfer chains would need a flow over every pair per level on the way
down (seconds each on millions of pairs). The rounded plan is kept only when it keeps every rule
the balance stage keeps: count caps, exception places, pins, moves and the match floor."""

from __future__ import annotations

import numpy as np

from famassign.solver.arrays import IntArray, ProblemArrays
from famassign.solver.components import Component, component_match
from famassign.solver.levels import plan_level
from famassign.solver.load_bound import FlowBound


def rounded_flow_plan(
    arrays: ProblemArrays,
    comp: Component,
    plan: IntArray,
    bound: FlowBound,
    match_floor: int,
    minimize_moves: bool,
) -> IntArray | None:
    """The component's families rounded from the bound's flow, when that plan is valid and
    lower than `plan`.

    Parameters
    ----------
    arrays, comp
        The problem and the component.
    plan
        The present plan (all the component's families placed).
    bound
        The max-flow bound of the component under `plan`, with its flow.
    match_floor
        The least match the component's plan must keep.
    minimize_moves
        Under fewest moves no family moves that `plan` does not move.

    Returns
    -------
    IntArray or None
        The staff member of each of ``comp.families`` (pinned families, and under fewest moves
        families it would move, stay where they are); None when there is no flow, or the
        rounded plan breaks a count cap, uses more exception places, gives up more match than
        the floor allows, or is not at a lower level than `plan`.
    """
    if bound.flows is None or len(bound.pairs) == 0:
        return None
    a = arrays
    families = comp.families
    family = a.pair_family[bound.pairs]  # sorted, as the pairs are
    # pairs are sorted by family, then staff: one run of pairs per family
    starts = np.flatnonzero(np.r_[True, family[1:] != family[:-1]])
    if len(starts) != len(families):
        return None  # a family without a pair to an active staff member
    most = np.maximum.reduceat(bound.flows, starts)
    at_most = np.flatnonzero(bound.flows == np.repeat(most, np.diff(np.r_[starts, len(family)])))
    first = at_most[np.r_[True, family[at_most][1:] != family[at_most][:-1]]]
    new = a.pair_staff[bound.pairs[first]].astype(np.int64)
    now = plan[families]
    stay = a.family_pinned[families].copy()
    if minimize_moves:
        current = a.family_current[families]
        active = current >= 0
        active[active] = a.staff_active[current[active]]
        stay |= active & (new != current) & (now == current)
    new[stay] = now[stay]
    cap, limit = a.staff_cap[comp.staff], a.staff_limit[comp.staff]
    counts = np.bincount(new, minlength=a.n_staff)[comp.staff]
    counts_now = np.bincount(now, minlength=a.n_staff)[comp.staff]
    if (counts > limit).any():
        return None
    if np.maximum(counts - cap, 0).sum() > np.maximum(counts_now - cap, 0).sum():
        return None
    trial = plan.copy()
    trial[families] = new
    if component_match(a, comp, trial) < match_floor:
        return None
    if plan_level(a, families, comp.staff, trial) >= plan_level(a, families, comp.staff, plan):
        return None
    return new
