"""Transfer chains: lower the largest load of a large component level by level, each level one
min-cost flow per family load.

For a target level every staff member has a cap (`solver.levels.level_caps`); those above it
must give families away, those below it have room. Families of one load are interchangeable for
the loads: a chain "staff a gives family f to b, b gives family f' of the same load to c, ... z
takes the last one within its room" changes the load of a and z only. All such chains for one
load are the paths of one flow network (staff -> a family it carries -> a staff member eligible
for that family), and a min-cost maximum flow finds as many as exist with the least match given
up, in well under a second on a 10,000-family component. Every staff member above the target is
in the network at once (a hundred staff tied at the largest load are lowered together), and the
count caps, exception places, pins and (under fewest moves) each family's moves never get worse.

The descent tries levels below the current one, twice as far after each success and back to the
next level after a failure; a level is kept only when every staff member reaches it within the
match floor, so the plan stays valid throughout.
"""

from __future__ import annotations

import logging
import time

import numpy as np
from ortools.graph.python import min_cost_flow

from famassign.solver.arrays import IntArray, ProblemArrays
from famassign.solver.components import Component, load_per_fte
from famassign.solver.incumbent import note_largest_load
from famassign.solver.levels import candidate_levels, fte_units, level_caps, plan_level
from famassign.solver.neighbourhoods import (
    NEIGHBOURHOOD_SECONDS,
    NEIGHBOURHOOD_STAFF,
    Neighbourhoods,
)
from famassign.solver.settings import SolverSettings

log = logging.getLogger(__name__)

MAX_STRAGGLERS = 40
"""Staff members still above a target after the flows that are re-planned one by one with
their colleagues (CP-SAT neighbourhoods: a family of one load for one of another, which no
single-load chain can do); with more, the target is given up."""
FEW_STRAGGLERS = 3
"""Staff members above a target after the flows that are always re-planned one by one (more are
re-planned, all together first, only for the next level down)."""
GROUP_SECONDS = 2.0
"""Time for the one CP-SAT solve that re-plans every staff member still above a target with
their colleagues together."""


