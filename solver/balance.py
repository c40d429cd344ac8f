"""Workload balance: minimise the most loaded staff member (weighted load per FTE).

The flow plan is optimal for placement, exception places, moves and match; balance may change it
only while those stay optimal and the match gives up at most `balance_match_tolerance` of its
optimum. The families and staff split into independent components (no eligible pair crosses
them). A component of moderate size is solved exactly through load levels (`solver.levels`): an
LP bound over the levels a largest load can take, then a HiGHS MIP for the plan of most match at
the lowest level, one level up whenever a level is proven empty; CP-SAT (hinted with the flow
plan) takes over if HiGHS runs out of time. A large component is improved by
large-neighbourhood search: the most loaded staff member and a few colleagues who could take
some of its families are re-planned together as a small CP-SAT model, again and again. Its lower
bound comes from a relaxation solved by max-flow.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.graph.python import max_flow
from ortools.sat.python import cp_model
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from famassign.solver.arrays import LOAD_SCALE, IntArray, ProblemArrays
from famassign.solver.flow import FlowPlan
from famassign.solver.levels import (
    FTE_SCALE,
    NODES_PER_SECOND,
    Budget,
    LoadLevels,
    fte_units,
    level_of,
)
from famassign.solver.stop import StopSignal

log = logging.getLogger(__name__)

MAX_EXACT_PAIRS = 40_000
"""Components with more eligible pairs than this are balanced by neighbourhood search."""
NEIGHBOURHOOD_STAFF = 8
"""Staff members re-planned together in one neighbourhood of the search."""
MAX_FAILED_ROUNDS = 12
"""After this many neighbourhoods in a row bring no improvement, the search starts afresh."""
MAX_RESTARTS = 20
"""The search ends after this many fresh starts in a row that bring no improvement."""
MIP_SHARE = 0.6
"""Share of a component's time left that one level's MIP may use (CP-SAT keeps the rest)."""
NEIGHBOURHOOD_SECONDS = 0.5
"""Time for one neighbourhood's CP-SAT solve."""


@dataclass(frozen=True)
class SolverSettings:
    """CP-SAT settings shared by every model: time, seed, workers, determinism, gap."""

    time_limit: float
    seed: int = 0
    workers: int = 2
    deterministic: bool = False
    relative_gap: float = 0.0
    stop: StopSignal | None = None

    @property
    def stopped(self) -> bool:
        """True when the caller asked the solve to stop."""
        return self.stop is not None and self.stop.stopped

    def parameters(self, solver: cp_model.CpSolver, seconds: float) -> None:
        """Apply these settings, with `seconds` for this one solve, to `solver`."""
        p = solver.parameters
        p.random_seed = self.seed
        p.relative_gap_limit = self.relative_gap
        p.catch_sigint_signal = False  # Ctrl-C is ours: famassign stops the search itself
        if self.deterministic:
            p.num_workers = 1
            p.max_deterministic_time = max(seconds, 0.01)
        else:
            p.num_workers = self.workers
            p.max_time_in_seconds = max(seconds, 0.01)


@dataclass(frozen=True)
class BalancedPlan:
    """The balanced plan, its largest load per FTE, and a proven lower bound on it."""

    staff_of: IntArray
    max_load_per_fte: float
    max_load_bound: float
    proven: bool


def components(arrays: ProblemArrays) -> tuple[IntArray, IntArray]:
    """Component label per family and per staff member (independent sub-problems)."""
    n, m = arrays.n_families, arrays.n_staff
    graph = coo_matrix(
        (np.ones(len(arrays.pair_family)), (arrays.pair_family, n + arrays.pair_staff)),
        shape=(n + m, n + m),
    )
    _, labels = connected_components(graph, directed=False)
    return labels[:n].astype(np.int64), labels[n:].astype(np.int64)


def load_per_fte(arrays: ProblemArrays, staff_of: IntArray) -> np.ndarray:
    """Weighted load per FTE of every staff member under a plan (real units)."""
    placed = staff_of >= 0
    load = np.bincount(
        staff_of[placed], weights=arrays.family_load[placed], minlength=arrays.n_staff
    )
    return load / LOAD_SCALE / arrays.staff_fte


@dataclass
class _Component:
    """Families, staff and pair indexes (into the arrays' pairs) of one sub-problem."""

    families: IntArray
    staff: IntArray
    pairs: IntArray


