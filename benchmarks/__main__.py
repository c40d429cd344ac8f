"""``python -m benchmarks run``: famassign beside HiGHS, the LP bound and a greedy plan.

Each size preset is generated from a fixed seed. Every measurement runs in a fresh child process
(so peak memory, ``ru_maxrss``, is its own), one after the other in the same run: famassign's
``solve``, then on the same arrays and multipliers HiGHS MIP, the LP relaxation and the greedy plan.
Every figure that depends on the machine is also given as a ratio inside the run.
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchmarks.child import in_child

SIZES: dict[str, tuple[str, int]] = {
    "rural": ("rural", 1),
    "small": ("small", 1),
    "medium": ("medium", 1),
    "large": ("large", 1),
    "state": ("state", 1),
    "dense": ("dense", 1),
}
"""Size name -> (generator preset, seed)."""

HIGHS_LIMIT = 60.0
"""Most seconds HiGHS (MIP, and LP) gets at any size."""

Row = dict[str, Any]


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _famassign(preset: str, seed: int, time_limit: float) -> Row:
    """famassign's solve, timed by stage from its progress reports."""
    from famassign.scenarios import generate
    from famassign.solver import PlanOptions, solve

    scenario = generate(preset, seed)
    rss_before = _rss_mib()
    stamps: dict[tuple[str, int], float] = {}
    start = time.monotonic()

    def progress(stage: str, done: int, total: int) -> None:
        stamps.setdefault((stage, done), time.monotonic() - start)

    result = solve(
        scenario, PlanOptions(time_limit=time_limit, seed=seed, workers=2), progress=progress
    )
    total = time.monotonic() - start
    rss = _rss_mib()
    from benchmarks.baselines import flow_multipliers
    from famassign.solver.arrays import build_arrays

    arrays = build_arrays(scenario)
    mult = flow_multipliers(arrays)
    t = result.terms
    flow_weighted = (
        mult.placed * (arrays.n_families - t.placed)
        + mult.urgency * t.urgency_unplaced
        + mult.over_cap * t.over_cap
        - result.bound
    )
    build = stamps.get(("flow", 0), 0.0) - stamps.get(("model", 0), 0.0)
    return {
        "families": arrays.n_families,
        "staff": arrays.n_staff,
        "pairs": len(arrays.pair_family),
        "placed": t.placed,
        "over_cap": t.over_cap,
        "match": t.match,
        "flow_match": result.bound,
        "flow_weighted": flow_weighted,
        "max_load": t.max_load_per_fte,
        "max_load_bound": result.max_load_bound,
        "status": str(result.status),
        "build_s": build,
        "flow_s": stamps.get(("flow", 1), total) - stamps.get(("flow", 0), 0.0),
        "first_s": stamps.get(("flow", 1), total),
        "final_s": total,
        "rss_before": rss_before,
        "rss": rss,
    }


def _baseline(preset: str, seed: int, time_limit: float, which: str) -> Row:
    """One baseline: 'mip', 'lp' or 'greedy' on the flow model, 'balance' (HiGHS MIP) on the
    balance model."""
    from benchmarks.baselines import greedy_plan, solve_highs, solve_highs_balance
    from famassign.scenarios import generate
    from famassign.solver.arrays import build_arrays

    scenario = generate(preset, seed)
    arrays = build_arrays(scenario)
    if which == "greedy":
        start = time.monotonic()
        plan = greedy_plan(arrays)
        seconds = time.monotonic() - start
        greedy: Row = {"status": "heuristic", "seconds": seconds, "first_s": seconds}
        return greedy | _plan_columns(arrays, plan) | {"rss": _rss_mib()}
    if which == "balance":
        tolerance = scenario.weights.balance_match_tolerance
        bal = solve_highs_balance(arrays, time_limit, tolerance=tolerance, seed=seed)
        row: Row = {
            "status": bal.status,
            "optimal": bal.optimal,
            "seconds": bal.seconds,
            "max_load_bound": bal.bound,
            "rss": _rss_mib(),
        }
        return row | _plan_columns(arrays, bal.staff_of)
    run = solve_highs(arrays, time_limit, integer=which == "mip", seed=seed)
    row = {
        "status": run.status,
        "optimal": run.optimal,
        "seconds": run.seconds,
        "build_s": run.build_seconds,
        "first_s": run.first_plan_seconds,
        "objective": run.objective,
        "bound": run.bound,
        "rss": _rss_mib(),
    }
    return row | _plan_columns(arrays, run.staff_of)


def _plan_columns(arrays: Any, staff_of: Any) -> Row:
    """A baseline plan's objective levels and largest load per FTE (nothing without a plan)."""
    from benchmarks.baselines import levels
    from famassign.solver.components import load_per_fte

    if staff_of is None:
        return {}
    lv = levels(arrays, staff_of)
    max_load = float(load_per_fte(arrays, staff_of)[arrays.staff_active].max(initial=0.0))
    return {
        "placed": lv.placed,
        "over_cap": lv.over_cap,
        "match": lv.match,
        "weighted": lv.weighted,
        "max_load": max_load,
    }


