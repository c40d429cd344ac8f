"""`famassign serve` under hostile uploads, as a real process on a loopback port: a 20 MB one-row
CSV and an XLSX zip bomb answer 422 within 15 s while health answers within 1 s, a valid upload
sent meanwhile succeeds and the server's processes together stay under 1.5 GB; a worker killed
mid-check is replaced and its input answers 422 at once (never checked again)."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook
from server_process import ServerProcess, running_server, upload_files

import famassign as fa

MEMORY_MB = 768
"""Each worker's address-space limit in these servers (a warmed worker holds about 0.5 GiB)."""
TREE_LIMIT = 1536 * 1024 * 1024
"""The server's processes together (resident memory) stay under this."""
PAGE = os.sysconf("SC_PAGE_SIZE")


def _example() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(fa.example_path().iterdir()) if p.is_file()}


def _tree(root: int) -> list[int]:
    """`root` and every process below it (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def _rss(pid: int) -> int:
    try:
        return int((Path("/proc") / str(pid) / "statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _stat(pid: int, field: int) -> int:
    """Field `field` of /proc/PID/stat counted from the one after the command (0: state)."""
    try:
        return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[field])
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(server: ServerProcess) -> int:
    """Resident bytes of the server process and all its descendants."""
    return sum(_rss(pid) for pid in _tree(server.process.pid))


class Watch:
    """While it runs: health's slowest answer and the process tree's largest RSS."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.slowest = 0.0
        self.failed: list[str] = []
        self.largest = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=5) as client:
            while not self._stop.wait(0.2):
                self.largest = max(self.largest, tree_rss(self.server))
                start = time.monotonic()
                try:
                    status = client.get("/api/v1/health").status_code
                except httpx.HTTPError as exc:
                    self.failed.append(repr(exc))
                    continue
                self.slowest = max(self.slowest, time.monotonic() - start)
                if status != 200:
                    self.failed.append(str(status))

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("limits")
    args = ("--job-processes", "1", "--check-processes", "2", "--worker-memory-mb", str(MEMORY_MB))
    with running_server(root / "workspace", args=args) as running:
        _wait_until_idle(running)
        yield running


def one_row_csv() -> bytes:
    """families.csv: the header and one 20 MB row."""
    header = _example()["families.csv"].split(b"\n", 1)[0]
    return header + b"\n" + b"a," * (10 * 1024 * 1024) + b"\n"


def zip_bomb(uncompressed: int = 1024**3) -> bytes:
    """families.xlsx whose sheet is about 1 MB compressed and `uncompressed` bytes unpacked
    (one inline string cell): read whole, it takes many times that in memory."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["family_id"])
    raw = io.BytesIO()
    book.save(raw)
    source = zipfile.ZipFile(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info, source.read(info.filename))
                continue
            entry = zipfile.ZipInfo(info.filename)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with target.open(entry, "w", force_zip64=True) as part:
                part.write(
                    b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                    b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr">'
                    b"<is><t>"
                )
                chunk = b"A" * (1 << 20)
                for _ in range(uncompressed >> 20):
                    part.write(chunk)
                part.write(b"</t></is></c></row></sheetData></worksheet>")
    return out.getvalue()


def _attack(server: ServerProcess, files: dict[str, bytes]) -> tuple[httpx.Response, float]:
    """Upload `files` while a valid upload is sent a moment later; return the hostile upload's
    answer and time, having checked health, the valid upload and the memory throughout."""
    valid: list[httpx.Response] = []

    def send_valid() -> None:
        time.sleep(1.0)
        with server.client(timeout=60) as client:
            valid.append(upload_files(client, _example()))

    with Watch(server) as watch, server.client(timeout=120) as client:
        other = threading.Thread(target=send_valid)
        other.start()
        start = time.monotonic()
        answer = upload_files(client, files)
        took = time.monotonic() - start
        other.join(90)
    assert not watch.failed, watch.failed
    assert watch.slowest < 1.0, f"health took {watch.slowest:.2f}s"
    assert watch.largest < TREE_LIMIT, f"the server's processes took {watch.largest >> 20} MiB"
    assert valid and valid[0].status_code == 201, valid[0].text if valid else "no answer"
    print(  # the numbers for the report (pytest -s)
        f"\nanswer {answer.status_code} in {took:.1f}s; health at most {watch.slowest:.3f}s; "
        f"processes at most {watch.largest >> 20} MiB"
    )
    return answer, took


def test_a_one_row_20_mb_csv_answers_422_and_the_server_keeps_answering(
    server: ServerProcess,
) -> None:
    answer, took = _attack(server, _example() | {"families.csv": one_row_csv()})
    assert answer.status_code == 422, answer.text
    assert took < 15, took
    assert answer.json()["problems"][0]["file"] == "families.csv"


def test_an_xlsx_zip_bomb_answers_422_and_the_server_keeps_answering(
    server: ServerProcess,
) -> None:
    files = {k: v for k, v in _example().items() if k != "families.csv"}
    answer, took = _attack(server, files | {"families.xlsx": zip_bomb()})
    assert answer.status_code == 422, answer.text
    assert took < 15, took
    body = answer.json()
    assert body["problems"], body
    # the server still checks uploads after it: two in a row take both check workers, one of
    # them the fresh worker that replaced the one that ended
    with server.client() as client:
        for _ in range(2):
            assert upload_files(client, _example()).status_code == 201


def _wait_until_idle(server: ServerProcess) -> None:
    """Wait until the workers finished warming up (the stack imported): timings then measure
    the input, not a worker's start."""
    deadline = time.monotonic() + 120
    while max(_cpu_used(server).values(), default=0) > 5:
        assert time.monotonic() < deadline, "the workers never went idle"


