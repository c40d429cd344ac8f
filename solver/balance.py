"""Workload balance on CP-SAT: minimise the most loaded staff member (weighted load per FTE).

The flow plan is optimal for placement, exception places, moves and match; balance may change it
only while those stay optimal and the match gives up at most `balance_match_tolerance` of its
optimum. The families and staff split into independent components (no eligible pair crosses
them), so each component is its own CP-SAT model, hinted with the flow plan: phase 1 minimises the
component's largest load per FTE, phase 2 restores the best match at that load. The program's
largest load is the largest over components, so components are solved most loaded first and the
time left is shared by size.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from solver.arrays import LOAD_SCALE, IntArray, ProblemArrays
from solver.flow import FlowPlan

log = logging.getLogger(__name__)

FTE_SCALE = 100
MAX_EXACT_PAIRS = 60_000
"""Components with more eligible pairs than this are balanced by neighbourhood search."""


@dataclass(frozen=True)
class SolverSettings:
    """CP-SAT settings shared by every model: time, seed, workers, determinism."""

    time_limit: float
    seed: int = 0
    workers: int = 2
    deterministic: bool = False
    relative_gap: float = 0.0

    def parameters(self, solver: cp_model.CpSolver, seconds: float) -> None:
        """Apply these settings, with `seconds` for this one solve, to `solver`."""
        p = solver.parameters
        p.random_seed = self.seed
        p.relative_gap_limit = self.relative_gap
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
    families: IntArray
    staff: IntArray
    pairs: IntArray


def _fte_units(arrays: ProblemArrays) -> IntArray:
    return np.maximum(np.round(arrays.staff_fte * FTE_SCALE), 1).astype(np.int64)


def _lower_bound(arrays: ProblemArrays, comp: _Component, n_placed: int) -> float:
    """A cheap valid bound: the lightest placeable load spread over the component's FTE."""
    loads = np.sort(arrays.family_load[comp.families])[:n_placed]
    fte = arrays.staff_fte[comp.staff][arrays.staff_active[comp.staff]].sum()
    return float(loads.sum() / LOAD_SCALE / fte) if fte > 0 else 0.0


