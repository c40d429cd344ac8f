"""A program's year through the command line, nothing copied by hand: each step's --out folder
is the next step's scenario (docs/through-the-year.md). Enrolments, withdrawals and
re-assessments are edited into the plan folder's families.csv, a hire into its staff.csv, as the
documented cycle says (the program and its steps: tests/program_year.py).

At every step the plan's placed count and its moves equal an independent lexicographic MIP
(tests/independent_mip.py) of the scenario as planned, built here from the files alone; a
temporary exception created by a re-plan stays in force until its end; ``moves`` counts the
families left unplaced; returns from leave are counted apart.
"""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path

from independent_mip import independent_levels
from program_year import (
    SEED,
    YEAR,
    as_planned,
    edit_month,
    program,
    run_step,
    runner,
    taken_from_active,
)

from famassign.cli import app
from famassign.models.loading import load_scenario
from famassign.models.writing import write_scenario


def test_a_year_of_plans_through_the_command_line(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    folder = write_scenario(program(), tmp_path / "program")
    plan = tmp_path / "plan-00"
    res = runner.invoke(app, ["solve", str(folder), "--out", str(plan), "--time-limit", "2"])
    assert res.exit_code == 0, res.output
    summaries = [json.loads((plan / "summary.json").read_text())]
    exception_id = None
    unplaced_moves = returns = 0
    for k, step in enumerate(YEAR, start=1):
        edit_month(plan, step, k, rng)
        before = load_scenario(plan)
        out = tmp_path / f"plan-{k:02d}"
        summary = run_step(plan, out, step, ("--time-limit", "3"))
        assert summary["continues"] == summaries[-1]["plan_fingerprint"]
        planned = as_planned(before, out, step)
        levels = independent_levels(planned, with_match=False)
        assert (summary["assigned"], summary["moves"]) == (levels.placed, levels.moves), step
        assert summary["moves"] == taken_from_active(out, planned), step
        assert summary["moves"] == summary["moved_placed"] + summary["moved_unplaced"]
        unplaced_moves += summary["moved_unplaced"]
        returns += summary["returns"]
        if step.command[0] == "update":
            assert summary["update_returned_families"] == summary["returns"]
        nxt = load_scenario(out)
        created = [e for e in nxt.exceptions if e.created_by]
        if "--temporary-cap" in step.command:
            (exc,) = created
            exception_id = exc.exception_id
            assert (exc.kind.value, exc.max_families, exc.starts, exc.ends) == (
                "staff_attrition",
                44,
                date(2026, 10, 15),
                date(2026, 11, 30),
            )
            assert exc.created_by == "reassign 2026-10-15: S5 departed"
        elif exception_id is not None:
            in_force = date.fromisoformat(step.as_of) <= date(2026, 11, 30)
            assert [e.exception_id for e in created] == ([exception_id] if in_force else [])
            assert (exception_id in summary["exceptions_in_force_unused"] + summary[
                "exceptions_used"]) == in_force  # fmt: skip
        summaries.append(summary)
        plan = out
    assert len(summaries) == 12
    assert returns > 0 and summaries[8]["update_returned_staff"] == ["S2"]
    assert unplaced_moves > 0
