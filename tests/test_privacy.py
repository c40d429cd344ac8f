"""Sentinel privacy test: family free text never reaches stdout, stderr or the log of any command.

A small scenario carries a unique sentinel in every non-identifier field that can hold free text:
the families' ``external_plan_agency`` (one matched by a staff member's ``agencies``, one matched
by nobody), the families' private display data (``family_name``, ``children``, ``contact``, in
Latin with accents, Vietnamese, Arabic and Chinese: they go only to the files written for the
staff who work with the families, :func:`_is_people_file`, and the next scenario), three extra
columns of families.csv (``parent_name``, ``notes``, ``income``: ignored
with a warning that names the column only), an extra staff.csv column, an unknown scenario.yaml
key, conflicts.csv ``reason`` and the ``note`` of exceptions (exceptions.csv and scenario.yaml).
``validate``, ``solve``, ``reassign``, ``recommend`` and ``compare`` run with ``--debug`` (the
most verbose log) in-process (CliRunner, plus every log record captured at DEBUG) and as real
processes; no sentinel may appear in anything they print or log.

Output files: the extra-column, conflict-reason and unmatched-agency sentinels appear in no file
written. The matched agency may appear in assignments.csv ``reasons`` (``works with ...``): that
is the plan's content for the program's own staff, documented in docs/reliability.md.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Collection
from pathlib import Path

import pytest
from typer.testing import CliRunner

from famassign.cli import app
from famassign.models.writing import SCENARIO_FILES

AGENCY = "SENTINEL-AGENCY-7f3a"
"""A family's external_plan_agency that staff member s1 works with (so it is matched)."""
AGENCY_UNMATCHED = "SENTINEL-AGENCY-UNMATCHED-2b9d"
"""A family's external_plan_agency that no staff member works with."""
NAME = "SENTINEL-NAME-51c0"
NOTES = "SENTINEL-NOTES-e4d2"
INCOME = "SENTINEL-INCOME-88a1"
STAFF_EXTRA = "SENTINEL-STAFF-EXTRA-03fe"
YAML_EXTRA = "SENTINEL-YAML-EXTRA-6a6a"
REASON = "SENTINEL-REASON-c0c0"
EXC_NOTE = "SENTINEL-EXC-NOTE-1d1d"
YAML_NOTE = "SENTINEL-YAML-NOTE-9e9e"
FAMILY_NAME = "SENTINEL-FAMILY-Nguyễn-Núñez-فاطمة-王小明-4e4e"
CHILD = "SENTINEL-CHILD-Trần-يوسف-陳美玲-5f5f"
CONTACT = "SENTINEL-CONTACT-555-0199-6a6b"
DISPLAY_SENTINELS = (FAMILY_NAME, CHILD, CONTACT)
"""The families' private display data (family_name, children, contact): in the files a person
who works with the family reads (:func:`_is_people_file`) and the next scenario, nowhere else."""

LOG_SENTINELS = (
    AGENCY,
    AGENCY_UNMATCHED,
    NAME,
    NOTES,
    INCOME,
    STAFF_EXTRA,
    YAML_EXTRA,
    REASON,
    EXC_NOTE,
    YAML_NOTE,
    *DISPLAY_SENTINELS,
)
"""None of these may appear in stdout, stderr or a log record of any command."""
FILE_SENTINELS = (AGENCY_UNMATCHED, NAME, NOTES, INCOME, STAFF_EXTRA, YAML_EXTRA, REASON)
"""None of these may appear in any output file."""
FAMILY_RECORD_SENTINELS = tuple(s for s in FILE_SENTINELS if s != AGENCY_UNMATCHED)
"""Files that carry the family records by design (handover notes name the other agency's plan,
1302.52(e)) may hold any agency, nothing else."""
SCENARIO_RECORD_SENTINELS = (NAME, NOTES, INCOME, STAFF_EXTRA, YAML_EXTRA)
"""A plan folder's scenario files (the next scenario: SCENARIO_FILES) carry the program's own
records as given, a conflict's reason included, but never a column or key the loader ignored."""


def _is_family_record(file: str, files: Collection[str] = ()) -> bool:
    """The handover notes, and the workbook when it has a handover sheet."""
    if file == "plan.xlsx":
        return "handover.csv" in files
    return file == "handover.csv" or file.startswith("handover/")


def _is_people_file(file: str) -> bool:
    """The files written for the staff who work with the families: the workbook and the per-staff
    lists, the handover notes, the printed rosters."""
    return file in ("plan.xlsx", "staff_lists.xlsx", "handover.csv") or file.startswith(
        ("handover/", "rosters/")
    )