class _ComponentModel:
    """The CP-SAT model of one component (or of a neighbourhood within one)."""

    def __init__(
        self,
        arrays: ProblemArrays,
        comp: _Component,
        plan: IntArray,
        tolerance: float,
        minimize_moves: bool,
    ) -> None:
        self.arrays, self.comp = arrays, comp
        a = arrays
        pf, ps = a.pair_family[comp.pairs], a.pair_staff[comp.pairs]
        self.model = model = cp_model.CpModel()
        self.x = [model.new_bool_var(f"x{p}") for p in comp.pairs]
        local_f = {int(f): i for i, f in enumerate(comp.families)}
        local_s = {int(s): i for i, s in enumerate(comp.staff)}
        by_family: list[list[int]] = [[] for _ in comp.families]
        by_staff: list[list[int]] = [[] for _ in comp.staff]
        for k, (f, s) in enumerate(zip(pf.tolist(), ps.tolist(), strict=True)):
            by_family[local_f[f]].append(k)
            by_staff[local_s[s]].append(k)
        current = plan[comp.families]
        unplaced_now = current < 0
        urgency = a.family_urgency[comp.families]
        self.unplaced = [model.new_bool_var(f"u{f}") for f in comp.families]
        for i, ks in enumerate(by_family):
            model.add_exactly_one([self.x[k] for k in ks] + [self.unplaced[i]])
        # Placement and its urgency stay optimal.
        model.add(sum(self.unplaced) == int(unplaced_now.sum()))
        model.add(
            cp_model.LinearExpr.weighted_sum(self.unplaced, urgency.tolist())
            <= int(urgency[unplaced_now].sum())
        )
        # Caps, exception places.
        counts_now = np.bincount(
            np.searchsorted(comp.staff, current[~unplaced_now]), minlength=len(comp.staff)
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
        model.add(sum(over_terms) <= int(np.maximum(counts_now - a.staff_cap[comp.staff], 0).sum()))
        chosen = current[[local_f[f] for f in pf.tolist()]] == ps
        if minimize_moves:
            move = a.pair_move[comp.pairs]
            model.add(
                cp_model.LinearExpr.weighted_sum(self.x, move.tolist()) <= int(move[chosen].sum())
            )
        match = a.pair_match[comp.pairs]
        self.match_expr = cp_model.LinearExpr.weighted_sum(self.x, match.tolist())
        self.match_now = int(match[chosen].sum())
        model.add(self.match_expr >= math.ceil(self.match_now * (1 - tolerance)))
        # Load per FTE, in LOAD_SCALE per FTE_SCALE units.
        fte = _fte_units(a)[comp.staff]
        load = a.family_load[pf]
        current_load = np.bincount(
            np.searchsorted(comp.staff, ps[chosen]), weights=load[chosen], minlength=len(comp.staff)
        )
        t_now = int(np.ceil((current_load * FTE_SCALE / fte).max(initial=0)))
        self.t = model.new_int_var(0, max(t_now, 0), "max_load")
        for j, ks in enumerate(by_staff):
            if ks:
                model.add(
                    cp_model.LinearExpr.weighted_sum(
                        [self.x[k] for k in ks], (load[ks] * FTE_SCALE).tolist()
                    )
                    <= self.t * int(fte[j])
                )
        for k, var in enumerate(self.x):
            model.add_hint(var, bool(chosen[k]))
        for i, var in enumerate(self.unplaced):
            model.add_hint(var, bool(unplaced_now[i]))
        model.add_hint(self.t, t_now)
        self.t_now = t_now

    def staff_of(self, solver: cp_model.CpSolver) -> IntArray:
        """The plan of this component from a solved model."""
        out = np.full(len(self.comp.families), -1, dtype=np.int64)
        pf = self.arrays.pair_family[self.comp.pairs]
        ps = self.arrays.pair_staff[self.comp.pairs]
        pos = {int(f): i for i, f in enumerate(self.comp.families)}
        for k, var in enumerate(self.x):
            if solver.boolean_value(var):
                out[pos[int(pf[k])]] = ps[k]
        return out


def _solve_component(
    model: _ComponentModel, settings: SolverSettings, seconds: float
) -> tuple[IntArray | None, float, bool]:
    """Phase 1 (min max load) then phase 2 (best match at that load) on one component.

    Returns the plan (None when no better one was found), the proven bound on the max load per
    FTE (scaled units), and whether phase 1 was proven optimal.
    """
    solver = cp_model.CpSolver()
    model.model.minimize(model.t)
    settings.parameters(solver, seconds * 0.7)
    status = solver.solve(model.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, 0.0, False
    best_t = int(solver.value(model.t))
    bound = float(solver.best_objective_bound)
    proven = status == cp_model.OPTIMAL
    phase1 = model.staff_of(solver)
    # Phase 2: keep that load, recover match.
    model.model.clear_hints()  # type: ignore[no-untyped-call]
    for var, value in zip(model.x, [solver.boolean_value(v) for v in model.x], strict=True):
        model.model.add_hint(var, value)
    for var in model.unplaced:
        model.model.add_hint(var, solver.boolean_value(var))
    model.model.add_hint(model.t, best_t)
    model.model.add(model.t <= best_t)
    model.model.maximize(model.match_expr)
    solver2 = cp_model.CpSolver()
    settings.parameters(solver2, seconds * 0.3)
    status2 = solver2.solve(model.model)
    if status2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return model.staff_of(solver2), bound, proven
    return phase1, bound, proven


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
    pair_label = fam_label[arrays.pair_family]
    order = np.argsort(pair_label, kind="stable")
    bounds_at = np.searchsorted(pair_label[order], np.arange(fam_label.max(initial=-1) + 2))
    per_fte = load_per_fte(arrays, plan)
    labels = np.unique(staff_label[arrays.staff_active])
    comps: list[_Component] = []
    for c in labels.tolist():
        staff = np.flatnonzero(staff_label == c)
        pairs = order[bounds_at[c] : bounds_at[c + 1]] if c + 1 < len(bounds_at) else order[:0]
        if len(staff) < 2 or len(pairs) == 0:
            continue
        comps.append(_Component(np.flatnonzero(fam_label == c), staff, np.sort(pairs)))
    comps.sort(key=lambda comp: -per_fte[comp.staff].max())
    lower = 0.0
    proven_all = True
    for done, comp in enumerate(comps):
        elapsed = time.monotonic() - start
        remaining = settings.time_limit - elapsed
        pairs_left = sum(len(c.pairs) for c in comps[done:])
        seconds = remaining * len(comp.pairs) / max(pairs_left, 1)
        n_placed = int((plan[comp.families] >= 0).sum())
        comp_bound = _lower_bound(arrays, comp, n_placed)
        if remaining <= 0.05 or len(comp.pairs) > MAX_EXACT_PAIRS:
            proven_all = False
            lower = max(lower, comp_bound)
            continue
        model = _ComponentModel(arrays, comp, plan, tolerance, minimize_moves)
        new_plan, bound, proven = _solve_component(model, settings, seconds)
        if new_plan is not None:
            plan[comp.families] = new_plan
        proven_all &= proven
        lower = max(lower, bound / LOAD_SCALE, comp_bound)
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
