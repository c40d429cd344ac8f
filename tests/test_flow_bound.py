"""The max-flow bound (`solver.load_bound.max_flow_bound`) is a valid lower bound at every
stage of its bisection, and the flow that proves it, rounded (`solver.flow_rounding`), is a plan
within every rule."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
from builders import fam, scenario, staff
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_levels import tiny_programs

from famassign.models import Scenario
from famassign.solver import evaluate
from famassign.solver.arrays import LOAD_SCALE, ProblemArrays, build_arrays
from famassign.solver.components import Component, component_match
from famassign.solver.flow import solve_flow
from famassign.solver.flow_rounding import rounded_flow_plan
from famassign.solver.levels import fte_units, level_of, plan_level
from famassign.solver.load_bound import max_flow_bound


def _everyone(arrays: ProblemArrays) -> Component:
    return Component(
        np.arange(arrays.n_families),
        np.flatnonzero(arrays.staff_active),
        np.arange(len(arrays.pair_family)),
    )


def _best_split_free(arrays: ProblemArrays) -> float:
    """The smallest largest load per FTE of any plan placing every family with an eligible
    staff member (no caps, no match): what the relaxation may never exceed."""
    options = [
        arrays.pair_staff[arrays.pair_family == f].tolist() for f in range(arrays.n_families)
    ]
    best = math.inf
    for plan in itertools.product(*options):
        loads = np.bincount(plan, weights=arrays.family_load, minlength=arrays.n_staff)
        best = min(best, float((loads / LOAD_SCALE / arrays.staff_fte).max()))
    return best


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=tiny_programs(), cut=st.sampled_from([None, 0, 1]))
def test_the_bound_never_exceeds_the_best_plan(program: Scenario, cut: int | None) -> None:
    arrays = build_arrays(program)
    plan = solve_flow(arrays).staff_of
    if (plan < 0).any():
        return
    comp = _everyone(arrays)
    # cut: stop before any flow (0), after the first (1), or never (None)
    calls = [0]

    def stopped() -> bool:
        calls[0] += 1
        return cut is not None and calls[0] > cut

    bound = max_flow_bound(arrays, comp, plan, stopped=stopped)
    best = _best_split_free(arrays)
    assert bound.value <= best + 1e-9
    mean = arrays.family_load.sum() / LOAD_SCALE / arrays.staff_fte[arrays.staff_active].sum()
    assert bound.value >= mean - 1e-9
    if bound.level is not None:  # the lowest feasible level: no plan lies below it
        assert bound.level <= level_of(
            np.bincount(plan, weights=arrays.family_load, minlength=arrays.n_staff),
            fte_units(arrays),
        )
        assert math.ceil(bound.value * LOAD_SCALE - 1e-6) <= bound.level


def test_the_rounded_flow_reaches_the_bound_within_every_rule() -> None:
    # 600 families of one load at two sites, 30 staff (a third half-time, a few at both
    # sites): the flow plan (most match) piles families on the staff members who match best.
    families = [
        fam(f"F{i:03d}", site=("North", "South")[i % 2], needs=("learners",) if i % 5 else ())
        for i in range(600)
    ]
    team = [
        staff(
            f"S{j:02d}",
            fte=0.5 if j % 3 == 0 else 1.0,
            sites=("North", "South") if j < 4 else (("North", "South")[j % 2],),
            strengths=("learners",) if j < 6 else (),
        )
        for j in range(30)
    ]
    sc = scenario(families, team)
    arrays = build_arrays(sc)
    plan = solve_flow(arrays).staff_of.copy()
    comp = _everyone(arrays)
    start = time.monotonic()
    bound = max_flow_bound(arrays, comp, plan)
    assert bound.level is not None
    rounded = rounded_flow_plan(arrays, comp, plan, bound, match_floor=0, minimize_moves=False)
    assert time.monotonic() - start < 5
    assert rounded is not None
    trial = plan.copy()
    trial[comp.families] = rounded
    # One family load: the flow is whole, so the rounded plan is at the bound's level.
    assert plan_level(arrays, comp.families, comp.staff, trial) == bound.level
    named = {arrays.family_ids[i]: arrays.staff_ids[s] for i, s in enumerate(trial.tolist())}
    assert evaluate(sc, named, {}).violations == []
    # A match floor it cannot keep: no plan.
    floor = component_match(arrays, comp, plan)
    assert component_match(arrays, comp, trial) < floor
    assert rounded_flow_plan(arrays, comp, plan, bound, floor, minimize_moves=False) is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=tiny_programs(), tolerance=st.sampled_from([0.0, 0.05, 1.0]))
def test_a_rounded_flow_plan_keeps_every_rule(program: Scenario, tolerance: float) -> None:
    arrays = build_arrays(program)
    plan = solve_flow(arrays).staff_of
    if (plan < 0).any():
        return
    comp = _everyone(arrays)
    floor = math.ceil(component_match(arrays, comp, plan) * (1 - tolerance))
    bound = max_flow_bound(arrays, comp, plan)
    rounded = rounded_flow_plan(arrays, comp, plan, bound, floor, minimize_moves=False)
    if rounded is None:
        return
    trial = plan.copy()
    trial[comp.families] = rounded
    assert component_match(arrays, comp, trial) >= floor
    assert plan_level(arrays, comp.families, comp.staff, trial) < plan_level(
        arrays, comp.families, comp.staff, plan
    )
    named = {arrays.family_ids[i]: arrays.staff_ids[s] for i, s in enumerate(trial.tolist())}
    assert evaluate(program, named, {}).violations == []
