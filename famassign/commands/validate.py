"""`famassign validate`: check a scenario and print a one-screen summary."""

from __future__ import annotations

from pathlib import Path

import typer

from famassign.commands.common import EXIT_OK, guarded, load_for_command
from famassign.models.summary import summary_text


@guarded
def validate(
    scenario: Path = typer.Argument(..., help="Scenario folder (families, staff, ...)."),
) -> int:
    """Check a scenario and print a one-screen summary: exit 0 valid, 2 invalid. Writes nothing."""
    loaded = load_for_command(scenario)
    typer.echo(summary_text(loaded.scenario, warnings=len(loaded.warnings)))
    return EXIT_OK
