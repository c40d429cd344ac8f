"""The exact core: a lexicographic min-cost flow over the eligible pairs.

Family nodes (supply 1) reach the sink through an eligible staff member (a pair arc) or through an
"unplaced" arc; each staff member reaches the sink by a policy-cap arc and, when an exception is in
force, an exception arc. With count caps the LP of this network is integral, so the min-cost flow
is the exact optimum of, in strict priority: families placed, urgency of the unplaced, exception
places, moves (optional: families taken from an active current staff member, placed elsewhere
or left unplaced; the unplaced arc of such a family carries a move), match score.

Strict priority from one weighted cost: two flows differ by a set of simple cycles, and a simple
cycle passes the sink once, so it changes the placed count and the exception places by at most
one, the urgency term by at most 5, and uses at most ``2 * min(families, staff) + 2`` pair arcs.
Each level's multiplier exceeds the most that all lower levels can change along one cycle, so
every cycle that improves a higher level has negative cost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import max_flow, min_cost_flow

from famassign.models.errors import FamassignError
from famassign.solver.arrays import IntArray, ProblemArrays

log = logging.getLogger(__name__)


class FlowError(FamassignError, RuntimeError):
    """The min-cost flow could not be solved (cost range overflow or solver failure)."""


@dataclass(frozen=True)
class Multipliers:
    """Cost per unit of each objective level (see module docstring)."""

    placed: int
    urgency: int
    over_cap: int
    moves: int


def multipliers(arrays: ProblemArrays, pair_match: IntArray, minimize_moves: bool) -> Multipliers:
    """Multipliers that make one weighted cost equal the lexicographic order."""
    active = int(arrays.staff_active.sum())
    arcs_per_cycle = 2 * max(1, min(active, arrays.n_families)) + 2
    match_swing = int(pair_match.max(initial=0)) * arcs_per_cycle
    moves = match_swing + 1 if minimize_moves else 0
    lower = match_swing + moves * arcs_per_cycle
    over_cap = lower + 1
    lower += over_cap
    urgency = lower + 1
    lower += 5 * urgency
    return Multipliers(placed=lower + 1, urgency=urgency, over_cap=over_cap, moves=moves)


@dataclass(frozen=True)
class FlowPlan:
    """An optimal plan: staff index per family (-1 unplaced) and its objective levels."""

    staff_of: IntArray
    placed: int
    urgency_unplaced: int
    over_cap: int
    moves: int
    match: int


@dataclass(frozen=True)
class FlowNetwork:
    """The network of :func:`solve_flow`: arcs in the order pair arcs, one "unplaced" arc per
    family, one policy-cap arc per staff member, one exception arc per staff member in
    `with_extra`; nodes are the families, the staff members, then the sink."""

    starts: IntArray
    ends: IntArray
    capacities: IntArray
    costs: IntArray
    supplies: IntArray
    cap: IntArray
    with_extra: IntArray

    def arc_flows(self, arrays: ProblemArrays, staff_of: IntArray) -> IntArray:
        """The flow on every arc that the plan `staff_of` (staff index per family, -1
        unplaced) makes (policy-cap places first, then exception places)."""
        m = arrays.n_staff
        placed = staff_of >= 0
        counts = np.bincount(staff_of[placed], minlength=m)
        return np.concatenate(
            [
                (staff_of[arrays.pair_family] == arrays.pair_staff).astype(np.int64),
                (~placed).astype(np.int64),
                np.minimum(counts, self.cap),
                np.maximum(counts - self.cap, 0)[self.with_extra],
            ]
        )


def flow_network(
    arrays: ProblemArrays,
    *,
    minimize_moves: bool = False,
    limit: IntArray | None = None,
    with_match: bool = True,
) -> FlowNetwork:
    """The min-cost flow network whose optimum is the lexicographic plan (module docstring);
    without `with_match`, the order stops before the match (every pair arc costs only its
    move)."""
    n, m = arrays.n_families, arrays.n_staff
    limit = arrays.staff_limit if limit is None else limit
    match = arrays.pair_match
    move = arrays.pair_move
    mult = multipliers(arrays, match, minimize_moves)
    sink = n + m
    cap = np.minimum(arrays.staff_cap, limit)
    extra = limit - cap

    fam = np.arange(n, dtype=np.int64)
    stf = np.arange(m, dtype=np.int64)
    with_extra = stf[extra > 0]
    starts = np.concatenate([arrays.pair_family, fam, n + stf, n + with_extra])
    ends = np.concatenate(
        [n + arrays.pair_staff, np.full(n, sink), np.full(m, sink), np.full(len(with_extra), sink)]
    )
    # A pinned family has no "unplaced" arc: it stays with its staff member (the Scenario checks
    # that the pins fit), never giving its place to a more urgent family.
    unplaced_capacity = np.where(arrays.family_pinned, 0, 1).astype(np.int64)
    capacities = np.concatenate(
        [np.ones(len(match), np.int64), unplaced_capacity, cap, extra[with_extra]]
    )
    costs = np.concatenate(
        [
            mult.moves * move - (match if with_match else 0),
            mult.placed + mult.urgency * arrays.family_urgency + mult.moves * arrays.family_served,
            np.zeros(m, np.int64),
            np.full(len(with_extra), mult.over_cap, np.int64),
        ]
    )
    supplies = np.concatenate([np.ones(n, np.int64), np.zeros(m, np.int64), [-n]])
    return FlowNetwork(
        starts.astype(np.int64),
        ends.astype(np.int64),
        capacities.astype(np.int64),
        costs.astype(np.int64),
        supplies.astype(np.int64),
        cap.astype(np.int64),
        with_extra,
    )


def solve_flow(
    arrays: ProblemArrays,
    *,
    minimize_moves: bool = False,
    limit: IntArray | None = None,
) -> FlowPlan:
    """The lexicographically optimal plan for placed, urgency, exception places, moves, match.

    `limit` overrides `arrays.staff_limit` (used to ask what an exception would place).
    """
    n, m = arrays.n_families, arrays.n_staff
    match = arrays.pair_match
    net = flow_network(arrays, minimize_moves=minimize_moves, limit=limit)
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        net.starts.astype(np.int32), net.ends.astype(np.int32), net.capacities, net.costs
    )
    flow.set_nodes_supplies(np.arange(n + m + 1, dtype=np.int32), net.supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise FlowError(f"min-cost flow ended with status {status}")

    pair_flow = flow.flows(np.arange(len(match), dtype=np.int32)) > 0
    staff_of = np.full(n, -1, dtype=np.int64)
    staff_of[arrays.pair_family[pair_flow]] = arrays.pair_staff[pair_flow]
    unplaced = staff_of < 0
    counts = np.bincount(staff_of[~unplaced], minlength=m)
    plan = FlowPlan(
        staff_of=staff_of,
        placed=int((~unplaced).sum()),
        urgency_unplaced=int(arrays.family_urgency[unplaced].sum()),
        over_cap=int(np.maximum(counts - arrays.staff_cap, 0).sum()),
        moves=arrays.moves_of(staff_of),
        match=int(match[pair_flow].sum()),
    )
    log.debug("flow plan: placed %d of %d, match %d", plan.placed, n, plan.match)
    return plan


def max_placed(arrays: ProblemArrays, limit: IntArray | None = None) -> int:
    """The most families the eligible pairs can place with at most ``limit[j]`` per staff member
    (default `arrays.staff_limit`): a maximum flow, much faster than :func:`solve_flow` when only
    the count matters. Equal to ``solve_flow(arrays, limit=limit).placed`` whenever the pins fit
    (any matchable set of families, the pinned ones, extends to a largest matching).
    """
    n, m = arrays.n_families, arrays.n_staff
    limit = arrays.staff_limit if limit is None else limit
    source, sink = n + m, n + m + 1
    starts = np.concatenate(
        [np.full(n, source), arrays.pair_family, n + np.arange(m, dtype=np.int64)]
    )
    ends = np.concatenate([np.arange(n, dtype=np.int64), n + arrays.pair_staff, np.full(m, sink)])
    capacities = np.concatenate(
        [np.ones(n + len(arrays.pair_family), np.int64), np.maximum(limit, 0).astype(np.int64)]
    )
    flow = max_flow.SimpleMaxFlow()
    flow.add_arcs_with_capacity(starts.astype(np.int32), ends.astype(np.int32), capacities)
    status = flow.solve(source, sink)
    if status != flow.OPTIMAL:
        raise FlowError(f"max flow ended with status {status}")
    return int(flow.optimal_flow())
