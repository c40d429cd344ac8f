"""Transfer chains and the rounded level LP: the large-component path of the balance stage.

Every plan is re-checked with the independent evaluator; the level of a plan is always one of
the candidate levels, and a descent never raises it nor gives up more match than allowed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import famassign as fa
import famassign.solver.balance as balance_module
from famassign.scenarios import GeneratorConfig, generate
from famassign.solver.arrays import LOAD_SCALE, ProblemArrays, build_arrays
from famassign.solver.components import Component, component_match, components
from famassign.solver.flow import solve_flow
from famassign.solver.levels import LoadLevels, candidate_levels, plan_level
from famassign.solver.load_bound import BoundKind, relaxed_load_bound
from famassign.solver.settings import SolverSettings
from famassign.solver.transfers import descend


def _largest(arrays: ProblemArrays) -> Component:
    fam_label, staff_label = components(arrays)
    label = int(np.bincount(fam_label).argmax())
    return Component(
        np.flatnonzero(fam_label == label),
        np.flatnonzero((staff_label == label) & arrays.staff_active),
        np.flatnonzero(fam_label[arrays.pair_family] == label),
    )


def _evaluated(sc: fa.Scenario, arrays: ProblemArrays, staff_of: np.ndarray) -> list[str]:
    plan = {
        fid: (arrays.staff_ids[s] if s >= 0 else None)
        for fid, s in zip(arrays.family_ids, staff_of.tolist(), strict=True)
    }
    return fa.evaluate(sc, plan).violations


PROGRAM = GeneratorConfig(n_families=1_500, n_sites=6, slack=0.16, neighbour_share=0.9)


def _near_cap_flow_plan() -> tuple[fa.Scenario, ProblemArrays, np.ndarray, Component, int]:
    """PROGRAM's flow plan, its largest component and the match floor of a 0.5% tolerance."""
    sc = generate(PROGRAM, 3)
    arrays = build_arrays(sc)
    plan = solve_flow(arrays).staff_of.copy()
    comp = _largest(arrays)
    return sc, arrays, plan, comp, math.ceil(component_match(arrays, comp, plan) * 0.995)


def test_descent_lowers_the_largest_load_within_every_rule() -> None:
    # ~86% of the capacity used, most staff near the cap: the flow plan (most match) is far
    # from balanced; the descent must lower it without breaking a rule or the match floor.
    sc, arrays, plan, comp, floor = _near_cap_flow_plan()
    before = plan_level(arrays, comp.families, comp.staff, plan)
    bound = math.floor(relaxed_load_bound(arrays, comp, plan) * LOAD_SCALE)
    reached = descend(arrays, comp, plan, floor, False, bound, SolverSettings(10, seed=1), 8.0)
    assert reached == plan_level(arrays, comp.families, comp.staff, plan)
    assert bound <= reached < before
    assert component_match(arrays, comp, plan) >= floor
    assert _evaluated(sc, arrays, plan) == []


def test_rounded_level_lp_keeps_the_count_caps() -> None:
    sc = generate(PROGRAM, 5)
    arrays = build_arrays(sc)
    plan = solve_flow(arrays).staff_of.copy()
    comp = _largest(arrays)
    floor = math.ceil(component_match(arrays, comp, plan) * 0.995)
    levels = LoadLevels(arrays, comp.families, comp.staff, comp.pairs, plan, floor, False)
    low = math.floor(relaxed_load_bound(arrays, comp, plan) * LOAD_SCALE)
    level = levels.bound_from_below(low, levels.level_now, None)
    assert level is not None
    rounded = levels.rounded_at(level, 30.0)
    assert rounded is not None
    trial = plan.copy()
    trial[comp.families] = rounded
    assert _evaluated(sc, arrays, trial) == []  # count caps, eligibility, exceptions
    # Few families are split in the LP: the rounded plan is at most a few loads above it.
    assert plan_level(arrays, comp.families, comp.staff, trial) <= level + 3 * LOAD_SCALE * 2


@settings(max_examples=60, deadline=None)
@given(
    loads=st.lists(st.sampled_from([50, 100, 150, 200, 300]), min_size=1, max_size=40),
    ftes=st.lists(st.sampled_from([0.5, 0.6, 0.8, 1.0]), min_size=1, max_size=5),
    seed=st.integers(0, 1000),
)
def test_a_plans_level_is_a_candidate_level(loads: list[int], ftes: list[float], seed: int) -> None:
    # The bound is raised to the lowest candidate level at or above it: valid only if every
    # plan's level is a candidate level.
    rng = np.random.default_rng(seed)
    units = np.maximum(np.round(np.array(ftes) * 100), 1).astype(np.int64)
    staff_of = rng.integers(0, len(ftes), len(loads))
    staff_load = np.bincount(staff_of, weights=np.array(loads, float), minlength=len(ftes))
    level = int(np.ceil((staff_load * 100 / units).max()))
    gcd = int(np.gcd.reduce(np.array(loads)))
    assert level in candidate_levels(units, gcd, 0, level + 1000).tolist()


def test_moderate_component_whose_mip_runs_out_of_time_is_lowered_by_chains(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The MIP at the lowest level gets no time at all here (as on a 2,000-family program where
    # HiGHS finds nothing in 20 s): transfer chains, then the min-max MIP started from their
    # plan, must still lower the flow plan's largest load within every rule and the match
    # floor, and the bound stay the LP's (at or below the plan).
    monkeypatch.setattr(balance_module, "QUICK_SHARE", 0.0)
    monkeypatch.setattr(balance_module, "QUICK_SECONDS", 0.0)
    monkeypatch.setattr(balance_module, "lowest_mix_plan", lambda *args: (0, None))  # no mix
    sc, arrays, plan, comp, floor = _near_cap_flow_plan()
    before = plan_level(arrays, comp.families, comp.staff, plan)
    settings = SolverSettings(8, seed=1)
    new, bound, kind = balance_module._balance_exactly(
        arrays, comp, plan, settings, 8.0, floor, False
    )
    assert new is not None
    plan[comp.families] = new
    level = plan_level(arrays, comp.families, comp.staff, plan)
    assert bound * LOAD_SCALE <= level < before
    assert kind == BoundKind.level_lp
    assert component_match(arrays, comp, plan) >= floor
    assert _evaluated(sc, arrays, plan) == []