def _in_child(func: Callable[..., Row], *args: Any, timeout: float | None = None) -> Row:
    """`benchmarks.child.in_child` for a function of this module (which may run as
    ``__main__``)."""
    return in_child(func, *args, module="benchmarks.__main__", timeout=timeout)


def measure(size: str, time_limit: float, highs_limit: float) -> dict[str, Row]:
    """Every measurement of one size, each in its own child process."""
    preset, seed = SIZES[size]
    out: dict[str, Row] = {"famassign": _in_child(_famassign, preset, seed, time_limit)}
    out["greedy"] = _in_child(_baseline, preset, seed, highs_limit, "greedy")
    wall = 2 * highs_limit + 120  # model build + generation + HiGHS overrunning its own limit
    for which in ("lp", "mip", "balance"):
        out[which] = _in_child(_baseline, preset, seed, highs_limit, which, timeout=wall)
        if out[which].get("timed_out"):
            out[which] |= {"seconds": wall, "build_s": float("nan"), "rss": float("nan")}
    return out


def _f(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}%"


def tables(results: dict[str, dict[str, Row]], time_limit: float) -> str:
    """The markdown tables of a run."""
    lines = [
        "| size | families x staff (pairs) | method | status | placed | exc. places | match |"
        " gap to LP bound | max load/FTE (bound, gap) | build s | first plan s | final plan s |"
        " peak MiB |",
        "|---|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    ratios = [
        "| size | HiGHS MIP s / famassign flow s | HiGHS LP s / famassign flow s |"
        " HiGHS MIP s / famassign final s | HiGHS objective = flow objective |"
        " greedy match / optimum | greedy placed / optimum | famassign final match / LP bound |"
        " HiGHS balance MIP s / famassign final s |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for size, r in results.items():
        fa, lp, mip, gr, bal = r["famassign"], r["lp"], r["mip"], r["greedy"], r["balance"]
        shape = f"{fa['families']:,} x {fa['staff']} ({fa['pairs']:,})"
        # The LP of the flow model is integral; its bound in match terms, given optimal placement.
        n = fa["families"]
        lp_match: float | None = None
        if lp.get("optimal") and lp.get("objective") is not None:
            lp_match = fa["flow_weighted"] - lp["objective"] + fa["flow_match"]
        bound_match = lp_match if lp_match is not None else float(fa["flow_match"])

        def gap(
            match: int | None,
            placed: int | None,
            best: int = fa["placed"],
            bound: float = bound_match,
        ) -> str:
            if match is None or placed is None:
                return "—"
            if placed < best:
                return f"{best - placed} fewer placed"
            return _pct(100.0 * (bound - match) / bound)

        ml, mlb = fa["max_load"], fa["max_load_bound"]
        ml_gap = 100.0 * (ml - mlb) / mlb if mlb else None
        lines.append(
            f"| {size} | {shape} | famassign final (balanced) | {fa['status']} | {fa['placed']:,} |"
            f" {fa['over_cap']} | {fa['match']:,} | {gap(fa['match'], fa['placed'])} |"
            f" {ml:.2f} ({mlb:.2f}, {_pct(ml_gap)}) | {fa['build_s']:.2f} |"
            f" {fa['first_s']:.2f} | {fa['final_s']:.2f} | {fa['rss']:.0f} |"
        )
        lines.append(
            f"| {size} | | famassign flow plan (first plan) | optimal | {fa['placed']:,} |"
            f" {fa['over_cap']} | {fa['flow_match']:,} | {gap(fa['flow_match'], fa['placed'])} |"
            f" — | {fa['build_s']:.2f} | {fa['first_s']:.2f} | {fa['first_s']:.2f} | — |"
        )
        mip_status = mip["status"] + ("" if mip.get("placed") is not None else ", no plan")
        lines.append(
            f"| {size} | | HiGHS MIP | {mip_status} | {_int(mip.get('placed'))} |"
            f" {_int(mip.get('over_cap'))} | {_int(mip.get('match'))} |"
            f" {gap(mip.get('match'), mip.get('placed'))} | {_f(mip.get('max_load'))} |"
            f" {mip['build_s']:.2f} | {_f(mip.get('first_s'))} | {mip['seconds']:.2f} |"
            f" {mip['rss']:.0f} |"
        )
        bal_load = "—"
        if bal.get("max_load") is not None:
            bound = bal.get("max_load_bound")
            bal_load = f"{bal['max_load']:.2f} ({_f(bound)})"
        bal_status = bal["status"] + ("" if bal.get("placed") is not None else ", no plan")
        lines.append(
            f"| {size} | | HiGHS MIP, balance model | {bal_status} | {_int(bal.get('placed'))} |"
            f" {_int(bal.get('over_cap'))} | {_int(bal.get('match'))} |"
            f" {gap(bal.get('match'), bal.get('placed'))} | {bal_load} | — | — |"
            f" {bal['seconds']:.2f} | {bal['rss']:.0f} |"
        )
        lp_text = f"bound {lp_match:,.0f}" if lp_match is not None else f"{lp['status']}, no bound"
        lines.append(
            f"| {size} | | HiGHS LP relaxation | {lp['status']} | — | — | {lp_text} | — | — |"
            f" {lp['build_s']:.2f} | — | {lp['seconds']:.2f} | {lp['rss']:.0f} |"
        )
        lines.append(
            f"| {size} | | greedy by hand | heuristic | {gr['placed']:,} | {gr['over_cap']} |"
            f" {gr['match']:,} | {gap(gr['match'], gr['placed'])} | {gr['max_load']:.2f} |"
            f" — | {gr['first_s']:.2f} | {gr['seconds']:.2f} | {gr['rss']:.0f} |"
        )
        mip_time = mip["seconds"]
        mip_ratio = f"{mip_time / max(fa['flow_s'], 1e-3):.0f}x"
        if not mip.get("optimal"):
            mip_ratio = f"> {mip_ratio} (HiGHS stopped at {highs_limit_of(mip):.0f} s)"
        lp_ratio = f"{lp['seconds'] / max(fa['flow_s'], 1e-3):.0f}x"
        if not lp.get("optimal"):
            lp_ratio = f"> {lp_ratio} (not finished)"
        balance_ratio = f"{bal['seconds'] / max(fa['final_s'], 1e-3):.1f}x"
        if not bal.get("optimal"):
            balance_ratio = f"> {balance_ratio} (HiGHS stopped at {bal['seconds']:.0f} s)"
        same = "—"
        if mip.get("optimal") and mip.get("weighted") is not None:
            same = "yes" if mip["weighted"] == fa["flow_weighted"] else "NO"
        ratios.append(
            f"| {size} | {mip_ratio} | {lp_ratio} | {mip_time / max(fa['final_s'], 1e-3):.2f} |"
            f" {same} | {gr['match'] / max(fa['flow_match'], 1):.3f} |"
            f" {gr['placed'] / max(fa['placed'], 1):.3f} |"
            f" {fa['match'] / bound_match:.4f} | {balance_ratio} |"
        )
        del n
    return "\n".join(
        [
            f"famassign time limit {time_limit:g} s (balance stage); HiGHS MIP and LP limit"
            f" min({time_limit:g}, {HIGHS_LIMIT:g}) s. Times in seconds, memory = peak RSS of the"
            " measuring child process (generator + solver + Python, MiB).",
            "",
            *lines,
            "",
            "Ratios (same run; famassign flow s = the exact placement/exception/match stage):",
            "",
            *ratios,
        ]
    )


def highs_limit_of(row: Row) -> float:
    """The seconds HiGHS ran (its time limit when it stopped there)."""
    return float(row["seconds"])


def _int(x: int | None) -> str:
    return "—" if x is None else f"{x:,}"


def machine() -> str:
    """The machine and versions, for RESULTS.md."""
    import os

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"- cores (nproc): {os.cpu_count()}; CPU: {cpu}; {platform.system()} {platform.release()}\n"
        f"- Python {platform.python_version()}, ortools {version('ortools')},"
        f" highspy {version('highspy')}, numpy {version('numpy')}"
    )


