"""The CP-SAT balance model of a component or a neighbourhood: minimise the largest weighted load
per FTE while placement, exception places and moves stay as good as in a reference plan and the
match stays above a floor. One concept; the file is long because the model has a rule per side
constraint and two ways to solve it (in order, or one weighted objective)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from famassign.solver.arrays import LOAD_SCALE, IntArray, ProblemArrays
from famassign.solver.components import Component
from famassign.solver.levels import FTE_SCALE, fte_units, level_of
from famassign.solver.settings import SolverSettings


class ComponentModel:
    """CP-SAT model of a component or neighbourhood: everything but balance stays as good as in
    `plan` and the match stays at least `match_floor`, hinted with `plan`. The largest load is
    not pushed below `load_floor` (LOAD_SCALE units per FTE)."""

    def __init__(
        self,
        arrays: ProblemArrays,
        comp: Component,
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
            stay = a.pair_stay[comp.pairs]  # no more moves: no fewer stays (unplaced count)
            model.add(
                cp_model.LinearExpr.weighted_sum(self.x, stay.tolist()) >= int(stay[chosen].sum())
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