def _file_leaks(file: str, text: str, files: Collection[str]) -> list[str]:
    display = () if _is_people_file(file) or file in SCENARIO_FILES else DISPLAY_SENTINELS
    if file in SCENARIO_FILES:
        return _leaks(text, SCENARIO_RECORD_SENTINELS)
    record = _is_family_record(file, files)
    return _leaks(text, (*(FAMILY_RECORD_SENTINELS if record else FILE_SENTINELS), *display))


EXTRA_COLUMNS = ("parent_name", "notes", "income")


def _families() -> str:
    header = (
        "family_id,language,site,program_option,urgency,intensity,needs,interests,"
        "disability_services,external_plan_agency,current_staff_id,pinned,"
        + ",".join(EXTRA_COLUMNS)
        + ",family_name,children,contact"
    )
    rows = [
        # id, lang, site, urgency, intensity, agency, current, pinned
        ("f1", "en", "North", 5, "high", "", "s1", "true"),
        ("f2", "es", "North", 4, "medium", AGENCY, "s3", "false"),
        ("f3", "en", "South", 3, "low", "", "s3", "false"),
        ("f4", "es", "South", 2, "medium", AGENCY_UNMATCHED, "s3", "false"),
        ("f5", "en", "North", 1, "low", "", "s2", "false"),
        ("f6", "es", "South", 5, "high", AGENCY, "s1", "false"),
        ("f7", "en", "South", 3, "medium", "", "s2", "false"),
        ("f8", "en", "North", 2, "low", "", "", "false"),
    ]
    lines = [header]
    for i, (fid, lang, site, urg, inten, agency, cur, pinned) in enumerate(rows):
        lines.append(
            f"{fid},{lang},{site},center_based,{urg},{inten},well_being,learners,false,"
            f"{agency},{cur},{pinned},{NAME}-{i},{NOTES}-{i},{INCOME}-{i},"
            f"{FAMILY_NAME}-{i},{CHILD}-{i}a;{CHILD}-{i}b,{CONTACT}-{i}"
        )
    return "\n".join(lines) + "\n"


FILES: dict[str, str] = {
    "scenario.yaml": f"""\
name: Privacy Test Head Start
as_of: 2026-08-17
contact_person: {YAML_EXTRA}
policy:
  max_families_per_staff: 40
weights: {{}}
exceptions:
  - exception_id: Y1
    kind: start_up
    staff_id: s2
    max_families: 44
    starts: 2026-08-01
    ends: 2026-09-30
    note: {YAML_NOTE}
variants:
  - name: one more advocate
    changes:
      - add_staff: {{staff_id: s9, languages: [en, es], sites: ['*']}}
""",
    "families.csv": _families(),
    "staff.csv": f"""\
staff_id,name,fte,languages,sites,program_options,strengths,disability_services,agencies,status,max_families,home_phone
s1,Ana,1,en;es,North;South,,well_being,true,{AGENCY};County Health,active,,{STAFF_EXTRA}-1
s2,Ben,1,en,North;South,,learners,false,,active,,{STAFF_EXTRA}-2
s3,Cruz,1,en;es,*,,,false,{AGENCY},active,,{STAFF_EXTRA}-3
""",
    "exceptions.csv": f"""\
exception_id,kind,staff_id,max_families,starts,ends,reference,note
W1,waiver,s1,45,2026-07-01,2027-06-30,HHS-ACF-2026-017,{EXC_NOTE}-in-force
E9,emergency_response,,50,2025-01-01,2025-03-31,,{EXC_NOTE}-expired
""",
    "conflicts.csv": f"""\
family_id,staff_id,reason
f2,s2,{REASON}-1
f3,s1,{REASON}-2
""",
}

runner = CliRunner()


@pytest.fixture
def scenario_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "private"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _leaks(text: str, sentinels: tuple[str, ...] = LOG_SENTINELS) -> list[str]:
    return [s for s in sentinels if s in text]


def _file_texts(folder: Path) -> dict[str, str]:
    """Every file written under `folder`, decoded (XLSX: the shared strings and sheets)."""
    texts: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if data[:2] == b"PK":  # xlsx: a zip of XML parts
            import zipfile

            with zipfile.ZipFile(path) as archive:
                data = b"".join(archive.read(n) for n in archive.namelist())
        texts[str(path.relative_to(folder))] = data.decode("utf-8", errors="replace")
    return texts


