"""The balance stage's bound tells the truth: the load-level LP of the balance model, with the
moves fixed at their optimum under reassign, and `optimal` only when the plan meets it. Each
case runs through both paths: a moderate component (load levels and HiGHS MIP) and, with the
size threshold at zero, the large-component path (neighbourhood search, max-flow and level LP
bounds)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from builders import fam, scenario, staff
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import famassign as fa
from famassign.models import Policy, ScenarioError
from famassign.solver import balance as balance_module
from famassign.solver.arrays import build_arrays
from famassign.solver.components import Component, load_per_fte
from famassign.solver.flow import solve_flow
from famassign.solver.load_bound import kept_caseload_bound, relaxed_load_bound

PATHS = ["moderate", "large"]


@pytest.fixture(params=PATHS)
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which balance path the test goes through."""
    if request.param == "large":
        monkeypatch.setattr(balance_module, "MAX_EXACT_PAIRS", 0)
    return str(request.param)


def _check(sc: fa.Scenario, result: fa.Result) -> None:
    assert fa.evaluate(sc, result.plan(), result.exception_of()).violations == []


def test_fixed_moves_raise_the_bound_above_the_unconstrained_one(path: str) -> None:
    # s1 carries four medium families (load 8); s3 departs with one more. With no move of a
    # family whose staff member stays, s1 keeps its four and s3's family goes to s2: the
    # largest load is 8. Without the moves rule the five families split 3 / 2: load 6 (and
    # without current staff members, continuity no longer holds them either). The
    # split-loads relaxation, which ignores moves, says 5.
    families = [fam(f"a{i}", current_staff_id="s1") for i in range(4)]
    families.append(fam("b", current_staff_id="s3"))
    sc = scenario(families, [staff("s1"), staff("s2"), staff("s3")])
    options = fa.PlanOptions(time_limit=10, seed=0, workers=1)

    # The same program with nobody's current staff member known: nothing to keep.
    fresh = scenario(
        [fam(f.family_id) for f in families],
        [staff("s1"), staff("s2"), staff("s3", status="departed")],
    )
    free = fa.solve(fresh, options)
    _check(fresh, free)
    assert free.terms.max_load_per_fte == 6.0 == free.max_load_bound

    moved = fa.reassign(sc, departed=["s3"], options=options)
    result = moved.result
    _check(moved.scenario, result)
    assert result.terms.moves == 0
    assert result.terms.max_load_per_fte == 8.0
    assert result.max_load_bound == 8.0  # the constrained bound, not 6 (or 5)
    # The large path proves the same value with the cheap kept-caseloads bound or, when the
    # flow plan starts above it, with the level LP.
    kinds = {"level_lp_moves"} if path == "moderate" else {"level_lp_moves", "kept_caseloads"}
    assert result.max_load_bound_kind in kinds
    assert result.status == fa.SolveStatus.optimal

    arrays = build_arrays(moved.scenario)
    flow = solve_flow(arrays, minimize_moves=True)
    everyone = Component(
        families=np.arange(arrays.n_families),
        staff=np.flatnonzero(arrays.staff_active),
        pairs=np.arange(len(arrays.pair_family)),
    )
    assert relaxed_load_bound(arrays, everyone, flow.staff_of) < 8.0


def test_many_staff_tied_at_the_maximum_are_solved_to_the_bound(path: str) -> None:
    # 40 staff at one site and 200 families of medium intensity: the only optimum gives each
    # staff member 5 families, load 10, so all 40 are tied at the maximum; the flow plan (equal
    # match everywhere) fills some caseloads far above it.
    sc = scenario([fam(f"f{i:03d}") for i in range(200)], [staff(f"s{j:02d}") for j in range(40)])
    arrays = build_arrays(sc)
    flow = solve_flow(arrays)
    assert load_per_fte(arrays, flow.staff_of).max() > 10.0
    result = fa.solve(sc, fa.PlanOptions(time_limit=20, seed=0, workers=1))
    _check(sc, result)
    assert result.terms.max_load_per_fte == 10.0 == result.max_load_bound
    assert result.status == fa.SolveStatus.optimal
    assert result.max_load_bound_kind in ("level_lp", "max_flow")
    assert all(c.weighted_load == 10.0 for c in result.caseloads)


