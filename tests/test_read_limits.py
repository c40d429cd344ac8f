"""Hostile files are refused while they are read, quickly and in little memory, the same way by
the library, ``famassign validate``, ``famassign import`` and the server.

The attacks are those a security tester found against ``famassign serve`` (issue 26), built at
their sizes but cheaply: a one-row CSV of 10 million columns (20 MB), a CSV whose header has a
million columns (9.9 MB), a 2 MB workbook whose sheet unzips to 2 GiB, a 42 KB workbook whose
sheet unzips to 40 MB, a workbook whose zip directory understates a part, a 12 KB workbook
stating the dimension A1:XFD1048576 (with a cell at XFD1048576), and a row storing more cells
than a sheet has columns (openpyxl would build the whole row before anyone could count it).
The library runs in a child process whose peak memory (``wait4``) and time are measured.
"""

from __future__ import annotations

import json
import os
import resource
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from builders import write_files
from conftest import GOOD_FILES
from typer.testing import CliRunner

import famassign as fa
from famassign.cli import app
from famassign.models import LocatedProblem
from famassign.models.files import LimitsError, ReadLimits
from famassign.scenarios import GeneratorConfig

LIMITS = ReadLimits()
MB = 1024 * 1024
PEAK_RSS_MB = 1500
"""The child reading a hostile file must stay well under this (its own start-up included)."""
SECONDS = 5.0
"""The most one refusal may take, once the library is imported."""
CHILD_ADDRESS_SPACE = 6 * 1024 * MB
"""A child that fails to refuse is stopped here rather than taking the shared machine."""


def crossed(limit: str, what: str) -> str:
    return LIMITS.crossed(limit, what)


COLUMNS = crossed("max_columns", f"more than {LIMITS.max_columns} columns")
ROWS = crossed("max_rows", f"more than {LIMITS.max_rows} rows")
SHEET = "'xl/worksheets/sheet1.xml'"


# ---------------------------------------------------------------------------- building files


def _part(data: bytes, size: int | None = None) -> tuple[bytes, int, int]:
    """(raw deflate, CRC, stated size) of a zip part holding `data`."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return (
        packer.compress(data) + packer.flush(),
        zlib.crc32(data),
        len(data) if size is None else size,
    )


def _repeated(chunk: bytes, times: int) -> tuple[bytes, int, int]:
    """A zip part of `chunk` repeated `times` times, deflated once (a block that refers to
    nothing before it can be repeated as it is)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(times):
        crc = zlib.crc32(chunk, crc)
    return block * times + b"\x03\x00", crc, len(chunk) * times


def _zip(path: Path, parts: dict[str, tuple[bytes, int, int]]) -> Path:
    """Write a zip of deflated `parts` (name -> raw deflate, CRC, stated size)."""
    local = struct.Struct("<4s5H3L2H")
    central = struct.Struct("<4s6H3L5H2L")
    with path.open("wb") as out:
        directory = b""
        for name, (raw, crc, size) in parts.items():
            offset = out.tell()
            encoded = name.encode()
            sizes = (crc, len(raw), size, len(encoded), 0)
            out.write(local.pack(b"PK\x03\x04", 20, 0, 8, 0, 33, *sizes) + encoded + raw)
            entry = central.pack(b"PK\x01\x02", 20, 20, 0, 8, 0, 33, *sizes, 0, 0, 0, 0, offset)
            directory += entry + encoded
        start = out.tell()
        out.write(directory)
        n = len(parts)
        out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, len(directory), start, 0))
    return path


