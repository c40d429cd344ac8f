"""write_plan and safe_io: the contract files, formula neutralisation, all-or-nothing writes."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from builders import assignment, waiver

import famassign.outputs as outputs
import famassign.safe_io as safe_io
from famassign.models import CapException, Family, Policy, Scenario, Staff
from famassign.models.writing import SCENARIO_FILES
from famassign.outputs import PLAN_FILES, SUMMARY_REQUIRED_KEYS, write_plan
from famassign.report import ReportSection
from famassign.safe_io import (
    MARKER,
    TMP_PREFIX,
    OutputDirError,
    atomic_output_dir,
    neutralise_cell,
    write_csv,
)
from famassign.solver.result import (
    Caseload,
    ObjectiveTerms,
    Result,
    SolveStatus,
    Unplaced,
)
from famassign.workbook import write_workbook

SENTINEL = "zz-sentinel"
AGENCY_SENTINEL = "AGENCY-SENTINEL-Q7"


def tiny_plan() -> tuple[Result, Scenario]:
    """Five families, three staff (one departed), policy cap 2, a waiver lifting S1 to 45.

    S1 carries 3 families (> cap 2) under waiver W1; F5 is unplaced; F4 speaks a sentinel language
    and has a sentinel agency that must never reach compliance.md or report.html.
    """
    fams = [
        Family(family_id="=HYPERLINK(1)", language="es", site="A", urgency=5, intensity="high"),
        Family(family_id="@SUM", language="es", site="A", urgency=3, intensity="low"),
        Family(family_id="F3", language="en", site="A", urgency=2, intensity="medium"),
        Family(
            family_id="F4",
            language=SENTINEL,
            site="A",
            urgency=4,
            intensity="low",
            external_plan_agency=AGENCY_SENTINEL,
            current_staff_id="S3",
            pinned=True,
        ),
        Family(family_id="F5", language="en", site="B", urgency=5, intensity="high"),
    ]
    staff = [
        Staff(staff_id="S1", languages=("en", "es"), sites=("A",)),
        Staff(staff_id="S2", languages=("en", SENTINEL), sites=("A",), fte=0.5),
        Staff(staff_id="S3", languages=("en",), sites=("A",), status="departed"),
    ]
    exceptions = [
        waiver(staff_id="S1", reference="HHS-ACF-2026-0042"),
        CapException(
            exception_id="T1",
            kind="staff_absence",
            max_families=42,
            starts=date(2026, 8, 1),
            ends=date(2026, 9, 30),
        ),
        CapException(
            exception_id="OLD1",
            kind="start_up",
            max_families=44,
            starts=date(2025, 8, 1),
            ends=date(2025, 9, 30),
        ),
    ]
    scenario = Scenario(
        name="Tiny program",
        as_of=date(2026, 8, 17),
        policy=Policy(max_families_per_staff=2),
        families=tuple(fams),
        staff=tuple(staff),
        exceptions=tuple(exceptions),
    )
    assignments = (
        assignment("=HYPERLINK(1)", "S1", 40, "W1", reasons="language es; site A"),
        assignment("@SUM", "S1", 12, "W1", reasons="language es; site A"),
        assignment("F3", "S1", -3, "W1", reasons="-site A only"),
        assignment("F4", "S2", 8, previous_staff_id="S3", reasons=f"language {SENTINEL}"),
        assignment("F5", None),
    )
    caseloads = (
        Caseload(staff_id="S1", families=3, weighted_load=6.0, cap=2, exception_id="W1"),
        Caseload(staff_id="S2", families=1, weighted_load=0.5, cap=1, exception_id=None),
        Caseload(staff_id="S3", families=0, weighted_load=0.0, cap=2, exception_id=None),
    )
    result = Result(
        status=SolveStatus.optimal,
        objective=57,
        bound=57,
        terms=ObjectiveTerms(
            placed=4, urgency_unplaced=5, over_cap=1, moves=0, match=57, max_load_per_fte=6.0
        ),
        max_load_bound=6.0,
        assignments=assignments,
        caseloads=caseloads,
        unplaced=(
            Unplaced(
                family_id="F5",
                reason="no active staff member serves site B",
                would_place="a staff member serving site B",
            ),
        ),
        exceptions_used=("W1",),
        notes=("pin of F4 to S3 released: S3 is departed",),
        runtime_s=0.0123,
        seed=7,
        version="0.1.0",
    )
    return result, scenario


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes (relative names)."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def leftovers(parent: Path) -> list[str]:
    """Temporary or moved-aside folders famassign left in `parent`."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(".famassign-"))


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# --------------------------------------------------------------------------- the contract files


