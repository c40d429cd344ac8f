"""People, not codes: the families' display data (family_name, children, contact) from an export
through every output a person reads, on the command line; the hand-out words after
plan -> departure -> plan; the printed rosters read back with pypdf.

Names in several scripts (Latin with accents, Vietnamese, Arabic, Chinese) are used so that a
font or shaping gap shows as a missing name in the PDF's text.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

import openpyxl
import pypdf
import pytest
from typer.testing import CliRunner

from famassign.cli import app
from famassign.models.loading import load_scenario
from famassign.models.words import language_words, option_words

runner = CliRunner()

# family id -> (parent/guardian name, children (one row each in the export), contact, language)
PEOPLE = {
    "F01": ("María José Núñez", ("Lucía Núñez", "Mateo Núñez"), "555-0101", "Spanish"),
    "F02": ("Nguyễn Thị Hương", ("Trần Minh Khôi",), "555-0102", "Vietnamese"),
    "F03": ("فاطمة الزهراء", ("يوسف", "مريم"), "555-0103", "Arabic"),
    "F04": ("王小明", ("王美玲",), "555-0104", "Chinese"),
    "F05": ("Zoë Ångström-Brontë", ("Søren Ångström",), "zoe@example.org", "English"),
    "F06": ("陳大文", ("陳家豪",), "555-0106", "Chinese"),
}
STAFF = [
    ("S1", "Ana Ruiz", "English;Spanish;Vietnamese;Arabic;Chinese"),
    ("S2", "Bich Le", "English;Spanish;Vietnamese;Arabic;Chinese"),
    ("S3", "Carl Oduya", "English;Spanish;Vietnamese;Arabic;Chinese"),
]


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _exports(folder: Path) -> list[str]:
    """A one-row-per-child family export with the common display headers, and a staff export."""
    rows = [
        [
            "Family ID",
            "Parent/Guardian Name",
            "Child Name",
            "Primary Contact",
            "Primary Language",
            "Site",
            "Program Option",
            "Urgency",
            "Intensity",
        ]
    ]
    for fid, (name, children, contact, language) in PEOPLE.items():
        for child in children:
            rows.append([fid, name, child, contact, language, "Main", "Home Based", "3", "Low"])
    families = folder / "family_export.csv"
    families.write_text(_csv(rows), encoding="utf-8")
    staff = folder / "staff_export.csv"
    staff.write_text(
        _csv(
            [["Staff ID", "Staff Name", "Languages", "Sites"]]
            + [[sid, name, langs, "Main"] for sid, name, langs in STAFF]
        ),
        encoding="utf-8",
    )
    return [str(families), str(staff)]


def _flat(text: str) -> str:
    """PDF text with every space and control character dropped, NFC (pypdf splits shaped runs
    with control characters and puts a NUL before each glyph of the CJK font's two-byte
    codes)."""
    return re.sub(r"[\s\x00-\x1f]+", "", unicodedata.normalize("NFC", text))


def _pdf_text(path: Path) -> str:
    return _flat("".join(page.extract_text() for page in pypdf.PdfReader(path).pages))


def _in_pdf(name: str, text: str) -> bool:
    """`name` is in the PDF's text, each word in logical or (an Arabic run as pypdf extracts
    it) visual order."""
    if _flat(name) in text:
        return True
    return all(_flat(w) in text or _flat(w)[::-1] in text for w in name.split())


def _staff_sheet(book: openpyxl.Workbook, staff_id: str) -> list[dict[str, object]]:
    title = next(t for t in book.sheetnames if t.split(" ")[0] == staff_id)
    rows = list(book[title].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _plan(folder: Path) -> dict[str, str]:
    """family_id -> staff_id of a plan folder's assignments.csv."""
    with (folder / "assignments.csv").open(encoding="utf-8") as fh:
        return {r["family_id"]: r["staff_id"] for r in csv.DictReader(fh)}


PRINTED: list[str] = []
"""What the fixture's commands printed (stdout and stderr, with --debug)."""


def _run(*args: str) -> None:
    result = runner.invoke(app, ["--debug", *args])
    assert result.exit_code == 0, result.output
    PRINTED.append(result.output)


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """import -> solve (first plan) -> reassign with S1 departed (the plan it continues)."""
    root = tmp_path_factory.mktemp("people")
    _run("import", *_exports(root), "--out", str(root / "program"))
    _run("solve", str(root / "program"), "--out", str(root / "first"), "--deterministic")
    _run(
        "reassign",
        str(root / "first"),
        "--out",
        str(root / "after"),
        "--departed",
        "S1",
        "--deterministic",
    )
    return {"program": root / "program", "first": root / "first", "after": root / "after"}