COMMANDS: dict[str, list[str]] = {
    name: line.split()
    for name, line in {
        "validate": "validate {scenario}",
        "solve": "solve {scenario} --out {out} --time-limit 2",
        "reassign": "reassign {scenario} --out {out} --departed s3 --time-limit 2",
        "reassign-absent": "reassign {scenario} --out {out} --absent s3 --until 2026-10-31 "
        "--temporary-cap 45 --time-limit 2",
        "update": "update {scenario} --out {out} --time-limit 2",
        "recommend-f2": "recommend {scenario} --family f2 --top 3",
        "recommend-f4": "recommend {scenario} --family f4 --top 3",
        "compare": "compare {scenario} --out {out} --time-limit 2 --processes 1",
    }.items()
}


def _args(name: str, scenario: Path, out: Path) -> list[str]:
    return [a.format(scenario=scenario, out=out) for a in COMMANDS[name]]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_no_sentinel_in_output_or_log_in_process(
    name: str, scenario_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / f"out-{name}"
    caplog.set_level(logging.DEBUG)
    result = runner.invoke(app, ["--debug", *_args(name, scenario_dir, out)])
    stderr = getattr(result, "stderr", "") if result.stderr_bytes is not None else ""
    printed = result.output + stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), printed
    assert result.exit_code in (0, 3), printed
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert logged, "--debug logged nothing: the test would not see a leak"
    assert _leaks(printed) == [], printed
    assert _leaks(logged) == [], logged
    # The warnings about the extra columns are there, and name the column only.
    if name == "validate":
        for column in (*EXTRA_COLUMNS, "home_phone", "contact_person"):
            assert column in printed, f"no warning names {column}: {printed}"
    if out.exists():
        texts = _file_texts(out)
        assert texts
        for file, text in texts.items():
            assert _file_leaks(file, text, texts) == [], file


def test_matched_agency_only_in_assignment_reasons(scenario_dir: Path, tmp_path: Path) -> None:
    """The matched agency is named where the plan uses it (assignments.csv reasons), which is
    documented as plan content; the exception notes stay out of every plan file but the next
    scenario's own exceptions.csv (the program's record, carried as given)."""
    out = tmp_path / "plan"
    result = runner.invoke(app, _args("solve", scenario_dir, out))
    assert result.exit_code == 0, result.output
    texts = _file_texts(out)
    assert AGENCY in texts["assignments.csv"]
    for file, text in texts.items():
        # the workbook repeats assignments.csv
        if file in SCENARIO_FILES:
            continue
        if file not in ("assignments.csv", "plan.xlsx") and not _is_family_record(file):
            assert AGENCY not in text, file
        assert EXC_NOTE not in text and YAML_NOTE not in text, file


@pytest.mark.parametrize("name", ["solve", "reassign", "update"])
def test_display_data_reaches_the_people_files(
    name: str, scenario_dir: Path, tmp_path: Path
) -> None:
    """The names the privacy checks keep out of logs and summaries are where staff read them:
    plan.xlsx (every staff sheet), the next scenario's families.csv, and after a re-plan the
    handover notes."""
    out = tmp_path / "plan"
    result = runner.invoke(app, _args(name, scenario_dir, out))
    assert result.exit_code in (0, 3), result.output
    texts = _file_texts(out)
    for sentinel in DISPLAY_SENTINELS:
        assert sentinel in texts["plan.xlsx"] and sentinel in texts["families.csv"]
        assert sentinel not in texts["summary.json"] and sentinel not in texts["compliance.md"]
    assert any(f.startswith("rosters/") and f.endswith(".pdf") for f in texts)
    if name == "reassign":
        assert FAMILY_NAME in texts["handover.csv"]
        assert any(FAMILY_NAME in t for f, t in texts.items() if f.startswith("handover/"))


def test_bad_display_value_is_not_echoed(scenario_dir: Path) -> None:
    """A family name too long to be one: the problem names file, row and column, not the name."""
    printed = _validate_spoiled(scenario_dir, f"{FAMILY_NAME}-1,", f"{FAMILY_NAME}-1{'x' * 600},")
    assert "families.csv:3:family_name" in printed
    assert _leaks(printed) == [], printed


@pytest.mark.parametrize("name", ["validate", "solve", "reassign", "recommend-f2", "compare"])
def test_no_sentinel_in_real_process_output(name: str, scenario_dir: Path, tmp_path: Path) -> None:
    """The same as real processes: every byte on stdout and stderr, compare with 2 processes."""
    out = tmp_path / f"proc-{name}"
    args = _args(name, scenario_dir, out)
    if name == "compare":
        args = [a for a in args if a not in ("--processes", "1")]
    done = subprocess.run(
        [sys.executable, "-m", "famassign", "--debug", *args],
        capture_output=True,
        timeout=120,
        check=False,
    )
    text = (done.stdout + done.stderr).decode("utf-8", errors="replace")
    assert done.returncode in (0, 3), text
    assert "DEBUG" in text or "INFO" in text, "--debug logged nothing"
    assert _leaks(text) == [], text
    if out.exists():
        texts = _file_texts(out)
        for file, content in texts.items():
            assert _file_leaks(file, content, texts) == [], file


