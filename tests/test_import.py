"""`famassign import` over a corpus of messy exports, generated here: every header style, every
encoding, title rows, workbooks, per-child rows, labels and codes, a value with no mapping, a
family with conflicting rows; then import -> solve -> plan.xlsx read back equals the CSVs."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from builders import write_xlsx
from typer.testing import CliRunner

import famassign as fa
from famassign.cli import app
from famassign.models import Outcome, ProgramOption, ScenarioError
from famassign.models.importing import apply_mapping, import_exports, infer_mapping
from famassign.models.mapping import ImportMapping
from famassign.models.vocabularies import language_code, parse_date, translate

runner = CliRunner()

# The program every export describes: (family, language, site, option, urgency, intensity, needs)
FAMILIES = [
    ("F01", "es", "Peñasco", "home_based", 5, "high", ("well_being",)),
    ("F02", "en", "Peñasco", "center_based", 3, "low", ()),
    ("F03", "es", "Eastside", "center_based", 4, "medium", ("lifelong_educators",)),
    ("F04", "vi", "Eastside", "center_based", 1, "low", ("learners", "transitions")),
    ("F05", "en", "Eastside", "home_based", 2, "medium", ()),
    ("F06", "es", "Peñasco", "center_based", 3, "high", ("connections",)),
]
STAFF = [("S1", "José Núñez", ("en", "es"), "*"), ("S2", "Lan Tran", ("en", "vi"), "Eastside")]

LANG_EN = {"es": "Spanish", "en": "English", "vi": "Vietnamese"}
LANG_ES = {"es": "español", "en": "inglés", "vi": "vietnamita"}
LANG_639_3 = {"es": "spa", "en": "eng", "vi": "vie"}
OPTION = {"home_based": "Home Based", "center_based": "Center-Based"}
URGENCY = {5: "Urgent Need", 4: "Support Needed", 3: "Secure", 2: "Self-Sufficient", 1: "Thriving"}
INTENSITY = {"high": "High", "medium": "Moderate", "low": "Low"}
PFCE = {
    "well_being": "Family Well-being",
    "lifelong_educators": "Families as Lifelong Educators",
    "learners": "Families as Learners",
    "transitions": "Family Engagement in Transitions",
    "connections": "Family Connections to Peers and Community",
}


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _family_rows(
    headers: list[str], languages: dict[str, str] | None = None, labels: bool = True
) -> list[list[str]]:
    rows = [headers]
    for fid, lang, site, option, urgency, intensity, needs in FAMILIES:
        rows.append(
            [
                fid,
                (languages or LANG_EN)[lang],
                site,
                OPTION[option] if labels else option,
                URGENCY[urgency] if labels else str(urgency),
                INTENSITY[intensity] if labels else intensity,
                "; ".join(PFCE[n] for n in needs) if labels else ";".join(needs),
            ]
        )
    return rows


TITLE_HEADERS = [
    "Family ID",
    "Primary Language",
    "Site Name",
    "Program Option",
    "Urgency",
    "Intensity",
    "Needs",
]
SNAKE_HEADERS = ["household_id", "home_language", "center", "program_type", "urgency_level",
                 "service_intensity", "identified_needs"]  # fmt: skip
STAFF_ROWS = [["Staff ID", "Name", "Languages", "Sites"]] + [
    [sid, name, ", ".join(LANG_EN[x] for x in langs), sites] for sid, name, langs, sites in STAFF
]


def _staff_csv(folder: Path) -> Path:
    path = folder / "staff_export.csv"
    path.write_text(_csv(STAFF_ROWS), encoding="utf-8")
    return path


Maker = Callable[[Path], list[Path]]


def _title_case_utf8(folder: Path) -> list[Path]:
    path = folder / "families_export.csv"
    path.write_text(_csv(_family_rows(TITLE_HEADERS)), encoding="utf-8")
    return [path, _staff_csv(folder)]


def _snake_synonyms_bom(folder: Path) -> list[Path]:
    path = folder / "hh.csv"
    path.write_text(_csv(_family_rows(SNAKE_HEADERS)), encoding="utf-8-sig")
    return [path, _staff_csv(folder)]


def _windows_1252_spanish_names(folder: Path) -> list[Path]:
    path = folder / "familias.csv"
    path.write_bytes(_csv(_family_rows(TITLE_HEADERS, LANG_ES)).encode("cp1252"))
    return [path, _staff_csv(folder)]


def _title_rows_above(folder: Path) -> list[Path]:
    path = folder / "report.csv"
    rows = [["Enrollment Report"], ["Run 08/17/2026 by admin"], [], *_family_rows(TITLE_HEADERS)]
    path.write_text(_csv(rows), encoding="utf-8")
    return [path, _staff_csv(folder)]


def _xlsx_title_rows_other_sheet(folder: Path) -> list[Path]:
    path = folder / "export.xlsx"
    write_xlsx(path, {"Export 1": [["Family list"], [], *_family_rows(TITLE_HEADERS)]})
    return [path, _staff_csv(folder)]


def _program_workbook(folder: Path) -> list[Path]:
    path = folder / "program.xlsx"
    write_xlsx(path, {"Families": _family_rows(TITLE_HEADERS), "Advocates": STAFF_ROWS})
    return [path]


def _iso_639_3_codes(folder: Path) -> list[Path]:
    path = folder / "f.csv"
    path.write_text(_csv(_family_rows(TITLE_HEADERS, LANG_639_3, labels=False)), encoding="utf-8")
    return [path, _staff_csv(folder)]


def _fuzzy_header(folder: Path) -> list[Path]:
    path = folder / "families.csv"
    headers = ["Family ID", "Primary Languge", "Site Name", "Program Option", "Urgency",
               "Intensity", "Needs"]  # fmt: skip
    path.write_text(_csv(_family_rows(headers)), encoding="utf-8")
    return [path, _staff_csv(folder)]


def _per_child(folder: Path) -> list[Path]:
    """Two rows for F01 and F03 (one per child), needs split across the children."""
    rows = _family_rows(TITLE_HEADERS)
    header = [*rows[0][:1], "Child Name", *rows[0][1:], "IEP/IFSP"]
    out = [header]
    for row in rows[1:]:
        if row[0] in ("F01", "F03"):
            needs = row[6].split("; ")
            out.append([row[0], "Ana", *row[1:6], needs[0], "N"])
            out.append([row[0], "Luis", *row[1:6], "", "N"])
        else:
            out.append([row[0], "Kid", *row[1:], "N"])
    path = folder / "children.csv"
    path.write_text(_csv(out), encoding="utf-8")
    return [path, _staff_csv(folder)]


CLEAN_CORPUS: dict[str, Maker] = {
    "title_case_utf8": _title_case_utf8,
    "snake_synonyms_utf8_bom": _snake_synonyms_bom,
    "windows_1252_spanish_names": _windows_1252_spanish_names,
    "title_rows_above": _title_rows_above,
    "xlsx_title_rows_other_sheet": _xlsx_title_rows_other_sheet,
    "program_workbook_two_sheets": _program_workbook,
    "iso_639_3_codes": _iso_639_3_codes,
    "fuzzy_header": _fuzzy_header,
    "per_child_rows": _per_child,
}


ExpectedFamily = tuple[str, str, str, ProgramOption, int, str, tuple[Outcome, ...]]
"""A family as read: id, language, site, option, urgency, intensity, needs."""


def _expected_families() -> list[ExpectedFamily]:
    return [
        (
            fid,
            lang,
            site,
            ProgramOption(option),
            urgency,
            intensity,
            tuple(Outcome(n) for n in needs),
        )
        for fid, lang, site, option, urgency, intensity, needs in FAMILIES
    ]


@pytest.mark.parametrize("case", sorted(CLEAN_CORPUS))
def test_clean_export_imports_to_the_same_program(case: str, tmp_path: Path) -> None:
    files = CLEAN_CORPUS[case](tmp_path)
    out = tmp_path / "scenario"
    result = runner.invoke(app, ["import", *map(str, files), "--out", str(out)])
    assert result.exit_code == 0, result.output
    scenario = fa.read_scenario(out).scenario
    got = [
        (
            f.family_id,
            f.language,
            f.site,
            f.program_option,
            f.urgency,
            f.intensity.value,
            tuple(sorted(f.needs)),
        )
        for f in scenario.families
    ]
    expected = [(*e[:6], tuple(sorted(e[6]))) for e in _expected_families()]
    assert got == expected
    assert [(s.staff_id, s.name, s.languages, s.sites) for s in scenario.staff] == [
        ("S1", "José Núñez", ("en", "es"), ("*",)),
        ("S2", "Lan Tran", ("en", "vi"), ("Eastside",)),
    ]
    # the mapping written beside it reproduces the scenario with nothing inferred
    mapping = ImportMapping.read(out / "mapping.yaml")
    again = apply_mapping(files, mapping)
    assert again.scenario.families == scenario.families
    if case == "windows_1252_spanish_names":
        assert "encoding Windows-1252" in result.output
    if case == "snake_synonyms_utf8_bom":
        assert "encoding UTF-8 with byte-order mark" in result.output
    if case == "fuzzy_header":
        assert "'Primary Languge' -> language (fuzzy match)" in result.output
    if case in ("title_rows_above", "xlsx_title_rows_other_sheet"):
        assert "header on row 4" in result.output or "header on row 3" in result.output
    if case == "per_child_rows":
        assert "folded" in result.output


def test_per_child_rows_fold_iep_and_merge_needs(tmp_path: Path) -> None:
    files = _per_child(tmp_path)
    text = files[0].read_text(encoding="utf-8").replace("F03,Luis,", "F03,Luis,")
    lines = text.splitlines()
    lines = [ln[:-1] + "Y" if ln.startswith("F03,Luis") else ln for ln in lines]
    files[0].write_text("\n".join(lines) + "\n", encoding="utf-8")
    result, _ = import_exports(files)
    f03 = result.scenario.family_by_id["F03"]
    assert f03.disability_services is True  # one child with an IEP/IFSP
    assert result.scenario.family_by_id["F01"].disability_services is False
    assert len(result.scenario.families) == len(FAMILIES)


def test_conflicting_child_rows_name_both_rows(tmp_path: Path) -> None:
    files = _per_child(tmp_path)
    text = files[0].read_text(encoding="utf-8")
    files[0].write_text(text.replace("F03,Luis,Spanish", "F03,Luis,English"), encoding="utf-8")
    result = runner.invoke(app, ["import", *map(str, files), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert (
        "children.csv:6:Primary Language: family 'F03' has 'en' here but 'es' on row 5"
        in result.output
    )
    assert not (tmp_path / "o").exists()


def test_unmappable_value_is_reported_once_with_its_count(tmp_path: Path) -> None:
    files = _title_case_utf8(tmp_path)
    text = files[0].read_text(encoding="utf-8").replace("Vietnamese", "Elvish")
    files[0].write_text(text.replace("F02,English", "F02,Elvish"), encoding="utf-8")
    result = runner.invoke(app, ["import", *map(str, files), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if "Elvish" in ln and ln[0] != " "]
    assert lines == [
        "families_export.csv:3:Primary Language: 'Elvish' has no language code (2 rows, the "
        "first here; nearest: en, cy, pl): add it under values.language in the mapping"
    ]


def test_a_saved_mapping_takes_a_new_label_and_says_so(tmp_path: Path) -> None:
    files = _title_case_utf8(tmp_path)
    inference = infer_mapping(files)
    mapping = inference.mapping
    assert ImportMapping.from_yaml(mapping.to_yaml()) == mapping
    assert any("'Primary Language' -> language (synonym match)" in n for n in inference.notes)
    # apply_mapping infers nothing: a label the mapping does not hold is refused ...
    text = files[0].read_text(encoding="utf-8").replace("F02,English", "F02,French")
    files[0].write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match="'French' has no language code"):
        apply_mapping(files, mapping)
    # ... but `import --mapping` reads a label the saved mapping lacks, and says so
    (tmp_path / "m.yaml").write_text(mapping.to_yaml(), encoding="utf-8")
    args = ["--out", str(tmp_path / "o"), "--mapping", str(tmp_path / "m.yaml")]
    result = runner.invoke(app, ["import", *map(str, files), *args])
    assert result.exit_code == 0, result.output
    assert "not in the mapping: families_export.csv:Primary Language: 'French' -> fr" in (
        result.output
    )
    saved = ImportMapping.read(tmp_path / "o" / "mapping.yaml")
    assert saved.values["language"]["French"] == "fr"


def test_missing_mapped_header_and_bad_mapping_are_located(tmp_path: Path) -> None:
    files = _title_case_utf8(tmp_path)
    mapping = infer_mapping(files).mapping
    text = files[0].read_text(encoding="utf-8").replace("Site Name", "Location Name")
    files[0].write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        apply_mapping(files, mapping)
    assert "families_export.csv:1:Site Name: the mapping names this header; not found" in [
        str(p) for p in exc.value.problems
    ]
    with pytest.raises(ScenarioError) as bad:
        ImportMapping.from_yaml("date_order: YDM\n")
    assert "date_order" in str(bad.value)


def test_exceptions_export_dates_in_the_mapping_order(tmp_path: Path) -> None:
    files = _title_case_utf8(tmp_path)
    exc = tmp_path / "waivers.csv"
    exc.write_text(
        _csv(
            [
                [
                    "Exception ID",
                    "Kind",
                    "Staff ID",
                    "Max Families",
                    "Start Date",
                    "End Date",
                    "Reference",
                ],
                ["W1", "waiver", "S1", "44", "08/01/2026", "06/30/2027", "HHS-1"],
            ]
        ),
        encoding="utf-8",
    )
    inference = infer_mapping([*files, exc])
    assert inference.mapping.date_order == "MDY"
    result = apply_mapping([*files, exc], inference.mapping)
    assert result.scenario.exceptions[0].starts == date(2026, 8, 1)
    dmy = inference.mapping.model_copy(update={"date_order": "DMY"})
    with pytest.raises(ScenarioError) as err:
        apply_mapping([*files, exc], dmy)
    assert "waivers.csv:2:End Date: '06/30/2027' is not a date in the order DMY" in str(err.value)


def test_vocabularies() -> None:
    assert [language_code(t) for t in ("Spanish", "español", "spa", "ES", "Mandarin")] == [
        "es",
        "es",
        "es",
        "es",
        "zh",
    ]
    assert language_code("Elvish") is None and language_code("12") is None
    assert translate("outcome", "Families as Advocates and Leaders") == "advocates_leaders"
    assert translate("outcome", "Positive Parent-Child Relationships") == "parent_child"
    assert translate("bool", "Y") == "true" and translate("bool", "maybe") is None
    assert translate("program_option", "Family Child Care") == "family_child_care"
    assert (
        translate("urgency", "Urgent Need") == "5"
        and translate("intensity", "Moderate") == "medium"
    )
    assert parse_date("08/17/2026", "MDY") == date(2026, 8, 17)
    assert parse_date("08/17/2026", "DMY") is None and parse_date("2026-08-17", "DMY") == date(
        2026, 8, 17
    )


def test_import_solve_plan_xlsx_equals_the_csv_outputs(tmp_path: Path) -> None:
    files = _per_child(tmp_path)
    scenario_dir = tmp_path / "scenario"
    assert (
        runner.invoke(app, ["import", *map(str, files), "--out", str(scenario_dir)]).exit_code == 0
    )
    (scenario_dir / "scenario.yaml").write_text(
        (scenario_dir / "scenario.yaml")
        .read_text()
        .replace(f"as_of: '{date.today().isoformat()}'", "as_of: '2026-08-17'")
    )
    out = tmp_path / "plan"
    result = runner.invoke(
        app, ["solve", str(scenario_dir), "--out", str(out), "--time-limit", "5"]
    )
    assert result.exit_code == 0, result.output
    scenario = fa.read_scenario(scenario_dir).scenario
    workbook = openpyxl.load_workbook(out / "plan.xlsx", read_only=True)
    for sheet_name, file in (("Assignments", "assignments.csv"), ("Caseloads", "caseloads.csv")):
        with open(out / file, encoding="utf-8", newline="") as fh:
            csv_rows = list(csv.reader(fh))
        sheet_rows = [
            ["" if v is None else _text(v) for v in row]
            for row in workbook[sheet_name].iter_rows(values_only=True)
        ]
        width = len(csv_rows[0])
        assert [[_same(c) for c in r[:width]] for r in sheet_rows] == [
            [_same(c) for c in r] for r in csv_rows
        ], sheet_name
    assert (out / "assignments.csv").read_bytes()[:3] != b"\xef\xbb\xbf"  # plain UTF-8
    with open(out / "assignments.csv", encoding="utf-8", newline="") as fh:
        plan = {r["family_id"]: r["staff_id"] for r in csv.DictReader(fh)}
    evaluation = fa.evaluate(scenario, {f: s or None for f, s in plan.items()}, {})
    assert evaluation.violations == []


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _same(cell: str) -> object:
    """A cell as compared: numbers by value (9 and 9.0 are the same load), text as text."""
    try:
        return float(cell)
    except ValueError:
        return cell


@pytest.mark.parametrize("name", ["per-child-export.yaml", "program-workbook.yaml"])
def test_example_mappings_in_the_docs_are_valid(name: str) -> None:
    path = Path(__file__).resolve().parent.parent / "docs" / "mappings" / name
    mapping = ImportMapping.read(path)
    assert mapping.files and ImportMapping.from_yaml(mapping.to_yaml()) == mapping
