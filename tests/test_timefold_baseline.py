"""The Timefold baseline (benchmarks/timefold_baseline.py): what it says when Timefold or Java is
missing, and, where both are installed (the optional ``bench-timefold`` extra, not in CI), a
tiny program planned by Timefold that the independent evaluator accepts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is not an installed package; import it from the repo
    sys.path.insert(0, str(ROOT))

from builders import fam, scenario, staff, waiver  # noqa: E402

from benchmarks import timefold_baseline as tb  # noqa: E402
from famassign.models import Conflict, Scenario  # noqa: E402
from famassign.solver import PlanOptions, solve  # noqa: E402
from famassign.solver.arrays import build_arrays  # noqa: E402
from famassign.solver.evaluator import evaluate  # noqa: E402


def test_without_timefold_the_runner_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tb, "find_spec", lambda name: None)
    assert tb.main(["--families", "600", "--time-limit", "1"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'famassign[bench-timefold]'" in err
    assert "Java 17" in err
    with pytest.raises(tb.TimefoldUnavailable, match=r"bench-timefold"):
        tb.require_timefold()


def test_without_java_the_runner_says_java_17_is_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tb, "find_spec", lambda name: object())
    monkeypatch.setattr(tb, "java_home", lambda: None)
    problem = tb.unavailable()
    assert problem is not None and "Java 17 or later" in problem and "JAVA_HOME" in problem


def tiny() -> Scenario:
    """13 families, 2 staff: caps 4 (0.1 FTE) and 8 (0.2 FTE), a waiver of 45 prorated to 9 for
    S2 (one exception place needed to place everyone), a conflict F01-S1 and a Spanish family
    only S2 speaks to."""
    families = [fam(f"F{i:02d}", urgency=1 + i % 5) for i in range(1, 13)]
    families.append(fam("F13", language="es", urgency=5))
    team = [staff("S1", fte=0.1), staff("S2", fte=0.2, languages=("en", "es"))]
    return scenario(
        families,
        team,
        exceptions=(waiver("W1", staff_id="S2"),),
        conflicts=(Conflict(family_id="F01", staff_id="S1"),),
    )


def test_timefold_plans_a_tiny_program_the_evaluator_accepts() -> None:
    problem = tb.unavailable()
    if problem is not None:
        pytest.skip(f"Timefold baseline not runnable here: {problem}")
    program = tiny()
    arrays = build_arrays(program)
    run = tb.solve_timefold(arrays, 3.0, seed=1)
    plan, exception_of = tb.plan_of(arrays, run.staff_of)
    checked = evaluate(program, plan, exception_of)
    assert checked.violations == []
    # famassign's optimum on the same program: everyone placed with one exception place.
    best = solve(program, PlanOptions(time_limit=5, seed=1, workers=1))
    assert (checked.placed, checked.over_cap) == (best.terms.placed, best.terms.over_cap) == (13, 1)
    assert exception_of == {"S2": "W1"}
    assert run.score.startswith("[0]hard/[0/0/-1/")
