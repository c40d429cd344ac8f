"""Loading, writing and the DataFrame path: round trips, located problems, warnings, size."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from famassign.models import (
    CapException,
    Conflict,
    ExceptionKind,
    Family,
    Intensity,
    IntensityWeights,
    LanguagePolicy,
    LocatedProblem,
    Outcome,
    Policy,
    ProgramOption,
    Scenario,
    ScenarioError,
    Staff,
    StaffStatus,
    Weights,
)
from famassign.models.loading import load_scenario, read_frames, read_scenario_files
from famassign.models.summary import capacity_shortfalls, summary_text
from famassign.models.writing import write_scenario
from famassign.scenarios.reading import scenario_from_frames


def _problems(exc: pytest.ExceptionInfo[ScenarioError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


def test_good_scenario_loads(good_scenario_dir: Path) -> None:
    loaded = read_scenario_files(good_scenario_dir)
    s = loaded.scenario
    assert s.name == "Test Head Start" and s.as_of == date(2026, 8, 17)
    assert [f.family_id for f in s.families] == [f"f{i}" for i in range(1, 8)]
    f3 = s.family_by_id["f3"]
    assert f3.language == "en" and f3.program_option is ProgramOption.center_based
    assert f3.current_staff_id is None and f3.pinned is False and f3.needs == ()
    assert s.family_by_id["f4"].intensity is Intensity.medium  # "2"
    assert s.family_by_id["f6"].disability_services is True  # "yes"
    assert s.family_by_id["f1"].needs == (Outcome.learners, Outcome.well_being)
    assert s.staff_by_id["s3"].sites == ("*",) and s.staff_by_id["s3"].max_families == 30
    assert s.staff_by_id["s2"].program_options == tuple(sorted(ProgramOption))
    assert s.staff_by_id["s4"].status is StaffStatus.absent
    # CSV exceptions first, then scenario.yaml
    assert [e.exception_id for e in s.exceptions] == ["W1", "E9", "W2"]
    assert [e.exception_id for e in s.exceptions_in_force()] == ["W1", "W2"]
    assert loaded.notes == ("exception E9 expired on 2025-03-31; ignored",)
    assert loaded.warnings == ()
    assert load_scenario(good_scenario_dir) == s
    assert read_scenario_files(good_scenario_dir / "scenario.yaml").scenario == s


def test_round_trip_good_scenario(good_scenario_dir: Path, tmp_path: Path) -> None:
    scenario = load_scenario(good_scenario_dir)
    out = write_scenario(scenario, tmp_path / "copy")
    assert load_scenario(out) == scenario
    # writing again over the same folder is fine and still equal
    assert load_scenario(write_scenario(scenario, out)) == scenario


def test_bom_blank_lines_and_case(good_files: dict[str, str | bytes], tmp_path: Path) -> None:
    families = good_files["families.csv"]
    assert isinstance(families, str)
    header, *rows = families.splitlines()
    text = "\n".join([header.upper(), rows[0], "", ",,,,,,,,,,,", *rows[1:]]) + "\n\n"
    good_files["families.csv"] = "\ufeff".encode() + text.encode()
    folder = tmp_path / "bom"
    folder.mkdir()
    for name, content in good_files.items():
        path = folder / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    scenario = load_scenario(folder)
    assert len(scenario.families) == 7
    # a problem after the blank lines is located on its real line
    text = text.replace("f4,ar,South,home_based,2,", "f4,ar,South,home_based,7,")
    (folder / "families.csv").write_text(text, encoding="utf-8-sig")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(folder)
    assert _problems(exc) == ["families.csv:7:urgency: '7' is not a whole number from 1 to 5"]


def test_multiline_cell_keeps_line_numbers(
    good_files: dict[str, str | bytes], tmp_path: Path
) -> None:
    staff = good_files["staff.csv"]
    assert isinstance(staff, str)
    staff = staff.replace("s1,Ana,", 's1,"Ana\nMaria",').replace(",absent,", ",gone,")
    good_files["staff.csv"] = staff
    folder = tmp_path / "multi"
    folder.mkdir()
    for name, content in good_files.items():
        assert isinstance(content, str)
        (folder / name).write_text(content, encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(folder)
    assert _problems(exc)[0].startswith("staff.csv:6:status: 'gone' is not valid")


def test_frames_path_matches_folder(good_scenario_dir: Path) -> None:
    folder = load_scenario(good_scenario_dir)
    frames = {
        name: pd.read_csv(good_scenario_dir / f"{name}.csv")  # typed: ints, floats, NaN, bools
        for name in ("families", "staff", "exceptions", "conflicts")
    }
    import yaml

    config = yaml.safe_load((good_scenario_dir / "scenario.yaml").read_text())
    scenario = scenario_from_frames(
        frames["families"], frames["staff"], frames["exceptions"], frames["conflicts"], config
    )
    assert scenario == folder


def test_frames_python_values() -> None:
    families = pd.DataFrame(
        {
            "family_id": ["a", "b"],
            "language": ["EN", "es"],
            "site": ["X", "X"],
            "urgency": [5, 2],
            "intensity": [3, "low"],
            "needs": [["well_being", "learners"], None],
            "pinned": [False, None],
            "shoe_size": [40, 41],
        }
    )
    staff = pd.DataFrame(
        {"staff_id": ["s"], "languages": [("en", "es")], "sites": ["*"], "fte": [0.8]}
    )
    exceptions = pd.DataFrame(
        {
            "exception_id": ["T"],
            "kind": ["transition"],
            "max_families": [42],
            "starts": [pd.Timestamp("2026-01-01")],
            "ends": [date(2026, 12, 31)],
        }
    )
    loaded = read_frames(families, staff, exceptions, config={"as_of": date(2026, 6, 1)})
    s = loaded.scenario
    assert s.family_by_id["a"].intensity is Intensity.high
    assert s.family_by_id["a"].needs == (Outcome.learners, Outcome.well_being)
    assert s.staff_by_id["s"].languages == ("en", "es")
    assert s.exceptions[0].in_force(s.as_of)
    assert loaded.warnings == (
        LocatedProblem("families.csv", 1, "shoe_size", "unknown column; ignored"),
    )


def test_frames_problems_are_named_after_files() -> None:
    families = pd.DataFrame(
        {
            "family_id": ["a", "b"],
            "language": ["en", "en"],
            "site": ["X", "X"],
            "urgency": [3, 0],
            "intensity": ["low", "low"],
            "current_staff_id": ["zz", None],
        }
    )
    staff = pd.DataFrame({"staff_id": ["s"], "languages": ["en"], "sites": ["X"]})
    with pytest.raises(ScenarioError) as exc:
        scenario_from_frames(
            families, staff, config={"policy": {"max_families_per_staff": 50}, "colour": "blue"}
        )
    assert _problems(exc) == [
        "scenario.yaml::policy.max_families_per_staff: max_families_per_staff 50 is above 40; "
        "1302.52(d)(2) allows more only under an exception (add a waiver or a temporary "
        "exception instead)",
        "families.csv:2:current_staff_id: unknown staff_id 'zz'; it must be a staff_id in staff",
        "families.csv:3:urgency: '0' is not a whole number from 1 to 5",
    ]


def test_frames_missing_column_and_not_a_frame() -> None:
    staff = pd.DataFrame({"staff_id": ["s"], "languages": ["en"]})
    with pytest.raises(ScenarioError) as exc:
        scenario_from_frames([1, 2], staff)  # type: ignore[arg-type]
    problems = _problems(exc)
    assert problems[0].startswith("families.csv: expected a pandas DataFrame")
    assert "staff.csv:1:sites: required column is missing" in problems


def test_both_csv_and_xlsx_is_an_error(good_scenario_dir: Path) -> None:
    (good_scenario_dir / "staff.xlsx").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(good_scenario_dir)
    assert "both staff.csv and staff.xlsx exist: keep only one" in _problems(exc)[0]


def test_yaml_unknown_nested_key_is_a_warning(good_scenario_dir: Path) -> None:
    path = good_scenario_dir / "scenario.yaml"
    path.write_text(
        path.read_text().replace("  language: required", "  language: required\n  colour: blue")
    )
    loaded = read_scenario_files(good_scenario_dir)
    assert [str(w) for w in loaded.warnings] == [
        "scenario.yaml:7:policy.colour: unknown key; ignored"
    ]


def test_summary_and_shortfall(good_scenario_dir: Path) -> None:
    scenario = load_scenario(good_scenario_dir)
    assert capacity_shortfalls(scenario) == []
    text = summary_text(scenario)
    assert (
        "capacity of active staff under the cap: 90 families (97 with exceptions in force)" in text
    )
    assert len(text.splitlines()) < 40


def test_write_refuses_semicolon_in_list(tmp_path: Path) -> None:
    scenario = Scenario(
        families=(Family(family_id="a", language="en", site="X;Y", urgency=1, intensity="low"),),
        staff=(Staff(staff_id="s", languages=("en",), sites=("X;Y",)),),
    )
    with pytest.raises(ValueError, match="cannot be written"):
        write_scenario(scenario, tmp_path / "x")


def test_hundred_thousand_families_load_quickly(good_scenario_dir: Path) -> None:
    path = good_scenario_dir / "families.csv"
    header = path.read_text().splitlines()[0]
    rows = [
        f"F{i},{'en' if i % 3 else 'es'},{'North' if i % 2 else 'South'},center_based,"
        f"{i % 5 + 1},{('low', 'medium', 'high')[i % 3]},well_being;learners,,,,,"
        for i in range(100_000)
    ]
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    (good_scenario_dir / "conflicts.csv").unlink()
    start = time.perf_counter()
    scenario = load_scenario(good_scenario_dir)
    elapsed = time.perf_counter() - start
    assert len(scenario.families) == 100_000
    assert elapsed < 30, elapsed  # about 3 s on 2 shared cores


# --- round trip as a property over small random scenarios -----------------------------------

_ids = st.text(alphabet="abcdefghijkmnopqrstuvwxyz0123456789_-", min_size=1, max_size=8)
_codes = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=3)
_free_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=";")
    | st.sampled_from([",", '"', "\n", "'", "="]),
    min_size=1,
    max_size=20,
).filter(lambda t: t.strip() != "")
_outcomes = st.lists(st.sampled_from(list(Outcome)), max_size=3).map(tuple)
_day = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    staff_ids = draw(st.lists(_ids, min_size=1, max_size=4, unique=True))
    family_ids = draw(st.lists(_ids, min_size=1, max_size=8, unique=True))
    sites = draw(st.lists(_free_text, min_size=1, max_size=3, unique_by=str.strip))
    staff = tuple(
        Staff(
            staff_id=sid,
            name=draw(st.none() | _free_text),
            fte=draw(st.floats(min_value=0.05, max_value=1.0)),
            languages=tuple(draw(st.lists(_codes, min_size=1, max_size=3))),
            sites=draw(st.just(("*",)) | st.lists(st.sampled_from(sites), min_size=1).map(tuple)),
            program_options=tuple(draw(st.lists(st.sampled_from(list(ProgramOption)), max_size=2))),
            strengths=draw(_outcomes),
            disability_services=draw(st.booleans()),
            agencies=tuple(draw(st.lists(_free_text, max_size=2))),
            status=draw(st.sampled_from(list(StaffStatus))),
            max_families=draw(st.none() | st.integers(0, 40)),
        )
        for sid in staff_ids
    )
    families = tuple(
        Family(
            family_id=fid,
            language=draw(_codes),
            site=draw(st.sampled_from(sites)),
            program_option=draw(st.sampled_from(list(ProgramOption))),
            urgency=draw(st.integers(1, 5)),
            intensity=draw(st.sampled_from(list(Intensity))),
            needs=draw(_outcomes),
            interests=draw(_outcomes),
            disability_services=draw(st.booleans()),
            external_plan_agency=draw(st.none() | _free_text),
            current_staff_id=draw(st.none() | st.sampled_from(staff_ids)),
        )
        for fid in family_ids
    )
    exceptions = []
    for eid in draw(st.lists(_ids, max_size=2, unique=True)):
        kind = draw(st.sampled_from(list(ExceptionKind)))
        starts = draw(_day)
        exceptions.append(
            CapException(
                exception_id=eid,
                kind=kind,
                staff_id=draw(st.none() | st.sampled_from(staff_ids)),
                max_families=draw(st.integers(41, 1000)),
                starts=starts,
                ends=draw(st.dates(min_value=starts, max_value=date(2031, 1, 1))),
                reference=draw(
                    _free_text if kind is ExceptionKind.waiver else st.none() | _free_text
                ),
                note=draw(st.none() | _free_text),
            )
        )
    conflicts = tuple(
        Conflict(family_id=f, staff_id=s, reason=draw(st.none() | _free_text))
        for f, s in draw(
            st.lists(st.tuples(st.sampled_from(family_ids), st.sampled_from(staff_ids)), max_size=3)
        )
    )
    return Scenario(
        name=draw(_free_text),
        as_of=draw(_day),
        policy=Policy(
            max_families_per_staff=draw(st.integers(1, 40)),
            prorate_by_fte=draw(st.booleans()),
            language=draw(st.sampled_from(list(LanguagePolicy))),
            intensity_weights=IntensityWeights(low=draw(st.floats(0.1, 100)), medium=2, high=3),
        ),
        weights=Weights(
            need=draw(st.integers(0, 1000)), external_plan_load_factor=draw(st.floats(0.01, 1))
        ),
        families=families,
        staff=staff,
        exceptions=tuple(exceptions),
        conflicts=conflicts,
        variants=tuple(
            draw(
                st.lists(
                    st.fixed_dictionaries(  # variants are checked on load: draw valid ones
                        {
                            "name": _ids.filter(lambda n: n.strip().lower() != "base"),
                            "changes": st.just([{"set_weights": {"need": 5}}]),
                        }
                    ),
                    max_size=2,
                    unique_by=lambda v: v["name"].strip().lower(),
                )
            )
        ),
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_round_trip_property(scenario: Scenario, tmp_path: Path) -> None:
    folder = write_scenario(scenario, tmp_path / "rt")
    assert load_scenario(folder) == scenario
