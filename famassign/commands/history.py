"""Plan history: `famassign diff A B`, `famassign timeline PLAN... --out DIR` (from folders) and
`famassign history --store DB [--out DIR]` (the plans recorded in a plan store).

See :mod:`famassign.history`. Exit 0, or 2 when a folder is not a readable plan
(:class:`famassign.history.PlanFolderError`, a user error under ``guarded``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from famassign.commands.common import guarded
from famassign.commands.plan_store import open_store, plan_folder
from famassign.history import diff_plans, read_plan, timeline
from famassign.safe_io import atomic_output_dir, check_output_dir, write_csv

if TYPE_CHECKING:
    from famassign.store import PlanInfo, Store


@guarded
def diff(
    before: Path = typer.Argument(..., help="The earlier plan's output folder (or id: --store)."),
    after: Path = typer.Argument(..., help="The later plan's output folder (or id: --store)."),
    store: str | None = typer.Option(
        None, "--store", help="Read BEFORE and AFTER as plan ids in this plan store."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Write families_changed.csv, caseloads_changed.csv, exceptions_changed.csv here.",
    ),
) -> int:
    """Families moved, caseloads changed, exceptions started and ended between two plans."""
    if store is not None:
        before, after = plan_folder(store, str(before)), plan_folder(store, str(after))
    result = diff_plans(read_plan(before), read_plan(after))
    counts = ", ".join(
        f"{result.count(c)} {c}" for c in ("moved", "placed", "unplaced", "enrolled", "withdrawn")
    )
    typer.echo(
        f"diff {result.before.as_of.isoformat()} -> {result.after.as_of.isoformat()}: families "
        f"{counts}; {len(result.caseloads)} caseloads changed; exceptions "
        f"{int((result.exceptions['change'] == 'started').sum())} started, "
        f"{int((result.exceptions['change'] == 'ended').sum())} ended"
    )
    for fid, change, source, target in result.families.itertuples(index=False, name=None):
        typer.echo(f"  {fid}: {change} {source or '-'} -> {target or '-'}")
    for eid, sid, change in result.exceptions.itertuples(index=False, name=None):
        typer.echo(f"  exception {eid} {change} for {sid}")
    if out is not None:
        check_output_dir(out)
        with atomic_output_dir(out) as tmp:
            write_csv(result.families, tmp / "families_changed.csv")
            write_csv(result.caseloads, tmp / "caseloads_changed.csv")
            write_csv(result.exceptions, tmp / "exceptions_changed.csv")
    return 0


@guarded
def timeline_command(
    plans: list[Path] = typer.Argument(..., help="Plan output folders (any order)."),
    out: Path = typer.Option(..., "--out", help="Output folder."),
) -> int:
    """Who worked with each family from when to when, and the days each exception was used.

    Writes assignment_periods.csv and exception_days.csv.
    """
    result = timeline([read_plan(p) for p in plans])
    result.write(out)
    typer.echo(
        f"timeline of {len(result.plans)} plans ({result.plans[0].as_of.isoformat()} to "
        f"{result.plans[-1].as_of.isoformat()}): {len(result.periods)} assignment periods, "
        f"{len(result.exception_days)} exception uses; outputs in {out}"
    )
    return 0


def _plans(store: Store) -> list[PlanInfo]:
    """The stored plans, oldest planning date first (then oldest recorded)."""
    return sorted(store.list_plans(), key=lambda p: (p.summary.get("as_of", ""), p.created_at))


@guarded
def history(
    store: str = typer.Option(..., "--store", help="The plan store (SQLite file or URL)."),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Write assignment_periods.csv and exception_days.csv over the stored plans.",
    ),
) -> int:
    """List the plans in the store, oldest planning date first (with --out: their timeline)."""
    opened = open_store(store)
    try:
        plans = _plans(opened)
    finally:
        opened.close()
    typer.echo("id\tas_of\tkind\tstatus\tplaced\tmoves\tcreated\tfolder")
    for p in plans:
        s = p.summary
        typer.echo(
            f"{p.id}\t{s.get('as_of', '')}\t{p.kind}\t{p.status}\t"
            f"{s.get('assigned', '')}/{s.get('families', '')}\t{s.get('moves', '')}\t"
            f"{p.created_at.isoformat(timespec='seconds')}\t{p.folder}"
        )
    if out is not None:
        by_day = {}
        for p in plans:  # the newest plan of each day
            by_day[p.summary.get("as_of", "")] = p
        line = timeline([read_plan(p.folder) for p in by_day.values()])
        line.write(out)
        typer.echo(f"timeline of {len(line.plans)} plans written to {out}")
    return 0


__all__ = ["diff", "history", "timeline_command"]
