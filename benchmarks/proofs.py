"""``python -m benchmarks proofs``: the brute-force property tests on many random seeds.

In the test suite hypothesis is derandomised (the same examples every run). Here each seed is
one pytest run of every property test that checks a claim of optimality against all plans of
tiny programs, under ``HYPOTHESIS_PROFILE=explore`` with ``--hypothesis-seed``: a failure is
reported with its seed and falsifying example, to keep as an ``@example`` of its test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROPERTY_TESTS = (
    "tests/test_optimality_brute_force.py",
    "tests/test_levels.py::test_balance_reaches_the_brute_force_optimum",
    "tests/test_caseload_mix.py::test_mix_bound_and_plan_against_brute_force",
    "tests/test_fewest_moves_bounds.py",
    "tests/test_balance_bound.py::test_kept_caseload_bound_never_exceeds_the_fewest_moves_optimum",
    "tests/test_flow_bound.py::test_the_bound_never_exceeds_the_best_plan",
)
"""The tests that compare a claim of optimality (or a bound) with every plan."""


@dataclass(frozen=True)
class SeedRun:
    """One pytest run of the property tests at a hypothesis seed."""

    seed: int
    passed: bool
    seconds: float
    report: str
    """The failing tests and their falsifying examples (empty when passed)."""


def run_seed(seed: int, tests: tuple[str, ...] = PROPERTY_TESTS) -> SeedRun:
    """Run `tests` once with hypothesis drawing at random from `seed`."""
    env = os.environ | {"HYPOTHESIS_PROFILE": "explore"}
    # Schemathesis's pytest plugin would blank the failing examples' values.
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:schemathesis",
    ]
    command += [f"--hypothesis-seed={seed}", *tests]
    start = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    return SeedRun(seed, done.returncode == 0, time.monotonic() - start, _failures(done.stdout))


def _failures(output: str) -> str:
    """The failing examples hypothesis printed (``Falsifying example`` or ``Failing test
    case``, in pytest's report or not) and pytest's summary lines of failures."""
    kept: list[str] = []
    inside = False
    for line in output.splitlines():
        text = line.removeprefix("E").strip()
        inside = inside or text.startswith(("Falsifying example", "Failing test case"))
        if inside or line.startswith(("FAILED", "ERROR")):
            kept.append(line)
        inside = inside and text != ")"
    return "\n".join(kept)


def run(seeds: int, first: int, tests: tuple[str, ...] = PROPERTY_TESTS) -> tuple[str, int]:
    """Run the property tests at seeds `first` .. `first + seeds - 1`; the report and the
    number of seeds that failed."""
    runs = []
    for seed in range(first, first + seeds):
        outcome = run_seed(seed, tests)
        state = "passed" if outcome.passed else "FAILED"
        print(f"# seed {seed}: {state} in {outcome.seconds:.0f} s", file=sys.stderr, flush=True)
        runs.append(outcome)
    failed = [r for r in runs if not r.passed]
    lines = [f"{len(runs) - len(failed)} of {len(runs)} seeds passed ({', '.join(tests)})"]
    for r in failed:
        lines += [
            f"\nseed {r.seed} (rerun: HYPOTHESIS_PROFILE=explore pytest "
            f"--hypothesis-seed={r.seed} ...):",
            r.report,
        ]
    return "\n".join(lines), len(failed)
