"""``python -m benchmarks.timefold_baseline``: famassign beside Timefold Solver for Python
(issue 29).

The peer a user would pick instead of famassign, modelled as Timefold's documentation recommends
(`benchmarks._timefold_model`): one planning entity per family, its staff member a planning
variable that ``allows_unassigned``, the family's eligible staff its value range (an entity-level
value range provider), constraint streams, and a bendable score with famassign's lexicographic
levels (hard: caps with the exceptions in force; soft: unplaced families, their urgency, exception
places, match, then workload balance with the ``load_balance`` collector). Families are handed to
the construction heuristic most constrained first (fewest eligible staff, then most urgent, then
heaviest load): the Python API has no difficulty comparator, so the entity list is sorted, which is
what First Fit Decreasing does with one. The community edition solves on one thread.

For each program (generated from a fixed seed, ``scenarios.scaled``), famassign's ``solve`` and
Timefold each run in a fresh child process (`benchmarks.child.in_child`), one after the other,
with the same limit: famassign's ``time_limit``, Timefold's termination ``spent_limit``. Timefold's
wall time also holds its start-up (the JVM, the translation of the Python domain and constraints
to Java bytecode) and the conversion of the program to Java objects and of the best solution back
to Python, reported in their own columns. Both plans are checked by famassign's independent
evaluator (`famassign.solver.evaluator.evaluate`), which counts every hard-rule violation; the
placed, urgency, match and load figures of the table are the evaluator's.

Timefold is an optional benchmark extra, never a dependency of the package:
``pip install 'famassign[bench-timefold]'``; it needs Java 17 or later (``JAVA_HOME``, or
``java`` on the ``PATH``).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.child import in_child

if TYPE_CHECKING:
    from famassign.models import Scenario
    from famassign.solver.arrays import IntArray, ProblemArrays

Row = dict[str, Any]

REQUIREMENT = "timefold>=1.24.0b0,<2"
"""What the ``bench-timefold`` extra installs (every Timefold release on PyPI is a pre-release,
``1.24.0b0``; a specifier without one would match none)."""

INSTALL_HINT = (
    "Timefold Solver for Python is not installed; it is an optional benchmark extra: "
    "pip install 'famassign[bench-timefold]' (or pip install '" + REQUIREMENT + "'). "
    "It needs Java 17 or later: set JAVA_HOME or put java on the PATH "
    "(Debian: apt-get install openjdk-17-jre-headless)."
)

SIZE_PRESETS = {600: "small", 2_000: "medium", 10_000: "large"}
"""The generator's size preset of each program size (``scaled`` keeps its sites per family)."""

SEED = 1
"""The generator seed of every program (as in `benchmarks.structures`)."""


class TimefoldUnavailable(RuntimeError):
    """Timefold Solver for Python or a Java 17+ runtime is missing; the message says what to
    install."""


def java_home() -> str | None:
    """``JAVA_HOME``, or the home of the ``java`` on the ``PATH`` (None: no Java found)."""
    home = os.environ.get("JAVA_HOME")
    if home:
        return home
    java = shutil.which("java")
    return str(Path(java).resolve().parent.parent) if java else None


