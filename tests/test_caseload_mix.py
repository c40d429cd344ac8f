"""Caseload mixes: the large-component path when the level LP is not affordable.

The mix model is exact for every rule but the match: on tiny programs its bound equals the
brute-force optimum without the match floor (and never exceeds the one with it), and every
plan it gives is re-checked by the independent evaluator."""

from __future__ import annotations

import math

import numpy as np
import pytest
from builders import fam, scenario, staff
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_levels import _brute_force_best_level, tiny_programs
from test_transfers import _evaluated

from famassign.models import Scenario
from famassign.scenarios import GeneratorConfig, generate
from famassign.solver import balance as balance_module
from famassign.solver.arrays import LOAD_SCALE, build_arrays
from famassign.solver.balance import SolverSettings, balance
from famassign.solver.caseload_mix import family_types, lowest_mix_plan
from famassign.solver.components import Component, component_match
from famassign.solver.flow import solve_flow
from famassign.solver.levels import candidate_levels, fte_units, plan_level
from famassign.solver.load_bound import BoundKind


def _whole(n_families: int, n_staff: int, n_pairs: int) -> Component:
    return Component(np.arange(n_families), np.arange(n_staff), np.arange(n_pairs))


def test_family_types_group_load_and_eligible_staff() -> None:
    # a and b: same load, same staff; c: same staff, other load; d: same load as a, one site
    sc = scenario(
        [
            fam("a", intensity="low"),
            fam("b", intensity="low"),
            fam("c", intensity="high"),
            fam("d", intensity="low", site="South"),
        ],
        [staff("s1", sites=("North", "South")), staff("s2", sites=("North",))],
    )
    arrays = build_arrays(sc)
    types = family_types(arrays, _whole(4, 2, len(arrays.pair_family)))
    t = types.type_of.tolist()
    assert t[0] == t[1] and len({t[0], t[2], t[3]}) == 3
    assert types.size[t[0]] == 2
    assert len(types.pair_type) == 2 + 2 + 1  # staff eligible per type


def test_a_level_no_mix_fits_raises_the_bound_above_max_flow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Loads 3, 3, 3 and 0.5 on two full-time staff: split fractionally each carries 4.75,
    # raised to the level 5.0 (the max-flow bound); but two of the loads of 3 share a staff
    # member in every plan, so the optimum is 6.0 (3 + 3 | 3 + 0.5), proven by the mix.
    monkeypatch.setattr(balance_module, "MAX_EXACT_PAIRS", 0)
    monkeypatch.setattr(balance_module, "MAX_LP_PAIRS", 0)
    families = [fam(f"h{i}", intensity="high") for i in range(3)]
    families.append(fam("a", intensity="low", external_plan_agency="X"))
    sc = scenario(families, [staff("s1"), staff("s2")])
    arrays = build_arrays(sc)
    assert arrays.family_load.tolist() == [300, 300, 300, 50]
    flow = solve_flow(arrays)
    balanced = balance(arrays, flow, SolverSettings(time_limit=10), tolerance=0.005)
    assert balanced.bound_kind == BoundKind.caseload_mix
    assert balanced.max_load_bound == 6.0 == balanced.max_load_per_fte
    assert balanced.proven
    assert _evaluated(sc, arrays, balanced.staff_of) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=tiny_programs(), tolerance=st.sampled_from([0.0, 0.05, 1.0]))
