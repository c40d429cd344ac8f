"""`famassign reassign`: re-plan after staff leave or go on leave, moving few families.

Writes the solve outputs for the changed scenario (leaving staff marked departed/absent, the
temporary exception added) plus ``moves.csv`` (family_id, from_staff_id, to_staff_id, reason),
``handover.csv`` and ``handover/<staff>.html`` (a note per family that changes staff),
``absences.csv`` (temporary moves for an absence with ``--until``, and the earlier ones carried
forward from the scenario folder's absences.csv), ``next_staff.csv`` (staff.csv for the next plan),
extra summary.json keys (``reassign_*``) and a "Reassignment" section in compliance.md and
report.html. Exit 0 all placed, 3 some unplaced, 2 invalid input or arguments, 1 internal error.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import typer

from famassign.commands.common import (
    AS_OF,
    DETERMINISTIC,
    OUT,
    SEED,
    TIME_LIMIT,
    WORKERS,
    RunOptions,
    UsageError,
    finish_change,
    guarded,
    load_for_command,
    parse_date,
    run_planning,
)
from famassign.commands.plan_store import STORE, record_plan
from famassign.models import StaffStatus
from famassign.models.absence import read_absences
from famassign.models.writing import staff_frame
from famassign.report import ReportSection
from famassign.solver.reassign import (
    MoveKind,
    ReassignResult,
    check_leave_request,
)
from famassign.solver.reassign import reassign as reassign_plan

NEXT_STAFF_CSV = "next_staff.csv"


def _ids(option: str, value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    ids = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    if not ids:
        raise UsageError(f"{option} needs at least one staff id (ID[,ID..])")
    return ids


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


def next_staff(outcome: ReassignResult) -> list[Any]:
    """staff.csv for the next plan: departed staff marked departed; absent staff with an end
    date stay active (absences.csv keeps them away until then), without one marked absent."""
    back = outcome.temporary_until
    out = []
    for st in outcome.scenario.staff:
        if st.staff_id in outcome.absent and back is not None:
            st = st.model_copy(update={"status": StaffStatus.active})
        out.append(st)
    return out


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
    as_of: str | None = AS_OF,
    store: str | None = STORE,
    time_limit: float = TIME_LIMIT,
    seed: int = SEED,
    workers: int | None = WORKERS,
    deterministic: bool = DETERMINISTIC,
) -> int:
    """Re-plan after staff leave or go on leave (or both at once), moving as few families as
    possible.

    Exit 0 all placed, 3 some unplaced (the outputs say what would place them),
    2 invalid input or arguments.
    """
    gone, away = _ids("--departed", departed), _ids("--absent", absent)
    end = parse_date("--until", until)
    effective = parse_date("--as-of", as_of)
    check_leave_request(gone, away, end, temporary_cap)  # ReassignError: exit 2
    loaded = load_for_command(scenario)
    earlier = read_absences(scenario)
    outcome = run_planning(
        out,
        RunOptions(time_limit, seed, workers, deterministic),
        lambda options, progress: reassign_plan(
            loaded.scenario,
            departed=gone,
            absent=away,
            until=end,
            temporary_cap=temporary_cap,
            as_of=effective,
            absences=earlier,
            options=options,
            progress=progress,
        ),
    )
    code = finish_change(
        outcome,
        out,
        extra=summary_extra(outcome),
        section=reassignment_section(outcome),
        files={NEXT_STAFF_CSV: staff_frame(next_staff(outcome))},
    )
    record_plan(
        store,
        out,
        outcome.result,
        "reassign",
        departed=list(gone),
        absent=list(away),
        until=end,
        temporary_cap=temporary_cap,
        as_of=outcome.scenario.as_of,
        time_limit=time_limit,
        seed=seed,
    )
    typer.echo(
        f"reassign: {outcome.count(MoveKind.leaving)} families of leaving staff moved, "
        f"{outcome.count(MoveKind.room)} other families moved to make room, "
        f"{outcome.count(MoveKind.no_longer_eligible)} moved because their staff member may no "
        "longer serve them, "
        f"{len(outcome.unplaced_from_leaving)} of leaving staff unplaced"
    )
    return code