def _validate_spoiled(scenario_dir: Path, old: str, new: str) -> str:
    families = scenario_dir / "families.csv"
    text = families.read_text(encoding="utf-8")
    assert old in text
    families.write_text(text.replace(old, new), encoding="utf-8")
    result = runner.invoke(app, ["--debug", "validate", str(scenario_dir)])
    stderr = getattr(result, "stderr", "") if result.stderr_bytes is not None else ""
    printed = result.output + stderr
    assert result.exit_code == 2, printed
    assert "families.csv:" in printed
    return printed


def test_invalid_rows_do_not_echo_free_text(scenario_dir: Path) -> None:
    """A bad code in a row with free text: the problem quotes the bad code (so it can be found
    and fixed; at most 60 characters) and names file, row and column, never the row's agency,
    notes, name or income."""
    printed = _validate_spoiled(
        scenario_dir, "f2,es,North,center_based,4,medium", "f2,es,North,center_based,9,extreme"
    )
    assert "families.csv:3:urgency: '9'" in printed
    assert "families.csv:3:intensity: 'extreme'" in printed
    assert _leaks(printed) == [], printed


def test_ragged_row_does_not_echo_its_cells(scenario_dir: Path) -> None:
    """An unquoted comma in a free-text cell shifts the row: reported by row, cells not shown."""
    printed = _validate_spoiled(scenario_dir, f"{NOTES}-1", f"{NOTES}-1, with a comma {NAME}")
    assert "families.csv:3: row has 19 fields but the header has 18" in printed
    assert _leaks(printed) == [], printed


def test_no_sentinel_in_server_or_access_log(tmp_path: Path) -> None:
    """``famassign --debug serve`` (a real process, its workers included): upload, a rejected
    upload whose bad cell holds a sentinel, solve, reassign, recommend, staffing, compare, fetch
    every file, sign in with ``/?token=``: its log (server, workers, access) names identifiers
    only, and never the token from the address."""
    from server_process import running_server, upload_files, wait_for_job

    with running_server(tmp_path / "workspace", global_args=("--debug",)) as server:
        with server.client() as client:
            spoiled = dict(FILES)
            spoiled["families.csv"] = spoiled["families.csv"].replace(
                ",5,high,", f",{NAME}-urgency,high,", 1
            )
            rejected = upload_files(client, spoiled)
            assert rejected.status_code == 422 and NAME in rejected.text
            uploaded = upload_files(client, FILES)
            assert uploaded.status_code == 201, uploaded.text
            scenario_id = uploaded.json()["id"]
            jobs = [
                client.post(f"/api/v1/scenarios/{scenario_id}/plans", json=options).json()["id"]
                for options in (
                    {"time_limit": 2},
                    {"time_limit": 2, "departed": ["s3"]},
                    {"time_limit": 2, "absent": ["s3"], "until": "2026-10-31", "temporary_cap": 45},
                )
            ]
            jobs.append(
                client.post(
                    f"/api/v1/scenarios/{scenario_id}/compare", json={"time_limit": 2}
                ).json()["id"]
            )
            for job_id in jobs:
                job = wait_for_job(client, job_id)
                assert job["state"] == "done", job
                if job["plan_id"]:
                    plan = client.get(f"/api/v1/plans/{job['plan_id']}").json()
                    for name in plan["files"]:
                        body = client.get(f"/api/v1/plans/{job['plan_id']}/files/{name}").text
                        assert _file_leaks(name, body, plan["files"]) == [], name
            for family in ("f2", "f4"):
                path = f"/api/v1/scenarios/{scenario_id}/families/{family}/recommendation"
                assert client.get(path).status_code == 200
            assert client.get(f"/api/v1/scenarios/{scenario_id}/staffing").status_code == 200
        with server.client(token="") as browser:
            assert browser.get("/", params={"token": server.token}).status_code == 303
    logged = server.log()
    assert "DEBUG" in logged and "famassign.server.access" in logged and "[worker" in logged
    assert f"scenario {scenario_id} uploaded" in logged
    assert _leaks(logged) == [], logged
    assert server.token not in logged and "token=" not in logged
