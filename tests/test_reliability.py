"""Reliability of the planning commands: determinism, interruption, kills and time limits.

- ``--deterministic`` gives byte-identical assignments.csv and caseloads.csv for the same input
  and seed, with the machine idle or loaded (a busy-loop process competing for the CPU), for
  ``solve`` and ``reassign``; in the library a slow model build does not change the plan.
- The default mode (all cores, wall-clock limit) gives the same placement, exception places and
  match bound run to run (the exact min-cost flow); only the balancing may differ.
- SIGINT (Ctrl-C) during a long solve or reassign of a 10,000-family program: exit 130 within
  seconds, the previous outputs byte-identical, no temporary folder left. SIGKILL while the plan
  is being written: the previous outputs intact; a leftover temporary folder is removed by the
  next successful run.
- ``--time-limit 2`` on the 10,000-family program returns a complete plan the evaluator finds
  valid, with runtime_s within the limit plus an allowance for model build and writing.

Scenarios are generated (``scenarios.generator``) and written with ``models.writing``; every
command runs as a real process (``python -m famassign``), never through a shell.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib
import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from famassign.cli import app
from famassign.models import Scenario
from famassign.models.writing import write_scenario
from famassign.safe_io import TMP_PREFIX
from famassign.scenarios import PRESETS, generate
from famassign.scenarios.example import example_path
from famassign.solver import PlanOptions, evaluate

FAMASSIGN = [sys.executable, "-m", "famassign"]
PLAN_OUTPUTS = ("assignments.csv", "caseloads.csv")
SIGNAL_TIMEOUT = 20.0
"""Seconds a signalled process may take to end before the test fails (it usually takes < 1)."""


# ------------------------------------------------------------------------------ scenarios


@pytest.fixture(scope="module")
def small() -> Scenario:
    """A 600-family program whose families have current staff (so reassign has moves to make)."""
    cfg = dataclasses.replace(PRESETS["small"], with_current_assignments=True)
    return generate(cfg, seed=1)


@pytest.fixture(scope="module")
def small_dir(small: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scenario(small, tmp_path_factory.mktemp("small") / "program")


@pytest.fixture(scope="module")
def large() -> Scenario:
    """The 10,000-family preset (40 sites)."""
    return generate("large", seed=2)


@pytest.fixture(scope="module")
def large_dir(large: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scenario(large, tmp_path_factory.mktemp("large") / "program")


@pytest.fixture(scope="module")
def large_current() -> Scenario:
    """The 10,000-family preset, half the families with a current staff member (for reassign:
    its balance stage runs for several seconds, long enough to be interrupted)."""
    cfg = dataclasses.replace(PRESETS["large"], with_current_assignments=True, current_share=0.5)
    return generate(cfg, seed=2)


@pytest.fixture(scope="module")
def large_current_dir(large_current: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scenario(large_current, tmp_path_factory.mktemp("large-current") / "program")


@pytest.fixture(scope="module")
def earlier_plan(small_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete plan of the small program, written once (copied where a test needs one)."""
    out = tmp_path_factory.mktemp("earlier") / "plan"
    done = run("solve", str(small_dir), "--out", str(out), "--time-limit", "0.5")
    assert done.returncode == 0, done.stderr
    return out


def busiest_staff(scenario: Scenario) -> str:
    """The staff member with the most current families (the one whose leaving moves most)."""
    counts: dict[str, int] = {}
    for fam in scenario.families:
        if fam.current_staff_id:
            counts[fam.current_staff_id] = counts.get(fam.current_staff_id, 0) + 1
    return max(sorted(counts), key=lambda s: counts[s])


# ------------------------------------------------------------------------------ helpers


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`famassign ARGS` as a process; stdout and stderr captured."""
    return subprocess.run(
        [*FAMASSIGN, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative path -> bytes)."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def leftovers(out: Path) -> list[str]:
    """Temporary siblings of `out` (a write that did not finish)."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(TMP_PREFIX))


