"""`famassign reassign`: re-plan after staff leave or go on leave, moving few families.

Writes a re-plan's outputs (:mod:`famassign.replan_outputs`): the plan for the changed scenario,
``moves.csv``, the handover notes, and the next scenario (departed staff marked departed, the
temporary exception with ``created_by``, the absence with its families in absences.csv), so the
output folder is the scenario of the next command. Exit 0 all placed, 3 some unplaced, 2 invalid
input or arguments (a backdated ``--as-of`` without ``--allow-backdate`` too), 1 internal error.
"""

from __future__ import annotations

from pathlib import Path

import typer

from famassign.commands.common import (
    ALLOW_BACKDATE,
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
from famassign.solver.reassign import check_leave_request
from famassign.solver.reassign import reassign as reassign_plan


def _ids(option: str, value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    ids = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    if not ids:
        raise UsageError(f"{option} needs at least one staff id (ID[,ID..])")
    return ids


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
    allow_backdate: bool = ALLOW_BACKDATE,
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
    outcome = run_planning(
        out,
        RunOptions(time_limit, seed, workers, deterministic).within_limit(loaded.scenario),
        lambda options, progress: reassign_plan(
            loaded.scenario,
            departed=gone,
            absent=away,
            until=end,
            temporary_cap=temporary_cap,
            as_of=effective,
            allow_backdate=allow_backdate,
            options=options,
            progress=progress,
        ),
    )
    code = finish_change(outcome, out)
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
    return code