def run(sizes: Sequence[str], time_limit: float, out: Path | None) -> str:
    """Measure `sizes` and return (and write to `out`) the report."""
    results: dict[str, dict[str, Row]] = {}
    highs_limit = min(time_limit, HIGHS_LIMIT)
    start = time.monotonic()
    for size in sizes:
        t = time.monotonic()
        results[size] = measure(size, time_limit, highs_limit)
        print(f"# {size} measured in {time.monotonic() - t:.0f} s", file=sys.stderr, flush=True)
    text = tables(results, time_limit)
    report = (
        f"{text}\n\nMachine:\n{machine()}\n\nCommand: `python -m benchmarks run --sizes"
        f" {' '.join(sizes)} --time-limit {time_limit:g}`"
        f" (total {time.monotonic() - start:.0f} s)\n"
    )
    if out is not None:
        out.write_text(report)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m benchmarks run [--sizes ...] [--time-limit S] [--out FILE]``,
    or ``python -m benchmarks proofs [--seeds N] [--first K]`` (`benchmarks.proofs`; exit status
    1 when a seed fails)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="measure famassign and the baselines on generated programs")
    p_run.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    p_run.add_argument("--time-limit", type=float, default=60.0)
    p_run.add_argument("--out", type=Path, default=None, help="write the tables here (markdown)")
    p_proofs = sub.add_parser(
        "proofs", help="the brute-force property tests on many random hypothesis seeds"
    )
    p_proofs.add_argument("--seeds", type=int, default=10, help="how many seeds")
    p_proofs.add_argument("--first", type=int, default=0, help="the first seed")
    args = parser.parse_args(argv)
    if args.command == "proofs":
        from benchmarks.proofs import run as run_proofs

        report, failed = run_proofs(args.seeds, args.first)
        print(report)
        return 1 if failed else 0
    print(run(args.sizes, args.time_limit, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
