"""`famassign compare` (the base and every what-if variant side by side) and `famassign staffing`.

Exit codes of compare: 0 when the base scenario places every family (with its exceptions in
force), 3 when it does not (the outputs say which variants would), 2 invalid input (a bad variant
included), 1 internal error. Of staffing: 0 when the people to hire place every family with no
exception, 3 when no allowed profile can place some families. A variant that leaves families
unplaced does not change compare's exit code: finding such variants is what a comparison is for.
"""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from famassign.commands.common import (
    DETERMINISTIC,
    EXIT_OK,
    EXIT_UNPLACED,
    OUT,
    SEED,
    TIME_LIMIT,
    WORKERS,
    RunOptions,
    guarded,
    interruptible,
    load_for_command,
    progress_display,
    search_seconds,
)
from famassign.compare import BASE, compare
from famassign.report.comparison import render_comparison
from famassign.safe_io import atomic_output_dir, check_output_dir, write_csv
from famassign.scenarios.staffing import staffing
from famassign.scenarios.variants import variants_of

log = logging.getLogger(__name__)

COMPARISON_CSV = "comparison.csv"
STAFFING_CSV = "staffing.csv"
HIRES_CSV = "hires.csv"
EXCEPTIONS_CSV = "exceptions_carried.csv"
REPORT_HTML = "report.html"
PROCESSES = typer.Option(2, "--processes", min=1, max=2, help="Plans solved at once (1 or 2).")


def _code(placed: int, families: int) -> int:
    return EXIT_OK if placed == families else EXIT_UNPLACED


@guarded
def compare_command(
    scenario: Path = typer.Argument(..., help="Scenario folder (variants in scenario.yaml)."),
    out: Path = OUT,
    time_limit: float = TIME_LIMIT,
    seed: int = SEED,
    workers: int | None = WORKERS,
    deterministic: bool = DETERMINISTIC,
    processes: int = PROCESSES,
) -> int:
    """Solve the base and every variant; write comparison.csv, hires.csv, staffing.csv and
    report.html.

    Exit 0 when the base places every family, 3 when it does not, 2 invalid input.
    """
    loaded = load_for_command(scenario)
    check_output_dir(out)
    # The plans run `processes` at a time, then the staffing analysis: one search each round.
    plans = 1 + len(variants_of(loaded.scenario))
    rounds = -(-plans // min(processes, plans)) + 1
    run = RunOptions(time_limit, seed, workers, deterministic)
    comparison = compare(
        loaded.scenario,
        run.within_limit(loaded.scenario, searches=rounds).plan_options(),
        processes=processes,
    )
    report = render_comparison(comparison)
    answer = comparison.staffing
    with atomic_output_dir(out) as tmp:
        write_csv(comparison.frame, tmp / COMPARISON_CSV)
        if answer is not None:
            write_csv(answer.people.frame(), tmp / HIRES_CSV)
            write_csv(answer.needs_frame(), tmp / STAFFING_CSV)
            write_csv(answer.exceptions_frame(), tmp / EXCEPTIONS_CSV)
        (tmp / REPORT_HTML).write_text(report, encoding="utf-8")
    for row in comparison.frame.to_dict("records"):
        typer.echo(
            f"{row['variant']}: {row['placed']}/{row['families']} placed, "
            f"{row['unplaced']} unplaced, above 40: {row['caseloads_above_40']}, "
            f"exceptions: {row['exceptions_used'] or 'none'}, moved: {row['families_moved']}"
        )
    typer.echo(f"outputs in {out}")
    base = comparison.base.result
    return _code(base.placed, len(base.assignments))


@guarded
def staffing_command(
    scenario: Path = typer.Argument(..., help="Scenario folder (hiring: profiles optional)."),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Write hires.csv (one row per person), staffing.csv and "
        "exceptions_carried.csv into this folder.",
    ),
    time_limit: float = TIME_LIMIT,
) -> int:
    """Print the fewest people to hire (from the candidate profiles) that would place every family
    with no exception, where places lack by language x site x option, and what each exception in
    force carries. Exit 0 when the hires place every family with no exception, 3 when no allowed
    profile can place some families (named, with why).

    --time-limit bounds the MIP, the search for group hires that can be spared and the withdrawal
    of each exception; the answer says when the limit ended any of them."""
    loaded = load_for_command(scenario)
    if out is not None:
        check_output_dir(out)
    with progress_display() as progress:
        answer = interruptible(
            lambda stop: staffing(
                loaded.scenario,
                time_limit=search_seconds(time_limit, loaded.scenario, writes_plan=False),
                progress=progress,
            )
        )
    if out is not None:
        with atomic_output_dir(out) as tmp:
            write_csv(answer.people.frame(), tmp / HIRES_CSV)
            write_csv(answer.needs_frame(), tmp / STAFFING_CSV)
            write_csv(answer.exceptions_frame(), tmp / EXCEPTIONS_CSV)
    typer.echo(answer.text())
    if out is not None:
        typer.echo(f"outputs in {out}")
    return EXIT_OK if answer.places_everyone else EXIT_UNPLACED


__all__ = ["BASE", "render_comparison"]