class TransferChains:
    """The flow networks of one component under a plan (changed in place by :meth:`reach`)."""

    def __init__(
        self,
        arrays: ProblemArrays,
        comp: Component,
        plan: IntArray,
        match_floor: int,
        minimize_moves: bool,
        settings: SolverSettings,
    ) -> None:
        a = arrays
        self.arrays, self.comp, self.plan = arrays, comp, plan
        self.match_floor, self.minimize_moves, self.settings = match_floor, minimize_moves, settings
        self.hood = Neighbourhoods(arrays, comp, settings.seed)
        self.units = fte_units(a)[comp.staff]
        self.gcd = int(np.gcd.reduce(a.family_load[comp.families])) or 1
        self.pair_family = a.pair_family[comp.pairs]
        self.pair_local_staff = np.searchsorted(comp.staff, a.pair_staff[comp.pairs])
        self.pair_match = a.pair_match[comp.pairs]
        self.pair_move = a.pair_move[comp.pairs] if minimize_moves else None
        self.local_of = np.full(a.n_staff, -1, dtype=np.int64)
        self.local_of[comp.staff] = np.arange(len(comp.staff))
        self.limit = np.minimum(a.staff_cap, a.staff_limit)[comp.staff]
        self.loads = np.unique(a.family_load[comp.families])[::-1]

    def level(self) -> int:
        """The plan's level on this component (`solver.levels.plan_level`)."""
        return plan_level(self.arrays, self.comp.families, self.comp.staff, self.plan)

    def _staff_load(self) -> np.ndarray:
        current = self.plan[self.comp.families]
        placed = current >= 0
        return np.bincount(
            self.local_of[current[placed]],
            weights=self.arrays.family_load[self.comp.families[placed]],
            minlength=len(self.comp.staff),
        )

    def _current_pair(self) -> tuple[np.ndarray, np.ndarray]:
        """Per pair: the local staff member now carrying its family (-1 none), and whether the
        pair is the family's present choice."""
        carrier = self.plan[self.pair_family]
        local = np.where(carrier >= 0, self.local_of[np.maximum(carrier, 0)], -1)
        return local, local == self.pair_local_staff

    def match(self) -> int:
        """The plan's match on the component."""
        _, chosen = self._current_pair()
        return int(self.pair_match[chosen].sum())

    def reach(self, level: int, deadline: float, repair: bool = True) -> bool:
        """Move families so that every load is within the caps of `level`, giving up at most
        the match above the floor: chains of one load each, then one flow over every load with
        exchanges, then the staff members still above it re-planned with their colleagues
        (with `repair`, or when only a few are left). True (plan changed) or False (plan
        unchanged)."""
        comp = self.comp
        saved = self.plan[comp.families].copy()
        caps = level_caps(level, self.units, self.gcd)
        budget = self.match() - self.match_floor
        for load in self.loads.tolist():
            staff_load = self._staff_load()
            excess = staff_load - caps
            if (excess <= 1e-9).all():
                break
            spent = self._transfer(int(load), excess, caps, staff_load)
            if spent is None or spent > budget:
                break
            budget -= spent
        if budget >= 0 and (self._staff_load() > caps + 1e-9).any():
            budget -= self._exchange(caps, budget)
        above = int((self._staff_load() > caps + 1e-9).sum())
        log.debug("level %d: %d above after chains, match budget %d", level, above, budget)
        if budget >= 0 and (repair or above <= FEW_STRAGGLERS):
            self._stragglers(level, caps, deadline)
        done = bool((self._staff_load() <= caps + 1e-9).all()) and self.match() >= self.match_floor
        if not done:
            self.plan[comp.families] = saved
        return done

    def _stragglers(self, level: int, caps: np.ndarray, deadline: float) -> None:
        """Re-plan the staff members still above `caps` with colleagues (CP-SAT): all of them
        together first, then one by one."""
        above = np.flatnonzero(self._staff_load() > caps + 1e-9)
        if len(above) == 0 or len(above) > MAX_STRAGGLERS:
            return
        per_fte = load_per_fte(self.arrays, self.plan)
        together = np.unique(
            np.concatenate(
                [
                    self.hood.around(int(s), per_fte, NEIGHBOURHOOD_STAFF, self.plan)
                    for s in self.comp.staff[above].tolist()
                ]
            )
        )
        if len(above) > FEW_STRAGGLERS:
            self._replan(together, level, caps, min(GROUP_SECONDS, deadline - time.monotonic()))
        for local in np.flatnonzero(self._staff_load() > caps + 1e-9).tolist():
            seconds = min(NEIGHBOURHOOD_SECONDS, deadline - time.monotonic())
            if seconds <= 0 or self.settings.stopped:
                return
            per_fte = load_per_fte(self.arrays, self.plan)
            members = self.hood.around(
                int(self.comp.staff[local]), per_fte, NEIGHBOURHOOD_STAFF, self.plan
            )
            if not self._replan(members, level, caps, seconds):
                return

    def _replan(self, members: IntArray, level: int, caps: np.ndarray, seconds: float) -> bool:
        """Re-plan what `members` carry (CP-SAT); kept only when each of them is then within
        `caps`. True when kept."""
        if seconds <= 0 or self.settings.stopped:
            return False
        replanned = self.hood.replan(
            self.plan,
            members,
            self.match_floor,
            self.minimize_moves,
            level,
            self.settings,
            seconds,
        )
        if replanned is None:
            return False
        families, new = replanned
        before = self.plan[families].copy()
        self.plan[families] = new
        local = self.local_of[members]
        if (self._staff_load()[local] > caps[local] + 1e-9).any():
            self.plan[families] = before
            return False
        return True

    def _exchange(self, caps: np.ndarray, budget: int) -> int:
        """One min-cost maximum flow over every load at once, where a staff member with room
        may take a heavier family and pass on a lighter one (an exchange arc from the heavier
        load's layer to the lighter one's). Rooms are shared by the arcs of one staff member,
        which the flow cannot see: kept only when fewer staff members are then above `caps`
        and the match given up is within `budget`. Returns the match given up."""
        a = self.arrays
        ns, loads = len(self.comp.staff), self.loads
        nk = len(loads)
        staff_load = self._staff_load()
        excess = staff_load - caps
        over = excess > 1e-9
        carrier, chosen = self._current_pair()
        fam_class = np.searchsorted(-loads, -a.family_load[self.pair_family])
        movable = (carrier >= 0) & ~a.family_pinned[self.pair_family]
        own = movable & chosen
        families = self.pair_family[own]
        nf = len(families)
        family_node = np.full(a.n_families, -1, dtype=np.int64)
        family_node[families] = ns * nk + np.arange(nf)
        match_now = np.zeros(a.n_families, dtype=np.int64)
        match_now[families] = self.pair_match[own]
        arcs = movable & ~chosen
        if self.pair_move is not None:
            move_now = np.zeros(a.n_families, dtype=np.int64)
            move_now[families] = self.pair_move[own]
            arcs &= self.pair_move <= move_now[self.pair_family]
        counts = np.bincount(carrier[chosen], minlength=ns)
        room = np.where(over, 0.0, caps - staff_load)
        count_room = np.where(over, 0, np.maximum(self.limit - counts, 0))
        source, sink = ns * nk + nf, ns * nk + nf + 1
        starts: list[np.ndarray] = []
        ends: list[np.ndarray] = []
        capacity: list[np.ndarray] = []
        cost: list[np.ndarray] = []

        def add(s: np.ndarray, e: np.ndarray, c: np.ndarray, w: np.ndarray | int) -> None:
            keep = c > 0
            starts.append(s[keep])
            ends.append(e[keep])
            capacity.append(c[keep].astype(np.int64))
            cost.append(np.broadcast_to(np.asarray(w, dtype=np.int64), c.shape)[keep])

        givers = np.flatnonzero(over)
        for k, load in enumerate(loads.tolist()):
            need = np.ceil(excess[givers] / load)
            add(np.full(len(givers), source), givers * nk + k, need, 0)
            sinks = np.arange(ns)
            add(sinks * nk + k, np.full(ns, sink), np.minimum(room // load, count_room), 0)
            # a staff member above the caps may take a lighter family for a heavier one
            lighter = np.where(loads[:k].max(initial=0) > load, np.ceil(excess[givers] / load), 0)
            add(givers * nk + k, np.full(len(givers), sink), lighter, 1)
            for k2 in range(k + 1, nk):  # take load k, pass on the lighter load k2
                add(sinks * nk + k, sinks * nk + k2, room // (load - loads[k2]), 0)
        own_class = fam_class[own]
        add(carrier[own] * nk + own_class, family_node[families], np.ones(nf), 0)
        move_class = fam_class[arcs]
        add(
            family_node[self.pair_family[arcs]],
            self.pair_local_staff[arcs] * nk + move_class,
            np.ones(int(arcs.sum())),
            match_now[self.pair_family[arcs]] - self.pair_match[arcs],
        )
        all_starts, all_ends = np.concatenate(starts), np.concatenate(ends)
        all_capacity = np.concatenate(capacity)
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(
            all_starts.astype(np.int32),
            all_ends.astype(np.int32),
            all_capacity,
            np.concatenate(cost),
        )
        # the source offers what the givers must shed, the sink takes what the rooms allow
        flow.set_node_supply(source, int(all_capacity[all_starts == source].sum()))
        flow.set_node_supply(sink, -int(all_capacity[all_ends == sink].sum()))
        if flow.solve_max_flow_with_min_cost() != flow.OPTIMAL:
            return 0
        first = sum(len(x) for x in starts[:-1])
        n_moves = len(starts[-1])
        used = flow.flows(np.arange(first, first + n_moves, dtype=np.int32)) > 0
        spent = int(flow.optimal_cost())
        chosen_moves = np.flatnonzero(arcs)[used]
        saved = self.plan[self.comp.families].copy()
        above_before = int(over.sum())
        self.plan[self.pair_family[chosen_moves]] = self.comp.staff[
            self.pair_local_staff[chosen_moves]
        ]
        above_after = int((self._staff_load() > caps + 1e-9).sum())
        if above_after >= above_before or spent > budget:
            self.plan[self.comp.families] = saved
            return 0
        return spent

    def _transfer(
        self, load: int, excess: np.ndarray, caps: np.ndarray, staff_load: np.ndarray
    ) -> int | None:
        """One min-cost maximum flow for the families of one `load`. Returns the match given up
        (None when the flow could not be solved)."""
        a = self.arrays
        ns = len(self.comp.staff)
        carrier, chosen = self._current_pair()
        fam_load = a.family_load[self.pair_family]
        movable = (fam_load == load) & (carrier >= 0) & ~a.family_pinned[self.pair_family]
        # the families of this load and what they score now
        own = movable & chosen
        families = self.pair_family[own]
        family_node = np.full(a.n_families, -1, dtype=np.int64)
        family_node[families] = ns + np.arange(len(families))
        match_now = np.zeros(a.n_families, dtype=np.int64)
        match_now[families] = self.pair_match[own]
        arcs = movable & ~chosen
        if self.pair_move is not None:  # no family moves more than it does now
            move_now = np.zeros(a.n_families, dtype=np.int64)
            move_now[families] = self.pair_move[own]
            arcs &= self.pair_move <= move_now[self.pair_family]
        over = excess > 1e-9
        counts = np.bincount(carrier[chosen], minlength=ns)
        room = np.where(
            over, 0, np.minimum((caps - staff_load) // load, np.maximum(self.limit - counts, 0))
        ).astype(np.int64)
        need = np.where(over, np.ceil(excess / load), 0).astype(np.int64)
        if not (need > 0).any() or not (room > 0).any() or not arcs.any():
            return 0
        source, sink = ns + len(families), ns + len(families) + 1
        givers, takers = np.flatnonzero(need > 0), np.flatnonzero(room > 0)
        starts = np.concatenate(
            [
                np.full(len(givers), source),
                carrier[own],
                family_node[self.pair_family[arcs]],
                takers,
            ]
        )
        ends = np.concatenate(
            [givers, family_node[families], self.pair_local_staff[arcs], np.full(len(takers), sink)]
        )
        n_moves = int(arcs.sum())
        capacity = np.concatenate(
            [need[givers], np.ones(len(families) + n_moves, np.int64), room[takers]]
        )
        cost = np.concatenate(
            [
                np.zeros(len(givers) + len(families), np.int64),
                match_now[self.pair_family[arcs]] - self.pair_match[arcs],
                np.zeros(len(takers), np.int64),
            ]
        )
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(
            starts.astype(np.int32), ends.astype(np.int32), capacity, cost
        )
        flow.set_node_supply(source, int(need.sum()))
        flow.set_node_supply(sink, -int(room[takers].sum()))
        if flow.solve_max_flow_with_min_cost() != flow.OPTIMAL:
            return None
        first = len(givers) + len(families)
        used = flow.flows(np.arange(first, first + n_moves, dtype=np.int32)) > 0
        moved = self.pair_family[arcs][used]
        self.plan[moved] = self.comp.staff[self.pair_local_staff[arcs][used]]
        return int(flow.optimal_cost())


def descend(
    arrays: ProblemArrays,
    comp: Component,
    plan: IntArray,
    match_floor: int,
    minimize_moves: bool,
    bound_level: int,
    settings: SolverSettings,
    seconds: float,
) -> int:
    """Lower the component's largest load (in place) towards `bound_level` by transfer
    chains, within `seconds`. Returns the level reached."""
    start = time.monotonic()
    deadline = start + seconds
    chains = TransferChains(arrays, comp, plan, match_floor, minimize_moves, settings)
    level = chains.level()
    step, tries = 1, 0
    while level > bound_level and time.monotonic() < deadline and not settings.stopped:
        below = candidate_levels(chains.units, chains.gcd, bound_level, level)
        below = below[below < level]
        if len(below) == 0:
            break
        step = min(step, len(below))  # never the same target twice
        target = int(below[max(len(below) - step, 0)])
        tries += 1
        # Far targets by chains alone (fast); the next level also with CP-SAT repairs.
        if chains.reach(target, deadline, repair=step == 1):
            level = chains.level()
            note_largest_load(arrays, plan)
            step *= 2
        elif step > 1:
            step //= 2
        else:
            break
    log.debug(
        "transfer chains: level %d (bound %d) after %d tries in %.1fs",
        level,
        bound_level,
        tries,
        time.monotonic() - start,
    )
    return level
