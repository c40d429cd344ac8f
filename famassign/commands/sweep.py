"""`famassign sweep`: staffing under uncertainty, over many samples, locally or on Dask."""

from __future__ import annotations

from pathlib import Path

import typer

from famassign.commands.common import (
    EXIT_OK,
    OUT,
    UsageError,
    guarded,
    load_for_command,
    progress_display,
)
from famassign.safe_io import check_output_dir
from famassign.scenarios.hiring import describe
from famassign.solver.options import SWEEP_TIME_LIMIT
from famassign.sweep_outputs import write_sweep
from famassign.sweep_runner import VALIDATION_SAMPLES, sweep_programs
from famassign.task_runners import SweepDependencyError


def _folder_names(folders: list[Path]) -> list[str]:
    names: list[str] = []
    for folder in folders:
        base = folder.resolve().name or "program"
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base}-{n}"
        names.append(name)
    return names


@guarded
def sweep(
    scenarios: list[Path] = typer.Argument(
        ..., help="Scenario folder(s) with an uncertainty: block."
    ),
    out: Path = OUT,
    samples: int = typer.Option(100, "--samples", min=1, help="Number of samples."),
    confidence: float = typer.Option(
        0.95, "--confidence", min=0.0, max=1.0, help="Share of samples the hires must place fully."
    ),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="Where samples run: 'inline' (this process), 'local' (a local Dask cluster) or a "
        "Dask scheduler address (tcp://host:8786); default: inline on a machine of 2 cores or "
        "fewer, else local.",
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the sweep (sample i: seed, i)."),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Worker processes of the local cluster (default: cores)."
    ),
    validation_samples: int = typer.Option(
        VALIDATION_SAMPLES,
        "--validation-samples",
        min=0,
        help="Fresh samples (another seed, not rows of sweep.csv) the hires are measured on.",
    ),
    balance: bool = typer.Option(False, "--balance", help="Also balance each sample's workload."),
    time_limit: float = typer.Option(
        SWEEP_TIME_LIMIT,
        "--time-limit",
        min=0.0,
        help="Seconds of workload balance per sample (--balance).",
    ),
) -> int:
    """Sample the scenario's uncertainty: block, plan every sample, choose the people to hire on
    those samples and measure them on fresh ones; write sweep.csv, hires.csv,
    robust_staffing.csv and report.html (with several scenarios: programs.csv and one folder
    each). Exit 0 on success, 2 on invalid input."""
    if confidence <= 0:
        raise UsageError("--confidence must be above 0 and at most 1")
    loaded = [load_for_command(folder) for folder in scenarios]
    for folder, scenario in zip(scenarios, loaded, strict=True):
        if not scenario.scenario.uncertainty:
            raise UsageError(
                f"{folder / 'scenario.yaml'}: no uncertainty: block to sample; "
                "add one (see docs/sweep.md)"
            )
    check_output_dir(out)
    try:
        with progress_display(lines=True) as progress:
            results = sweep_programs(
                [s.scenario for s in loaded],
                samples=samples,
                confidence=confidence,
                seed=seed,
                scheduler=scheduler,
                workers=workers,
                balance=balance,
                time_limit=time_limit,
                validation_samples=validation_samples,
                progress=progress,
            )
    except SweepDependencyError as exc:
        raise UsageError(str(exc)) from None
    write_sweep(results, out, _folder_names(scenarios))
    for result in results:
        typer.echo(f"{result.name}: {result.answer.verdict()}")
        for hire in result.answer.hires or ():
            typer.echo(f"  {hire.hire}  {describe(hire.profile)}")
    typer.echo(f"outputs in {out}")
    return EXIT_OK
