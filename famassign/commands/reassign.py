"""`famassign reassign`: re-plan after staff leave or go on leave, moving few families.

Writes the solve outputs for the changed scenario (leaving staff marked departed/absent, the
temporary exception added) plus ``moves.csv`` (family_id, from_staff_id, to_staff_id, reason),
extra summary.json keys (``reassign_*``) and a "Reassignment" section in compliance.md and
report.html. Exit 0 all placed, 3 some unplaced, 2 invalid input or arguments, 1 internal error.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

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
from famassign.models import POLICY_CAP_LIMIT
from famassign.report import ReportSection
from famassign.safe_io import check_output_dir
from famassign.solver.reassign import MoveKind, ReassignError, ReassignResult
from famassign.solver.reassign import reassign as reassign_plan


def _ids(option: str, value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    ids = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    if not ids:
        raise UsageError(f"{option} needs at least one staff id (ID[,ID..])")
    return ids


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"--until {value!r} is not a date; use YYYY-MM-DD") from None


def check_arguments(
    departed: tuple[str, ...],
    absent: tuple[str, ...],
    until: date | None,
    temporary_cap: int | None,
) -> None:
    """Argument rules that need no scenario; UsageError (exit 2) with what to change."""
    if not departed and not absent:
        raise UsageError("name who leaves: --departed ID[,ID..] or --absent ID[,ID..]")
    if departed and absent:
        raise UsageError("use either --departed or --absent, not both; run reassign once for each")
    if temporary_cap is not None and until is None:
        raise UsageError(
            "--temporary-cap needs --until DATE: a temporary exception under 1302.52(d)(2)(ii) "
            "has an end date"
        )
    if temporary_cap is not None and temporary_cap <= POLICY_CAP_LIMIT:
        raise UsageError(
            f"--temporary-cap {temporary_cap} must be above {POLICY_CAP_LIMIT} "
            "(up to 40 no exception is needed)"
        )
    if departed and until is not None and temporary_cap is None:
        raise UsageError(
            "--until with --departed only dates a --temporary-cap; departures are permanent "
            "(add --temporary-cap N, or drop --until)"
        )


def summary_extra(outcome: ReassignResult) -> dict[str, Any]:
    """The summary.json keys reassign adds."""
    exc = outcome.temporary_exception
    back = outcome.temporary_until
    return {
        "reassign_departed": list(outcome.departed),
        "reassign_absent": list(outcome.absent),
        "reassign_until": outcome.until.isoformat() if outcome.until else None,
        "reassign_temporary_moves": back is not None,
        "reassign_families_return_on": (back + timedelta(days=1)).isoformat() if back else None,
        "reassign_temporary_exception": exc.exception_id if exc else None,
        "reassign_temporary_exception_ends": exc.ends.isoformat() if exc else None,
        "reassign_moved_from_leaving_staff": outcome.count(MoveKind.leaving),
        "reassign_moved_other": outcome.count(MoveKind.room),
        "reassign_moved_no_longer_eligible": outcome.count(MoveKind.no_longer_eligible),
        "reassign_newly_placed": outcome.count(MoveKind.new),
        "reassign_unplaced_from_leaving_staff": list(outcome.unplaced_from_leaving),
    }


def reassignment_section(outcome: ReassignResult) -> ReportSection:
    """The "Reassignment" section of compliance.md and report.html."""
    lines = []
    if outcome.departed:
        lines.append(f"- Departed: {', '.join(outcome.departed)}.")
    if outcome.absent:
        lines.append(f"- Absent: {', '.join(outcome.absent)}.")
    back = outcome.temporary_until
    if back is not None:
        lines.append(
            f"- These are temporary moves: the absence ends on {back.isoformat()}; the families "
            f"go back to {', '.join(outcome.absent)} on {(back + timedelta(days=1)).isoformat()}."
        )
    elif outcome.absent:
        lines.append("- No return date was given (--until): the absence has no planned end.")
    exc = outcome.temporary_exception
    if exc is not None:
        used = exc.exception_id in outcome.result.exceptions_used
        lines.append(
            f"- Temporary exception {exc.exception_id} ({exc.kind.value}, {exc.kind.paragraph}): "
            f"up to {exc.max_families} families per staff member (prorated by FTE when the policy "
            f"prorates), in force {exc.starts.isoformat()} to {exc.ends.isoformat()} (ends "
            f"{exc.ends.isoformat()}); "
            + (
                "used only by the caseloads above their cap."
                if used
                else "not needed by this plan."
            )
        )
    lines.append(
        f"- Families of leaving staff moved: {outcome.count(MoveKind.leaving)}; families of "
        f"staff who stay moved to make room: {outcome.count(MoveKind.room)} (the fewest any plan "
        f"needs); families whose staff member may no longer serve them (language, site, option "
        f"or a conflict) moved: {outcome.count(MoveKind.no_longer_eligible)}; unplaced families "
        f"of leaving staff: {len(outcome.unplaced_from_leaving)}."
    )
    return ReportSection(
        title="Reassignment (before and after)",
        text="\n".join(lines),
        table=outcome.moves_frame(),
    )


@guarded
def reassign(
    scenario: Path = typer.Argument(..., help="Scenario folder."),
    out: Path = OUT,
    departed: str | None = typer.Option(
        None, "--departed", help="Staff who left the program: ID[,ID..]."
    ),
    absent: str | None = typer.Option(None, "--absent", help="Staff on leave: ID[,ID..]."),
    until: str | None = typer.Option(
        None, "--until", help="Last day of the absence / of the temporary exception (YYYY-MM-DD)."
    ),
    temporary_cap: int | None = typer.Option(
        None,
        "--temporary-cap",
        help="Temporary cap above 40 for the remaining staff (needs --until).",
    ),
    time_limit: float = TIME_LIMIT,
    seed: int = SEED,
    workers: int | None = WORKERS,
    deterministic: bool = DETERMINISTIC,
) -> int:
    """Re-plan after staff leave or go on leave, moving as few families as possible.

    Exit 0 all placed, 3 some unplaced (the outputs say what exception would place them),
    2 invalid input or arguments.
    """
    gone, away = _ids("--departed", departed), _ids("--absent", absent)
    end = _date(until)
    check_arguments(gone, away, end, temporary_cap)
    loaded = load_for_command(scenario)
    check_output_dir(out)
    try:
        with progress_display() as progress:
            outcome = interruptible(
                lambda stop: reassign_plan(
                    loaded.scenario,
                    departed=gone,
                    absent=away,
                    until=end,
                    temporary_cap=temporary_cap,
                    options=RunOptions(time_limit, seed, workers, deterministic).plan_options(
                        stop=stop
                    ),
                    progress=progress,
                )
            )
    except ReassignError as exc:
        raise UsageError(str(exc)) from None
    code = finish(
        outcome.result,
        outcome.scenario,
        out,
        extra=summary_extra(outcome),
        extra_files={"moves.csv": outcome.moves_frame()},
        extra_sections=[reassignment_section(outcome)],
    )
    typer.echo(
        f"reassign: {outcome.count(MoveKind.leaving)} families of leaving staff moved, "
        f"{outcome.count(MoveKind.room)} other families moved to make room, "
        f"{outcome.count(MoveKind.no_longer_eligible)} moved because their staff member may no "
        "longer serve them, "
        f"{len(outcome.unplaced_from_leaving)} of leaving staff unplaced"
    )
    return code