class _ComponentModel:
    """CP-SAT model of a component or neighbourhood: everything but balance stays as good as in
    `plan` and the match stays at least `match_floor`, hinted with `plan`. The largest load is
    not pushed below `load_floor` (LOAD_SCALE units per FTE)."""

    def __init__(
        self,
        arrays: ProblemArrays,
        comp: _Component,
        plan: IntArray,
        match_floor: int,
        minimize_moves: bool,
        load_floor: int = 0,
    ) -> None:
        self.arrays, self.comp = arrays, comp
        a = arrays
        pf, ps = a.pair_family[comp.pairs], a.pair_staff[comp.pairs]
        self.model = model = cp_model.CpModel()
        self.x = [model.new_bool_var(f"x{p}") for p in comp.pairs]
        local_f = np.searchsorted(comp.families, pf)
        local_s = np.searchsorted(comp.staff, ps)
        by_family: list[list[int]] = [[] for _ in comp.families]
        by_staff: list[list[int]] = [[] for _ in comp.staff]
        for k, (f, s) in enumerate(zip(local_f.tolist(), local_s.tolist(), strict=True)):
            by_family[f].append(k)
            by_staff[s].append(k)
        current = plan[comp.families]
        unplaced_now = current < 0
        chosen = current[local_f] == ps
        self.unplaced: list[cp_model.IntVar] = []
        if unplaced_now.any():
            urgency = a.family_urgency[comp.families]
            self.unplaced = [model.new_bool_var(f"u{f}") for f in comp.families]
            for i, ks in enumerate(by_family):
                model.add_exactly_one([self.x[k] for k in ks] + [self.unplaced[i]])
                if a.family_pinned[comp.families[i]]:
                    model.add(self.unplaced[i] == 0)  # a pin is a hard rule
            # Placement and its urgency stay optimal.
            model.add(sum(self.unplaced) == int(unplaced_now.sum()))
            model.add(
                cp_model.LinearExpr.weighted_sum(self.unplaced, urgency.tolist())
                <= int(urgency[unplaced_now].sum())
            )
            for var, value in zip(self.unplaced, unplaced_now.tolist(), strict=True):
                model.add_hint(var, value)
        else:
            for ks in by_family:
                model.add_exactly_one([self.x[k] for k in ks])
        self._caps(by_staff, current)
        if minimize_moves:
            move = a.pair_move[comp.pairs]
            model.add(
                cp_model.LinearExpr.weighted_sum(self.x, move.tolist()) <= int(move[chosen].sum())
            )
        match = a.pair_match[comp.pairs]
        self.match_now = int(match[chosen].sum())
        match_expr = cp_model.LinearExpr.weighted_sum(self.x, match.tolist())
        model.add(match_expr >= match_floor)
        # Largest load per FTE, as a level t: load * FTE_SCALE <= t * fte units (solver.levels).
        fte = fte_units(a)[comp.staff]
        load = a.family_load[pf]
        staff_load = np.bincount(local_s[chosen], weights=load[chosen], minlength=len(comp.staff))
        self.t_now = level_of(staff_load, fte)
        load = load * FTE_SCALE
        # No value in going below `load_floor` (a load elsewhere): keep the match instead.
        self.t = model.new_int_var(min(load_floor, self.t_now), self.t_now, "max_load")
        for j, ks in enumerate(by_staff):
            if ks:
                terms = cp_model.LinearExpr.weighted_sum([self.x[k] for k in ks], load[ks].tolist())
                model.add(terms <= self.t * int(fte[j]))
        self.match_expr = match_expr
        self.weight = int(match.sum()) + 1
        for var, value in zip(self.x, chosen.tolist(), strict=True):
            model.add_hint(var, value)
        model.add_hint(self.t, self.t_now)

    def _caps(self, by_staff: list[list[int]], current: IntArray) -> None:
        """Count caps, and no more exception places than the plan uses now."""
        a, comp, model = self.arrays, self.comp, self.model
        placed = current >= 0
        counts_now = np.bincount(
            np.searchsorted(comp.staff, current[placed]), minlength=len(comp.staff)
        )
        over_terms = []
        for j, s in enumerate(comp.staff.tolist()):
            count = sum(self.x[k] for k in by_staff[j])
            model.add(count <= int(a.staff_limit[s]))
            room = int(a.staff_limit[s] - a.staff_cap[s])
            if room > 0:
                over = model.new_int_var(0, room, f"over{s}")
                model.add(over >= count - int(a.staff_cap[s]))
                over_terms.append(over)
        if over_terms:
            now = int(np.maximum(counts_now - a.staff_cap[comp.staff], 0).sum())
            model.add(sum(over_terms) <= now)

    def _run(
        self, settings: SolverSettings, seconds: float
    ) -> tuple[cp_model.CpSolver, Any] | None:
        solver = cp_model.CpSolver()
        settings.parameters(solver, seconds)
        solver.parameters.cp_model_presolve = False  # presolve costs more than it saves here
        if settings.stopped:
            return None
        if settings.stop is None:
            status = solver.solve(self.model)
        else:
            with settings.stop.watching(solver):
                status = solver.solve(self.model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        return solver, status

    def _plan(self, solver: cp_model.CpSolver) -> IntArray:
        out = np.full(len(self.comp.families), -1, dtype=np.int64)
        pf = self.arrays.pair_family[self.comp.pairs]
        ps = self.arrays.pair_staff[self.comp.pairs]
        picked = np.array([solver.boolean_value(v) for v in self.x], dtype=bool)
        out[np.searchsorted(self.comp.families, pf[picked])] = ps[picked]
        return out

    def solve_in_order(
        self, settings: SolverSettings, seconds: float
    ) -> tuple[IntArray | None, float, bool]:
        """Minimise the largest load, then maximise match at that load (two solves).

        Returns (plan of the component or None, lower bound on its max load per FTE, proven).
        """
        self.model.minimize(self.t)
        first = self._run(settings, seconds * 0.7)
        if first is None:
            return None, 0.0, False
        solver, status = first
        best_t = int(solver.value(self.t))
        bound = math.ceil(solver.best_objective_bound - 1e-9) / LOAD_SCALE
        plan = self._plan(solver)
        self.model.clear_hints()  # type: ignore[no-untyped-call]
        for var in [*self.x, *self.unplaced]:
            self.model.add_hint(var, solver.boolean_value(var))
        self.model.add_hint(self.t, best_t)
        self.model.add(self.t <= best_t)
        self.model.maximize(self.match_expr)
        second = self._run(settings, seconds * 0.3)
        if second is not None:
            plan = self._plan(second[0])
        return plan, bound, status == cp_model.OPTIMAL

    def solve_weighted(self, settings: SolverSettings, seconds: float) -> IntArray | None:
        """One solve of ``weight * max_load - match`` (small neighbourhoods)."""
        self.model.minimize(self.weight * self.t - self.match_expr)
        run = self._run(settings, seconds)
        return None if run is None else self._plan(run[0])


def relaxed_load_bound(arrays: ProblemArrays, comp: _Component, plan: IntArray) -> float:
    """A valid lower bound on the component's best largest load per FTE: the smallest T for
    which the loads of its families can be split fractionally among eligible staff with at most
    T x FTE each (caps and match dropped), found by bisection over max-flows. Families unplaced
    in `plan` are left out, which keeps the bound valid only when all are placed (else 0)."""
    a = arrays
    if (plan[comp.families] < 0).any():
        return 0.0
    nf, ns = len(comp.families), len(comp.staff)
    local_f = np.searchsorted(comp.families, a.pair_family[comp.pairs])
    local_s = np.searchsorted(comp.staff, a.pair_staff[comp.pairs])
    load = a.family_load[comp.families]
    total = int(load.sum())
    fte = a.staff_fte[comp.staff]
    source, sink = nf + ns, nf + ns + 1
    big = total + 1

    def feasible(t: float) -> bool:
        flow = max_flow.SimpleMaxFlow()
        caps = np.floor(t * fte * LOAD_SCALE + 1e-9).astype(np.int64)
        starts = np.concatenate([np.full(nf, source), local_f, nf + np.arange(ns)])
        ends = np.concatenate([np.arange(nf), nf + local_s, np.full(ns, sink)])
        capacity = np.concatenate([load, np.full(len(local_f), big), caps])
        flow.add_arcs_with_capacity(starts.astype(np.int32), ends.astype(np.int32), capacity)
        flow.solve(source, sink)
        return bool(flow.optimal_flow() >= total)

    lo = float(load.sum() / LOAD_SCALE / fte.sum()) if fte.sum() > 0 else 0.0
    hi = float(load_per_fte(a, plan)[comp.staff].max(initial=0.0))
    if lo >= hi or feasible(lo):
        return min(lo, hi)
    for _ in range(30):
        if hi - lo <= 1e-3:
            break
        mid = (lo + hi) / 2
        if feasible(mid):
            hi = mid
        else:
            lo = mid
    return lo


def _balance_exactly(
    arrays: ProblemArrays,
    comp: _Component,
    plan: IntArray,
    settings: SolverSettings,
    seconds: float,
    match_floor: int,
    minimize_moves: bool,
) -> tuple[IntArray | None, float, bool]:
    """Balance a component of moderate size: the load-level bound (LP), then the plan of most
    match at the lowest level (MIP), one level up whenever a level is proven empty. Should HiGHS
    run out of time first, CP-SAT continues from the proven bound.

    Returns (plan of the component or None, lower bound on its max load per FTE, proven)."""
    clock = _Clock(settings, seconds)
    levels = LoadLevels(
        arrays,
        comp.families,
        comp.staff,
        comp.pairs,
        plan,
        match_floor,
        minimize_moves,
        seed=settings.seed,
        stopped=lambda: settings.stopped,
    )
    low = math.floor(relaxed_load_bound(arrays, comp, plan) * LOAD_SCALE)
    bound = levels.bound(low, levels.level_now)
    candidates = levels.levels(bound, levels.level_now).tolist()
    for level, above in zip(candidates, [*candidates[1:], levels.level_now], strict=True):
        if clock.left() <= 0 or settings.stopped:
            break
        budget = Budget(clock.left() * MIP_SHARE, settings.deterministic)
        found, empty = levels.plan_at(level, budget)
        clock.spent(levels.nodes())
        if found is not None:
            log.debug("balanced at level %d, bound %d", level, bound)
            return found, bound / LOAD_SCALE, level - bound <= settings.relative_gap * level
        if not empty:
            break
        bound = above  # no plan at this level, so none below the next level either
    if clock.left() <= 0 or settings.stopped:
        return None, bound / LOAD_SCALE, False
    model = _ComponentModel(arrays, comp, plan, match_floor, minimize_moves, load_floor=bound)
    new_plan, cp_bound, proven = model.solve_in_order(settings, clock.left())
    return new_plan, max(cp_bound, bound / LOAD_SCALE), proven


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


class _Neighbourhoods:
    """Large-neighbourhood search over one large component."""

    def __init__(self, arrays: ProblemArrays, comp: _Component, seed: int) -> None:
        self.arrays, self.comp = arrays, comp
        a = arrays
        pf, ps = a.pair_family[comp.pairs], a.pair_staff[comp.pairs]
        incidence = csr_matrix(
            (np.ones(len(pf), dtype=np.int32), (pf, ps)), shape=(a.n_families, a.n_staff)
        )
        self.adjacent = (incidence.T @ incidence).tocsr()
        self.rng = np.random.default_rng(seed)
        self.pair_order = comp.pairs  # sorted by family, then staff

    def pick(self, per_fte: np.ndarray, size: int, stuck: set[int], plan: IntArray) -> IntArray:
        """The most loaded staff member not known stuck, and up to `size - 1` colleagues who
        could take one of its families now (then colleagues of those, who could make room),
        lightest first with some randomness."""
        staff = self.comp.staff
        order = staff[np.argsort(-per_fte[staff], kind="stable")]
        top = next((int(s) for s in order if int(s) not in stuck), int(order[0]))
        pairs = self.pair_order
        own = np.isin(self.arrays.pair_family[pairs], np.flatnonzero(plan == top))
        direct = self._lightest(np.setdiff1d(self.arrays.pair_staff[pairs[own]], [top]), per_fte)
        chosen = direct[: size - 1]
        if len(chosen) < size - 1 and len(direct):  # then colleagues who can make room
            hop = np.setdiff1d(self.adjacent[direct].indices, np.concatenate([[top], direct]))
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

    def sub_problem(self, plan: IntArray, members: IntArray) -> _Component:
        """The families these staff carry now, with their pairs to these staff only."""
        a = self.arrays
        families = np.flatnonzero(np.isin(plan, members))
        pairs = self.pair_order
        mask = np.isin(a.pair_family[pairs], families) & np.isin(a.pair_staff[pairs], members)
        return _Component(families, members, pairs[mask])


def _search(
    arrays: ProblemArrays,
    comp: _Component,
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
    search = _Neighbourhoods(arrays, comp, settings.seed)
    match = arrays.pair_match
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
        members = search.pick(per_fte, size, stuck, plan)
        sub = search.sub_problem(plan, members)
        if len(sub.families) == 0 or len(members) < 2:
            stuck.add(int(members[np.argmax(per_fte[members])]))
            continue
        chosen = plan[arrays.pair_family[sub.pairs]] == arrays.pair_staff[sub.pairs]
        sub_match = int(match[sub.pairs][chosen].sum())
        total_match = _component_match(arrays, comp, plan)
        floor = sub_match - (total_match - match_floor)
        # No neighbourhood needs to go below the target: the match is worth more there.
        model = _ComponentModel(arrays, sub, plan, floor, minimize_moves, load_floor)
        new = model.solve_weighted(
            _for_neighbourhood(settings), min(NEIGHBOURHOOD_SECONDS, max(time_left(), 0.01))
        )
        rounds += 1
        before = per_fte[members].max()
        if new is not None:
            trial = plan.copy()
            trial[sub.families] = new
            after = load_per_fte(arrays, trial)[members].max()
            if after < before - 1e-9:
                plan[sub.families] = new
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


def _component_match(arrays: ProblemArrays, comp: _Component, plan: IntArray) -> int:
    chosen = plan[arrays.pair_family[comp.pairs]] == arrays.pair_staff[comp.pairs]
    return int(arrays.pair_match[comp.pairs][chosen].sum())


def balance(
    arrays: ProblemArrays,
    flow: FlowPlan,
    settings: SolverSettings,
    *,
    tolerance: float,
    minimize_moves: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> BalancedPlan:
    """Balance the flow plan component by component within `settings.time_limit`."""
    start = time.monotonic()
    fam_label, staff_label = components(arrays)
    plan = flow.staff_of.copy()
    per_fte = load_per_fte(arrays, plan)
    pair_label = fam_label[arrays.pair_family]
    comps: list[_Component] = []
    for c in np.unique(staff_label[arrays.staff_active]).tolist():
        staff = np.flatnonzero((staff_label == c) & arrays.staff_active)
        pairs = np.flatnonzero(pair_label == c)
        families = np.flatnonzero(fam_label == c)
        # Alone, a staff member's load is forced, unless it can leave out other families.
        if len(pairs) and (len(staff) >= 2 or (plan[families] < 0).any()):
            comps.append(_Component(families, staff, pairs))
    comps.sort(key=lambda comp: -per_fte[comp.staff].max())
    lower = 0.0
    proven_all = True
    total_pairs = sum(len(c.pairs) for c in comps)
    for done, comp in enumerate(comps):
        if settings.deterministic:  # a budget that does not depend on the clock
            remaining = settings.time_limit * (
                1 - sum(len(c.pairs) for c in comps[:done]) / max(total_pairs, 1)
            )
        else:
            remaining = settings.time_limit - (time.monotonic() - start)
        pairs_left = sum(len(c.pairs) for c in comps[done:])
        seconds = remaining * len(comp.pairs) / max(pairs_left, 1)
        match_now = _component_match(arrays, comp, plan)
        floor = math.ceil(match_now * (1 - tolerance))
        worst = float(per_fte[comp.staff].max(initial=0.0))
        if worst <= lower or remaining <= 0.05 or settings.stopped:
            # Cannot raise the program's largest load nor lower it below what is proven.
            proven_all &= worst <= lower
            continue
        if len(comp.pairs) <= MAX_EXACT_PAIRS:
            new_plan, bound, proven = _balance_exactly(
                arrays, comp, plan, settings, seconds, floor, minimize_moves
            )
            if new_plan is not None:
                plan[comp.families] = new_plan
        else:
            bounding = time.monotonic()
            bound = relaxed_load_bound(arrays, comp, plan)
            if not settings.deterministic:
                seconds -= time.monotonic() - bounding
            target = bound * (1 + settings.relative_gap)
            _search(arrays, comp, plan, settings, seconds, floor, minimize_moves, target)
            proven = float(load_per_fte(arrays, plan)[comp.staff].max()) <= target
        lower = max(lower, bound)
        proven_all &= proven
        if progress is not None:
            progress(done + 1, len(comps))
        log.debug("component %d/%d balanced (%d pairs)", done + 1, len(comps), len(comp.pairs))
    final = load_per_fte(arrays, plan)
    max_load = float(final[arrays.staff_active].max(initial=0.0))
    lower = max(lower, _unbalanced_bound(arrays, plan, (fam_label, staff_label), comps, final))
    proven = proven_all or max_load <= lower + 1.0 / LOAD_SCALE
    return BalancedPlan(plan, max_load, min(lower, max_load), proven)


def _unbalanced_bound(
    arrays: ProblemArrays,
    plan: IntArray,
    labels: tuple[IntArray, IntArray],
    comps: list[_Component],
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
