"""``python -m benchmarks.structures``: the balance stage on every program structure.

For each preset (sizes and structures) at 10,000 and 30,000 families (``scenarios.scaled``),
for a reassignment after two departures and for an update after a month of churn (3% of the
families withdraw, as many enrol, 5% re-assessed: `benchmarks.year.churn`): famassign's solve
(bound kind, largest load per FTE, its bound, gap, the seconds to the first plan within 1% and
0.5% of that bound (from the records of `famassign.solver.incumbent`), the whole time, the
load average at the start and, for a solve or update that places every family, the bound
`benchmarks.independent_bound` computes from the scenario alone),
and on the same balance model HiGHS (one MIP minimising the largest
load, `baselines.solve_highs_balance`) and plain CP-SAT (the whole component as one
`solver.component_model.ComponentModel`, hinted with the flow plan). Each measurement runs in a
fresh child process, one after another; compare ratios inside one run (the machine is shared).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.child import in_child

PRESETS = [
    "large",
    "dense",
    "specialists",
    "newcomers",
    "near_cap",
    "part_time",
    "agency",
    "crowded",
]
"""Presets measured: the old size presets with one component at 10,000 families, then the
structures of issue 12."""
OWN_SIZE = {"crowded"}
"""Presets measured once, at their own size (``crowded`` at 6,000 families has about two
million eligible pairs; scaled up it would pass the limit of eligible pairs)."""

Row = dict[str, Any]


def _scenario(preset: str, families: int, reassign: bool) -> Any:
    from famassign.scenarios import generate, preset_config, scaled

    cfg = preset_config(preset) if preset in OWN_SIZE else scaled(preset, families)
    if reassign:
        cfg = replace(cfg, with_current_assignments=True)
    return generate(cfg, 1)


def _scenario_size(preset: str, families: int) -> int:
    from famassign.scenarios import preset_config

    return preset_config(preset).n_families if preset in OWN_SIZE else families


def _leaving(scenario: Any) -> list[str]:
    return sorted({f.current_staff_id for f in scenario.families if f.current_staff_id})[:2]


class _Trace(logging.Handler):
    """The largest load after each improvement (`famassign.solver.incumbent`), with its time."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.points: list[tuple[float, float]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.points.append((record.created, float(record.__dict__["largest_load"])))

    def seconds_to(self, start: float, bound: float | None, gap: float) -> float | None:
        """Seconds from `start` to the first plan within `gap` of `bound` (None: never)."""
        if bound is None:
            return None
        reached = [t for t, load in self.points if load <= bound * (1 + gap) + 1e-9]
        return reached[0] - start if reached else None


def _churned(preset: str, families: int) -> Any:
    """The program with current assignments after one month of churn (`benchmarks.year`)."""
    import random

    from benchmarks.year import churn
    from famassign.scenarios import generate, preset_config, scaled

    cfg = preset_config(preset) if preset in OWN_SIZE else scaled(preset, families)
    pool = list(generate(cfg, 2).families)
    random.Random(1).shuffle(pool)
    start = _scenario(preset, families, True)
    return churn(start, pool, 1, random.Random(1), 0.03, 0.05).scenario