def test_mix_bound_and_plan_against_brute_force(program: Scenario, tolerance: float) -> None:
    arrays = build_arrays(program)
    flow = solve_flow(arrays)
    if flow.placed < arrays.n_families:  # the mix model is for components all placed
        return
    comp = _whole(arrays.n_families, arrays.n_staff, len(arrays.pair_family))
    floor = math.ceil(flow.match * (1 - tolerance))
    now = plan_level(arrays, comp.families, comp.staff, flow.staff_of)
    gcd = int(np.gcd.reduce(arrays.family_load))
    levels = candidate_levels(fte_units(arrays), gcd, 0, now)
    low, plan = lowest_mix_plan(arrays, comp, flow.staff_of.copy(), floor, levels, 10.0)
    best = _brute_force_best_level(arrays, tolerance)
    unconstrained = _brute_force_best_level(arrays, 1.0)  # match floor 0
    assert best is not None and unconstrained is not None
    # exact without the match floor, a valid bound with it
    assert low == min(unconstrained, now)
    assert low <= best
    if plan is not None:
        reached = plan_level(arrays, comp.families, comp.staff, plan)
        assert best <= reached < now
        assert component_match(arrays, comp, plan) >= floor
        assert _evaluated(program, arrays, plan) == []
    elif tolerance == 1.0 and low < now:
        pytest.fail("no match floor: the mix at its lowest level is a plan")


def test_many_staff_tied_at_the_top_reach_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every staff member serves every site (the `dense` structure, smaller): the flow plan
    # leaves many staff at the largest load; the mix path (the level LP made unaffordable)
    # must bring the plan to its bound and prove it.
    monkeypatch.setattr(balance_module, "MAX_EXACT_PAIRS", 0)
    monkeypatch.setattr(balance_module, "MAX_LP_PAIRS", 0)
    sc = generate(GeneratorConfig(n_families=1_500, n_sites=6, dense=True), 2)
    arrays = build_arrays(sc)
    flow = solve_flow(arrays)
    loads = np.bincount(flow.staff_of, weights=arrays.family_load, minlength=arrays.n_staff)
    per_fte = loads / LOAD_SCALE / arrays.staff_fte
    # A match tolerance of 1%: at the default 0.5% this program's mix falls 0.15% short of the
    # match floor (the types do not see the match; the transfer chains then end above it).
    balanced = balance(arrays, flow, SolverSettings(time_limit=30, seed=1), tolerance=0.01)
    assert balanced.max_load_per_fte < per_fte.max()
    assert balanced.proven
    assert balanced.bound_kind in {BoundKind.max_flow, BoundKind.caseload_mix}
    tied = np.isclose(
        np.bincount(balanced.staff_of, weights=arrays.family_load, minlength=arrays.n_staff)
        / LOAD_SCALE
        / arrays.staff_fte,
        balanced.max_load_per_fte,
    )
    assert tied.sum() >= 10
    assert _evaluated(sc, arrays, balanced.staff_of) == []


def test_moderate_component_whose_mip_runs_out_of_time_reaches_its_bound_by_the_mix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The MIP at the lowest level gets no time (as on `crowded`, where HiGHS, the chains and
    # CP-SAT ended a level above the bound): the mix gives a plan at the level LP's bound.
    # Match tolerance 1%, as in the test above (the same program).
    monkeypatch.setattr(balance_module, "QUICK_SHARE", 0.0)
    monkeypatch.setattr(balance_module, "QUICK_SECONDS", 0.0)
    sc = generate(GeneratorConfig(n_families=1_500, n_sites=6, dense=True), 2)
    arrays = build_arrays(sc)
    flow = solve_flow(arrays)
    comp = _whole(arrays.n_families, arrays.n_staff, len(arrays.pair_family))
    assert len(comp.pairs) <= balance_module.MAX_EXACT_PAIRS  # the moderate path
    floor = math.ceil(flow.match * 0.99)
    plan = flow.staff_of.copy()
    new, bound, kind = balance_module._balance_exactly(
        arrays, comp, plan, SolverSettings(20, seed=1), 20.0, floor, False
    )
    assert new is not None
    plan[comp.families] = new
    assert plan_level(arrays, comp.families, comp.staff, plan) == round(bound * LOAD_SCALE)
    assert kind in (BoundKind.level_lp, BoundKind.caseload_mix)
    assert component_match(arrays, comp, plan) >= floor
    assert _evaluated(sc, arrays, plan) == []
