"""A real ``famassign serve`` process on a free loopback port (the server's tests and the load
benchmark start it through here), and the client calls they share."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

TOKEN = "test-token-0123456789abcdef"
STARTUP_S = 180.0
"""A loaded 2-core machine may take long to import the stack; the wait ends at health."""


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    """A running server: its URL, token, process and log file (stderr and stdout)."""

    url: str
    token: str
    process: subprocess.Popen[bytes]
    workspace: Path
    log_path: Path

    def client(self, *, token: str | None = None, timeout: float = 120.0) -> httpx.Client:
        """An HTTP client for the server, sending `token` (default: the server's) as bearer."""
        given = self.token if token is None else token
        headers = {"Authorization": f"Bearer {given}"} if given else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the server and wait for it to end."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(30)

    def children(self) -> list[int]:
        """Process ids whose parent is the server (its worker processes)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.process.pid:
                found.append(int(entry.name))
        return found


def start_server(
    workspace: Path,
    *,
    args: tuple[str, ...] = (),
    global_args: tuple[str, ...] = (),
    token: str = TOKEN,
    env: Mapping[str, str] | None = None,
    log_name: str = "server.log",
) -> ServerProcess:
    """Start ``python -m famassign serve`` on a free port and wait until health answers.

    Raises AssertionError (with the log) when it exits or does not answer in time.
    """
    port = free_port()
    log_path = workspace.parent / log_name
    command = [
        sys.executable,
        "-m",
        "famassign",
        *global_args,
        "serve",
        "--port",
        str(port),
        "--workspace",
        str(workspace),
        "--token",
        token,
        *args,
    ]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    server = ServerProcess(f"http://127.0.0.1:{port}", token, process, workspace, log_path)
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.url}/api/v1/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise AssertionError(f"server did not answer in {STARTUP_S}s:\n{server.log()}")


@contextmanager
def running_server(workspace: Path, **kwargs: Any) -> Iterator[ServerProcess]:
    """:func:`start_server`, stopped (SIGTERM, then SIGKILL) when the block ends."""
    server = start_server(workspace, **kwargs)
    try:
        yield server
    finally:
        server.kill(signal.SIGTERM)


def upload_folder(client: httpx.Client, folder: Path) -> httpx.Response:
    """POST every file of `folder` to /api/v1/scenarios as multipart field ``files``."""
    parts = [
        ("files", (path.name, path.read_bytes(), "application/octet-stream"))
        for path in sorted(folder.iterdir())
        if path.is_file()
    ]
    return client.post("/api/v1/scenarios", files=parts)


def upload_files(client: httpx.Client, files: Mapping[str, str | bytes]) -> httpx.Response:
    """POST `files` (name -> content) to /api/v1/scenarios as multipart field ``files``."""
    parts = [
        ("files", (name, data.encode("utf-8") if isinstance(data, str) else data, "text/plain"))
        for name, data in files.items()
    ]
    return client.post("/api/v1/scenarios", files=parts)


def wait_for_job(
    client: httpx.Client, job_id: str, *, timeout: float = 300.0, until: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Poll a job until it is final (or in one of `until`); return its JSON."""
    final = {"done", "failed", "cancelled", *until}
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/api/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["state"] in final:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['state']} after {timeout}s")
        time.sleep(0.25)


def _frame(data: bytes) -> Any:
    import io

    import pandas as pd

    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)


def check_plan(client: httpx.Client, plan_id: str, scenario: Any) -> dict[str, bytes]:
    """Fetch every file of a plan (each must answer 200 with content), check that the plan
    covers every family of `scenario` and that the independent evaluator finds no violation;
    return the files by name."""
    from famassign.outputs import PLAN_FILES
    from famassign.solver import evaluate

    listed = client.get(f"/api/v1/plans/{plan_id}/files")
    assert listed.status_code == 200, listed.text
    names = listed.json()
    assert set(PLAN_FILES) <= set(names), names
    files = {}
    for name in names:
        response = client.get(f"/api/v1/plans/{plan_id}/files/{name}")
        assert response.status_code == 200, (name, response.text)
        assert response.content, name
        files[name] = response.content
    assignments = _frame(files["assignments.csv"])
    caseloads = _frame(files["caseloads.csv"])
    plan = {r.family_id: (r.staff_id or None) for r in assignments.itertuples()}
    exception_of = {r.staff_id: (r.exception_id or None) for r in caseloads.itertuples()}
    assert set(plan) == {f.family_id for f in scenario.families}
    violations = evaluate(scenario, plan, exception_of).violations
    assert violations == [], violations
    return files
