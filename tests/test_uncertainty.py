"""The uncertainty: block of scenario.yaml: parsing with located problems, and seeded samples."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import famassign as fa
from famassign.cli import app
from famassign.models import Intensity, StaffStatus
from famassign.scenarios.example import example_yaml, springfield
from famassign.scenarios.uncertainty import (
    NEW_LANGUAGE_PREFIX,
    Distribution,
    Uncertainty,
    parse_uncertainty,
    sample_scenario,
    uncertainty_of,
)


@pytest.fixture(scope="module")
def example() -> fa.Scenario:
    return fa.read_scenario(fa.example_path()).scenario


def _block(raw: dict[str, object]) -> Uncertainty:
    block, problems = parse_uncertainty(raw)
    assert problems == [] and block is not None
    return block


def test_bundled_example_carries_the_block_the_generator_writes(example: fa.Scenario) -> None:
    written = yaml.safe_load(example_yaml(springfield()))["uncertainty"]
    assert example.uncertainty == written
    block = uncertainty_of(example)
    assert block.enrollment and block.new_language and block.staff_leave.probability > 0


def test_distribution_forms() -> None:
    assert Distribution.model_validate(1.5).mean == 1.5
    ranged = Distribution.model_validate([0.9, 1.1])
    assert (ranged.low, ranged.high) == (0.9, 1.1)
    for bad in ({"mean": 1, "low": 0, "high": 2}, {"low": 1}, {"low": 2, "high": 1}, {}):
        with pytest.raises(ValueError):
            Distribution.model_validate(bad)


def _folder_with(tmp_path: Path, block_text: str) -> Path:
    folder = tmp_path / "program"
    shutil.copytree(fa.example_path(), folder)
    text = (folder / "scenario.yaml").read_text(encoding="utf-8")
    head = text[: text.index("# Uncertainty about next year")]
    (folder / "scenario.yaml").write_text(head + block_text, encoding="utf-8")
    return folder


def test_problems_are_located_in_scenario_yaml(tmp_path: Path) -> None:
    folder = _folder_with(
        tmp_path,
        "uncertainty:\n"
        "  enrollment:\n"
        "  - {site: [Nowhere], factor: 1.1}\n"
        "  staff_leave: {probability: 0.1, staff: {S9999: 0.5}}\n"
        "  new_language:\n"
        "  - {language: so, site: Atlantis, families: 3}\n",
    )
    with pytest.raises(fa.ScenarioError) as caught:
        fa.read_scenario(folder)
    lines = folder.joinpath("scenario.yaml").read_text(encoding="utf-8").splitlines()
    messages = [str(p) for p in caught.value.problems]
    expected = {
        "uncertainty.enrollment[0].site": "Nowhere",
        "uncertainty.staff_leave.staff.S9999": "S9999",
        "uncertainty.new_language[0].site": "Atlantis",
    }
    located = [p for p in caught.value.problems if isinstance(p, fa.LocatedProblem)]
    for label, word in expected.items():
        [problem] = [p for p in located if p.column == label]
        assert word in problem.message
        assert problem.line is not None and word in lines[problem.line - 1]
    assert len(messages) == 3


def test_validate_reports_form_problems_with_exit_2(tmp_path: Path) -> None:
    folder = _folder_with(
        tmp_path,
        "uncertainty:\n  enrollment:\n  - factor: {mean: 1.0, low: 0.5, high: 2}\n  colour: red\n",
    )
    result = CliRunner().invoke(app, ["validate", str(folder)])
    assert result.exit_code == 2
    assert "scenario.yaml:" in result.output and "uncertainty.enrollment[0].factor" in result.output
    assert "uncertainty.colour: unknown field" in result.output
    assert "Traceback" not in result.output


def test_validate_accepts_and_summarises_the_example() -> None:
    result = CliRunner().invoke(app, ["validate", str(fa.example_path())])
    assert result.exit_code == 0, result.output
    assert "uncertainty: enrollment, staff_leave, mix, new_language" in result.output


def test_samples_are_seeded_pure_and_differ(example: fa.Scenario) -> None:
    block = uncertainty_of(example)
    before = example.model_dump()
    first = sample_scenario(example, block, 7)
    assert sample_scenario(example, block, 7) == first
    assert example.model_dump() == before
    others = [sample_scenario(example, block, s) for s in range(1, 6)]
    assert len({len(s.families) for s in others}) > 1
    assert not first.uncertainty and not first.variants


def test_each_part_does_what_it_says(example: fa.Scenario) -> None:
    n = len(example.families)
    block = _block(
        {
            "enrollment": [{"factor": 1.5, "language": ["es"]}],
            "new_language": [{"language": "SO", "site": "Eastside", "families": 6}],
            "mix": {"intensity": 1.0},
            "staff_leave": 1.0,
        }
    )
    sample = sample_scenario(example, block, 3)
    es = sum(f.language == "es" for f in example.families)
    new = [f for f in sample.families if f.family_id.startswith(NEW_LANGUAGE_PREFIX)]
    assert len(new) == 6 and {f.language for f in new} == {"so"}
    assert {f.site for f in new} == {"Eastside"}
    assert len(sample.families) == n + round(0.5 * es) + 6
    for before_staff, after_staff in zip(example.staff, sample.staff, strict=True):
        if before_staff.status is StaffStatus.active:
            assert after_staff.status is StaffStatus.departed
        else:
            assert after_staff == before_staff
    assert not any(f.intensity is Intensity.low for f in sample.families)
    before = {f.family_id: f.intensity for f in example.families}
    up = {Intensity.low: Intensity.medium, Intensity.medium: Intensity.high}
    for fam in sample.families:
        if fam.family_id in before:
            assert fam.intensity == up.get(before[fam.family_id], Intensity.high)


def test_zero_factor_and_urgency_down(example: fa.Scenario) -> None:
    block = _block({"enrollment": [{"site": ["Riverside"], "factor": 0}], "mix": {"urgency": -1}})
    sample = sample_scenario(example, block, 0)
    assert all(f.site != "Riverside" for f in sample.families)
    before = {f.family_id: f.urgency for f in example.families}
    assert all(f.urgency == max(before[f.family_id] - 1, 1) for f in sample.families)


@settings(max_examples=25, deadline=None)
@given(
    factor=st.floats(min_value=0.0, max_value=3.0),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_enrollment_factor_scales_the_matching_families(factor: float, seed: int) -> None:
    scenario = springfield()
    block = _block({"enrollment": [{"site": ["Maple Grove"], "factor": factor}]})
    sample = sample_scenario(scenario, block, seed)
    matching = sum(f.site == "Maple Grove" for f in scenario.families)
    after = sum(f.site == "Maple Grove" for f in sample.families)
    assert after == matching + round((max(factor, 1e-9) - 1) * matching)
    assert [f for f in sample.families if f.site != "Maple Grove"] == [
        f for f in scenario.families if f.site != "Maple Grove"
    ]


def test_written_scenario_keeps_its_block(tmp_path: Path, example: fa.Scenario) -> None:
    folder = fa.write_scenario(example, tmp_path / "copy")
    assert fa.read_scenario(folder).scenario.uncertainty == example.uncertainty
