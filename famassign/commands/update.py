"""`famassign update`: bring the plan in force up to date mid-year, moving the fewest families.

Writes the solve outputs (including ``next_families.csv``) plus ``moves.csv``, ``handover.csv``
and ``handover/<staff>.html`` (a note per family that changes staff), ``absences.csv`` (the
absences still running, carried forward), ``update_*`` keys in summary.json and an "Update"
section in compliance.md and report.html. Exit 0 all placed, 3 some unplaced, 2 invalid input or
arguments, 1 internal error.
"""

from __future__ import annotations

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
    finish_change,
    guarded,
    load_for_command,
    parse_date,
    run_planning,
)
from famassign.commands.plan_store import STORE, record_plan
from famassign.models.absence import read_absences
from famassign.report import ReportSection
from famassign.solver.reassign import MoveKind, moves_frame
from famassign.solver.update import UpdateResult
from famassign.solver.update import update as update_plan


def summary_extra(outcome: UpdateResult) -> dict[str, Any]:
    """The summary.json keys update adds."""
    cost = outcome.bound_cost
    return {
        "update_newly_placed": outcome.count(MoveKind.new),
        "update_moved_to_make_room": outcome.count(MoveKind.room),
        "update_moved_from_inactive_staff": outcome.count(MoveKind.inactive_before),
        "update_returned_staff": list(outcome.returned_staff),
        "update_returned_families": len(outcome.returned_families),
        "update_not_returned": [n.family_id for n in outcome.not_returned],
        "update_still_absent": list(outcome.still_absent),
        "update_max_moves_per_staff": outcome.max_moves_per_staff,
        "update_bound_cost_placements": cost.placements if cost else 0,
        "update_bound_cost_exception_places": cost.exception_places if cost else 0,
        "update_unplaced_by_bound": list(cost.unplaced_by_bound) if cost else [],
        "update_staff_at_bound": list(cost.staff_at_bound) if cost else [],
    }


def update_section(outcome: UpdateResult) -> ReportSection:
    """The "Update" section of compliance.md and report.html."""
    lines = [
        f"- New families placed: {outcome.count(MoveKind.new)}; current families moved to make "
        f"room: {outcome.count(MoveKind.room)} (the fewest any plan needs"
        + (
            f" with at most {outcome.max_moves_per_staff} moved away per staff member"
            if outcome.max_moves_per_staff is not None
            else ""
        )
        + f"); moved from staff no longer active: {outcome.count(MoveKind.inactive_before)}."
    ]
    for staff_id in outcome.returned_staff:
        back = sum(
            1 for m in outcome.moves if m.kind is MoveKind.returned and m.to_staff_id == staff_id
        )
        lines.append(f"- {staff_id} returned from leave: {back} families back with them.")
    for n in outcome.not_returned:
        lines.append(f"- {n.family_id} stays where it is, not back with {n.staff_id}: {n.reason}.")
    if outcome.still_absent:
        lines.append(f"- Still absent (absences.csv): {', '.join(outcome.still_absent)}.")
    cost = outcome.bound_cost
    if cost is not None:
        if cost.placements or cost.exception_places:
            lines.append(
                f"- The disruption bound costs {cost.placements} placement(s) and "
                f"{cost.exception_places} exception place(s); unplaced because of it: "
                f"{', '.join(cost.unplaced_by_bound) or 'none'}."
            )
        else:
            lines.append("- The disruption bound costs no placement and no exception place.")
        if cost.staff_at_bound:
            lines.append(f"- Staff at the bound: {', '.join(cost.staff_at_bound)}.")
    return ReportSection(
        title="Update (moves and returns)",
        text="\n".join(lines),
        table=moves_frame([m for m in outcome.moves if m.kind is not MoveKind.new]),
    )


@guarded
def update(
    scenario: Path = typer.Argument(
        ..., help="Scenario folder (families.csv with current_staff_id)."
    ),
    out: Path = OUT,
    as_of: str | None = AS_OF,
    max_moves_per_staff: int | None = typer.Option(
        None,
        "--max-moves-per-staff",
        min=0,
        help="At most K of a staff member's families moved away (the outputs say when the bound "
        "costs a placement).",
    ),
    store: str | None = STORE,
    time_limit: float = TIME_LIMIT,
    seed: int = SEED,
    workers: int | None = WORKERS,
    deterministic: bool = DETERMINISTIC,
) -> int:
    """Place new families and bring the plan up to date, moving the fewest current families.

    Exit 0 all placed, 3 some unplaced, 2 invalid input or arguments.
    """
    effective = parse_date("--as-of", as_of)
    loaded = load_for_command(scenario)
    absences = read_absences(scenario)
    outcome = run_planning(
        out,
        RunOptions(time_limit, seed, workers, deterministic),
        lambda options, progress: update_plan(
            loaded.scenario,
            as_of=effective,
            absences=absences,
            max_moves_per_staff=max_moves_per_staff,
            options=options,
            progress=progress,
        ),
    )
    code = finish_change(
        outcome, out, extra=summary_extra(outcome), section=update_section(outcome)
    )
    record_plan(
        store,
        out,
        outcome.result,
        "update",
        as_of=outcome.scenario.as_of,
        max_moves_per_staff=max_moves_per_staff,
        time_limit=time_limit,
        seed=seed,
    )
    typer.echo(
        f"update: {outcome.count(MoveKind.new)} new families placed, "
        f"{outcome.count(MoveKind.room)} moved to make room, "
        f"{len(outcome.returned_families)} back from leave"
        + (f" ({', '.join(outcome.returned_staff)} returned)" if outcome.returned_staff else "")
    )
    return code
