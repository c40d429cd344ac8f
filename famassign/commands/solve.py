"""`famassign solve` and `famassign demo`."""

from __future__ import annotations

from pathlib import Path

import typer

from famassign.commands.common import (
    DETERMINISTIC,
    OUT,
    SEED,
    TIME_LIMIT,
    WORKERS,
    RunOptions,
    UsageError,
    finish,
    guarded,
    load_for_command,
    run_planning,
)
from famassign.commands.plan_store import STORE, record_plan
from famassign.models import Scenario
from famassign.scenarios.example import example_path
from famassign.scenarios.variants import apply_variant, variants_of
from famassign.solver import solve as solve_plan
from famassign.solver.continuation import away_on_leave, next_scenario


def variant_scenario(scenario: Scenario, name: str, seed: int) -> Scenario:
    """`scenario` with the what-if variant `name` (scenario.yaml ``variants:``) applied.

    Raises UsageError naming the variants there are when `name` is not one of them, and
    ScenarioError when the variant is invalid.
    """
    variants = variants_of(scenario)
    for index, variant in enumerate(variants):
        if variant.name == name:
            return apply_variant(scenario, variant, seed, index=index)
    names = ", ".join(repr(v.name) for v in variants) or "none"
    raise UsageError(f"--variant {name!r} is not a variant of this scenario (variants: {names})")


def _solve_folder(
    folder: Path,
    out: Path,
    run: RunOptions,
    variant: str | None = None,
    store: str | None = None,
) -> int:
    loaded = load_for_command(folder)
    scenario = loaded.scenario
    extra = {}
    if variant is not None:
        scenario = variant_scenario(scenario, variant, run.seed)
        extra = {"variant": variant}
    planning = away_on_leave(scenario)  # staff on a running absence (absences.csv) kept away
    result = run_planning(
        out,
        run.within_limit(planning),
        lambda options, progress: solve_plan(planning, options, progress=progress),
    )
    code = finish(
        result,
        planning,
        out,
        extra=extra,
        next_scenario=next_scenario(planning, result, staff=scenario.staff),
    )
    record_plan(
        store, out, result, "solve", time_limit=run.time_limit, seed=run.seed, variant=variant
    )
    return code


@guarded
def solve(
    scenario: Path = typer.Argument(..., help="Scenario folder."),
    out: Path = OUT,
    time_limit: float = TIME_LIMIT,
    seed: int = SEED,
    workers: int | None = WORKERS,
    deterministic: bool = DETERMINISTIC,
    variant: str | None = typer.Option(
        None, "--variant", help="Plan this what-if variant of scenario.yaml (full outputs)."
    ),
    store: str | None = STORE,
) -> int:
    """Write a plan for every family: exit 0 all placed, 3 some unplaced, 2 invalid input."""
    return _solve_folder(
        scenario, out, RunOptions(time_limit, seed, workers, deterministic), variant, store
    )


@guarded
def demo(
    out: Path = typer.Option(Path("famassign-demo"), "--out", help="Output folder."),
    time_limit: float = TIME_LIMIT,
    seed: int = SEED,
) -> int:
    """Solve the bundled example program end to end and write its outputs to --out."""
    source = example_path()
    if not source.is_dir():
        raise UsageError(f"the bundled example is missing from the installation ({source})")
    typer.echo(f"demo: solving the bundled example {source.name!r}", err=True)
    return _solve_folder(source, out, RunOptions(time_limit, seed, None, False))
