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
from famassign.solver.options import SWEEP_TIME_LIMIT
from famassign.sweep_outputs import write_sweep
from famassign.sweep_runner import sweep_programs
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
        help="Dask scheduler address (tcp://host:8786); default a local cluster; 'inline' runs "
        "in this process without Dask.",
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the sweep (sample i: seed, i)."),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Worker processes of the local cluster (default: cores)."
    ),
    balance: bool = typer.Option(False, "--balance", help="Also balance each sample's workload."),
    time_limit: float = typer.Option(
        SWEEP_TIME_LIMIT,
        "--time-limit",
        min=0.0,
        help="Seconds of workload balance per sample (--balance).",
    ),
) -> int:
    """Sample the scenario's uncertainty: block, plan every sample, and write sweep.csv,
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
        with progress_display() as progress:
            results = sweep_programs(
                [s.scenario for s in loaded],
                samples=samples,
                confidence=confidence,
                seed=seed,
                scheduler=scheduler,
                workers=workers,
                balance=balance,
                time_limit=time_limit,
                progress=progress,
            )
    except SweepDependencyError as exc:
        raise UsageError(str(exc)) from None
    write_sweep(results, out, _folder_names(scenarios))
    for result in results:
        answer = result.answer
        staff = "not achievable" if answer.hires is None else f"{answer.total} additional staff"
        typer.echo(
            f"{result.name}: {len(result.samples)} samples; robust at {answer.confidence:.0%}: "
            f"{staff} (share {answer.share:.1%}, lower bound {answer.lower_bound})"
        )
    typer.echo(f"outputs in {out}")
    return EXIT_OK