_NS = "http://schemas.openxmlformats.org/"
_SKELETON = {
    "[Content_Types].xml": (
        f'<Types xmlns="{_NS}package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
        'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
        'worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{_NS}package/2006/relationships"><Relationship Id="rId1" '
        f'Type="{_NS}officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{_NS}spreadsheetml/2006/main" '
        f'xmlns:r="{_NS}officeDocument/2006/relationships"><sheets>'
        '<sheet name="families" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_NS}package/2006/relationships"><Relationship Id="rId1" '
        f'Type="{_NS}officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}
_BLANK = b" " * MB
"""A megabyte of white space inside the sheet's XML: deflate shrinks it about a thousand times."""


def _workbook(path: Path, sheet: tuple[bytes, int, int]) -> Path:
    parts = {name: _part(text.encode()) for name, text in _SKELETON.items()}
    return _zip(path, {**parts, "xl/worksheets/sheet1.xml": sheet})


def _sheet(body: str, dimension: str = "A1") -> bytes:
    return (
        f'<worksheet xmlns="{_NS}spreadsheetml/2006/main"><dimension ref="{dimension}"/>'
        f"<sheetData>{body}</sheetData></worksheet>"
    ).encode()


def _csv_columns(folder: Path) -> Path:
    path = folder / "families.csv"
    path.write_bytes(b"a," * 10_000_000)
    return path


def _csv_header(folder: Path) -> Path:
    path = folder / "families.csv"
    header = ",".join(f"col{i:06d}" for i in range(1_000_000))
    path.write_text(header[:9_900_000] + "\nf1\n", encoding="utf-8")
    return path


def _xlsx_2gib(folder: Path) -> Path:
    return _workbook(folder / "families.xlsx", _repeated(_BLANK, 2048))


def _xlsx_40mb(folder: Path) -> Path:
    return _workbook(folder / "families.xlsx", _repeated(_BLANK, 40))


def _xlsx_lying(folder: Path) -> Path:
    raw, crc, _ = _repeated(_BLANK, 40)
    return _workbook(folder / "families.xlsx", (raw, crc, 1000))


def _xlsx_dimension(folder: Path) -> Path:
    header = '<row r="1"><c r="A1" t="inlineStr"><is><t>family_id</t></is></c></row>'
    last = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    sheet = _sheet(header + last, "A1:XFD1048576") + b" " * 11_000  # 12 KB, as found
    return _workbook(folder / "families.xlsx", _part(sheet))


def _xlsx_wide_row(folder: Path) -> Path:
    sheet = _sheet(f'<row r="1">{"<c/>" * 20_000}</row>')
    return _workbook(folder / "families.xlsx", _part(sheet))


ATTACKS = {
    # name: (builder, problem line, message; None: the message is only checked to name SHEET)
    "csv_10_million_columns": (_csv_columns, 1, COLUMNS),
    "csv_million_column_header": (_csv_header, 1, COLUMNS),
    "xlsx_2_gib_sheet": (
        _xlsx_2gib,
        None,
        crossed(
            "max_unzipped_bytes",
            f"the zip part {SHEET} unzips to more than {LIMITS.max_unzipped_bytes} bytes",
        ),
    ),
    "xlsx_40_mb_sheet_in_42_kb": (
        _xlsx_40mb,
        None,
        crossed(
            "max_compression_ratio",
            f"the zip part {SHEET} is compressed more than {LIMITS.max_compression_ratio} to 1",
        ),
    ),
    "xlsx_directory_understates_a_part": (
        _xlsx_lying,
        None,
        f"not a readable Excel workbook (.xlsx): Bad CRC-32 for file {SHEET}",
    ),
    "xlsx_dimension_a1_xfd1048576": (_xlsx_dimension, LIMITS.max_rows + 1, ROWS),
    "xlsx_row_of_20000_cells": (
        _xlsx_wide_row,
        None,
        f"a row of the zip part {SHEET} stores more than 16384 cells, more than a sheet has "
        "columns",
    ),
}


@pytest.fixture(scope="module")
def attacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """name -> scenario folder holding the hostile families file and the good other files."""
    root = tmp_path_factory.mktemp("attacks")
    folders = {}
    for name, (build, _, _) in ATTACKS.items():
        good: dict[str, str | bytes] = {
            k: v for k, v in GOOD_FILES.items() if not k.startswith("families.")
        }
        folder = write_files(root / name, good)
        build(folder)
        folders[name] = folder
    yield folders


def _hostile(folder: Path) -> Path:
    return next(folder.glob("families.*"))


def test_the_message_names_the_limit_the_variable_and_the_parameter() -> None:
    assert COLUMNS == (
        "more than 200 columns (limit max_columns=200; set FAMASSIGN_MAX_COLUMNS "
        "or pass ReadLimits(max_columns=...) to raise it)"
    )


def test_sizes_are_as_found(attacks: dict[str, Path]) -> None:
    size = {name: _hostile(folder).stat().st_size for name, folder in attacks.items()}
    assert 19 * MB < size["csv_10_million_columns"] < 21 * MB
    assert 9 * MB < size["csv_million_column_header"] < 10 * MB
    assert size["xlsx_2_gib_sheet"] < 3 * MB
    assert size["xlsx_40_mb_sheet_in_42_kb"] < 60 * 1024
    assert size["xlsx_dimension_a1_xfd1048576"] < 13 * 1024


_LIBRARY = """
import json, sys, time
import famassign as fa
start = time.perf_counter()
try:
    fa.read_scenario(sys.argv[1])
    problems = []
except fa.ScenarioError as exc:
    problems = [[p.file, p.line, p.message] for p in exc.problems]
print(json.dumps({"seconds": time.perf_counter() - start, "problems": problems}))
"""


def _bounded() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_ADDRESS_SPACE, CHILD_ADDRESS_SPACE))


