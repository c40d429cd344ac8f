"""Benchmarks: the GAP reader and runner, the baselines against the flow, a smoke run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from test_fewest_moves_bounds import _ranked_plans
from test_levels import tiny_programs

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is not an installed package; import it from the repo
    sys.path.insert(0, str(ROOT))

from benchmarks.baselines import greedy_plan, levels, solve_highs, solve_highs_balance  # noqa: E402
from benchmarks.gap import GAP_DIR, load_best_known, read_gap, solve_gap  # noqa: E402
from famassign.models import Scenario  # noqa: E402
from famassign.scenarios import generate  # noqa: E402
from famassign.solver.arrays import build_arrays  # noqa: E402
from famassign.solver.components import load_per_fte  # noqa: E402
from famassign.solver.flow import solve_flow  # noqa: E402
from famassign.solver.options import PlanOptions  # noqa: E402


def test_read_multi_problem_file() -> None:
    instances = read_gap(GAP_DIR / "gap1.txt")
    assert [i.name for i in instances] == [f"c515-{k}" for k in range(1, 6)]
    first = instances[0]
    assert first.cost.shape == first.weight.shape == (5, 15)
    assert first.capacity.shape == (5,)
    # The first costs of gap1.txt, as printed in the file.
    assert first.cost[0, :3].tolist() == [17, 21, 22]
    assert first.multi


def test_read_single_instance_file() -> None:
    (inst,) = read_gap(GAP_DIR / "a05100")
    assert inst.name == "a05100"
    assert (inst.n_agents, inst.n_jobs) == (5, 100)
    assert not inst.multi


def test_the_bundled_instances_all_read_and_all_have_a_best_known_value() -> None:
    best = load_best_known()
    names: list[str] = []
    for path in sorted(GAP_DIR.iterdir()):
        if path.suffix in {".csv", ".md"}:
            continue
        for inst in read_gap(path):
            assert inst.n_jobs <= 200
            assert inst.weight.shape == inst.cost.shape == (inst.n_agents, inst.n_jobs)
            names.append(inst.name)
    assert len(names) == 12 * 5 + 5 * 6  # gap1..gap12 (5 problems each), types A-E (6 each)
    # gap1..gap12 in both senses, types A-E as minimisation: nothing missing, nothing extra.
    wanted = {
        (n, s)
        for n in names
        for s in (("max", "min") if n.startswith("c") and "-" in n else ("min",))
    }
    assert set(best) == wanted


@pytest.mark.parametrize("sense", ["max", "min"])
def test_runner_solves_c515_1_to_its_known_optimum(sense: str) -> None:
    best = load_best_known()
    inst = read_gap(GAP_DIR / "gap1.txt")[0]
    run = solve_gap(inst, sense, 10.0, best_known=best)
    assert run.best_known == {"max": 336, "min": 261}[sense]
    assert run.objective == run.best_known
    assert run.gap_pct == 0.0


@pytest.fixture(scope="module")
def tiny_arrays():  # type: ignore[no-untyped-def]
    return build_arrays(generate("rural", 1))


def test_highs_mip_equals_the_flow_and_bounds_hold(tiny_arrays) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("highspy")
    arrays = tiny_arrays
    flow = levels(arrays, solve_flow(arrays).staff_of)
    mip = solve_highs(arrays, 30.0)
    assert mip.optimal and mip.staff_of is not None
    # Same model, same weighted objective: the optima are equal.
    assert mip.objective == pytest.approx(flow.weighted)
    assert levels(arrays, mip.staff_of).weighted == flow.weighted
    # The LP relaxation is a lower bound on the (minimised) weighted cost; here it is integral.
    lp = solve_highs(arrays, 30.0, integer=False)
    assert lp.optimal and lp.objective is not None
    assert lp.objective <= flow.weighted + 1e-6
    assert lp.objective == pytest.approx(flow.weighted)


def test_greedy_is_never_better_than_the_flow(tiny_arrays) -> None:  # type: ignore[no-untyped-def]
    arrays = tiny_arrays
    flow = levels(arrays, solve_flow(arrays).staff_of)
    plan = greedy_plan(arrays)
    greedy = levels(arrays, plan)
    assert greedy.weighted >= flow.weighted
    assert greedy.placed <= flow.placed
    # The greedy plan keeps every hard rule: eligible pairs (checked by levels) and limits.
    counts = np.bincount(plan[plan >= 0], minlength=arrays.n_staff)
    assert np.all(counts <= arrays.staff_limit)


def test_run_smoke(tmp_path: Path) -> None:
    pytest.importorskip("highspy")
    out = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "run",
            "--sizes",
            "rural",
            "--time-limit",
            "5",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "| rural |" in text and "HiGHS MIP" in text and "greedy" in text
    assert "| yes |" in text  # HiGHS objective equals the flow objective


def test_highs_on_the_whole_balance_model_agrees_with_famassign(tiny_arrays) -> None:  # type: ignore[no-untyped-def]
    """Two different routes to the same optimum: HiGHS minimising the largest load on the whole
    balance model, and famassign's level bound plus the MIP at that level."""
    from famassign.solver import solve
    from famassign.solver.components import load_per_fte

    direct = solve_highs_balance(tiny_arrays, 60.0, tolerance=0.005)
    assert direct.optimal and direct.staff_of is not None
    ours = solve(generate("rural", 1), PlanOptions(time_limit=30))
    assert ours.status.value == "optimal"
    highs_load = load_per_fte(tiny_arrays, direct.staff_of)[tiny_arrays.staff_active].max()
    assert highs_load == pytest.approx(ours.terms.max_load_per_fte)
    assert direct.bound == pytest.approx(ours.max_load_bound, abs=0.01)


def test_proofs_reports_a_failing_seed_with_its_example(tmp_path: Path) -> None:
    from benchmarks.proofs import run

    (tmp_path / "test_claim.py").write_text(
        "from hypothesis import given, strategies as st\n\n\n"
        "@given(st.integers(0, 100))\n"
        "def test_claim(x: int) -> None:\n"
        "    assert x < 50\n"
    )
    report, failed = run(1, 7, (str(tmp_path / "test_claim.py"),))
    assert failed == 1
    assert report.startswith("0 of 1 seeds passed")
    assert "--hypothesis-seed=7" in report
    assert "x=50" in report and "FAILED" in report


def test_the_independent_bound_holds_and_is_exact_where_whole_families_decide() -> None:
    from test_whole_families import three_heavy_on_two

    from benchmarks.independent_bound import language_bound
    from famassign.solver import solve

    # Three load-3 Arabic families on two Arabic speakers: whole, one carries 6 (the optimum).
    assert language_bound(three_heavy_on_two()) == 6.0
    # Never above a plan that places everyone, the solver's included.
    program = generate("small", 3)
    result = solve(program, PlanOptions(time_limit=10))
    assert result.terms.placed == len(program.families)
    assert language_bound(program) <= result.terms.max_load_per_fte + 1e-9


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=tiny_programs())
def test_the_independent_bound_never_passes_a_plan_placing_everyone(program: Scenario) -> None:
    from benchmarks.independent_bound import language_bound

    arrays = build_arrays(program)
    loads = [
        float(load_per_fte(arrays, staff_of)[arrays.staff_active].max(initial=0.0))
        for _, staff_of in _ranked_plans(arrays, minimize_moves=False)
        if (staff_of >= 0).all()
    ]
    if loads:
        assert language_bound(program) <= min(loads) + 1e-9