@contextmanager
def cpu_load(processes: int = 1) -> Iterator[None]:
    """Busy-loop processes competing for the CPU while the block runs."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        time.sleep(0.2)
        yield
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.wait()


def _sigint_as_at_a_terminal() -> None:
    """In the child before famassign starts: SIGINT back to its default, as at a terminal, even
    when this test run itself ignores it (a background job of a non-interactive shell, such as
    ``(nohup .ci/run &)``, starts with SIGINT ignored, and Python then installs no Ctrl-C
    handler; found when the SIGINT tests failed in such a run)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Watched:
    """A famassign process whose stderr (the log, with -v) is read line by line as it comes."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(  # no shell: a non-interactive shell would ignore SIGINT
            [*FAMASSIGN, "-v", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_sigint_as_at_a_terminal,
        )
        self.lines: list[str] = []
        self._new = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._new:
                self.lines.append(line)
                self._new.notify_all()
        with self._new:
            self._new.notify_all()

    def wait_for(self, text: str, timeout: float = 60) -> None:
        """Block until a stderr line contains `text` (fail on timeout or exit)."""
        deadline = time.monotonic() + timeout
        with self._new:
            while not any(text in line for line in self.lines):
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    self.proc.kill()
                    pytest.fail(f"never logged {text!r}: {''.join(self.lines)}")
                self._new.wait(min(left, 0.5))

    def signal_and_wait(self, sig: int) -> tuple[int, float]:
        """Send `sig`; return the exit code and the seconds it took to end."""
        sent = time.monotonic()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=SIGNAL_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail(f"still running {SIGNAL_TIMEOUT}s after signal {sig}")
        self._reader.join(5)
        return code, time.monotonic() - sent

    @property
    def stderr(self) -> str:
        return "".join(self.lines)


# ------------------------------------------------------------------------------ determinism


def test_deterministic_plan_ignores_model_build_time(
    small: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Library level: a model build slowed by 0.4 s (as under machine load) gives the same
    deterministic plan; the balance budget is deterministic time, never time left on a clock."""
    solve_module = importlib.import_module("famassign.solver.solve")
    options = PlanOptions(time_limit=1.0, seed=3, deterministic=True)
    first = solve_module.solve(small, options)
    build = solve_module.build_arrays

    def slow_build(scenario: Scenario) -> Any:
        arrays = build(scenario)
        time.sleep(0.4)
        return arrays

    monkeypatch.setattr(solve_module, "build_arrays", slow_build)
    second = solve_module.solve(small, options)
    assert first.plan() == second.plan()
    assert first.caseloads == second.caseloads


def _deterministic_runs(base: list[str], out_root: Path) -> list[dict[str, bytes]]:
    """Run `base` + --out twice: alone, then with a busy-loop process loading the CPU."""
    first = run(*base, "--out", str(out_root / "alone"))
    assert first.returncode in (0, 3), first.stderr
    with cpu_load():
        second = run(*base, "--out", str(out_root / "loaded"))
    assert second.returncode == first.returncode, second.stderr
    return [
        {name: (out_root / run_name / name).read_bytes() for name in PLAN_OUTPUTS}
        for run_name in ("alone", "loaded")
    ]


def test_solve_deterministic_is_byte_identical_under_load(small_dir: Path, tmp_path: Path) -> None:
    base = ["solve", str(small_dir), "--deterministic", "--seed", "3", "--time-limit", "1"]
    alone, *loaded = _deterministic_runs(base, tmp_path)
    assert alone["assignments.csv"].count(b"\n") == 601
    for other in loaded:
        assert other == alone


def test_reassign_deterministic_is_byte_identical_under_load(
    small: Scenario, small_dir: Path, tmp_path: Path
) -> None:
    base = [
        "reassign", str(small_dir), "--departed", busiest_staff(small),
        "--deterministic", "--seed", "3", "--time-limit", "1",
    ]  # fmt: skip
    alone, *loaded = _deterministic_runs(base, tmp_path)
    assert b",true," in alone["assignments.csv"]  # some families moved
    for other in loaded:
        assert other == alone


def _plan_facts(out: Path) -> tuple[frozenset[str], dict[str, Any]]:
    with (out / "assignments.csv").open(encoding="utf-8", newline="") as handle:
        placed = frozenset(row["family_id"] for row in csv.DictReader(handle) if row["staff_id"])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return placed, summary


def test_default_mode_guarantees(small_dir: Path, tmp_path: Path) -> None:
    """Two default (parallel, wall-clock) runs: the same families placed, the same number of
    exception places and the same match bound (the exact flow); the plans themselves may differ
    only by the balancing stage, which never lowers placement or exception places."""
    facts = []
    for name in ("a", "b"):
        done = run("solve", str(small_dir), "--out", str(tmp_path / name), "--time-limit", "1")
        assert done.returncode == 0, done.stderr
        facts.append(_plan_facts(tmp_path / name))
    (placed_a, sum_a), (placed_b, sum_b) = facts
    assert placed_a == placed_b and len(placed_a) == sum_a["assigned"] == sum_b["assigned"]
    for key in ("placed", "urgency_unplaced", "over_cap", "bound", "exceptions_used"):
        assert sum_a[key] == sum_b[key], key
    for summary in (sum_a, sum_b):  # the balance keeps the match within the tolerance
        assert summary["match"] <= summary["bound"]


# ------------------------------------------------------------------------------ interruption


def _previous_plan(earlier_plan: Path, out: Path) -> dict[str, bytes]:
    """A complete earlier plan in `out` (a copy of one famassign wrote), as bytes."""
    shutil.copytree(earlier_plan, out)
    return snapshot(out)


