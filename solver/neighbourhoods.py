"""Large-neighbourhood search over one large component: a few staff members around the most
loaded one are re-planned together as a small CP-SAT model (`solver.component_model`), again and
again, until the largest load reaches a target or the time runs out. The same neighbourhoods
repair what transfer chains leave (`solver.transfers`)."""

from __future__ import annotations

import logging
import time

import numpy as np
from scipy.sparse import csr_matrix

from famassign.solver.arrays import LOAD_SCALE, IntArray, ProblemArrays
from famassign.solver.component_model import ComponentModel
from famassign.solver.components import Component, component_match, load_per_fte
from famassign.solver.incumbent import note_largest_load
from famassign.solver.settings import SolverSettings

log = logging.getLogger(__name__)

NEIGHBOURHOOD_STAFF = 8
"""Staff members re-planned together in one neighbourhood of the search."""
MAX_FAILED_ROUNDS = 12
"""After this many neighbourhoods in a row bring no improvement, the search starts afresh."""
MAX_RESTARTS = 20
"""The search ends after this many fresh starts in a row that bring no improvement."""
NEIGHBOURHOOD_SECONDS = 0.5
"""Time for one neighbourhood's CP-SAT solve."""


class Neighbourhoods:
    """Large-neighbourhood search over one large component."""

    def __init__(self, arrays: ProblemArrays, comp: Component, seed: int) -> None:
        self.arrays, self.comp = arrays, comp
        self.rng = np.random.default_rng(seed)
        self.pair_order = comp.pairs  # sorted by family, then staff
        self._incidence: tuple[csr_matrix, csr_matrix] | None = None

    def colleagues(self, staff: IntArray) -> IntArray:
        """Every staff member sharing an eligible family with one of `staff` (`staff`
        included), through the family x staff incidence, built on first use: a search whose
        neighbourhoods never need a second hop (every family eligible for many staff) never
        pays for it, and no staff x staff product is formed (quadratic in the staff per
        family: seconds on millions of pairs)."""
        if self._incidence is None:
            a = self.arrays
            pf, ps = a.pair_family[self.pair_order], a.pair_staff[self.pair_order]
            ones = np.ones(len(pf), dtype=np.int8)
            by_family = csr_matrix((ones, (pf, ps)), shape=(a.n_families, a.n_staff))
            by_staff = csr_matrix((ones, (ps, pf)), shape=(a.n_staff, a.n_families))
            self._incidence = by_family, by_staff
        by_family, by_staff = self._incidence
        families = np.unique(by_staff[staff].indices)
        return np.unique(by_family[families].indices).astype(np.int64)

    def pick(self, per_fte: np.ndarray, size: int, stuck: set[int], plan: IntArray) -> IntArray:
        """The most loaded staff member not known stuck, and up to `size - 1` colleagues (see
        :meth:`around`)."""
        staff = self.comp.staff
        order = staff[np.argsort(-per_fte[staff], kind="stable")]
        top = next((int(s) for s in order if int(s) not in stuck), int(order[0]))
        return self.around(top, per_fte, size, plan)

    def around(self, top: int, per_fte: np.ndarray, size: int, plan: IntArray) -> IntArray:
        """Staff member `top` and up to `size - 1` colleagues who could take one of its
        families now (then colleagues of those, who could make room), lightest first with some
        randomness."""
        pairs = self.pair_order
        own = np.isin(self.arrays.pair_family[pairs], np.flatnonzero(plan == top))
        direct = self._lightest(np.setdiff1d(self.arrays.pair_staff[pairs[own]], [top]), per_fte)
        chosen = direct[: size - 1]
        if len(chosen) < size - 1 and len(direct):  # then colleagues who can make room
            hop = np.setdiff1d(self.colleagues(direct), np.concatenate([[top], direct]))
            chosen = np.concatenate(
                [chosen, self._lightest(hop, per_fte)[: size - 1 - len(chosen)]]
            )
        return np.sort(np.concatenate([[top], chosen])).astype(np.int64)

    def _lightest(self, staff: IntArray, per_fte: np.ndarray) -> IntArray:
        """Active `staff`, lightest load first, with some randomness."""
        staff = staff[self.arrays.staff_active[staff]]
        if len(staff) == 0:
            return staff.astype(np.int64)
        spread = per_fte[staff].max() - per_fte[staff].min()
        noise = self.rng.random(len(staff)) * 0.25 * spread
        return staff[np.argsort(per_fte[staff] + noise, kind="stable")].astype(np.int64)

    def sub_problem(self, plan: IntArray, members: IntArray) -> Component:
        """The families these staff carry now, with their pairs to these staff only."""
        a = self.arrays
        families = np.flatnonzero(np.isin(plan, members))
        pairs = self.pair_order
        mask = np.isin(a.pair_family[pairs], families) & np.isin(a.pair_staff[pairs], members)
        return Component(families, members, pairs[mask])

    def replan(
        self,
        plan: IntArray,
        members: IntArray,
        match_floor: int,
        minimize_moves: bool,
        load_floor: int,
        settings: SolverSettings,
        seconds: float,
    ) -> tuple[IntArray, IntArray] | None:
        """Re-plan the families `members` carry among them (CP-SAT, one weighted solve, no
        lower than `load_floor`), keeping the component's match at least `match_floor`.
        Returns (families, their new staff) or None when no plan was found in time."""
        sub = self.sub_problem(plan, members)
        if len(sub.families) == 0:
            return None
        a = self.arrays
        chosen = plan[a.pair_family[sub.pairs]] == a.pair_staff[sub.pairs]
        sub_match = int(a.pair_match[sub.pairs][chosen].sum())
        floor = sub_match - (component_match(a, self.comp, plan) - match_floor)
        model = ComponentModel(a, sub, plan, floor, minimize_moves, load_floor)
        new = model.solve_weighted(_for_neighbourhood(settings), seconds)
        return None if new is None else (sub.families, new)


