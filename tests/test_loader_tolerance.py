"""The everyday loader is as tolerant as the importer where nothing is lost, and warns about
what silently changes results (issue 17 and the loader part of issue 18)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from builders import write_files, write_xlsx

from famassign.models import ScenarioError
from famassign.models.loading import read_frames, read_scenario_files
from famassign.models.plausibility import PLAUSIBLE_EXCEPTION_CAP


def _problems(exc: pytest.ExceptionInfo[ScenarioError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


def _sheet_rows(text: str) -> list[list[str]]:
    return [line.split(",") for line in text.splitlines()]


def _workbook(path: Path, sheets: dict[str, str]) -> None:
    write_xlsx(path, {title: _sheet_rows(text) for title, text in sheets.items()})


def test_headers_with_spaces_and_language_names_in_either_file(
    tmp_path: Path, good_files: dict[str, str | bytes]
) -> None:
    families = str(good_files["families.csv"])
    header, body = families.split("\n", 1)
    header = header.replace("family_id", "Family ID").replace(
        "current_staff_id", "Current Staff ID"
    )
    body = body.replace("f2,es,", "f2,Spanish,").replace("f6,es,", "f6,español,")
    good_files["families.csv"] = header + "\n" + body
    good_files["staff.csv"] = str(good_files["staff.csv"]).replace(
        "s3,Chloe,1,ar;en", "s3,Chloe,1,Arabic;en"
    )
    loaded = read_scenario_files(write_files(tmp_path / "s", good_files))
    s = loaded.scenario
    assert s.family_by_id["f2"].language == "es" and s.family_by_id["f6"].language == "es"
    assert s.family_by_id["f1"].current_staff_id == "s1"
    assert s.staff_by_id["s3"].languages == ("ar", "en")
    assert loaded.warnings == ()


def test_unplaceable_header_gets_a_did_you_mean(
    tmp_path: Path, good_files: dict[str, str | bytes]
) -> None:
    good_files["families.csv"] = str(good_files["families.csv"]).replace("urgency", "urgncy", 1)
    with pytest.raises(ScenarioError) as exc:
        read_scenario_files(write_files(tmp_path / "s", good_files))
    assert (
        "families.csv:1:urgency: required column is missing (is 'urgncy' meant to be 'urgency'?)"
        in (_problems(exc))
    )
    good_files["families.csv"] = str(good_files["families.csv"]).replace("urgncy", "urgency")
    good_files["staff.csv"] = str(good_files["staff.csv"]).replace("agencies", "agencys")
    loaded = read_scenario_files(write_files(tmp_path / "t", good_files))
    assert [str(w) for w in loaded.warnings] == [
        "staff.csv:1:agencys: unknown column; ignored (did you mean 'agencies'?)"
    ]


def test_workbook_whose_only_sheet_has_another_name(
    tmp_path: Path, good_files: dict[str, str | bytes]
) -> None:
    folder = tmp_path / "s"
    staff = str(good_files.pop("staff.csv"))
    write_files(folder, good_files)
    _workbook(folder / "staff.xlsx", {"Sheet1": staff})
    assert len(read_scenario_files(folder).scenario.staff) == 4


def test_one_program_workbook_with_families_and_staff_sheets(
    tmp_path: Path, good_files: dict[str, str | bytes]
) -> None:
    folder = tmp_path / "s"
    families = str(good_files.pop("families.csv"))
    staff = str(good_files.pop("staff.csv"))
    write_files(folder, good_files)
    _workbook(folder / "program.xlsx", {"Families": families, "Staff": staff, "Notes": "x,y"})
    s = read_scenario_files(folder).scenario
    assert (len(s.families), len(s.staff)) == (7, 4)


def test_a_directory_where_families_csv_should_be(
    tmp_path: Path, good_files: dict[str, str | bytes]
) -> None:
    good_files.pop("families.csv")
    folder = write_files(tmp_path / "s", good_files)
    (folder / "families.csv").mkdir()
    with pytest.raises(ScenarioError) as exc:
        read_scenario_files(folder)
    assert f"{folder / 'families.csv'}: is a directory, not a file: remove or rename it" in (
        _problems(exc)
    )


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "families.csv",
            "f5,en,North",
            "f2,en,North",
            "families.csv:6:family_id: duplicate family_id 'f2'; ids must be unique "
            "(also on row 3)",
        ),
        (
            "staff.csv",
            "s4,Dev",
            "s1,Dev",
            "staff.csv:5:staff_id: duplicate staff_id 's1'; ids must be unique (also on row 2)",
        ),
        (
            "scenario.yaml",
            "exception_id: W2",
            "exception_id: W1",
            "scenario.yaml:10:exceptions[0].exception_id: duplicate exception_id 'W1'; ids must be "
            "unique (also on row 2 of exceptions.csv)",
        ),
    ],
)
def test_duplicates_name_both_rows(
    tmp_path: Path, good_files: dict[str, str | bytes], file: str, old: str, new: str, expected: str
) -> None:
    good_files[file] = str(good_files[file]).replace(old, new)
    with pytest.raises(ScenarioError) as exc:
        read_scenario_files(write_files(tmp_path / "s", good_files))
    assert expected in _problems(exc)


def test_warnings_for_what_silently_changes_results(
    tmp_path: Path, good_files: dict[str, str | bytes]
) -> None:
    no_date = dict(good_files)
    no_date["scenario.yaml"] = str(no_date["scenario.yaml"]).replace("as_of: 2026-08-17\n", "")
    no_date["exceptions.csv"] = "exception_id,kind,staff_id,max_families,starts,ends\n"
    no_date["scenario.yaml"] = str(no_date["scenario.yaml"]).split("exceptions:")[0]
    warned = [str(w) for w in read_scenario_files(write_files(tmp_path / "a", no_date)).warnings]
    assert len(warned) == 1 and warned[0].startswith("scenario.yaml::as_of: no as_of")
    assert "depends on the day it is run" in warned[0]

    odd = dict(good_files)
    odd["scenario.yaml"] = str(odd["scenario.yaml"]).replace("2026-08-17", "1900-01-01")
    odd["exceptions.csv"] = (
        "exception_id,kind,staff_id,max_families,starts,ends,reference\n"
        "W1,waiver,s1,1000,1899-07-01,1900-06-30,HHS-1\n"
    )
    odd["scenario.yaml"] = str(odd["scenario.yaml"]).split("exceptions:")[0]
    warned = [str(w) for w in read_scenario_files(write_files(tmp_path / "b", odd)).warnings]
    assert any(w.startswith("scenario.yaml::as_of: as_of 1900-01-01 is more than") for w in warned)
    assert (
        "exceptions.csv:2:max_families: 1000 families per staff member is far above any "
        f"plausible relaxed caseload (more than {PLAUSIBLE_EXCEPTION_CAP}): is it a typo?"
    ) in warned
    assert not any("starts" in w for w in warned)  # a year from as_of is not far

    frames_warned = read_frames(*_frames(), config={"as_of": "2026-08-17"}).warnings
    assert frames_warned == ()


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    families = pd.DataFrame(
        {
            "family_id": ["a"],
            "language": ["Spanish"],
            "site": ["X"],
            "urgency": [3],
            "intensity": [1],
        }
    )
    staff = pd.DataFrame({"staff_id": ["s"], "languages": ["es"], "sites": ["X"]})
    return families, staff
