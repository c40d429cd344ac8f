"""`famassign recommend SCENARIO --family ID [--top K]`: rank staff for one family, with reasons.

Prints identifiers, scores by term and rule texts only (no family details). Exit 0 when some
staff member can take the family now, 3 when nobody can (the excluding rules are printed),
2 invalid input or arguments.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from famassign.commands.common import EXIT_OK, EXIT_UNPLACED, UsageError, guarded, load_for_command
from famassign.solver.recommend import TERM_NAMES, Recommendation
from famassign.solver.recommend import recommend as rank_staff


def render(rec: Recommendation, console: Console) -> None:
    """Print the recommendation as two tables: candidates by term, then exclusions."""
    table = Table(title=f"Staff for family {rec.family_id}", title_justify="left")
    for column in (
        "rank",
        "staff_id",
        "score",
        *TERM_NAMES,
        "urgency",
        "families after/cap",
        "load/FTE after",
        "exception",
    ):
        table.add_column(column, justify="left" if column in ("staff_id", "exception") else "right")
    for c in rec.candidates:
        table.add_row(
            str(c.rank),
            c.staff_id,
            str(c.score),
            *(str(c.terms[t]) for t in TERM_NAMES),
            str(c.urgency),
            f"{c.families_after}/{c.cap}",
            f"{c.load_per_fte_after:.2f}",
            c.exception_id or "",
        )
    if rec.candidates:
        console.print(table)
    else:
        console.print(f"No staff member can take family {rec.family_id} now.")
    if rec.also_eligible:
        console.print(f"Also eligible (lower ranked): {', '.join(rec.also_eligible)}")
    if rec.excluded:
        excluded = Table(title="Excluded staff", title_justify="left")
        excluded.add_column("staff_id")
        excluded.add_column("rule")
        for e in rec.excluded:
            excluded.add_row(e.staff_id, e.rule)
        console.print(excluded)


@guarded
def recommend(
    scenario: Path = typer.Argument(..., help="Scenario folder."),
    family: str = typer.Option(..., "--family", help="family_id to rank staff for."),
    top: int = typer.Option(5, "--top", help="How many staff members to rank (K >= 1)."),
) -> int:
    """Rank the staff who can take one family now, with the score by term and the rule that
    excludes every other staff member. Exit 0, or 3 when nobody can take it now."""
    if top < 1:
        raise UsageError(f"--top must be at least 1, got {top}")
    loaded = load_for_command(scenario)
    rec = rank_staff(loaded.scenario, family, top=top)  # RecommendError: exit 2
    render(rec, Console(width=200, soft_wrap=True))
    return EXIT_OK if rec.candidates else EXIT_UNPLACED