def test_names_never_printed_nor_in_summary(plans: dict[str, Path]) -> None:
    """import, solve and reassign with --debug print no name, child or contact, and neither
    summary.json, compliance.md, report.html, assignments.csv nor moves.csv holds one."""
    private = [p[0] for p in PEOPLE.values()] + [c for p in PEOPLE.values() for c in p[1]]
    private += [p[2] for p in PEOPLE.values()]
    printed = "\n".join(PRINTED)
    assert printed and not [n for n in private if n in printed]
    for plan in ("first", "after"):
        for file in ("summary.json", "compliance.md", "report.html", "assignments.csv"):
            text = (plans[plan] / file).read_text(encoding="utf-8")
            assert not [n for n in private if n in text], (plan, file)
    moves = (plans["after"] / "moves.csv").read_text(encoding="utf-8")
    assert not [n for n in private if n in moves]


def test_import_maps_display_headers_and_folds_children(plans: dict[str, Path]) -> None:
    scenario = load_scenario(plans["program"])
    for family in scenario.families:
        name, children, contact, _ = PEOPLE[family.family_id]
        assert family.family_name == name
        assert family.children == children
        assert family.contact == contact


def test_the_plan_folder_carries_the_display_data_into_the_next_scenario(
    plans: dict[str, Path],
) -> None:
    for plan in ("first", "after"):
        scenario = load_scenario(plans[plan])
        assert {f.family_id: f.family_name for f in scenario.families} == {
            fid: p[0] for fid, p in PEOPLE.items()
        }
        assert all(f.children == PEOPLE[f.family_id][1] for f in scenario.families)


def test_staff_sheets_show_names_and_words(plans: dict[str, Path]) -> None:
    book = openpyxl.load_workbook(plans["first"] / "plan.xlsx", read_only=True)
    plan = _plan(plans["first"])
    seen = set()
    for staff_id, *_ in STAFF:
        mine = {f for f, s in plan.items() if s == staff_id}
        title = next((t for t in book.sheetnames if t.split(" ")[0] == staff_id), None)
        if not mine:
            continue
        assert title is not None and dict((s[0], s[1]) for s in STAFF)[staff_id] in title
        rows = _staff_sheet(book, staff_id)
        assert {r["family_id"] for r in rows} == mine
        for row in rows:
            fid = str(row["family_id"])
            name, children, contact, _ = PEOPLE[fid]
            assert row["family_name"] == name and row["contact"] == contact
            assert row["children"] == "; ".join(children)
            family = load_scenario(plans["program"]).family_by_id[fid]
            assert row["language"] == language_words(family.language)
            assert row["program_option"] == option_words(family.program_option)
            assert row["handout"] == "new to you (new family)" and row["new_to_you"] == "yes"
        seen |= mine
    assert seen == set(PEOPLE)


def test_handout_words_after_plan_move_plan(plans: dict[str, Path]) -> None:
    """After the first plan and S1's departure, every family's lines are right: continuing
    families "continue", S1's families are "new to you (from Ana Ruiz (S1))" for the receiver
    and "leaves you: to ...; you have left the caseload" on S1's own list."""
    first, after = _plan(plans["first"]), _plan(plans["after"])
    assert any(s == "S1" for s in first.values()), "the test needs S1 to have families"
    names = {sid: name for sid, name, _ in STAFF}
    book = openpyxl.load_workbook(plans["after"] / "plan.xlsx", read_only=True)
    for staff_id, *_ in STAFF:
        if not any(t.split(" ")[0] == staff_id for t in book.sheetnames):
            assert staff_id not in first.values() and staff_id not in after.values()
            continue
        rows = {str(r["family_id"]): r for r in _staff_sheet(book, staff_id)}
        expected = {f for f, s in after.items() if s == staff_id} | {
            f for f, s in first.items() if s == staff_id and after[f] != staff_id
        }
        assert set(rows) == expected
        for fid, row in rows.items():
            assert row["family_name"] == PEOPLE[fid][0]
            if after[fid] == staff_id and first[fid] == staff_id:
                assert row["handout"] == "continues with you" and not row["new_to_you"]
            elif after[fid] == staff_id:
                was = first[fid]
                assert row["handout"] == f"new to you (from {names[was]} ({was}))"
                assert row["new_to_you"] == "yes"
            else:
                to = after[fid]
                assert row["handout"] == (
                    f"leaves you: to {names[to]} ({to}); you have left the caseload"
                )
    with (plans["after"] / "moves.csv").open(encoding="utf-8") as fh:
        moves = list(csv.DictReader(fh))
    assert {m["family_id"] for m in moves} == {f for f, s in first.items() if s == "S1"}


