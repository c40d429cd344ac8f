"""`famassign validate` on a good scenario and on many defective ones (exit 2, located problems)."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from builders import write_files
from openpyxl import Workbook
from typer.testing import CliRunner

from famassign.cli import app
from famassign.commands.common import guarded

runner = CliRunner()


def _latin1(file: str) -> Callable[[dict[str, str | bytes]], None]:
    def edit(files: dict[str, str | bytes]) -> None:
        text = files[file]
        assert isinstance(text, str)
        files[file] = text.replace("f3", "f\u00e9").encode("latin-1")

    return edit


def _semicolons(file: str) -> Callable[[dict[str, str | bytes]], None]:
    def edit(files: dict[str, str | bytes]) -> None:
        text = files[file]
        assert isinstance(text, str)
        files[file] = text.replace(",", ";")

    return edit


def _replace(file: str, old: str, new: str) -> Callable[[dict[str, str | bytes]], None]:
    def edit(files: dict[str, str | bytes]) -> None:
        text = files[file]
        assert isinstance(text, str) and old in text, (file, old)
        files[file] = text.replace(old, new, 1)

    return edit


def _drop(file: str) -> Callable[[dict[str, str | bytes]], None]:
    def edit(files: dict[str, str | bytes]) -> None:
        del files[file]

    return edit


def _set(file: str, content: str | bytes) -> Callable[[dict[str, str | bytes]], None]:
    def edit(files: dict[str, str | bytes]) -> None:
        files[file] = content

    return edit


def _xlsx(sheet: str, rows: Sequence[Sequence[object]], *others: str) -> bytes:
    workbook = Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = sheet
    for row in rows:
        ws.append(row)
    for other in others:
        workbook.create_sheet(other)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _staff_as_xlsx(sheet: str, *others: str) -> Callable[[dict[str, str | bytes]], None]:
    def edit(files: dict[str, str | bytes]) -> None:
        text = files.pop("staff.csv")
        assert isinstance(text, str)
        files["staff.xlsx"] = _xlsx(sheet, [line.split(",") for line in text.splitlines()], *others)

    return edit


FAM_HEADER = (
    "family_id,language,site,program_option,urgency,intensity,needs,interests,"
    "disability_services,external_plan_agency,current_staff_id,pinned"
)

# (case id, edit, expected fragments of stderr: each one must appear)
DEFECTS: list[tuple[str, Callable[[dict[str, str | bytes]], None], list[str]]] = [
    (
        "urgency_out_of_range",
        _replace("families.csv", "f5,en,North,center_based,1,", "f5,en,North,center_based,9,"),
        ["families.csv:6:urgency: '9' is not a whole number from 1 to 5"],
    ),
    (
        "urgency_not_number",
        _replace("families.csv", ",4,medium,transitions", ",four,medium,transitions"),
        ["families.csv:3:urgency: 'four'"],
    ),
    (
        "bad_intensity",
        _replace("families.csv", ",3,low,", ",3,extreme,"),
        ["families.csv:4:intensity: 'extreme' is not valid"],
    ),
    (
        "unknown_pfce_code",
        _replace("families.csv", "well_being;learners", "well_being;happiness"),
        ["families.csv:2:needs: 'happiness' is not valid"],
    ),
    (
        "bad_boolean",
        _replace("families.csv", ",true,,s1,true", ",maybe,,s1,true"),
        ["families.csv:2:disability_services: 'maybe' is not true or false"],
    ),
    (
        "bad_fte",
        _replace("staff.csv", "s2,Ben,0.5", "s2,Ben,1.5"),
        ["staff.csv:3:fte: '1.5' is not a number above 0 and at most 1"],
    ),
    (
        "bad_status",
        _replace("staff.csv", ",absent,", ",on_leave,"),
        ["staff.csv:5:status: 'on_leave' is not valid"],
    ),
    (
        "duplicate_family_id",
        _replace("families.csv", "f6,es,South", "f5,es,South"),
        ["families.csv:7:family_id: duplicate family_id 'f5'"],
    ),
    (
        "duplicate_staff_id",
        _replace("staff.csv", "s3,Chloe", "s2,Chloe"),
        ["staff.csv:4:staff_id: duplicate staff_id 's2'"],
    ),
    (
        "dangling_current_staff",
        _replace("families.csv", ",County Health,s1,false", ",County Health,s9,false"),
        ["families.csv:3:current_staff_id: unknown staff_id 's9'"],
    ),
    (
        "dangling_conflict_staff",
        _replace("conflicts.csv", "f2,s2", "f2,s7"),
        ["conflicts.csv:2:staff_id: unknown staff_id 's7'"],
    ),
    (
        "dangling_conflict_family",
        _replace("conflicts.csv", "f2,s2", "f99,s2"),
        ["conflicts.csv:2:family_id: unknown family_id 'f99'"],
    ),
    (
        "dangling_exception_staff",
        _replace("exceptions.csv", "W1,waiver,s1", "W1,waiver,s8"),
        ["exceptions.csv:2:staff_id: unknown staff_id 's8'"],
    ),
    (
        "missing_required_column",
        _replace("families.csv", FAM_HEADER, FAM_HEADER.replace("urgency", "urgent")),
        ["families.csv:1:urgency: required column is missing"],
    ),
    (
        "missing_families_file",
        _drop("families.csv"),
        ["families.csv: required file is missing (families.csv or families.xlsx)"],
    ),
    ("missing_staff_file", _drop("staff.csv"), ["staff.csv: required file is missing"]),
    (
        "bad_date",
        _replace("exceptions.csv", "2026-07-01", "07/01/2026"),
        ["exceptions.csv:2:starts: '07/01/2026' is not a date: use YYYY-MM-DD"],
    ),
    (
        "impossible_date",
        _replace("exceptions.csv", "2027-06-30", "2027-02-30"),
        ["exceptions.csv:2:ends: '2027-02-30' is not a date"],
    ),
    (
        "ends_before_starts",
        _replace("exceptions.csv", "2026-07-01,2027-06-30", "2027-07-01,2027-06-30"),
        ["exceptions.csv:2:ends: ends 2027-06-30 is before starts 2027-07-01"],
    ),
    (
        "waiver_without_reference",
        _replace("exceptions.csv", "HHS-ACF-2026-017", ""),
        ["exceptions.csv:2:reference: a waiver needs the approval reference"],
    ),
    (
        "exception_cap_not_above_40",
        _replace("exceptions.csv", "s1,45,", "s1,40,"),
        ["exceptions.csv:2:max_families: '40' is not a whole number from 41 to 1000"],
    ),
    (
        "policy_cap_raised",
        _replace("scenario.yaml", "max_families_per_staff: 40", "max_families_per_staff: 45"),
        ["scenario.yaml:4:policy.max_families_per_staff: max_families_per_staff 45 is above 40"],
    ),
    (
        "yaml_syntax_error",
        _replace("scenario.yaml", "  prorate_by_fte: true", "  prorate_by_fte: [true"),
        ["scenario.yaml:", "not valid YAML"],
    ),
    (
        "yaml_top_level_list",
        _set("scenario.yaml", "- a\n- b\n"),
        ["scenario.yaml: the top level must be a mapping"],
    ),
    (
        "yaml_exception_bad",
        _replace("scenario.yaml", "max_families: 44", "max_families: 39"),
        ["scenario.yaml:13:exceptions[0].max_families: '39' is not a whole number from 41"],
    ),
    (
        "duplicate_exception_across_yaml_and_csv",
        _replace("scenario.yaml", "exception_id: W2", "exception_id: W1"),
        ["scenario.yaml:10:exceptions[0].exception_id: duplicate exception_id 'W1'"],
    ),
    (
        "bad_as_of",
        _replace("scenario.yaml", "as_of: 2026-08-17", "as_of: 2026-13-01"),
        ["scenario.yaml:2:as_of: '2026-13-01' is not a date"],
    ),
    (
        "non_utf8",
        _latin1("families.csv"),
        ["families.csv:4: not UTF-8 text", "save it as CSV UTF-8"],
    ),
    (
        "semicolon_delimiter",
        _semicolons("families.csv"),
        ["families.csv:1: the header is a single column", "use commas"],
    ),
    (
        "too_many_fields",
        _replace("families.csv", "f5,en,North", "f5,en,North,extra"),
        ["families.csv:6: row has 13 fields but the header has 12"],
    ),
    (
        "xlsx_missing_sheet",
        _staff_as_xlsx("Sheet1", "Notes"),  # an only sheet is read whatever its name
        ["staff.xlsx: sheet 'staff' is missing (the workbook has: Sheet1, Notes)"],
    ),
    (
        "pinned_without_current_staff",
        _replace(
            "families.csv",
            "f5,en,North,center_based,1,1,,,,,,",
            "f5,en,North,center_based,1,1,,,,,,true",
        ),
        ["families.csv:6:pinned: pinned is true but current_staff_id is blank"],
    ),
    (
        "pinned_breaks_language",
        _replace(
            "families.csv", "f1,en,North,center_based,5,high,", "f1,zh,North,center_based,5,high,"
        ),
        ["families.csv:2:pinned: pinned to s1, but s1 does not speak zh"],
    ),
    (
        "staff_blank_languages",
        _replace("staff.csv", "s2,Ben,0.5,en,", "s2,Ben,0.5,,"),
        ["staff.csv:3:languages: required value is blank"],
    ),
    ("empty_families", _set("families.csv", FAM_HEADER + "\n"), ["families.csv: no families"]),
    ("binary_garbage", _set("staff.csv", bytes(range(256)) * 4), ["staff.csv", "not UTF-8"]),
    (
        "unterminated_quote",
        _set("conflicts.csv", 'family_id,staff_id,reason\nf2,s2,"neighb\n'),
        ["conflicts.csv", "cannot read as CSV"],
    ),
]


def _run(folder: Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["validate", str(folder)])
    return result.exit_code, result.stdout, result.stderr


def test_good_scenario_exits_0(good_scenario_dir: Path) -> None:
    code, out, err = _run(good_scenario_dir)
    assert code == 0, err
    assert "families: 7" in out
    assert "active 3, absent 1, departed 0" in out
    assert "W1: waiver" in out and "HHS-ACF-2026-017" in out
    assert "E9 expired" in out
    assert "Traceback" not in err


@pytest.mark.parametrize(("case", "edit", "expected"), DEFECTS, ids=[d[0] for d in DEFECTS])
def test_defective_scenario_exits_2(
    tmp_path: Path,
    good_files: dict[str, str | bytes],
    case: str,
    edit: Callable[[dict[str, str | bytes]], None],
    expected: list[str],
) -> None:
    files = good_files
    edit(files)
    folder = write_files(tmp_path / case, files)
    before = sorted(p.name for p in folder.iterdir())
    code, out, err = _run(folder)
    assert code == 2, (out, err)
    for fragment in expected:
        assert fragment in err, err
    assert "Traceback" not in err and "Traceback" not in out
    assert sorted(p.name for p in folder.iterdir()) == before  # writes nothing


def test_at_least_twenty_defects() -> None:
    assert len(DEFECTS) >= 20


def test_every_problem_is_reported(tmp_path: Path, good_files: dict[str, str | bytes]) -> None:
    files = good_files
    _replace("families.csv", "f5,en,North,center_based,1,", "f5,en,North,center_based,9,")(files)
    _replace("staff.csv", "s2,Ben,0.5", "s2,Ben,zero")(files)
    _replace("conflicts.csv", "f2,s2", "f2,s7")(files)
    _replace("scenario.yaml", "max_families_per_staff: 40", "max_families_per_staff: 41")(files)
    code, _, err = _run(write_files(tmp_path / "many", files))
    assert code == 2
    for fragment in (
        "families.csv:6:urgency",
        "staff.csv:3:fte",
        "conflicts.csv:2:staff_id",
        "scenario.yaml:4:policy.max_families_per_staff",
    ):
        assert fragment in err, err


def test_invalid_row_is_not_reported_again_as_dangling(
    tmp_path: Path, good_files: dict[str, str | bytes]
) -> None:
    files = good_files
    _replace("staff.csv", "s2,Ben,0.5", "s2,Ben,2")(files)
    code, _, err = _run(write_files(tmp_path / "echo", files))
    assert code == 2
    assert "staff.csv:3:fte" in err
    assert "unknown staff_id 's2'" not in err


def test_unknown_columns_and_keys_are_warnings(
    tmp_path: Path, good_files: dict[str, str | bytes]
) -> None:
    files = good_files
    _replace("families.csv", "pinned\n", "pinned,favourite_colour\n")(files)
    _replace("scenario.yaml", "variants: []", "variants: []\nowner: someone")(files)
    code, out, err = _run(write_files(tmp_path / "extra", files))
    assert code == 0, err
    assert "families.csv:1:favourite_colour: unknown column; ignored" in err
    assert "scenario.yaml:17:owner: unknown key; ignored" in err
    assert "2 warning(s)" in out


def test_capacity_shortfall_warning(tmp_path: Path, good_files: dict[str, str | bytes]) -> None:
    files = good_files
    extra = "".join(f"x{i},ar,North,center_based,3,low,,,,,,\n" for i in range(31))
    families = files["families.csv"]
    assert isinstance(families, str)
    files["families.csv"] = families + extra
    code, out, err = _run(write_files(tmp_path / "short", files))
    assert code == 0, err
    assert "warning: 1 group(s)" in out
    assert "ar x North x center_based: 31 families" in out and "(s3) can take at most 30" in out


def test_xlsx_tables_are_accepted(tmp_path: Path, good_files: dict[str, str | bytes]) -> None:
    files = good_files
    _staff_as_xlsx("staff")(files)
    code, out, err = _run(write_files(tmp_path / "xlsx", files))
    assert code == 0, err
    assert "staff: 4" in out


def test_xlsx_formula_is_an_error(tmp_path: Path, good_files: dict[str, str | bytes]) -> None:
    files = good_files
    text = files.pop("staff.csv")
    assert isinstance(text, str)
    rows = [line.split(",") for line in text.splitlines()]
    rows[2][2] = "=1/2"
    files["staff.xlsx"] = _xlsx("staff", rows)
    code, _, err = _run(write_files(tmp_path / "formula", files))
    assert code == 2
    assert "staff.xlsx:3:column 3: '=1/2' is a formula" in err


def test_unexpected_exception_is_one_line_exit_1() -> None:
    import typer

    local = typer.Typer()

    @local.command()
    @guarded
    def boom(count: int = 1) -> int:
        raise RuntimeError(f"kaput {count}")

    @local.command()
    @guarded
    def fine() -> int:
        return 3

    result = runner.invoke(local, ["boom", "--count", "2"])
    assert result.exit_code == 1
    assert "internal error: RuntimeError: kaput 2" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert runner.invoke(local, ["fine"]).exit_code == 3


def test_subprocess_good_and_bad(
    good_scenario_dir: Path, tmp_path: Path, good_files: dict[str, str | bytes]
) -> None:
    command = [sys.executable, "-m", "famassign", "validate"]
    good = subprocess.run(
        [*command, str(good_scenario_dir)], capture_output=True, text=True, timeout=60
    )
    assert good.returncode == 0, good.stderr
    assert "valid" in good.stdout
    files = good_files
    files["families.csv"] = b"\xff\xfe\x00garbage"
    bad = subprocess.run(
        [*command, str(write_files(tmp_path / "bad", files))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "families.csv" in bad.stderr and "Traceback" not in bad.stderr


def test_missing_folder_and_bad_arguments(tmp_path: Path) -> None:
    code, _, err = _run(tmp_path / "nowhere")
    assert code == 2 and "scenario folder not found" in err
    assert runner.invoke(app, ["validate"]).exit_code == 2