def test_plan_files_and_columns(tmp_path: Path) -> None:
    result, scenario = tiny_plan()
    out = tmp_path / "plan"
    written = write_plan(result, scenario, out)
    # the printed rosters: the staff with a line (S3 departed, losing F4) and all of them
    rosters = ["rosters/S1.pdf", "rosters/S2.pdf", "rosters/S3.pdf", "rosters/all-staff.pdf"]
    assert [p.relative_to(out).as_posix() for p in written] == [
        *PLAN_FILES,
        *SCENARIO_FILES,
        *rosters,
    ]
    assert sorted(os.listdir(out)) == sorted([*PLAN_FILES, *SCENARIO_FILES, MARKER, "rosters"])

    with open(out / "assignments.csv", encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    assert header == [
        "family_id",
        "staff_id",
        "previous_staff_id",
        "changed",
        "exception_id",
        "score",
        "reasons",
        "staff_name",  # added after the contract's columns, whose order never changes
    ]
    rows = read_csv_rows(out / "assignments.csv")
    assert len(rows) == 5
    assert {r["changed"] for r in rows} == {"true", "false"}
    f5 = next(r for r in rows if r["family_id"] == "F5")
    assert f5["staff_id"] == "" and f5["previous_staff_id"] == "" and f5["exception_id"] == ""
    f3 = next(r for r in rows if r["family_id"] == "F3")
    assert f3["score"] == "-3"  # a negative number stays a number
    assert f3["reasons"] == "'-site A only"  # text starting with '-' is neutralised

    with open(out / "caseloads.csv", encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    assert header == ["staff_id", "families", "weighted_load", "cap", "exception_id", "staff_name"]

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for key in SUMMARY_REQUIRED_KEYS:
        assert key in summary, key
    assert summary["status"] == "optimal"
    assert (summary["families"], summary["assigned"], summary["unassigned"]) == (5, 4, 1)
    assert summary["exceptions_used"] == ["W1"]
    for key in ("urgency_unplaced", "over_cap", "moves", "match", "max_load_per_fte"):
        assert key in summary
    assert summary["max_load_bound"] == 6.0
    assert summary["notes"] == ["pin of F4 to S3 released: S3 is departed"]
    assert summary["compliance_findings"] == []
    assert summary["exceptions_in_force_unused"] == ["T1"]
    assert summary["exceptions_not_in_force"] == ["OLD1"]


def test_caseload_above_cap_names_its_exception(tmp_path: Path) -> None:
    result, scenario = tiny_plan()
    out = tmp_path / "plan"
    write_plan(result, scenario, out)
    loads = {r["staff_id"]: r for r in read_csv_rows(out / "caseloads.csv")}
    assert loads["S1"]["families"] == "3" and loads["S1"]["cap"] == "2"
    assert loads["S1"]["exception_id"] == "W1"
    assert loads["S2"]["exception_id"] == ""

    md = (out / "compliance.md").read_text(encoding="utf-8")
    s1_rows = [line for line in md.splitlines() if line.startswith("| S1 |")]
    assert len(s1_rows) == 1
    row = s1_rows[0]
    for expected in ("W1", "waiver", "1302.52(d)(2)(i)", "HHS-ACF-2026-0042", "2026-07-01"):
        assert expected in row
    assert "2027-06-30" in row and "allowed" in row
    assert "T1" in md.split("## Exceptions in force but not used")[1].split("##")[0]
    assert "OLD1" in md.split("## Exceptions not in force")[1].split("##")[0]
    assert "1302.52(d)(2)(ii)" in md  # the temporary kinds
    unplaced = md.split("## Unplaced families")[1].split("##")[0]
    assert "F5" in unplaced and "site B" in unplaced
    assert "pin of F4 to S3 released" in md
    # program-wide ratio: 4 placed / 2 active staff, / 1.5 FTE
    assert "per active staff member: 2" in md and "per FTE: 2.67" in md


def test_compliance_flags_over_cap_without_valid_exception(tmp_path: Path) -> None:
    result, scenario = tiny_plan()
    bad = result.model_copy(
        update={
            "caseloads": (
                Caseload(staff_id="S1", families=3, weighted_load=6.0, cap=2, exception_id="OLD1"),
                *result.caseloads[1:],
            )
        }
    )
    write_plan(bad, scenario, tmp_path / "plan")
    md = (tmp_path / "plan" / "compliance.md").read_text(encoding="utf-8")
    assert "NOT ALLOWED" in md and "not in force" in md
    summary = json.loads((tmp_path / "plan" / "summary.json").read_text(encoding="utf-8"))
    assert summary["compliance_findings"]


def test_formula_cells_neutralised(tmp_path: Path) -> None:
    result, scenario = tiny_plan()
    out = tmp_path / "plan"
    write_plan(result, scenario, out)
    ids = [r["family_id"] for r in read_csv_rows(out / "assignments.csv")]
    assert "'=HYPERLINK(1)" in ids and "'@SUM" in ids
    raw = (out / "assignments.csv").read_text(encoding="utf-8")
    assert "\n=" not in raw and "\n@" not in raw and not raw.startswith(("=", "@"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("", ""),
        (-5, -5),
        (-2.5, -2.5),
        (None, None),
    ],
)
def test_neutralise_cell(value: object, expected: object) -> None:
    assert neutralise_cell(value) == expected


def test_write_csv_and_xlsx_neutralise_text_only(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"id": ["=cmd|' /C calc'!A0", "ok", None], "n": [-1, 2, 3], "flag": [True, False, True]}
    )
    write_csv(frame, tmp_path / "t.csv")
    text = (tmp_path / "t.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "id,n,flag"
    assert text.splitlines()[1].startswith("\"'=cmd") or text.splitlines()[1].startswith("'=cmd")
    assert text.splitlines()[1].endswith(",-1,true")
    assert text.splitlines()[3] == ",3,true"

    write_workbook({"plan": frame}, tmp_path / "t.xlsx")
    back = pd.read_excel(tmp_path / "t.xlsx", sheet_name="plan")
    assert back.loc[0, "id"] == "'=cmd|' /C calc'!A0"
    assert back.loc[0, "n"] == -1 and bool(back.loc[1, "flag"]) is False


def test_extra_keys_files_and_sections(tmp_path: Path) -> None:
    result, scenario = tiny_plan()
    out = tmp_path / "plan"
    moves = pd.DataFrame({"family_id": ["=evil", "F4"], "from": ["S3", "S3"], "to": ["S1", "S2"]})
    written = write_plan(
        result,
        scenario,
        out,
        extra={"moved": 2, "departed": ["S3"], "until": date(2026, 12, 31)},
        extra_files={"moves.csv": moves},
        extra_sections=[
            "## Reassignment\n\nS3 departed; 2 families moved.",
            ReportSection("Moves", text="two moves", table=moves),
        ],
    )
    assert written[-1].name == "moves.csv"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["moved"] == 2 and summary["until"] == "2026-12-31"
    assert [r["family_id"] for r in read_csv_rows(out / "moves.csv")] == ["'=evil", "F4"]
    md = (out / "compliance.md").read_text(encoding="utf-8")
    assert "## Reassignment" in md and "## Moves" in md
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "S3 departed; 2 families moved." in page and "<h2>Moves</h2>" in page


@pytest.mark.parametrize(
    "kwargs",
    [
        {"extra": {"status": "great"}},
        {"extra_files": {"assignments.csv": pd.DataFrame()}},
        {"extra_files": {"../escape.csv": pd.DataFrame()}},
        {"extra_files": {"notes.txt": pd.DataFrame()}},
    ],
)
def test_bad_extras_refused_before_writing(tmp_path: Path, kwargs: dict[str, object]) -> None:
    result, scenario = tiny_plan()
    with pytest.raises(ValueError):
        write_plan(result, scenario, tmp_path / "plan", **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "plan").exists()
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------- all or nothing


@pytest.mark.parametrize("error", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_failure_mid_write_keeps_previous_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    result, scenario = tiny_plan()
    out = tmp_path / "plan"
    write_plan(result, scenario, out)
    before = snapshot(out)

    real_write_text = outputs._write_text

    def failing_write_text(path: Path, text: str) -> Path:
        if path.name == "compliance.md":
            raise error
        return real_write_text(path, text)

    monkeypatch.setattr(outputs, "_write_text", failing_write_text)
    changed = result.model_copy(update={"seed": 99})
    with pytest.raises(type(error)):
        write_plan(changed, scenario, out)
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_failure_in_csv_writer_keeps_previous_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, scenario = tiny_plan()
    out = tmp_path / "plan"
    write_plan(result, scenario, out)
    before = snapshot(out)
    calls = {"n": 0}
    real = safe_io.write_csv

    def second_csv_fails(frame: pd.DataFrame, path: Path) -> Path:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(frame, path)

    monkeypatch.setattr(outputs, "write_csv", second_csv_fails)
    with pytest.raises(KeyboardInterrupt):
        write_plan(result, scenario, out)
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_replacement_without_renameat2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safe_io, "_exchange", lambda a, b: False)
    out = tmp_path / "out"
    with atomic_output_dir(out) as d:
        (d / "old.txt").write_text("old")
    with atomic_output_dir(out) as d:
        (d / "new.txt").write_text("new")
    assert sorted(os.listdir(out)) == [MARKER, "new.txt"]
    assert leftovers(tmp_path) == []


def test_symlink_file_and_foreign_folder_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    with atomic_output_dir(real) as d:
        (d / "a.txt").write_text("a")
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    with pytest.raises(OutputDirError, match="symbolic link"), atomic_output_dir(link):
        pass
    assert link.is_symlink() and (real / "a.txt").read_text() == "a"

    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(OutputDirError, match="not a folder"), atomic_output_dir(a_file):
        pass

    scenario_dir = tmp_path / "scenario"
    scenario_dir.mkdir()
    (scenario_dir / "families.csv").write_text("family_id\n")
    with pytest.raises(OutputDirError, match="did not write"), atomic_output_dir(scenario_dir):
        pass
    assert (scenario_dir / "families.csv").read_text() == "family_id\n"
    assert leftovers(tmp_path) == []

    empty = tmp_path / "empty"
    empty.mkdir()
    with atomic_output_dir(empty) as d:
        (d / "x.txt").write_text("x")
    assert (empty / "x.txt").exists()


def test_stale_temporary_folder_cleaned_by_next_write(tmp_path: Path) -> None:
    out = tmp_path / "out"
    dead_pid = 2**22 + 12345  # above Linux pid_max: no such process
    stale = tmp_path / f"{TMP_PREFIX}out-{dead_pid}-abc123_x"
    stale.mkdir()
    (stale / "half.csv").write_text("half")
    other = tmp_path / f"{TMP_PREFIX}out-2-{dead_pid}-abc123_x"  # belongs to folder "out-2"
    other.mkdir()
    dead_probe = tmp_path / f"{TMP_PREFIX}probe-{dead_pid}-q1w2e3"  # a kill mid-probe
    dead_probe.write_text("")
    live_probe = tmp_path / f"{TMP_PREFIX}probe-{os.getpid()}-r4t5y6"  # a probe in progress
    live_probe.write_text("")
    with atomic_output_dir(out) as d:
        (d / "a.txt").write_text("a")
    assert not stale.exists()
    assert other.exists()
    assert not dead_probe.exists() and live_probe.exists()


# A child process rewrites the folder in a loop: generation N into every file, then commit.
_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from famassign.safe_io import atomic_output_dir

    out, files = Path(sys.argv[1]), int(sys.argv[2])
    generation = 0
    print("started", flush=True)
    while True:
        generation += 1
        with atomic_output_dir(out) as tmp:
            for i in range(files):
                (tmp / f"part-{i:04d}.csv").write_text(f"generation {generation}\\n" * 50)
    """
)


def test_sigkill_mid_write_leaves_old_or_new_complete(tmp_path: Path) -> None:
    files = 120
    out = tmp_path / "out"
    with atomic_output_dir(out) as d:
        for i in range(files):
            (d / f"part-{i:04d}.csv").write_text("generation 0\n" * 50)
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    for delay in (0.35, 0.8, 1.3):
        child = subprocess.Popen(
            [sys.executable, str(script), str(out), str(files)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "started"
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        assert child.returncode == -signal.SIGKILL

        names = sorted(os.listdir(out))
        assert names == sorted([MARKER, *(f"part-{i:04d}.csv" for i in range(files))])
        generations = {(out / n).read_text().splitlines()[0] for n in names if n != MARKER}
        assert len(generations) == 1, generations  # one complete generation, never a mix
        for stale in leftovers(tmp_path):
            assert stale.startswith(TMP_PREFIX), stale  # anything left is clearly named

    with atomic_output_dir(out) as d:
        (d / "final.txt").write_text("final")
    assert leftovers(tmp_path) == []
    assert sorted(os.listdir(out)) == [MARKER, "final.txt"]


def test_csv_is_utf8_without_index(tmp_path: Path) -> None:
    frame = pd.DataFrame({"family_id": ["Ñandú", "李"], "score": [1, 2]})
    write_csv(frame, tmp_path / "u.csv")
    raw = (tmp_path / "u.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(raw.decode("utf-8")))) == [
        ["family_id", "score"],
        ["Ñandú", "1"],
        ["李", "2"],
    ]


# --------------------------------------------------------------------------- plan.xlsx


def test_plan_workbook_sheets_marks_and_neutralised_cells(tmp_path: Path) -> None:
    import openpyxl
    import pandas as pd

    from famassign.workbook import ABOVE_CAP_FILL

    result, scenario = tiny_plan()
    out = tmp_path / "plan"
    handover = pd.DataFrame({"family_id": ["F3"], "note": ["=cmd|' /C calc'!A0"]})
    write_plan(result, scenario, out, extra_files={"handover_notes.csv": handover})
    workbook = openpyxl.load_workbook(out / "plan.xlsx")
    assert workbook.sheetnames == [
        "Summary",
        "Assignments",
        "Caseloads",
        "Unplaced",
        "Exceptions",
        "Compliance",
        "S1",
        "S2",
        "S3",
        "handover_notes",
    ]  # S3 departed and carries nobody, but F4 leaves them: their sheet lists it
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:"), sheet.title
        assert sheet.column_dimensions["A"].width > 5, sheet.title
    caseloads = list(workbook["Caseloads"].iter_rows(values_only=True))
    assert caseloads[0][-2:] == ("staff_name", "above_cap")
    s1 = next(row for row in caseloads if row[0] == "S1")
    assert s1[-1] == "ABOVE CAP: 3 of 2 (under exception W1)"
    s1_row = next(r for r in workbook["Caseloads"].iter_rows() if r[0].value == "S1")
    # The row carries the fill (blank cells show it in Excel), and so does every written cell.
    assert (
        workbook["Caseloads"]
        .row_dimensions[s1_row[0].row]
        .fill.fgColor.rgb.endswith(ABOVE_CAP_FILL)
    )
    assert all(c.fill.fgColor.rgb.endswith(ABOVE_CAP_FILL) for c in s1_row if c.value is not None)
    s2_row = next(r for r in workbook["Caseloads"].iter_rows() if r[0].value == "S2")
    assert not any(c.fill.fgColor.rgb.endswith(ABOVE_CAP_FILL) for c in s2_row)
    ids = [row[0] for row in workbook["Assignments"].iter_rows(values_only=True)]
    assert "'=HYPERLINK(1)" in ids and "'@SUM" in ids  # neutralised as in the CSVs
    mine = list(workbook["S1"].iter_rows(values_only=True))
    assert [r[0] for r in mine[1:]] == ["'=HYPERLINK(1)", "'@SUM", "F3"]
    assert workbook["handover_notes"]["B2"].value == "'=cmd|' /C calc'!A0"
    compliance = list(workbook["Compliance"].iter_rows(values_only=True))
    assert any(
        row[0] == "S1" and row[5] == "W1" and row[7] == "1302.52(d)(2)(i)" for row in compliance
    )
    summary = dict(list(workbook["Summary"].iter_rows(values_only=True))[1:])
    assert summary["families"] == 5 and summary["exceptions_used"] == "W1"


def test_assignments_import_is_the_load_back_file(tmp_path: Path) -> None:
    result, scenario = tiny_plan()
    out = tmp_path / "plan"
    write_plan(result, scenario, out)
    rows = read_csv_rows(out / "assignments_import.csv")
    assert list(rows[0]) == ["family_id", "staff_id", "staff_name", "effective_date"]
    placed = [a for a in result.assignments if a.staff_id]
    assert len(rows) == len(placed) and {r["effective_date"] for r in rows} == {"2026-08-17"}
    assert (out / "assignments.csv").read_bytes()[:3] != b"\xef\xbb\xbf"
