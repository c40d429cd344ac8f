"""compare(): the base and each variant solved (in two processes) and compared row by row;
`famassign compare` writes comparison.csv, staffing.csv and report.html, or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from famassign.cli import app
from famassign.compare import COMPARISON_COLUMNS, compare, families_moved
from famassign.models import Scenario
from famassign.models.writing import write_scenario
from famassign.scenarios import GeneratorConfig, generate
from famassign.solver.options import PlanOptions

VARIANTS: tuple[dict[str, Any], ...] = (
    {"name": "no waiver", "changes": [{"remove_exception": {"exception_id": "W-2026-01"}}]},
    {
        "name": "hire",
        "description": "a bilingual advocate instead of the waiver",
        "changes": [
            {"add_staff": {"staff_id": "H1", "languages": ["en", "es"], "sites": "*"}},
            {"remove_exception": {"exception_id": "W-2026-01"}},
        ],
    },
    {"name": "growth", "changes": [{"scale_enrollment": {"factor": 1.25}}]},
)


@pytest.fixture(scope="module")
def program() -> Scenario:
    base = generate(
        GeneratorConfig(n_families=150, n_sites=2, waiver=True, with_current_assignments=True),
        seed=11,
    )
    return base.rebuilt(variants=VARIANTS)


def test_compare_rows(program: Scenario) -> None:
    comparison = compare(program, PlanOptions(time_limit=2, seed=1), processes=2)
    frame = comparison.frame
    assert list(frame.columns) == COMPARISON_COLUMNS
    assert list(frame["variant"]) == ["base", "no waiver", "hire", "growth"]
    rows = frame.set_index("variant")
    n = len(program.families)
    assert rows.loc["base", "placed"] == n and rows.loc["base", "exceptions_used"] == "W-2026-01"
    assert rows.loc["base", "caseloads_above_40"] == 1 and rows.loc["base", "over_cap_places"] == 3
    # without the waiver the 3 families it carried are unplaced; a hire places them again
    assert (rows.loc["no waiver", "placed"], rows.loc["no waiver", "unplaced"]) == (n - 3, 3)
    assert rows.loc["no waiver", "caseloads_above_40"] == 0
    assert rows.loc["hire", "placed"] == n and rows.loc["hire", "exceptions_used"] == ""
    staff_active = dict(zip(frame["variant"], frame["staff_active"], strict=True))
    assert staff_active["hire"] == staff_active["base"] + 1
    assert rows.loc["growth", "families"] == n + round(0.25 * n)
    for outcome in comparison.outcomes:
        assert outcome.result.objective <= outcome.result.bound
        assert frame.set_index("variant").loc[outcome.name, "families_moved"] == families_moved(
            program, outcome.result
        )
    assert comparison.staffing is not None and comparison.staffing.total_staff == 1


def test_one_process_gives_the_same_placements(program: Scenario) -> None:
    two = compare(program, PlanOptions(time_limit=1, seed=1), processes=2, with_staffing=False)
    one = compare(program, PlanOptions(time_limit=1, seed=1), processes=1, with_staffing=False)
    for column in ("families", "placed", "unplaced", "caseloads_above_40", "exceptions_used"):
        assert list(two.frame[column]) == list(one.frame[column])


def test_families_moved_counts_only_families_with_a_current_staff_member(
    program: Scenario,
) -> None:
    comparison = compare(program, PlanOptions(time_limit=1), processes=1, with_staffing=False)
    result = comparison.base.result
    expected = sum(
        1
        for f, a in zip(program.families, result.assignments, strict=True)
        if f.current_staff_id and a.staff_id != f.current_staff_id
    )
    assert families_moved(program, result) == expected


def test_compare_command_writes_outputs(program: Scenario, tmp_path: Path) -> None:
    folder = write_scenario(program, tmp_path / "program")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["compare", str(folder), "--out", str(out), "--time-limit", "1", "--processes", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "no waiver: 147/150 placed, 3 unplaced" in result.output
    frame = pd.read_csv(out / "comparison.csv")
    assert list(frame["variant"]) == ["base", "no waiver", "hire", "growth"]
    staffing = pd.read_csv(out / "staffing.csv")
    assert staffing["additional_staff"].sum() == 1
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count('class="chart bar-chart"') == 4 and html.count('class="chart histogram"') == 4
    assert "<script" not in html and "http" not in html.replace("http-equiv", "")


def test_compare_command_bad_variant_writes_nothing(program: Scenario, tmp_path: Path) -> None:
    bad = program.model_copy(
        update={"variants": ({"name": "x", "changes": [{"remove_staff": {"staff_id": "S99"}}]},)}
    )
    folder = write_scenario(bad, tmp_path / "program")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["compare", str(folder), "--out", str(out)])
    assert result.exit_code == 2
    assert "variants[0].changes[0].remove_staff.staff_id: unknown staff_id 'S99'" in result.output
    assert not out.exists()


def test_exit_code_3_when_the_base_leaves_families_unplaced(
    program: Scenario, tmp_path: Path
) -> None:
    short = program.model_copy(update={"exceptions": (), "variants": ()})
    folder = write_scenario(short, tmp_path / "program")
    result = CliRunner().invoke(
        app, ["compare", str(folder), "--out", str(tmp_path / "out"), "--time-limit", "1"]
    )
    assert result.exit_code == 3, result.output
    assert (tmp_path / "out" / "report.html").is_file()
