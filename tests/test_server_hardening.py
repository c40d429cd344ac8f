"""`famassign serve` hardened, as a real process on a loopback port: a request cannot forge or
garble a line of the server's log, the database URL comes from the environment (never the
command line), every numeric option is bounded (422), and a 422 names the uploaded files, never
where the server keeps them."""

from __future__ import annotations

import io
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from openpyxl import Workbook
from server_process import ServerProcess, running_server, upload_files

import famassign as fa
from famassign.server.logs import CONTINUATION, OneLineFormatter, escape_controls
from famassign.server.worker import without_folder

FORGED = "2026-12-06 17:50:00,000 INFO famassign.server.access: POST /api/v1/plans/x 200 1ms"
"""A line a request would like the log to show as the server's own."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("hardened")
    (root / "elsewhere").mkdir()
    url = f"sqlite:///{root / 'elsewhere' / 'store.db'}"
    with running_server(root / "workspace", env={"FAMASSIGN_DATABASE_URL": url}) as running:
        yield running


# ---------------------------------------------------------------------- log lines


def _record(message: str, *args: object, exc_info: Any = None) -> logging.LogRecord:
    return logging.LogRecord("famassign.server", logging.INFO, __file__, 1, message, args, exc_info)


def test_a_record_is_one_line_with_its_control_characters_escaped() -> None:
    formatter = OneLineFormatter("%(levelname)s %(name)s: %(message)s")
    hostile = "/x\n" + FORGED + "\r\x00\x1b[2J\x7f\x85\u2028\t"
    line = formatter.format(_record("GET %s %d", hostile, 404))
    assert line == (
        "INFO famassign.server: GET /x\\n" + FORGED + "\\r\\x00\\x1b[2J\\x7f\\x85\\u2028\\t 404"
    )
    assert escape_controls("Peñasco, 東京 — ok") == "Peñasco, 東京 — ok"
    try:
        raise ValueError("bad name\n" + FORGED + "\x1b[31m")
    except ValueError:
        text = formatter.format(_record("job %s failed", "j1", exc_info=sys.exc_info()))
    first, *rest = text.split("\n")
    assert first == "INFO famassign.server: job j1 failed"
    assert rest and all(line.startswith(CONTINUATION) for line in rest)
    assert rest[-1] == CONTINUATION + FORGED + "\\x1b[31m"


def _logged(server: ServerProcess, expected: str) -> bytes:
    """The server's log once it holds `expected` (the access line follows the answer)."""
    deadline = time.monotonic() + 30
    while True:
        raw = server.log_path.read_bytes()
        if expected.encode() in raw or time.monotonic() > deadline:
            return raw
        time.sleep(0.1)


def test_a_request_cannot_forge_or_garble_a_log_line(server: ServerProcess) -> None:
    forged = "/api/v1/plans/x" + quote("\n" + FORGED, safe="/:,")
    garbled = "/api/v1/jobs/" + quote("j\r\x00\x1b[2J\x9b31m", safe="")
    with server.client(token="") as anonymous:
        assert anonymous.get(forged).status_code in (401, 404)
    with server.client() as signed:
        assert signed.get(garbled).status_code == 404
    raw = _logged(server, "GET /api/v1/jobs/j\\r")
    text = raw.decode("utf-8")
    assert "GET /api/v1/plans/x\\n" + FORGED in text
    assert "GET /api/v1/jobs/j\\r\\x00\\x1b[2J\\x9b31m 404" in text
    assert not any(line.startswith(FORGED[:23]) for line in text.splitlines())
    assert b"\x00" not in raw and b"\x1b" not in raw and b"\r" not in raw
    assert "\x9b" not in text


# ---------------------------------------------------------------------- the database URL


def test_the_database_url_comes_from_the_environment(server: ServerProcess) -> None:
    assert (server.workspace.parent / "elsewhere" / "store.db").is_file()
    assert not (server.workspace / "famassign.db").exists()
    command_line = Path(f"/proc/{server.process.pid}/cmdline").read_bytes()
    assert b"sqlite" not in command_line and b"store.db" not in command_line


# ---------------------------------------------------------------------- numeric options


@pytest.mark.parametrize(
    "options",
    [
        {"workers": 100_000},
        {"workers": 0},
        {"seed": 2**31},
        {"seed": 10**30},
        {"seed": -1},
        {"time_limit": 3601},
        {"time_limit": 1e308},
    ],
)
def test_numeric_options_out_of_range_answer_422(
    client: httpx.Client, example_id: str, options: dict[str, Any]
) -> None:
    jobs = len(client.get("/api/v1/jobs").json())
    for action in ("plans", "compare"):
        if action == "compare" and "workers" in options:
            continue  # a comparison takes no workers (extra options are refused as well)
        response = client.post(f"/api/v1/scenarios/{example_id}/{action}", json=options)
        assert response.status_code == 422, (action, response.text)
    assert len(client.get("/api/v1/jobs").json()) == jobs


@pytest.mark.parametrize("body", [b'{"time_limit": NaN}', b'{"time_limit": Infinity}'])
def test_non_finite_time_limits_answer_422(
    client: httpx.Client, example_id: str, body: bytes
) -> None:
    for action in ("plans", "compare"):
        response = client.post(
            f"/api/v1/scenarios/{example_id}/{action}",
            content=body,
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 422, (action, response.text)


def test_other_numbers_are_bounded_and_the_bounds_are_inclusive(
    client: httpx.Client, example_id: str
) -> None:
    scenario = fa.read_scenario(fa.example_path()).scenario
    staff = scenario.staff[0].staff_id
    huge_cap = {"absent": [staff], "until": "2026-10-31", "temporary_cap": 10**30}
    response = client.post(f"/api/v1/scenarios/{example_id}/plans", json=huge_cap)
    assert response.status_code == 422, response.text
    family = scenario.families[0].family_id
    path = f"/api/v1/scenarios/{example_id}/families/{family}/recommendation"
    assert client.get(path, params={"top": 101}).status_code == 422
    largest = {"workers": 64, "seed": 2**31 - 1, "time_limit": 0}
    accepted = client.post(f"/api/v1/scenarios/{example_id}/plans", json=largest)
    assert accepted.status_code == 202, accepted.text


# ---------------------------------------------------------------------- 422 answers


def _xlsx_of(csv_text: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for line in csv_text.splitlines():
        sheet.append(line.split(","))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_422_names_the_uploaded_files_never_the_workspace(
    server: ServerProcess, client: httpx.Client, good_files: dict[str, str | bytes]
) -> None:
    missing = {name: data for name, data in good_files.items() if name != "families.csv"}
    staff_text = good_files["staff.csv"]
    assert isinstance(staff_text, str)
    both = {**good_files, "staff.xlsx": _xlsx_of(staff_text)}
    for files, expected in [
        (missing, "families.csv"),
        (both, "staff.csv"),
    ]:
        response = upload_files(client, files)
        assert response.status_code == 422, response.text
        assert [p["file"] for p in response.json()["problems"]] == [expected]
        for root in {server.workspace, server.workspace.resolve()}:
            assert str(root) not in response.text


def test_without_folder_leaves_names_relative_to_the_folder() -> None:
    folder = "/srv/famassign/workspace/scenarios/.upload-x1"
    assert without_folder(f"{folder}/families.csv", folder) == "families.csv"
    assert without_folder(f"cannot open {folder}/sub/staff.xlsx", folder + "/") == (
        "cannot open sub/staff.xlsx"
    )
    assert without_folder(f"{folder} is not a folder", folder) == ". is not a folder"
    assert without_folder("families.csv: 3 problems", folder) == "families.csv: 3 problems"
