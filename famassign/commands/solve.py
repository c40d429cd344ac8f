"""`famassign solve` and `famassign demo`, and the solve options other commands share."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from famassign.cli import EXIT_OK, EXIT_UNPLACED, UsageError, app, guarded, load_for_command
from famassign.models import Scenario
from famassign.outputs import write_plan
from famassign.safe_io import check_output_dir
from famassign.scenarios.example import example_path
from famassign.solver import DEFAULT_TIME_LIMIT, PlanOptions, Result
from famassign.solver import solve as solve_plan
from famassign.solver.stop import StopSignal

log = logging.getLogger(__name__)

TIME_LIMIT = typer.Option(
    DEFAULT_TIME_LIMIT, "--time-limit", min=0.0, help="Seconds; the best plan so far is kept."
)
SEED = typer.Option(0, "--seed", help="Random seed of the search.")
WORKERS = typer.Option(None, "--workers", min=1, help="Solver threads (default: all cores).")
DETERMINISTIC = typer.Option(
    False, "--deterministic", help="Identical outputs for identical input and seed."
)
OUT = typer.Option(..., "--out", help="Output folder (replaced as a whole when complete).")


@dataclass(frozen=True)
class RunOptions:
    """The options every planning command shares."""

    time_limit: float
    seed: int
    workers: int | None
    deterministic: bool

    def plan_options(self, **changes: Any) -> PlanOptions:
        """As solver PlanOptions, with `changes` applied."""
        return PlanOptions(
            time_limit=self.time_limit,
            seed=self.seed,
            workers=self.workers,
            deterministic=self.deterministic,
            **changes,
        )


@contextmanager
def progress_display() -> Iterator[Callable[[str, int, int], None]]:
    """A progress callback drawing a bar on stderr (silent when stderr is not a terminal)."""
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"{stage:>8}", total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        yield update


T = TypeVar("T")


def interruptible(work: Callable[[StopSignal], T]) -> T:
    """Run `work` in a thread so that Ctrl-C stops the search at once (not when the current
    CP-SAT search ends); the KeyboardInterrupt is then re-raised and nothing is written."""
    stop = StopSignal()
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = work(stop)
        except BaseException as exc:  # handed to the main thread below
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="famassign-solve", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.1)
    except KeyboardInterrupt:
        stop.stop()
        thread.join()
        raise
    if "error" in outcome:
        raise outcome["error"]
    return cast(T, outcome["value"])


def exit_code(result: Result) -> int:
    """0 when every family is placed within the rules, 3 when some could not be placed."""
    return EXIT_OK if not result.unplaced else EXIT_UNPLACED


def finish(result: Result, scenario: Scenario, out: Path, **write: Any) -> int:
    """Write the plan into `out`, print a short summary line, return the exit code."""
    write_plan(result, scenario, out, **write)
    line = (
        f"{result.status.value}: {result.placed}/{len(result.assignments)} families placed, "
        f"{len(result.unplaced)} unplaced, exceptions used: "
        f"{', '.join(result.exceptions_used) or 'none'}; outputs in {out}"
    )
    typer.echo(line)
    return exit_code(result)


def _solve_folder(folder: Path, out: Path, run: RunOptions) -> int:
    loaded = load_for_command(folder)
    check_output_dir(out)
    with progress_display() as progress:
        result = interruptible(
            lambda stop: solve_plan(loaded.scenario, run.plan_options(stop=stop), progress=progress)
        )
    return finish(result, loaded.scenario, out)


@app.command()
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


@app.command()
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