def java_version(home: str) -> int | None:
    """The major version of the Java runtime in `home` (None: it does not run)."""
    try:
        done = subprocess.run(
            [str(Path(home) / "bin" / "java"), "-version"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major  # "1.8" is Java 8


def unavailable() -> str | None:
    """Why the Timefold baseline cannot run here (None: it can): the package or Java 17+ is
    missing."""
    if find_spec("timefold") is None:
        return INSTALL_HINT
    home = java_home()
    major = java_version(home) if home else None
    if major is None:
        return (
            "Timefold Solver for Python needs Java 17 or later and none was found: set JAVA_HOME"
            " or put java on the PATH (Debian: apt-get install openjdk-17-jre-headless)"
        )
    if major < 17:
        return f"Timefold Solver for Python needs Java 17 or later; {home} is Java {major}"
    return None


def require_timefold() -> None:
    """Raise :class:`TimefoldUnavailable` saying what to install when Timefold cannot run;
    set ``JAVA_HOME`` (for JPype) from the ``java`` on the ``PATH`` when it is unset."""
    problem = unavailable()
    if problem is not None:
        raise TimefoldUnavailable(problem)
    home = java_home()
    if home is not None:
        os.environ.setdefault("JAVA_HOME", home)


class _SolverLog(logging.Handler):
    """Timefold's phase and solving records, with the time each arrived."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((time.monotonic(), record.getMessage()))

    def first(self, prefix: str) -> tuple[float, str] | None:
        return next(((t, m) for t, m in self.records if m.startswith(prefix)), None)


def _spent_ms(message: str) -> float | None:
    found = re.search(r"time spent \((\d+)\)", message)
    return float(found.group(1)) / 1000.0 if found else None


@dataclass(frozen=True)
class TimefoldRun:
    """Timefold's best plan (staff index per family, -1 unplaced), its score and its times:
    `startup` = the JVM and the translation of the model to Java (import and solver build),
    `to_java`/`back` = converting the program into the solver and the best solution back,
    `solving` = Timefold's own time spent, `construction` = when its construction heuristic
    ended (None: it did not finish within the limit) and `construction_unplaced` the families
    its plan left unplaced."""

    staff_of: IntArray
    score: str
    startup: float
    to_java: float
    solving: float
    back: float
    construction: float | None
    construction_unplaced: int | None
    move_speed: int | None


def _entities(arrays: ProblemArrays, model: Any) -> tuple[list[Any], list[Any]]:
    """The staff facts (active staff) and the family entities, most constrained family first."""
    import numpy as np

    staff = {
        int(s): model.StaffFact(
            id=int(s),
            cap=int(arrays.staff_cap[s]),
            limit=int(arrays.staff_limit[s]),
            fte=round(float(arrays.staff_fte[s]) * 100),
        )
        for s in np.flatnonzero(arrays.staff_active)
    }
    starts = np.searchsorted(arrays.pair_family, np.arange(arrays.n_families + 1))
    families = []
    for f in range(arrays.n_families):
        lo, hi = int(starts[f]), int(starts[f + 1])
        eligible = arrays.pair_staff[lo:hi].tolist()
        family = model.FamilyEntity(
            id=f,
            urgency=int(arrays.family_urgency[f]),
            load=int(arrays.family_load[f]),
            eligible=[staff[s] for s in eligible],
            match=dict(zip(eligible, arrays.pair_match[lo:hi].tolist(), strict=True)),
        )
        if arrays.family_pinned[f]:  # one eligible staff member: the current one
            family.staff, family.pinned = staff[eligible[0]], True
        families.append(family)
    families.sort(key=lambda e: (len(e.eligible), -e.urgency, -e.load, e.id))
    return list(staff.values()), families


def solve_timefold(arrays: ProblemArrays, time_limit: float, seed: int = 0) -> TimefoldRun:
    """Timefold Solver on the program `arrays` for `time_limit` seconds of solving (its
    termination spent limit), from a fresh start of the JVM if this process has none."""
    import numpy as np

    require_timefold()
    log = _SolverLog()
    timefold_log = logging.getLogger("timefold.solver")
    timefold_log.setLevel(logging.INFO)  # read once, when the JVM starts
    timefold_log.addHandler(log)
    timefold_log.propagate = False
    start = time.monotonic()
    from timefold.solver import SolverFactory
    from timefold.solver.config import (
        Duration,
        ScoreDirectorFactoryConfig,
        SolverConfig,
        TerminationConfig,
    )

    from benchmarks import _timefold_model as model

    config = SolverConfig(
        solution_class=model.Program,
        entity_class_list=[model.FamilyEntity],
        score_director_factory_config=ScoreDirectorFactoryConfig(
            constraint_provider_function=model.constraints
        ),
        termination_config=TerminationConfig(
            spent_limit=Duration(milliseconds=round(time_limit * 1000))
        ),
        random_seed=seed,
    )
    solver = SolverFactory.create(config).build_solver()
    startup = time.monotonic() - start
    staff, families = _entities(arrays, model)
    called = time.monotonic()
    best = solver.solve(model.Program(staff=staff, families=families))
    returned = time.monotonic()
    started, ended = log.first("Solving started"), log.first("Solving ended")
    solving = _spent_ms(ended[1]) if ended else None
    to_java = back = 0.0
    if started is not None and ended is not None:
        to_java = started[0] - called - (_spent_ms(started[1]) or 0.0)
        back = returned - ended[0]
    construction = log.first("Construction Heuristic phase")
    finished = not any("terminated early" in m for _, m in log.records)
    speed = re.search(r"move evaluation speed \((\d+)/sec\)", ended[1]) if ended else None
    ch_score = (
        re.search(r"best score \(\[-?\d+\]hard/\[(-?\d+)/", construction[1])
        if construction
        else None
    )
    staff_of = np.full(arrays.n_families, -1, dtype=np.int64)
    for family in best.families:
        if family.staff is not None:
            staff_of[family.id] = family.staff.id
    timefold_log.removeHandler(log)
    return TimefoldRun(
        staff_of=staff_of,
        score=str(best.score),
        startup=startup,
        to_java=max(to_java, 0.0),
        solving=solving if solving is not None else returned - called,
        back=back,
        construction=_spent_ms(construction[1]) if construction and finished else None,
        construction_unplaced=-int(ch_score.group(1)) if ch_score and finished else None,
        move_speed=int(speed.group(1)) if speed else None,
    )


def plan_of(
    arrays: ProblemArrays, staff_of: IntArray
) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """famassign's plan format: family_id -> staff_id (None: unplaced), and staff_id -> the
    exception it cites, for each caseload above its policy cap."""
    import numpy as np

    plan = {
        fid: (arrays.staff_ids[s] if s >= 0 else None)
        for fid, s in zip(arrays.family_ids, staff_of.tolist(), strict=True)
    }
    counts = np.bincount(staff_of[staff_of >= 0], minlength=arrays.n_staff)
    exception_of = {
        arrays.staff_ids[s]: arrays.staff_exception[s]
        for s in np.flatnonzero(counts > arrays.staff_cap)
    }
    return plan, exception_of


def _program(preset: str, families: int) -> Scenario:
    from famassign.scenarios import generate, scaled

    return generate(scaled(preset, families), SEED)


def _checked(scenario: Scenario, plan: dict[str, str | None], exc: dict[str, str | None]) -> Row:
    """The evaluator's figures of a plan (and its violations, never hidden)."""
    from famassign.solver.evaluator import evaluate

    ev = evaluate(scenario, plan, exc)
    by_urgency = Counter(f.urgency for f in scenario.families if plan.get(f.family_id) is None)
    return {
        "placed": ev.placed,
        "families": len(scenario.families),
        "urgency_unplaced": ev.urgency_unplaced,
        "unplaced_by_urgency": dict(sorted(by_urgency.items(), reverse=True)),
        "over_cap": ev.over_cap,
        "match": ev.match,
        "max_load": ev.max_load_per_fte,
        "violations": len(ev.violations),
        "violation_examples": ev.violations[:3],
    }


def famassign_row(preset: str, families: int, time_limit: float) -> Row:
    """famassign's solve on the program, checked by the evaluator."""
    import famassign as fa

    scenario = _program(preset, families)
    load = os.getloadavg()[0]
    start = time.monotonic()
    result = fa.solve(scenario, fa.PlanOptions(time_limit=time_limit, seed=SEED, workers=2))
    seconds = time.monotonic() - start
    return _checked(scenario, result.plan(), result.exception_of()) | {
        "status": str(result.status),
        "bound": result.max_load_bound,
        "seconds": seconds,
        "load": load,
    }


def timefold_row(preset: str, families: int, time_limit: float) -> Row:
    """Timefold Solver on the program (same limit), its best plan checked by the evaluator."""
    from famassign.solver.arrays import build_arrays

    scenario = _program(preset, families)
    load = os.getloadavg()[0]
    start = time.monotonic()
    arrays = build_arrays(scenario)
    run = solve_timefold(arrays, time_limit, seed=SEED)
    seconds = time.monotonic() - start
    plan, exception_of = plan_of(arrays, run.staff_of)
    return _checked(scenario, plan, exception_of) | {
        "status": run.score,
        "seconds": seconds,
        "startup": run.startup,
        "conversion": run.to_java + run.back,
        "solving": run.solving,
        "construction": run.construction,
        "construction_unplaced": run.construction_unplaced,
        "move_speed": run.move_speed,
        "load": load,
    }


def _f(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _unplaced(r: Row) -> str:
    if "placed" not in r:
        return "—"
    by = " ".join(f"u{u}:{n}" for u, n in r["unplaced_by_urgency"].items())
    return f"{r['families'] - r['placed']:,}" + (f" ({by})" if by else "")


def _construction(r: Row) -> str:
    if r.get("construction") is None:
        return "—" if "startup" not in r else "not finished"
    return f"{r['construction']:.1f} ({r['construction_unplaced']:,} unplaced)"


def row_text(label: str, method: str, r: Row) -> str:
    """One markdown row of the table."""
    if "placed" not in r:
        return f"| {label} | {method} | {r.get('status', '—')} |" + " — |" * 11
    share = 100.0 * r["placed"] / max(r["families"], 1)
    return (
        f"| {label} | {method} | {r['status']} | {r['placed']:,} ({share:.1f}%) |"
        f" {_unplaced(r)} | {r['urgency_unplaced']:,} | {r['over_cap']} | {r['match']:,} |"
        f" {r['max_load']:.2f} | {_f(r.get('bound'), 2)} | {r['violations']} |"
        f" {r['seconds']:.1f} | {_f(r.get('startup'))} / {_f(r.get('conversion'))} /"
        f" {_construction(r)} | {r['load']:.1f} |"
    )


HEADER = [
    "| program | method | status / score | placed | unplaced (by urgency) | urgency unplaced |"
    " exc. places | match | largest load/FTE | famassign's bound | evaluator violations | s |"
    " Timefold start-up / conversion / construction heuristic s | load |",
    "|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
]


def _child(func: Any, *args: Any, timeout: float) -> Row:
    try:
        return in_child(func, *args, module="benchmarks.timefold_baseline", timeout=timeout)
    except TimefoldUnavailable as error:
        return {"status": f"not run: {error}"}


def machine() -> str:
    """The versions a reader needs to repeat the run."""
    try:
        timefold = version("timefold")
    except PackageNotFoundError:
        timefold = "not installed"
    home = java_home()
    java = java_version(home) if home else None
    return f"timefold {timefold}, Java {java} ({home}), ortools {version('ortools')}"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m benchmarks.timefold_baseline [--families N ...]
    [--presets ...] [--time-limit S] [--methods famassign timefold] [--out FILE]``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.timefold_baseline")
    parser.add_argument("--families", nargs="+", type=int, default=[600, 2_000, 10_000])
    parser.add_argument(
        "--presets",
        nargs="+",
        default=["size"],
        help="generator presets, scaled to each size; 'size' = small, medium or large by size",
    )
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--methods", nargs="+", default=["famassign", "timefold"])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if "timefold" in args.methods and (problem := unavailable()) is not None:
        print(problem, file=sys.stderr)
        return 2
    lines = list(HEADER)
    began = time.strftime("%H:%M UTC", time.gmtime())
    for families in args.families:
        for name in args.presets:
            preset = SIZE_PRESETS.get(families, "large") if name == "size" else name
            label = f"{preset} {families:,}"
            timeout = 3 * args.time_limit + 300
            for method in args.methods:
                func = famassign_row if method == "famassign" else timefold_row
                row = _child(func, preset, families, args.time_limit, timeout=timeout)
                lines.append(row_text(label, "Timefold" if method == "timefold" else method, row))
                print(lines[-1], file=sys.stderr, flush=True)
    text = (
        "\n".join(lines) + f"\n\n{began} to {time.strftime('%H:%M UTC', time.gmtime())}, limit"
        f" {args.time_limit:g} s; {machine()}\n"
    )
    if args.out is not None:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
