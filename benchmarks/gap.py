"""The GAP runner: OR-Library generalized assignment instances solved with famassign's CP-SAT core.

Usage::

    python -m benchmarks.gap FILE.. --time-limit S [--sense min|max] [--csv FILE]

Multi-problem files ``gapN.txt`` hold P problems named ``cMN-k`` (M agents, N jobs, problem k);
single-instance files (``a05100`` .. ``e20200``) hold one problem named after the file. Without
``--sense``, gap1-12 problems are solved in both senses and the others as minimisation.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.assignment import (
    AssignmentProblem,
    improve_by_shifts,
    regret_greedy,
    solve_assignment_lns,
)
from famassign.solver.arrays import IntArray
from famassign.solver.settings import SolverSettings

GAP_DIR = Path(__file__).resolve().parent / "data" / "gap"
"""Where the OR-Library instances live, in the repository (their source: ``README.md`` there)."""

CSV_HEADER = ("instance", "sense", "objective", "best_known", "gap_pct", "seconds")


@dataclass(frozen=True)
class GapInstance:
    """One GAP problem: agent x job cost and resource matrices and the agents' capacities."""

    name: str
    cost: IntArray
    weight: IntArray
    capacity: IntArray
    multi: bool
    """True when it came from a multi-problem file (solved in both senses by default)."""

    @property
    def n_agents(self) -> int:
        """Number of agents (staff)."""
        return int(self.cost.shape[0])

    @property
    def n_jobs(self) -> int:
        """Number of jobs (families)."""
        return int(self.cost.shape[1])

    def problem(self, sense: str) -> AssignmentProblem:
        """The instance as an :class:`AssignmentProblem` in `sense` ('min' or 'max')."""
        return AssignmentProblem.dense(
            self.cost, self.weight, self.capacity, maximize=sense == "max"
        )


class GapFormatError(ValueError):
    """A GAP file does not follow the OR-Library format."""


def _take(numbers: Iterator[int], count: int, path: Path, what: str) -> IntArray:
    out = np.fromiter(numbers, dtype=np.int64, count=count) if count else np.zeros(0, np.int64)
    if len(out) != count:  # pragma: no cover - fromiter raises first
        raise GapFormatError(f"{path}: ran out of numbers reading {what}")
    return out


def read_gap(path: str | Path) -> list[GapInstance]:
    """Every problem in an OR-Library GAP file (multi-problem or single-instance)."""
    path = Path(path)
    tokens = path.read_text().split()
    try:
        values = [int(t) for t in tokens]
    except ValueError as exc:
        raise GapFormatError(f"{path}: not a stream of integers ({exc})") from None
    stem = path.stem
    multi_match = re.fullmatch(r"gap(\w+)", stem)
    # A multi-problem file starts with P, then m n; a single instance starts with m n directly.
    # The counts decide: P problems of m x n need exactly the numbers the file holds.
    multi = multi_match is not None and not _is_single(values)
    problems = values[0] if multi else 1
    it = iter(values[1:] if multi else values)
    instances: list[GapInstance] = []
    try:
        for k in range(1, problems + 1):
            m, n = next(it), next(it)
            cost = _take(it, m * n, path, "costs").reshape(m, n)
            weight = _take(it, m * n, path, "resources").reshape(m, n)
            capacity = _take(it, m, path, "capacities")
            if multi_match is None or not multi:
                name = stem
            elif multi_match.group(1).isdigit():
                name = f"c{m}{n}-{k}"  # gap1..gap12: cMN-k
            else:
                name = f"{multi_match.group(1)}{m:02d}{n}"  # gapa..gapd: same names as the files
            instances.append(GapInstance(name, cost, weight, capacity, multi))
    except (StopIteration, ValueError):
        raise GapFormatError(
            f"{path}: ran out of numbers in problem {len(instances) + 1}"
        ) from None
    if any(True for _ in it):
        raise GapFormatError(f"{path}: numbers left over after {problems} problem(s)")
    return instances


def _is_single(values: list[int]) -> bool:
    """True when the numbers are exactly one problem ``m n c a b``."""
    if len(values) < 2:
        return False
    m, n = values[0], values[1]
    return len(values) == 2 + 2 * m * n + m


