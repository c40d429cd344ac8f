"""Every variant change kind on small generated programs, with its expected effect asserted."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from famassign.cli import app
from famassign.models import LanguagePolicy, ProgramOption, Scenario, ScenarioError, StaffStatus
from famassign.models.loading import read_scenario_files
from famassign.scenarios import GeneratorConfig, generate
from famassign.scenarios.example import example_path
from famassign.scenarios.variants import Variant, apply_variant, parse_variants, variant_problems


@pytest.fixture(scope="module")
def program() -> Scenario:
    return generate(
        GeneratorConfig(n_families=150, n_sites=3, waiver=True, with_current_assignments=True),
        seed=4,
    )


def one(changes: list[dict[str, Any]], name: str = "v") -> Variant:
    variants, problems = parse_variants([{"name": name, "changes": changes}])
    assert not problems, [str(p) for p in problems]
    return variants[0]


def apply(program: Scenario, *changes: dict[str, Any], seed: int = 0) -> Scenario:
    return apply_variant(program, one(list(changes)), seed, index=0)


def errors(program: Scenario, *changes: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        apply(program, *changes)
    return [str(p) for p in info.value.problems]


def test_add_staff(program: Scenario) -> None:
    out = apply(
        program, {"add_staff": {"staff_id": "X1", "languages": "en;ES", "sites": ["site-001"]}}
    )
    added = out.staff_by_id["X1"]
    assert len(out.staff) == len(program.staff) + 1
    assert added.languages == ("en", "es") and added.sites == ("site-001",) and added.fte == 1
    assert out.families == program.families
    dup = program.staff[0].staff_id
    assert errors(
        program, {"add_staff": {"staff_id": dup, "languages": ["en"], "sites": ["*"]}}
    ) == [
        f"scenario.yaml::variants[0].changes[0].add_staff.staff_id: staff_id {dup!r} already "
        "exists (variant 'v')"
    ]


def test_remove_staff_releases_families_and_exceptions(program: Scenario) -> None:
    waived = next(e.staff_id for e in program.exceptions if e.staff_id)
    assert waived is not None
    theirs = {f.family_id for f in program.families if f.current_staff_id == waived}
    assert theirs
    out = apply(program, {"remove_staff": {"staff_id": waived}})
    assert waived not in out.staff_by_id
    assert not [e for e in out.exceptions if e.staff_id == waived]
    for fid in theirs:
        assert out.family_by_id[fid].current_staff_id is None
    assert errors(program, {"remove_staff": {"staff_id": "S99"}}) == [
        "scenario.yaml::variants[0].changes[0].remove_staff.staff_id: unknown staff_id 'S99' "
        "(variant 'v')"
    ]


def test_change_staff(program: Scenario) -> None:
    part = program.staff[0]
    out = apply(
        program,
        {
            "change_staff": {
                "staff_id": part.staff_id,
                "fte": 0.5,
                "status": "absent",
                "languages": ["en", "so"],
                "max_families": 12,
            }
        },
    )
    changed = out.staff_by_id[part.staff_id]
    assert (changed.fte, changed.status, changed.max_families) == (0.5, StaffStatus.absent, 12)
    assert changed.languages == ("en", "so") and changed.sites == part.sites
    cleared = apply_variant(
        out, one([{"change_staff": {"staff_id": part.staff_id, "max_families": None}}])
    )
    assert cleared.staff_by_id[part.staff_id].max_families is None
    _, bad = parse_variants(
        [{"name": "v", "changes": [{"change_staff": {"staff_id": part.staff_id, "fte": 1.5}}]}]
    )
    assert [str(p) for p in bad] == [
        "scenario.yaml::variants[0].changes[0].change_staff.fte: 1.5 is not valid: Input should "
        "be less than or equal to 1 (variant 'v')"
    ]


def test_add_and_remove_exception(program: Scenario) -> None:
    staff_id = program.staff[1].staff_id
    out = apply(
        program,
        {
            "add_exception": {
                "exception_id": "T1",
                "kind": "start_up",
                "staff_id": staff_id,
                "max_families": 44,
                "starts": "2026-08-01",
                "ends": "2026-10-31",
            }
        },
        {"remove_exception": {"exception_id": "W-2026-01"}},
    )
    assert [e.exception_id for e in out.exceptions_in_force()] == ["T1"]
    assert (
        "unknown exception_id 'NOPE'"
        in errors(program, {"remove_exception": {"exception_id": "NOPE"}})[0]
    )
    # a waiver without its reference is refused at parse time, with the path
    _, problems = parse_variants(
        [
            {
                "name": "w",
                "changes": [
                    {
                        "add_exception": {
                            "exception_id": "W9",
                            "kind": "waiver",
                            "max_families": 45,
                            "starts": "2026-01-01",
                            "ends": "2026-12-31",
                        }
                    }
                ],
            }
        ]
    )
    assert len(problems) == 1 and "variants[0].changes[0].add_exception" in str(problems[0])
    assert "reference" in str(problems[0])


def test_scale_enrollment_up_and_down(program: Scenario) -> None:
    site = "site-001"
    at_site = [f for f in program.families if f.site == site]
    up = apply(program, {"scale_enrollment": {"factor": 1.5, "site": site}}, seed=3)
    new = [f for f in up.families if f.family_id.startswith("NEW-")]
    assert len(new) == round(0.5 * len(at_site))
    assert all(f.site == site and f.current_staff_id is None and not f.pinned for f in new)
    # drawn like the existing families: every new family copies the profile of one at the site
    profiles = {(f.language, f.program_option, f.urgency, f.intensity, f.needs) for f in at_site}
    assert all(
        (f.language, f.program_option, f.urgency, f.intensity, f.needs) in profiles for f in new
    )
    again = apply(program, {"scale_enrollment": {"factor": 1.5, "site": site}}, seed=3)
    assert again.families == up.families  # seeded
    es = [f for f in program.families if f.language == "es"]
    down = apply(program, {"scale_enrollment": {"factor": 0.5, "language": "ES"}})
    assert sum(f.language == "es" for f in down.families) == len(es) - round(0.5 * len(es))
    assert (
        Counter(f.language for f in down.families)["en"]
        == Counter(f.language for f in program.families)["en"]
    )
    home = apply(program, {"scale_enrollment": {"factor": 2, "program_option": "home_based"}})
    n_home = sum(f.program_option is ProgramOption.home_based for f in program.families)
    assert sum(f.program_option is ProgramOption.home_based for f in home.families) == 2 * n_home
    assert (
        "no family has site 'Atlantis'"
        in errors(program, {"scale_enrollment": {"factor": 1.1, "site": "Atlantis"}})[0]
    )


def test_close_site_with_and_without_merge(program: Scenario) -> None:
    closed, target = "site-002", "site-001"
    n_closed = sum(f.site == closed for f in program.families)
    merged = apply(program, {"close_site": {"site": closed, "merge_into": target}})
    assert not [f for f in merged.families if f.site == closed]
    assert sum(f.site == target for f in merged.families) == n_closed + sum(
        f.site == target for f in program.families
    )
    for before in program.staff:
        after = merged.staff_by_id[before.staff_id]
        assert closed not in after.sites
        if closed in before.sites:
            assert target in after.sites  # staff follow their families
    closed_only = [s.staff_id for s in program.staff if s.sites == (closed,)]
    gone = apply(program, {"close_site": {"site": closed}})
    assert len(gone.families) == len(program.families) - n_closed
    assert not set(closed_only) & set(gone.staff_by_id)
    assert all(closed not in s.sites for s in gone.staff)
    assert (
        "unknown site 'Nowhere'"
        in errors(program, {"close_site": {"site": closed, "merge_into": "Nowhere"}})[0]
    )


def test_set_policy_and_weights(program: Scenario) -> None:
    out = apply(
        program,
        {
            "set_policy": {
                "max_families_per_staff": 35,
                "language": "preferred",
                "intensity_weights": {"high": 4},
            }
        },
        {"set_weights": {"continuity": 90}},
    )
    assert out.policy.max_families_per_staff == 35
    assert out.policy.language is LanguagePolicy.preferred
    assert out.policy.intensity_weights.high == 4 and out.policy.intensity_weights.low == 1
    assert out.weights.continuity == 90 and out.weights.need == program.weights.need
    assert "above 40" in errors(program, {"set_policy": {"max_families_per_staff": 45}})[0]
    _, problems = parse_variants([{"name": "w", "changes": [{"set_weights": {"need": -1}}]}])
    assert "variants[0].changes[0].set_weights.need" in str(problems[0])


def test_form_problems_are_located_and_name_the_variant() -> None:
    raw = [
        {"name": "ok", "changes": [{"remove_staff": {"staff_id": "S1"}}]},
        {"name": "bad", "changes": [{"hire": {}}, {"remove_staff": {"staf_id": "S1"}}]},
        {"name": "ok", "changes": [{"set_weights": {"need": 1}}]},
        {"name": "base", "changes": []},
    ]
    _, problems = parse_variants(raw, {("variants", 1, "changes", 0): 7})
    text = [str(p) for p in problems]
    assert text[0].startswith("scenario.yaml:7:variants[1].changes[0]: each change is a mapping")
    assert any(
        "variants[1].changes[1].remove_staff.staf_id: unknown field (variant 'bad')" in t
        for t in text
    )
    assert any("required field is missing" in t for t in text)
    assert any("duplicate variant name 'ok'" in t for t in text)
    assert any("variants[3].name" in t and "reserved" in t for t in text)
    assert any("variants[3].changes" in t and "at least one change" in t for t in text)


def test_pin_above_a_lowered_cap_is_reported_at_the_variant() -> None:
    program = generate(
        GeneratorConfig(n_families=80, n_sites=1, with_current_assignments=True, pinned_share=1.0),
        seed=2,
    )
    with pytest.raises(ScenarioError) as info:
        apply(program, {"set_policy": {"max_families_per_staff": 1}})
    assert str(info.value.problems[0]).startswith(
        "scenario.yaml::variants[0]: after the changes of variant 'v': staff"
    )


def test_validate_reports_bad_variants_with_file_line_and_path(tmp_path: Path) -> None:
    source = example_path()
    for f in source.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    assert len(read_scenario_files(tmp_path).scenario.variants) >= 5
    yaml_path = tmp_path / "scenario.yaml"
    text = yaml_path.read_text()
    yaml_path.write_text(text.replace("staff_id: S0009, fte: 1.0", "staff_id: S99, fte: 1.0"))
    line = next(i for i, t in enumerate(yaml_path.read_text().splitlines(), 1) if "S99" in t)
    result = CliRunner().invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 2
    assert (
        f"scenario.yaml:{line}:variants[4].changes[0].change_staff.staff_id: unknown staff_id "
        "'S99' (variant 'part-time advocate full-time')"
    ) in result.output


def test_bundled_example_variants_apply(program: Scenario) -> None:
    loaded = read_scenario_files(example_path())
    assert variant_problems(loaded.scenario) == []
