"""`famassign update`: bring the plan in force up to date mid-year, moving the fewest families.

The scenario is the last plan's folder. The month's enrolments, withdrawals and re-assessments
come from the data system's export (``--families-export FILE [--mapping MAPPING.yaml]``,
:func:`famassign.models.month.month_changes`, listed in ``changes.csv``; ``--advocate-from
export|plan`` says whose current advocate is kept where they disagree, default the plan's) or are
edited into the folder's families.csv by hand. Writes a re-plan's outputs
(:mod:`famassign.replan_outputs`): the plan, ``moves.csv``, the handover notes, and the next
scenario (the absences not yet ended, the exceptions not yet ended), ``update_*`` keys in
summary.json and an "Update" section in compliance.md and report.html. Exit 0 all placed, 3 some
unplaced, 2 invalid input or arguments (an ``--as-of`` before the plan's own without
``--allow-backdate`` too), 1 internal error.
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
from famassign.models.mapping import ImportMapping
from famassign.models.month import AdvocateSource, FamilyChange, month_changes, read_families_export
from famassign.solver.update import update as update_plan


@guarded
def update(
    scenario: Path = typer.Argument(
        ...,
        help="The last plan's folder, or a scenario folder (families.csv with current_staff_id).",
    ),
    out: Path = OUT,
    as_of: str | None = AS_OF,
    allow_backdate: bool = ALLOW_BACKDATE,
    max_moves_per_staff: int | None = typer.Option(
        None,
        "--max-moves-per-staff",
        min=0,
        help="At most K of a staff member's families moved away (the outputs say when the bound "
        "costs a placement).",
    ),
    families_export: list[Path] | None = typer.Option(
        None,
        "--families-export",
        help="This month's family export from the data system (repeat for several files): a "
        "families.csv, or the files --mapping names. Enrolments, withdrawals and "
        "re-assessments are worked out from it and listed in changes.csv.",
    ),
    mapping: Path | None = typer.Option(
        None,
        "--mapping",
        help="The importer's saved mapping.yaml for --families-export.",
    ),
    advocate_from: AdvocateSource = typer.Option(
        AdvocateSource.plan,
        "--advocate-from",
        help="Where the export names another current advocate than the plan: keep the plan's "
        "(default) or take the export's. Both are listed in changes.csv.",
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
    planned = loaded.scenario
    changes: tuple[FamilyChange, ...] = ()
    if families_export:
        given = ImportMapping.read(mapping) if mapping is not None else None
        month = month_changes(
            planned,
            read_families_export(families_export, planned, given),
            advocate_from=advocate_from,
        )
        planned, changes = month.scenario, month.changes
    elif mapping is not None:
        raise UsageError("--mapping needs --families-export")
    outcome = run_planning(
        out,
        RunOptions(time_limit, seed, workers, deterministic).within_limit(planned),
        lambda options, progress: update_plan(
            planned,
            as_of=effective,
            allow_backdate=allow_backdate,
            max_moves_per_staff=max_moves_per_staff,
            options=options,
            progress=progress,
            changes=changes,
        ),
    )
    code = finish_change(outcome, out)
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
    return code