def _large_families(rows: int) -> bytes:
    """families.csv of the example repeated to `rows` families (each id new)."""
    lines = _example()["families.csv"].decode().splitlines()
    header, body = lines[0], lines[1:]
    out = [header]
    for n in range(rows):
        cells = body[n % len(body)].split(",")
        cells[0], cells[-2], cells[-1] = f"F{n + 1:05d}", "", "false"  # no staff, not pinned
        out.append(",".join(cells))
    return ("\n".join(out) + "\n").encode()


def _cpu_used(server: ServerProcess, seconds: float = 0.5) -> dict[int, int]:
    """CPU ticks each child of the server used over `seconds`."""
    before = {pid: _stat(pid, 11) + _stat(pid, 12) for pid in server.children()}
    time.sleep(seconds)
    return {pid: _stat(pid, 11) + _stat(pid, 12) - was for pid, was in before.items()}


def test_a_worker_killed_mid_check_is_replaced_and_its_input_answers_422(
    tmp_path: Path,
) -> None:
    files = _example() | {"families.csv": _large_families(450_000)}
    # one check worker: the upload after the kill is checked by the worker that replaced it
    args = ("--job-processes", "1", "--check-processes", "1")
    with running_server(tmp_path / "workspace", args=args) as running:
        _wait_until_idle(running)
        deadline = time.monotonic() + 120
        answers: list[httpx.Response] = []

        def upload() -> None:
            with running.client(timeout=300) as client:
                answers.append(upload_files(client, files))

        sender = threading.Thread(target=upload)
        sender.start()
        deadline = time.monotonic() + 120
        while not list(running.workspace.glob("scenarios/.upload-*/families.csv")):
            assert time.monotonic() < deadline, "the upload never reached its check"
            time.sleep(0.1)
        busy: list[int] = []
        while not busy:  # the worker checking it: the first child busy for 0.2 s
            assert time.monotonic() < deadline, "no worker took the check"
            busy = [pid for pid, ticks in _cpu_used(running, 0.2).items() if ticks >= 10]
        os.kill(busy[0], signal.SIGKILL)
        killed = time.monotonic()
        sender.join(120)
        answered = time.monotonic() - killed
        assert answers, "no answer"
        body: dict[str, Any] = answers[0].json()
        assert answers[0].status_code == 422, body
        assert "could not be read within the limits" in body["problems"][0]["message"], body
        assert answered < 5, f"answered {answered:.1f}s after the kill: checked again?"
        assert running.log().count("ended its check's worker") == 1
        with running.client() as client:  # a fresh worker checks the next upload
            assert upload_files(client, _example()).status_code == 201


def test_a_check_over_its_time_limit_answers_422_and_its_worker_is_replaced(
    tmp_path: Path,
) -> None:
    files = _example() | {"families.csv": _large_families(450_000)}
    args = ("--job-processes", "1", "--check-processes", "1", "--check-timeout", "1")
    with running_server(tmp_path / "workspace", args=args) as running:
        _wait_until_idle(running)
        with running.client(timeout=120) as client:
            answer = upload_files(client, files)
            problems = answer.json()["problems"]
            assert answer.status_code == 422, problems
            assert problems[0]["message"] == (
                "could not be read within the limits: it took longer than the time limit of 1 s"
            )
            # the single check worker was killed: its replacement checks the next upload
            assert upload_files(client, _example()).status_code == 201