def test_status_is_feasible_when_the_plan_misses_its_bound(path: str) -> None:
    # No time at all for balance beyond the flow plan: the flow plan is not balanced and its
    # status must not claim optimal.
    sc = scenario([fam(f"f{i:03d}") for i in range(60)], [staff(f"s{j:02d}") for j in range(6)])
    result = fa.solve(sc, fa.PlanOptions(time_limit=0.001, seed=0, workers=1))
    _check(sc, result)
    if result.terms.max_load_per_fte > result.max_load_bound:
        assert result.status == fa.SolveStatus.feasible


def test_reassign_of_a_generated_program_reports_a_valid_bound(path: str) -> None:
    # Two advocates leave a generated program with a current plan: the reported bound is never
    # above the plan's largest load, and `optimal` only when the two meet.
    from famassign.scenarios import GeneratorConfig, generate

    sc = generate(GeneratorConfig(n_families=300, n_sites=3, with_current_assignments=True), 3)
    leaving = [c for c in sorted({f.current_staff_id for f in sc.families if f.current_staff_id})]
    moved = fa.reassign(sc, departed=leaving[:2], options=fa.PlanOptions(time_limit=10, seed=1))
    result = moved.result
    _check(moved.scenario, result)
    assert result.max_load_bound <= result.terms.max_load_per_fte
    assert (result.status == fa.SolveStatus.optimal) == (
        result.terms.max_load_per_fte <= result.max_load_bound + 1e-3
    )


@st.composite
def programs_with_current_staff(draw: st.DrawFn) -> fa.Scenario:
    """2-6 families with a current staff member (some pinned), 2-3 staff, varied loads."""
    n_staff = draw(st.integers(2, 3))
    members = [staff(f"s{j}", fte=draw(st.sampled_from([0.5, 0.7, 1.0]))) for j in range(n_staff)]
    families = []
    for i in range(draw(st.integers(2, 6))):
        current = draw(st.sampled_from([None, *[f"s{j}" for j in range(n_staff)]]))
        families.append(
            fam(
                f"f{i}",
                intensity=draw(st.sampled_from(["low", "medium", "high"])),
                external_plan_agency=draw(st.sampled_from([None, "X"])),
                current_staff_id=current,
                pinned=current is not None and draw(st.booleans()),
            )
        )
    try:
        return scenario(families, members, policy=Policy(max_families_per_staff=4))
    except ScenarioError:  # more pins on someone than the cap allows: not a program
        assume(False)
        raise


@given(programs_with_current_staff())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_kept_caseload_bound_never_exceeds_the_fewest_moves_optimum(sc: fa.Scenario) -> None:
    # Brute force: every plan that places every family within the caps and moves no more
    # families than the fewest possible; its best largest load per FTE is at least the bound.
    arrays = build_arrays(sc)
    flow = solve_flow(arrays, minimize_moves=True)
    if flow.placed < arrays.n_families:
        return
    everyone = Component(
        np.arange(arrays.n_families),
        np.flatnonzero(arrays.staff_active),
        np.arange(len(arrays.pair_family)),
    )
    bound = kept_caseload_bound(arrays, everyone, flow.staff_of)
    options = [
        arrays.pair_staff[arrays.pair_family == f].tolist() for f in range(arrays.n_families)
    ]
    best = math.inf
    for plan in itertools.product(*options):
        staff_of = np.array(plan, dtype=np.int64)
        if (np.bincount(staff_of, minlength=arrays.n_staff) > arrays.staff_limit).any():
            continue
        current = arrays.family_current
        moved = (current >= 0) & (staff_of != current)
        if int(moved.sum()) > flow.moves:
            continue
        best = min(best, float(load_per_fte(arrays, staff_of).max()))
    assert bound <= best + 1e-9