def famassign_run(
    preset: str,
    families: int,
    time_limit: float,
    reassign: bool,
    update: bool = False,
    match_tolerance: float | None = 0.0,
) -> Row:
    """famassign's solve (or reassign after two departures, or `update` after a month of
    churn, planned with `match_tolerance`: None keeps the scenario's) and its balance record,
    with the time to the first plan within 1% and 0.5% of the final bound."""
    import famassign as fa
    from benchmarks.independent_bound import language_bound

    scenario = _churned(preset, families) if update else _scenario(preset, families, reassign)
    options = fa.PlanOptions(time_limit=time_limit, seed=1, workers=2)
    trace = _Trace()
    listener = logging.getLogger("famassign.solver.incumbent")
    listener.setLevel(logging.DEBUG)
    listener.addHandler(trace)
    load_average = os.getloadavg()[0]
    wall = time.time()
    start = time.monotonic()
    if update:
        updated = fa.update(scenario, options=options, match_tolerance=match_tolerance)
        result, checked = updated.result, updated.scenario
    elif reassign:
        moved = fa.reassign(
            scenario,
            departed=_leaving(scenario),
            options=options,
            match_tolerance=match_tolerance,
        )
        result, checked = moved.result, moved.scenario
    else:
        result, checked = fa.solve(scenario, options), scenario
    seconds = time.monotonic() - start
    violations = fa.evaluate(checked, result.plan(), result.exception_of()).violations
    everyone = result.terms.placed == len(checked.families)
    return {
        "status": str(result.status),
        "independent": language_bound(checked) if everyone and not reassign else None,
        "max_load": result.terms.max_load_per_fte,
        "bound": result.max_load_bound,
        "kind": result.max_load_bound_kind,
        "seconds": seconds,
        "violations": len(violations),
        "placed": result.terms.placed,
        "to_1": trace.seconds_to(wall, result.max_load_bound, 0.01),
        "to_05": trace.seconds_to(wall, result.max_load_bound, 0.005),
        "load": load_average,
    }


def highs_run(preset: str, families: int, time_limit: float) -> Row:
    """HiGHS MIP on the whole balance model."""
    from benchmarks.baselines import solve_highs_balance
    from famassign.solver.arrays import build_arrays
    from famassign.solver.components import load_per_fte

    scenario = _scenario(preset, families, False)
    load_average = os.getloadavg()[0]
    arrays = build_arrays(scenario)
    tolerance = scenario.weights.balance_match_tolerance
    run = solve_highs_balance(arrays, time_limit, tolerance=tolerance, seed=1)
    max_load = None
    if run.staff_of is not None:
        max_load = float(load_per_fte(arrays, run.staff_of)[arrays.staff_active].max())
    return {
        "status": run.status,
        "max_load": max_load,
        "bound": run.bound,
        "seconds": run.seconds,
        "load": load_average,
    }


def cpsat_run(preset: str, families: int, time_limit: float) -> Row:
    """Plain CP-SAT on the whole balance model, hinted with the flow plan."""
    import numpy as np
    from ortools.sat.python import cp_model

    from famassign.solver.arrays import LOAD_SCALE, build_arrays
    from famassign.solver.component_model import ComponentModel
    from famassign.solver.components import Component, load_per_fte
    from famassign.solver.flow import solve_flow
    from famassign.solver.settings import SolverSettings

    scenario = _scenario(preset, families, False)
    load_average = os.getloadavg()[0]
    start = time.monotonic()
    arrays = build_arrays(scenario)
    flow = solve_flow(arrays)
    everyone = Component(
        np.arange(arrays.n_families),
        np.flatnonzero(arrays.staff_active),
        np.flatnonzero(arrays.staff_active[arrays.pair_staff]),
    )
    floor = math.ceil(flow.match * (1 - scenario.weights.balance_match_tolerance))
    model = ComponentModel(arrays, everyone, flow.staff_of, floor, False)
    model.model.minimize(model.t)
    solver = cp_model.CpSolver()
    SolverSettings(time_limit=time_limit, seed=1, workers=2).parameters(
        solver, max(time_limit - (time.monotonic() - start), 0.01)
    )
    status = solver.solve(model.model)
    seconds = time.monotonic() - start
    max_load = bound = None
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        plan = flow.staff_of.copy()
        plan[everyone.families] = model._plan(solver)
        max_load = float(load_per_fte(arrays, plan)[arrays.staff_active].max())
        bound = solver.best_objective_bound / LOAD_SCALE
    return {
        "status": solver.status_name(status),
        "max_load": max_load,
        "bound": bound,
        "seconds": seconds,
        "load": load_average,
    }