def test_rosters_print_names_per_staff_member(plans: dict[str, Path]) -> None:
    for plan in ("first", "after"):
        folder = plans[plan]
        after = _plan(folder)
        everyone = _pdf_text(folder / "rosters" / "all-staff.pdf")
        for staff_id, staff_name, _ in STAFF:
            mine = {f for f, s in after.items() if s == staff_id}
            path = folder / "rosters" / f"{staff_id}.pdf"
            if not path.exists():
                assert not mine
                continue
            text = _pdf_text(path)
            assert _flat(staff_name) in text and _flat(staff_name) in everyone
            for fid, (name, children, contact, _) in PEOPLE.items():
                if fid in mine:
                    assert _in_pdf(name, text), (plan, staff_id, name)
                    assert all(_in_pdf(child, text) for child in children), (plan, children)
                    assert _flat(contact) in text
                    assert _in_pdf(name, everyone)
            if plan == "first":
                others = set(PEOPLE) - mine
                assert not any(_in_pdf(PEOPLE[f][0], text) for f in others), (staff_id, others)


def test_handout_compares_with_the_plan_in_force_not_the_draft() -> None:
    """The server passes the last published plan as `in_force`: a draft that continues an
    unpublished draft says "new to you" against the published plan, and says where the draft
    it continues differs; a family leaving is listed for the staff member who loses it, with
    to whom and why."""
    from builders import assignment, fam, scenario, staff

    from famassign.solver.result import ObjectiveTerms, Result, SolveStatus
    from famassign.workbook import staff_rosters

    plan = scenario(
        [fam("F1", current_staff_id="S2", family_name="Nguyễn Văn An"), fam("F2"), fam("F3")],
        [staff("S1", name="Ana Ruiz"), staff("S2", name="Bich Le"), staff("S3", status="departed")],
    )
    result = Result(
        status=SolveStatus.optimal,
        objective=0,
        bound=0,
        terms=ObjectiveTerms(
            placed=2, urgency_unplaced=3, over_cap=0, moves=0, match=0, max_load_per_fte=1.0
        ),
        max_load_bound=1.0,
        assignments=(
            assignment("F1", "S2", previous_staff_id="S2", changed=False),
            assignment("F2", "S1", previous_staff_id="S1", changed=False),
            assignment("F3", None, previous_staff_id="S3"),
        ),
        caseloads=(),
        unplaced=(),
        exceptions_used=(),
        notes=(),
        runtime_s=0.0,
        seed=0,
        version="0",
    )
    published = {"F1": "S1", "F2": "S1", "F3": "S3"}
    rosters = staff_rosters(result, plan, published)
    s2 = {e.family_id: e for e in rosters["S2"]}
    assert s2["F1"].family_name == "Nguyễn Văn An" and s2["F1"].new_to_you == "yes"
    assert s2["F1"].handout == (
        "new to you (from Ana Ruiz (S1)); the plan this one continues had it with Bich Le (S2), "
        "not yet handed out"
    )
    s1 = {e.family_id: e for e in rosters["S1"]}
    assert s1["F2"].handout == "continues with you" and not s1["F2"].new_to_you
    assert (
        s1["F2"].handout.endswith("you") and "the plan this one continues" not in s1["F2"].handout
    )
    assert s1["F1"].leaving
    assert s1["F1"].handout == "leaves you: to Bich Le (S2); moved by the plan"
    assert rosters["S3"][0].handout.startswith("leaves you: to nobody; you have left")
    # Against the plan the draft continues (the command line's default), F1 continues.
    default = {e.family_id: e for e in staff_rosters(result, plan)["S2"]}
    assert default["F1"].handout == "continues with you" and not default["F1"].new_to_you