def _library_in_child(folder: Path, tmp_path: Path) -> tuple[dict[str, object], float]:
    """The library's answer for `folder` in a child process, and the child's peak RSS in MB."""
    out = tmp_path / "out.json"
    with out.open("wb") as sink:
        child = subprocess.Popen(
            [sys.executable, "-c", _LIBRARY, str(folder)],
            stdout=sink,
            stderr=subprocess.DEVNULL,
            preexec_fn=_bounded,
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    assert child.returncode == 0, out.read_text()
    answer: dict[str, object] = json.loads(out.read_text())
    return answer, usage.ru_maxrss / 1024


@pytest.mark.parametrize("name", list(ATTACKS))
def test_library_refuses_quickly_in_little_memory(
    attacks: dict[str, Path], tmp_path: Path, name: str
) -> None:
    _, line, message = ATTACKS[name]
    answer, peak_mb = _library_in_child(attacks[name], tmp_path)
    assert answer["problems"] == [[_hostile(attacks[name]).name, line, message]]
    seconds = answer["seconds"]
    assert isinstance(seconds, float) and seconds < SECONDS, seconds
    assert peak_mb < PEAK_RSS_MB, peak_mb


@pytest.mark.parametrize("name", list(ATTACKS))
def test_validate_and_import_refuse_with_the_same_message(
    attacks: dict[str, Path], tmp_path: Path, name: str
) -> None:
    _, line, message = ATTACKS[name]
    hostile = _hostile(attacks[name])
    runner = CliRunner()
    started = time.perf_counter()
    checked = runner.invoke(app, ["validate", str(attacks[name])])
    assert checked.exit_code == 2, checked.output
    location = f"{hostile.name}:{line}" if line else hostile.name
    assert f"{location}: {message}" in checked.stderr
    out = tmp_path / "imported"
    imported = runner.invoke(app, ["import", str(hostile), "--out", str(out)])
    assert imported.exit_code == 2, imported.output
    assert f": {message}" in imported.stderr and hostile.name in imported.stderr
    assert not out.exists()
    assert time.perf_counter() - started < 2 * SECONDS


def test_a_lying_dimension_is_not_used(tmp_path: Path) -> None:
    """A sheet stating A1:XFD1048576 but holding a small table reads as the small table."""
    folder = write_files(
        tmp_path / "s", {k: v for k, v in GOOD_FILES.items() if k != "families.csv"}
    )
    rows = [line.split(",") for line in GOOD_FILES["families.csv"].splitlines()]
    body = "".join(
        f'<row r="{r}">'
        + "".join(f'<c t="inlineStr"><is><t>{cell}</t></is></c>' for cell in row)
        + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    _workbook(folder / "families.xlsx", _part(_sheet(body, "A1:XFD1048576")))
    started = time.perf_counter()
    loaded = fa.read_scenario(folder)
    assert time.perf_counter() - started < SECONDS
    assert len(loaded.scenario.families) == len(rows) - 1


def test_limits_come_from_the_environment_or_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_files(tmp_path / "s", dict(GOOD_FILES))
    assert fa.read_scenario(folder).scenario.families
    small = ReadLimits(max_rows=3)
    with pytest.raises(fa.ScenarioError) as raised:
        fa.read_scenario(folder, small)
    assert str(raised.value.problems[0]) == "families.csv:4: " + small.crossed(
        "max_rows", "more than 3 rows"
    )
    monkeypatch.setenv("FAMASSIGN_MAX_ROWS", "3")
    assert ReadLimits.from_env() == small
    with pytest.raises(fa.ScenarioError):
        fa.read_scenario(folder)
    monkeypatch.setenv("FAMASSIGN_MAX_ROWS", "many")
    with pytest.raises(LimitsError, match="FAMASSIGN_MAX_ROWS"):
        ReadLimits.from_env()
    result = CliRunner().invoke(app, ["validate", str(folder)])
    assert result.exit_code == 2 and "FAMASSIGN_MAX_ROWS='many'" in result.stderr
    monkeypatch.setenv("FAMASSIGN_MAX_ROWS", "0")
    with pytest.raises(LimitsError, match="FAMASSIGN_MAX_ROWS: max_rows=0"):
        ReadLimits.from_env()
    with pytest.raises(LimitsError):
        ReadLimits(max_cells=0)
    with pytest.raises(LimitsError, match="field limit"):
        ReadLimits(max_cell_chars=1_000_000)


def test_a_30000_family_program_loads(tmp_path: Path) -> None:
    """The defaults leave the largest programs far inside (30,000 families)."""
    scenario = fa.generate(GeneratorConfig(n_families=30_000), seed=1)
    folder = fa.write_scenario(scenario, tmp_path / "big")
    assert len(fa.read_scenario(folder).scenario.families) == 30_000


def test_the_server_answers_422_with_the_problem(attacks: dict[str, Path], tmp_path: Path) -> None:
    """Each hostile upload (under the upload limit) is refused by the scenario check with the
    loader's problem, and the server keeps answering."""
    from server_process import running_server, upload_files

    workspace = tmp_path / "workspace"
    with (
        running_server(workspace, args=("--max-upload-mb", "25")) as server,
        server.client() as client,
    ):
        for name, (_, line, message) in ATTACKS.items():
            files = {p.name: p.read_bytes() for p in sorted(attacks[name].iterdir())}
            started = time.perf_counter()
            response = upload_files(client, files)
            assert time.perf_counter() - started < 15, name
            assert response.status_code == 422, (name, response.text)
            problem = {"file": _hostile(attacks[name]).name, "row": line, "column": None}
            assert response.json()["problems"] == [{**problem, "message": message}], name
        assert client.get("/api/v1/health").status_code == 200


def test_an_exception_in_scenario_yaml_is_held_to_the_cell_limit(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = dict(GOOD_FILES)
    note = "x" * (LIMITS.max_cell_chars + 1)
    files["scenario.yaml"] = str(files["scenario.yaml"]).replace(
        "exceptions:\n  - ", f"exceptions:\n  - note: {note}\n    ", 1
    )
    with pytest.raises(fa.ScenarioError) as raised:
        fa.read_scenario(write_files(tmp_path / "s", files))
    located = [p for p in raised.value.problems if isinstance(p, LocatedProblem)]
    problem = next(p for p in located if str(p.column).endswith(".note"))
    assert problem.message == crossed(
        "max_cell_chars", f"a cell of more than {LIMITS.max_cell_chars} characters"
    )