@pytest.mark.parametrize("command", ["solve", "reassign"])
def test_sigint_stops_at_once_and_keeps_previous_outputs(
    command: str, request: pytest.FixtureRequest, earlier_plan: Path, tmp_path: Path
) -> None:
    out = tmp_path / "plan"
    before = _previous_plan(earlier_plan, out)
    if command == "solve":
        args = ["solve", str(request.getfixturevalue("large_dir"))]
    else:
        program: Scenario = request.getfixturevalue("large_current")
        folder: Path = request.getfixturevalue("large_current_dir")
        args = ["reassign", str(folder), "--departed", busiest_staff(program)]
    args += ["--out", str(out), "--time-limit", "60"]
    started = time.monotonic()
    watched = Watched(*args)
    watched.wait_for("flow optimal")  # the balance search is under way
    # solve: at 3 s at the earliest; reassign balances for a few seconds only: soon after.
    time.sleep(max(0.5, (3.0 if command == "solve" else 0.0) - (time.monotonic() - started)))
    assert watched.proc.poll() is None, f"ended before the signal: {watched.stderr}"
    code, took = watched.signal_and_wait(signal.SIGINT)
    assert code == 130, watched.stderr
    assert took < 10, f"took {took:.1f}s to stop"
    assert "interrupted; nothing was written" in watched.stderr
    assert "Traceback" not in watched.stderr
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_sigkill_while_writing_keeps_previous_outputs(
    large_dir: Path, small_dir: Path, earlier_plan: Path, tmp_path: Path
) -> None:
    """Killed once the plan is ready (while the outputs are being written): the output folder
    is the previous plan (or, if the write had already finished, the new complete one); a
    leftover temporary folder is removed by the next successful run."""
    out = tmp_path / "plan"
    before = _previous_plan(earlier_plan, out)
    watched = Watched("solve", str(large_dir), "--out", str(out), "--time-limit", "1")
    watched.wait_for("plan ready")
    deadline = time.monotonic() + 30
    while not leftovers(out) and watched.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)  # kill as soon as the temporary folder exists: mid-write
    mid_write = bool(leftovers(out))
    code, _ = watched.signal_and_wait(signal.SIGKILL)
    after = snapshot(out)
    if code == -signal.SIGKILL:
        if after != before:  # the swap happened just before the kill: the new plan, complete
            assert after["assignments.csv"].count(b"\n") == 10_001
            assert "summary.json" in after
    else:
        assert code == 0, watched.stderr
    stale = leftovers(out)
    print(f"SIGKILL while writing: exit {code}, leftover temporary folders {stale}")
    if code == -signal.SIGKILL and mid_write:
        assert stale, "killed mid-write but no temporary folder left: the test missed the write"
    done = run("solve", str(small_dir), "--out", str(out), "--time-limit", "0.5")
    assert done.returncode == 0, done.stderr
    assert leftovers(out) == []
    assert snapshot(out).keys() == before.keys()


# ------------------------------------------------------------------------------ time limits


def _read_plan(out: Path) -> tuple[dict[str, str | None], dict[str, str | None]]:
    with (out / "assignments.csv").open(encoding="utf-8", newline="") as handle:
        plan = {r["family_id"]: r["staff_id"] or None for r in csv.DictReader(handle)}
    with (out / "caseloads.csv").open(encoding="utf-8", newline="") as handle:
        cited = {r["staff_id"]: r["exception_id"] or None for r in csv.DictReader(handle)}
    return plan, cited


def test_time_limit_returns_a_complete_valid_plan(
    large: Scenario, large_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "plan"
    started = time.monotonic()
    done = run("solve", str(large_dir), "--out", str(out), "--time-limit", "2")
    wall = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["assigned"] == summary["families"] == 10_000
    assert summary["runtime_s"] < 2 + 20, summary["runtime_s"]
    plan, cited = _read_plan(out)
    assert len(plan) == 10_000 and all(plan.values())
    evaluation = evaluate(large, plan, cited)
    assert evaluation.violations == []
    assert evaluation.placed == 10_000
    print(f"--time-limit 2 on 10,000 families: runtime_s {summary['runtime_s']}, wall {wall:.1f}s")


def test_inputs_are_never_modified(tmp_path: Path) -> None:
    # Every planning command reads the scenario folder; none may touch it (bytes and mtimes).

    source = tmp_path / "springfield"
    shutil.copytree(example_path(), source)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in source.iterdir()}
    runner = CliRunner()
    commands = [
        ["validate", str(source)],
        ["solve", str(source), "--out", str(tmp_path / "a"), "--time-limit", "1"],
        [
            "reassign",
            str(source),
            "--out",
            str(tmp_path / "b"),
            "--departed",
            "S0004",
            "--time-limit",
            "1",
        ],
        ["recommend", str(source), "--family", "F00001"],
        ["compare", str(source), "--out", str(tmp_path / "c"), "--time-limit", "1"],
    ]
    for args in commands:
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 3), (args, result.output)
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in source.iterdir()}
    assert after == before