def _in_child(func: Any, *args: Any, timeout: float) -> Row:
    try:
        return in_child(func, *args, module="benchmarks.structures", timeout=timeout)
    except Exception as error:  # a refused program (too many pairs) is a result too
        return {"status": f"{type(error).__name__}", "seconds": 0.0}


def _gap(load: float | None, bound: float | None) -> str:
    if load is None or not bound:
        return "—"
    return f"{100.0 * (load - bound) / bound:.2f}%"


def _f(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def row_text(label: str, method: str, r: Row, bound_for_gap: float | None) -> str:
    """One markdown row: gap of the plan against `bound_for_gap` (famassign's bound)."""
    return (
        f"| {label} | {method} | {r['status']} | {_f(r.get('max_load'))} | {_f(r.get('bound'))} |"
        f" {r.get('kind', '—')} | {_gap(r.get('max_load'), r.get('bound'))} |"
        f" {_gap(r.get('max_load'), bound_for_gap)} | {_f(r.get('to_1'), 1)} |"
        f" {_f(r.get('to_05'), 1)} | {r['seconds']:.1f} | {_f(r.get('load'), 1)} |"
        f" {_f(r.get('independent'))} |"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m benchmarks.structures [--presets ...] [--families ...]``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.structures")
    parser.add_argument("--presets", nargs="+", default=PRESETS)
    parser.add_argument("--families", nargs="+", type=int, default=[10_000, 30_000])
    parser.add_argument("--baselines", nargs="*", default=["highs", "cpsat"])
    parser.add_argument("--baseline-families", nargs="*", type=int, default=[10_000, 30_000])
    parser.add_argument("--reassign", nargs="*", default=["large", "specialists"])
    parser.add_argument("--update", nargs="*", default=[])
    parser.add_argument(
        "--only-reassign",
        action="store_true",
        help="measure only the reassignments (--reassign) and updates (--update), not the "
        "solves of --presets",
    )
    parser.add_argument(
        "--scenario-tolerance",
        action="store_true",
        help="reassign and update give up the scenario's balance_match_tolerance of the match "
        "for balance (default: none, as the commands do)",
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    lines = [
        "| program | method | status | max load/FTE | bound | bound kind | own gap |"
        " gap to famassign's bound | s to 1% | s to 0.5% | s | load | independent bound |",
        "|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for families in args.families:
        limit = 30.0 if families <= 2_000 else 60.0 if families <= 10_000 else 120.0
        solves = [] if args.only_reassign else [(p, False) for p in args.presets]
        jobs = solves + [(p, "reassign") for p in args.reassign]
        jobs += [(p, "update") for p in args.update]
        for preset, mode in jobs:
            reassign, update = mode == "reassign", mode == "update"
            if preset in OWN_SIZE and families != args.families[0]:
                continue
            size = _scenario_size(preset, families)
            label = f"{preset} {size:,}" + (" reassign (2 leave)" if reassign else "")
            label += " update (a month of churn)" if update else ""
            tolerance = None if args.scenario_tolerance else 0.0
            if tolerance is None and (reassign or update):
                label += ", scenario's match tolerance"
            fa_row = _in_child(
                famassign_run,
                preset,
                families,
                limit,
                reassign,
                update,
                tolerance,
                timeout=3 * limit + 180,
            )
            lines.append(row_text(label, "famassign", fa_row, fa_row.get("bound")))
            print(lines[-1], file=sys.stderr, flush=True)
            if reassign or update or families not in args.baseline_families:
                continue
            for name, func in (("highs", highs_run), ("cpsat", cpsat_run)):
                if name not in args.baselines:
                    continue
                row = _in_child(func, preset, families, limit, timeout=3 * limit + 180)
                method = "HiGHS MIP, balance model" if name == "highs" else "CP-SAT, balance model"
                lines.append(row_text(label, method, row, fa_row.get("bound")))
                print(lines[-1], file=sys.stderr, flush=True)
    text = "\n".join(lines) + "\n"
    if args.out is not None:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
