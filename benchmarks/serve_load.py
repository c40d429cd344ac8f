"""``python -m benchmarks.serve_load [--clients 16]``: a bounded load test of ``famassign serve``.

A real server process (defaults: a worker per core, SQLite in a temporary workspace) and
`clients` concurrent clients, each uploading the bundled example, planning it, polling the job,
fetching every file and checking the plan with the independent evaluator. Beside them a prober
asks ``/api/v1/health`` every 0.2 s. It reports every plan completed and valid, the HTTP answers
by class (no 5xx), the health latency (max, p95) and the times, and fails (exit 1) when a plan
fails, any answer is a 5xx or health took 1 s or more.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import famassign as fa
from benchmarks.server_process import (
    ServerProcess,
    check_plan,
    running_server,
    upload_folder,
    wait_for_job,
)

HEALTH_EVERY_S = 0.2
HEALTH_LIMIT_S = 1.0


@dataclass
class LoadFigures:
    """What one load run measured."""

    clients: int
    plans_valid: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    health_s: list[float] = field(default_factory=list)
    client_s: list[float] = field(default_factory=list)
    plan_runtime_s: list[float] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def server_errors(self) -> int:
        """Answers with a 5xx status."""
        return sum(n for code, n in self.statuses.items() if code >= 500)

    @property
    def health_max_s(self) -> float:
        """Slowest health answer."""
        return max(self.health_s, default=0.0)

    @property
    def ok(self) -> bool:
        """Every plan valid, no 5xx, health always under a second."""
        return (
            self.plans_valid == self.clients
            and self.server_errors == 0
            and self.health_max_s < HEALTH_LIMIT_S
        )

    def table(self) -> str:
        """The figures as a markdown table."""
        health = sorted(self.health_s)
        p95 = health[int(0.95 * (len(health) - 1))] if health else 0.0
        rows = [
            ("clients (upload + plan + poll + fetch + evaluate)", f"{self.clients}"),
            ("plans completed and valid (evaluator)", f"{self.plans_valid}/{self.clients}"),
            ("HTTP answers", ", ".join(f"{c}: {n}" for c, n in sorted(self.statuses.items()))),
            ("5xx answers", f"{self.server_errors}"),
            ("health probes", f"{len(health)}"),
            ("health latency max / p95 / median (s)", f"{self.health_max_s:.3f} / {p95:.3f} / "
             f"{statistics.median(health) if health else 0:.3f}"),
            ("wall time of the run (s)", f"{self.wall_s:.1f}"),
            ("per client, first request to last file (s) median / max",
             f"{statistics.median(self.client_s):.1f} / {max(self.client_s):.1f}"
             if self.client_s else "-"),
            ("solver runtime per plan (s) median / max",
             f"{statistics.median(self.plan_runtime_s):.2f} / {max(self.plan_runtime_s):.2f}"
             if self.plan_runtime_s else "-"),
        ]  # fmt: skip
        lines = ["| measure | value |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in rows]
        return "\n".join(lines)


def run_load(server: ServerProcess, clients: int, time_limit: float = 5.0) -> LoadFigures:
    """Run `clients` concurrent clients against a running `server`; return the figures."""
    example = fa.example_path()
    scenario = fa.read_scenario(example).scenario
    figures = LoadFigures(clients)
    lock = threading.Lock()
    finished = threading.Event()

    def note(code: int) -> None:
        with lock:
            figures.statuses[code] += 1

    def probe() -> None:
        with server.client(token="", timeout=30) as anonymous:
            while not finished.is_set():
                t0 = time.perf_counter()
                code = anonymous.get("/api/v1/health").status_code
                with lock:
                    figures.health_s.append(time.perf_counter() - t0)
                note(code)
                finished.wait(HEALTH_EVERY_S)

    def one_client(_i: int) -> None:
        t0 = time.perf_counter()
        with server.client(timeout=600) as client:
            uploaded = upload_folder(client, example)
            note(uploaded.status_code)
            started = client.post(
                f"/api/v1/scenarios/{uploaded.json()['id']}/plans",
                json={"time_limit": time_limit, "seed": 1},
            )
            note(started.status_code)
            job = wait_for_job(client, started.json()["id"], timeout=1800)
            assert job["state"] == "done", job
            check_plan(client, job["plan_id"], scenario)
            plan = client.get(f"/api/v1/plans/{job['plan_id']}").json()
        with lock:
            figures.plans_valid += 1
            figures.client_s.append(time.perf_counter() - t0)
            figures.plan_runtime_s.append(float(plan["runtime_s"]))

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    start = time.perf_counter()
    try:
        with ThreadPoolExecutor(clients) as pool:
            for future in [pool.submit(one_client, i) for i in range(clients)]:
                future.result()
    finally:
        figures.wall_s = time.perf_counter() - start
        finished.set()
        prober.join()
    return figures


def main(argv: list[str] | None = None) -> int:
    """Start a server, run the load, print the table; exit 1 unless every check holds."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve_load")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--time-limit", type=float, default=5.0)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="famassign-load-") as tmp,
        running_server(Path(tmp) / "workspace", args=("--max-queued-jobs", "64")) as server,
    ):
        # one plan first, so that worker start-up is not counted as load
        with server.client() as client:
            first = upload_folder(client, fa.example_path())
            job = client.post(f"/api/v1/scenarios/{first.json()['id']}/plans", json={})
            wait_for_job(client, job.json()["id"], timeout=1800)
        figures = run_load(server, args.clients, args.time_limit)
    print(figures.table())
    return 0 if figures.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