def search(
    arrays: ProblemArrays,
    comp: Component,
    plan: IntArray,
    settings: SolverSettings,
    seconds: float,
    match_floor: int,
    minimize_moves: bool,
    target: float,
) -> None:
    """Improve `plan` (in place) on a large component until `seconds` run out, the largest
    load reaches `target`, or no neighbourhood helps any more."""
    start = time.monotonic()
    hood = Neighbourhoods(arrays, comp, settings.seed)
    stuck: set[int] = set()
    size = NEIGHBOURHOOD_STAFF
    rounds = failures = restarts = 0
    load_floor = int(target * LOAD_SCALE)
    # Deterministic mode counts rounds instead of reading the clock.
    max_rounds = int(seconds * 4) + 1 if settings.deterministic else None

    def time_left() -> float:
        if max_rounds is not None:
            return (max_rounds - rounds) / 4
        return seconds - (time.monotonic() - start)

    while time_left() > 0 and not settings.stopped:
        per_fte = load_per_fte(arrays, plan)
        worst = float(per_fte[comp.staff].max(initial=0.0))
        if worst <= target or restarts > MAX_RESTARTS:
            break
        if len(stuck) >= len(comp.staff):
            stuck.clear()
        members = hood.pick(per_fte, size, stuck, plan)
        if len(members) < 2 or not np.isin(plan, members).any():
            stuck.add(int(members[np.argmax(per_fte[members])]))
            continue
        # No neighbourhood needs to go below the target: the match is worth more there.
        replanned = hood.replan(
            plan,
            members,
            match_floor,
            minimize_moves,
            load_floor,
            settings,
            min(NEIGHBOURHOOD_SECONDS, max(time_left(), 0.01)),
        )
        rounds += 1
        before = per_fte[members].max()
        if replanned is not None:
            families, new = replanned
            trial = plan.copy()
            trial[families] = new
            after = load_per_fte(arrays, trial)[members].max()
            if after < before - 1e-9:
                plan[families] = new
                note_largest_load(arrays, plan)
                stuck.clear()
                size = NEIGHBOURHOOD_STAFF
                failures = restarts = 0
                continue
        failures += 1
        if failures >= MAX_FAILED_ROUNDS:
            # Start afresh: every staff member may be tried again, with new random choices.
            stuck.clear()
            failures = 0
            restarts += 1
        top = int(members[np.argmax(per_fte[members])])
        if size < 3 * NEIGHBOURHOOD_STAFF:
            size += NEIGHBOURHOOD_STAFF // 2
        else:
            stuck.add(top)
            size = NEIGHBOURHOOD_STAFF
    log.debug("neighbourhood search: %d rounds in %.1fs", rounds, time.monotonic() - start)


def _for_neighbourhood(settings: SolverSettings) -> SolverSettings:
    """Neighbourhoods are small and many: no gap stop, so each keeps the best match it can."""
    return SolverSettings(
        time_limit=settings.time_limit,
        seed=settings.seed,
        workers=settings.workers,
        deterministic=settings.deterministic,
        stop=settings.stop,
    )
