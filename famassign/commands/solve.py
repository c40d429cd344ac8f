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
    interruptible,
    load_for_command,
    progress_display,
)
from famassign.safe_io import check_output_dir
from famassign.scenarios.example import example_path
from famassign.solver import solve as solve_plan


def _solve_folder(folder: Path, out: Path, run: RunOptions) -> int:
    loaded = load_for_command(folder)
    check_output_dir(out)
    with progress_display() as progress:
        result = interruptible(
            lambda stop: solve_plan(loaded.scenario, run.plan_options(stop=stop), progress=progress)
        )
    return finish(result, loaded.scenario, out)


@guarded
def solve(
    scenario: Path = typer.Argument(..., help="Scenario folder."),
    out: Path = OUT,
    time_limit: float = TIME_LIMIT,
    seed: int = SEED,
    workers: int | None = WORKERS,
    deterministic: bool = DETERMINISTIC,
) -> int:
    """Write a plan for every family: exit 0 all placed, 3 some unplaced, 2 invalid input."""
    return _solve_folder(scenario, out, RunOptions(time_limit, seed, workers, deterministic))


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