def load_best_known(path: Path | None = None) -> dict[tuple[str, str], tuple[int, bool]]:
    """(instance, sense) -> (best known objective, proven optimal) from best_known.csv."""
    path = path or GAP_DIR / "best_known.csv"
    if not path.exists():
        return {}
    out: dict[tuple[str, str], tuple[int, bool]] = {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            out[(row["instance"], row["sense"])] = (
                int(row["best_known"]),
                row["optimal"].strip().lower() == "yes",
            )
    return out


@dataclass(frozen=True)
class GapRun:
    """One instance solved in one sense."""

    instance: str
    sense: str
    objective: int | None
    best_known: int | None
    optimal: bool
    seconds: float

    @property
    def gap_pct(self) -> float | None:
        """How far from the best known, in percent (positive = worse)."""
        if self.objective is None or not self.best_known:
            return None
        diff = self.objective - self.best_known
        if self.sense == "max":
            diff = -diff
        return 100.0 * diff / abs(self.best_known)

    def row(self) -> tuple[str, str, str, str, str, str]:
        """The CSV row."""
        gap = self.gap_pct
        return (
            self.instance,
            self.sense,
            "" if self.objective is None else str(self.objective),
            "" if self.best_known is None else str(self.best_known),
            "" if gap is None else f"{gap:.3f}",
            f"{self.seconds:.2f}",
        )


def solve_gap(
    instance: GapInstance,
    sense: str,
    time_limit: float,
    *,
    seed: int = 0,
    workers: int = 2,
    best_known: dict[tuple[str, str], tuple[int, bool]] | None = None,
) -> GapRun:
    """Solve one instance in `sense`: CP-SAT hinted by regret greedy + shifts, then LNS."""
    start = time.monotonic()
    problem = instance.problem(sense)
    hint = improve_by_shifts(problem, regret_greedy(problem))
    settings = SolverSettings(
        time_limit=max(time_limit - (time.monotonic() - start), 0.01),
        seed=seed,
        workers=workers,
    )
    result = solve_assignment_lns(problem, settings, hint=hint)
    known = (best_known or {}).get((instance.name, sense))
    if result.objective is not None and not problem.feasible(result.agent_of):
        raise RuntimeError(f"{instance.name}: solver returned an infeasible plan")
    return GapRun(
        instance=instance.name,
        sense=sense,
        objective=result.objective,
        best_known=known[0] if known else None,
        optimal=result.optimal,
        seconds=time.monotonic() - start,
    )


def senses_for(instance: GapInstance, sense: str | None) -> list[str]:
    """The senses to solve: the one asked, else both for gap1-12 problems and min otherwise."""
    if sense is not None:
        return [sense]
    return ["max", "min"] if instance.multi and instance.name.startswith("c") else ["min"]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; prints one line per instance and sense."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gap", description=__doc__)
    parser.add_argument("files", nargs="+", type=Path, help="OR-Library GAP files")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per instance")
    parser.add_argument("--sense", choices=["min", "max"], default=None)
    parser.add_argument("--csv", type=Path, default=None, help="also write the rows to this CSV")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    best = load_best_known()
    runs: list[GapRun] = []
    header = ("instance", "sense", "objective", "best", "gap%", "opt", "s")
    print("{:<10} {:<5} {:>9} {:>7} {:>7} {:>4} {:>7}".format(*header))
    for path in args.files:
        try:
            instances = read_gap(path)
        except (OSError, GapFormatError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for inst in instances:
            for sense in senses_for(inst, args.sense):
                run = solve_gap(
                    inst,
                    sense,
                    args.time_limit,
                    seed=args.seed,
                    workers=args.workers,
                    best_known=best,
                )
                runs.append(run)
                r = run.row()
                print(
                    f"{r[0]:<10} {r[1]:<5} {r[2]:>9} {r[3]:>7} {r[4]:>7} "
                    f"{'yes' if run.optimal else 'no':>4} {r[5]:>7}",
                    flush=True,
                )
    gaps = [g for g in (r.gap_pct for r in runs) if g is not None]
    if gaps:
        at_best = sum(1 for g in gaps if g <= 1e-9)
        print(
            f"# {len(runs)} runs, {at_best}/{len(gaps)} at best known, "
            f"mean gap {sum(gaps) / len(gaps):.3f}%, max gap {max(gaps):.3f}%, "
            f"proven optimal {sum(r.optimal for r in runs)}"
        )
    if args.csv is not None:
        with args.csv.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_HEADER)
            writer.writerows(run.row() for run in runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
