"""The optimal face of the flow: every plan exactly as good as the flow plan on each level.

When balance may give up no match (``balance_match_tolerance = 0``, the default of reassign and
update), the plans it may choose are those that equal the flow plan on every level it ranks
(families placed, urgency of the unplaced, exception places, under fewest moves the moves, and
the match): the optimal solutions of the min-cost flow of `solver.flow`, whose one weighted cost
is that order. By complementary slackness, with node potentials that prove the flow plan
optimal (every arc left in its residual graph has a reduced cost of at least zero), a flow is
optimal exactly when it uses no arc of positive reduced cost and fills every arc of negative
reduced cost. So balance may use the pairs of negative reduced cost and those of reduced cost
zero whose family has no arc of negative reduced cost: the *face pairs*. On generated programs
they are a few percent of the eligible pairs in small components, so the load-level model
(`solver.levels`) on them is solved exactly where on every pair it is slow
(benchmarks/RESULTS.md, "Constants of the balance stage").

With some match to give up (a positive tolerance) under fewest moves, balance may choose the
plans as good as the flow plan down to the moves whose match stays within the tolerance: all of
them are optimal flows of the network without the match (``with_match=False``), so they too use
only that network's face pairs (the families of leaving staff keep every eligible pair; a family
with a staff member who stays keeps few besides its own). Its components are not split there:
the match given up is shared within each whole component.

The potentials are shortest distances in the residual graph of the flow plan (Bellman-Ford,
every arc relaxed at once with numpy). A plan
that is not an optimal flow has a negative cycle there and never settles: then there is no face.
"""

from __future__ import annotations

import logging

import numpy as np

from famassign.solver.arrays import BoolArray, IntArray, ProblemArrays
from famassign.solver.flow import FlowNetwork, flow_network

log = logging.getLogger(__name__)

MAX_PASSES = 500
"""Bellman-Ford passes before giving up (the face is then not used: balance works on every
pair, as without it). A count, not a clock, so deterministic runs stay deterministic."""


def flow_potentials(
    arrays: ProblemArrays, plan: IntArray, minimize_moves: bool, with_match: bool = True
) -> tuple[FlowNetwork, IntArray] | None:
    """The flow network (`solver.flow.flow_network`, with or without the match) and the
    reduced cost of each of its arcs under potentials that prove `plan` an optimal flow.

    Returns
    -------
    tuple of (network, reduced costs), or None
        None when `plan` is not an optimal flow of the network (or the shortest distances did
        not settle within MAX_PASSES).
    """
    net = flow_network(arrays, minimize_moves=minimize_moves, with_match=with_match)
    flows = net.arc_flows(arrays, plan)
    staff_arcs = len(arrays.pair_family) + arrays.n_families
    if (flows > net.capacities).any() or flows[staff_arcs:].sum() != (plan >= 0).sum():
        return None  # not a flow of this network (a caseload above its limit)
    forward = flows < net.capacities
    backward = flows > 0
    tail = np.concatenate([net.starts[forward], net.ends[backward]])
    head = np.concatenate([net.ends[forward], net.starts[backward]])
    cost = np.concatenate([net.costs[forward], -net.costs[backward]])
    order = np.argsort(head, kind="stable")
    tail, head, cost = tail[order], head[order], cost[order]
    heads, first = np.unique(head, return_index=True)
    # distances from a root joined to every node by an arc of cost 0
    distance = np.zeros(arrays.n_families + arrays.n_staff + 1, dtype=np.int64)
    if len(heads):
        for passes in range(1, MAX_PASSES + 1):
            best = np.minimum.reduceat(distance[tail] + cost, first)
            better = best < distance[heads]
            if not better.any():
                log.debug("flow potentials settled after %d passes", passes)
                break
            distance[heads[better]] = best[better]
        else:
            log.info("flow potentials did not settle in %d passes: no optimal face", MAX_PASSES)
            return None
    reduced = net.costs + distance[net.starts] - distance[net.ends]
    return net, reduced


def face_pairs(
    arrays: ProblemArrays, plan: IntArray, minimize_moves: bool, with_match: bool = True
) -> BoolArray | None:
    """The pairs some optimal flow may use: every plan equal to `plan` on each level of the
    flow's order (without `with_match`: on each level above the match) uses only these. Every
    pair `plan` uses is one.

    Returns
    -------
    numpy.ndarray of bool, or None
        One flag per pair; None when `plan` is not an optimal flow (see
        :func:`flow_potentials`).
    """
    found = flow_potentials(arrays, plan, minimize_moves, with_match)
    if found is None:
        return None
    net, reduced = found
    n_pairs = len(arrays.pair_family)
    unplaced = slice(n_pairs, n_pairs + arrays.n_families)
    pair_cost = reduced[:n_pairs]
    # An arc of negative reduced cost is full in every optimal flow: a family with such an arc
    # (to a staff member, or unplaced when it may be) uses no other.
    fixed = (reduced[unplaced] < 0) & (net.capacities[unplaced] > 0)
    fixed[arrays.pair_family[pair_cost < 0]] = True
    usable: BoolArray = (pair_cost < 0) | ((pair_cost == 0) & ~fixed[arrays.pair_family])
    log.debug("optimal face: %d of %d pairs", int(usable.sum()), len(usable))
    return usable


__all__ = ["MAX_PASSES", "face_pairs", "flow_potentials"]
