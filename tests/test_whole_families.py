"""The whole-families bound (`solver.load_bound.whole_families_level`) and group repair
(`solver.group_repair`): where a few staff alone serve families of one heavy load, the max-flow
relaxation and the level LP split those families and their bound is too low; the whole-families
bound is exact there, and group repair re-plans the group together where transfer chains stall."""

from __future__ import annotations

import math

import numpy as np
from builders import fam, scenario, staff
from hypothesis import HealthCheck, given, settings
from test_fewest_moves_bounds import _ranked_plans
from test_levels import tiny_programs

from famassign.models import Scenario
from famassign.scenarios import generate, scaled
from famassign.solver import evaluate, solve
from famassign.solver.arrays import LOAD_SCALE, ProblemArrays, build_arrays
from famassign.solver.components import Component, component_match
from famassign.solver.flow import solve_flow
from famassign.solver.group_repair import repair_groups
from famassign.solver.levels import plan_level
from famassign.solver.load_bound import BoundKind, max_flow_bound, whole_families_level
from famassign.solver.options import PlanOptions
from famassign.solver.settings import SolverSettings


def _whole_component(arrays: ProblemArrays) -> Component:
    """Every family, active staff member and pair as one component."""
    return Component(
        np.arange(arrays.n_families),
        np.flatnonzero(arrays.staff_active),
        np.arange(len(arrays.pair_family)),
    )


def three_heavy_on_two() -> Scenario:
    # Three high-intensity (load 3) Arabic-speaking families only a1 and a2 may serve, and one
    # low-intensity (load 1) English family anyone may serve; three full-time staff. Split, the
    # Arabic load is 4.5 each and the English family goes to e1: the flow and the LP bound is 5
    # (loads are whole units). Whole, one of a1/a2 carries two Arabic families: the best largest
    # load is 6, and the whole-families bound says so.
    families = [fam(f"ar{i}", language="ar", intensity="high") for i in range(3)]
    families.append(fam("en0", intensity="low"))
    members = [staff("a1", languages=("ar", "en")), staff("a2", languages=("ar", "en"))]
    return scenario(families, [*members, staff("e1")])


def test_whole_families_bound_is_the_best_load_where_the_flow_splits_families() -> None:
    arrays = build_arrays(three_heavy_on_two())
    comp = _whole_component(arrays)
    plan = solve_flow(arrays).staff_of
    flow = max_flow_bound(arrays, comp, plan)
    assert flow.value < 6  # split families: 4.5 each, at most 5 as levels go
    top = plan_level(arrays, comp.families, comp.staff, plan)
    level = whole_families_level(arrays, comp, plan, 0, top)
    assert level == 6 * LOAD_SCALE
    result = solve(three_heavy_on_two(), PlanOptions(time_limit=10))
    assert result.terms.max_load_per_fte == 6.0
    assert result.status.value == "optimal"
    assert result.max_load_bound_kind == BoundKind.whole_families


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=tiny_programs())
def test_whole_families_bound_never_passes_a_plan_placing_everyone(program: Scenario) -> None:
    arrays = build_arrays(program)
    comp = _whole_component(arrays)
    plan = solve_flow(arrays).staff_of
    if (plan < 0).any():
        return  # the bound claims nothing when the flow leaves a family unplaced
    levels = [
        plan_level(arrays, comp.families, comp.staff, staff_of)
        for _, staff_of in _ranked_plans(arrays, minimize_moves=False)
        if (staff_of >= 0).all()
    ]
    top = plan_level(arrays, comp.families, comp.staff, plan)
    assert whole_families_level(arrays, comp, plan, 0, top) <= min(levels)


def test_group_repair_brings_a_newcomers_program_to_its_bound() -> None:
    # 3,000 families of the `newcomers` structure: specialists of the rarer languages carry
    # every high-intensity family of their language and some English-speaking families; the
    # flow plan (best match) is far above the bound. Group repair alone (no chains, no search)
    # reaches the whole-families bound, keeps the match floor and every rule.
    program = generate(scaled("newcomers", 3_000), 1)
    arrays = build_arrays(program)
    comp = _whole_component(arrays)
    flow = solve_flow(arrays)
    plan = flow.staff_of.copy()
    top = plan_level(arrays, comp.families, comp.staff, plan)
    bound = whole_families_level(arrays, comp, plan, 0, top)
    floor = math.ceil(flow.match * (1 - 0.005))
    repair_groups(arrays, comp, plan, floor, False, bound, SolverSettings(time_limit=60), 60)
    reached = plan_level(arrays, comp.families, comp.staff, plan)
    assert reached < top
    assert reached <= bound * 1.01
    assert component_match(arrays, comp, plan) >= floor
    staff_ids = arrays.staff_ids
    by_family = {
        f.family_id: (staff_ids[s] if s >= 0 else None)
        for f, s in zip(program.families, plan.tolist(), strict=True)
    }
    assert evaluate(program, by_family, {}).violations == []
