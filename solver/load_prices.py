"""Load prices: a balanced first plan for a large component from a few min-cost flows.

The balance model without its load caps is a transportation problem (families to staff, count
caps), solved exactly by a min-cost flow. The load caps of a target level enter as prices: each
staff member's weighted load costs `price` match points per unit, so a family moves off a staff
member whose price is high when the match it loses is less than the price of its load. Prices
rise where loads exceed the caps and fall where they are below (subgradient steps on the
Lagrangian dual). Each flow is an integral plan that keeps every count cap, pin and exception
place; heavy families go where load is free and light ones to staff with few places left, the
exchange that chains of one load (`solver.transfers`) cannot make. The plan of lowest level whose
match stays above the floor is kept.
"""

from __future__ import annotations

import logging
import time

import numpy as np
from ortools.graph.python import min_cost_flow

from famassign.solver.arrays import LOAD_SCALE, IntArray, ProblemArrays
from famassign.solver.components import Component
from famassign.solver.levels import fte_units, level_caps, level_of

log = logging.getLogger(__name__)

COST_SCALE = 100
"""Flow costs are integers: match points and priced loads in hundredths."""
MAX_ROUNDS = 40
"""Most price updates (each one min-cost flow)."""


def priced_plan(
    arrays: ProblemArrays,
    comp: Component,
    plan: IntArray,
    match_floor: int,
    target_level: int,
    seconds: float,
) -> bool:
    """Replace the component's part of `plan` (in place) with the best priced plan towards
    `target_level` found within `seconds`, when it has a lower level and keeps the match at
    least `match_floor`. Every family of the component must be placed in `plan` (else nothing
    changes). True when `plan` changed."""
    a = arrays
    fam, staff, pairs = comp.families, comp.staff, comp.pairs
    current = plan[fam]
    if (current < 0).any() or len(staff) < 2:
        return False
    start = time.monotonic()
    nf, ns = len(fam), len(staff)
    pf = np.searchsorted(fam, a.pair_family[pairs])
    ps = np.searchsorted(staff, a.pair_staff[pairs])
    match = a.pair_match[pairs]
    load = a.family_load[fam]
    units = fte_units(a)[staff]
    gcd = int(np.gcd.reduce(load)) or 1
    caps = level_caps(target_level, units, gcd)
    counts = np.bincount(np.searchsorted(staff, current), minlength=ns)
    # Count caps, and no staff member with more exception places than now.
    places = np.maximum(np.minimum(a.staff_cap, a.staff_limit)[staff], counts)
    places = np.minimum(places, np.maximum(a.staff_limit[staff], counts))
    sink = nf + ns
    starts = np.concatenate([pf, nf + np.arange(ns)]).astype(np.int32)
    ends = np.concatenate([nf + ps, np.full(ns, sink)]).astype(np.int32)
    capacity = np.concatenate([np.ones(len(pairs), np.int64), places.astype(np.int64)])
    supplies = np.concatenate([np.ones(nf, np.int64), np.zeros(ns, np.int64), [-nf]])
    pair_load = load[pf] / LOAD_SCALE

    def solve(price: np.ndarray) -> IntArray | None:
        cost = np.round(COST_SCALE * (price[ps] * pair_load - match)).astype(np.int64)
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(
            starts, ends, capacity, np.concatenate([cost, np.zeros(ns, np.int64)])
        )
        flow.set_nodes_supplies(np.arange(nf + ns + 1, dtype=np.int32), supplies)
        if flow.solve() != flow.OPTIMAL:
            return None
        used = flow.flows(np.arange(len(pairs), dtype=np.int32)) > 0
        out = np.full(nf, -1, dtype=np.int64)
        out[pf[used]] = ps[used]
        return out

    spread = float(np.percentile(match, 90) - np.percentile(match, 10)) if len(match) else 1.0
    step = max(spread, 1.0) / 2
    price = np.zeros(ns)
    best_level = level_of(np.bincount(np.searchsorted(staff, current), load, ns), units)
    best: IntArray | None = None
    rounds = 0
    for rounds in range(1, MAX_ROUNDS + 1):  # noqa: B007 - logged below
        if time.monotonic() - start > seconds:
            break
        local = solve(price)
        if local is None:
            break
        staff_load = np.bincount(local, load, ns)
        level = level_of(staff_load, units)
        kept = int(match[local[pf] == ps].sum())
        if level < best_level and kept >= match_floor:
            best_level, best = level, local
            if level <= target_level:
                break
        over = (staff_load - caps) / LOAD_SCALE
        if kept < match_floor:
            price *= 0.5  # too much match given up: prices too high everywhere
        price = np.maximum(price + step * over, 0.0)
        step *= 0.9
    log.debug(
        "load prices: level %d (target %d) after %d flows in %.1fs",
        best_level,
        target_level,
        rounds,
        time.monotonic() - start,
    )
    if best is None:
        return False
    plan[fam] = staff[best]
    return True
