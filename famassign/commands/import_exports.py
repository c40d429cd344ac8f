"""`famassign import`: turn data-system exports (CSV/XLSX) into a scenario folder."""

from __future__ import annotations

from pathlib import Path

import typer

from famassign.commands.common import EXIT_OK, UsageError, guarded, parse_date
from famassign.models.importing import ImportRefused, import_exports, write_import
from famassign.models.mapping import MAPPING_FILE, ImportMapping
from famassign.models.summary import plausibility_lines


@guarded
def import_command(
    files: list[Path] = typer.Argument(..., help="Export files (CSV or XLSX)."),
    out: Path = typer.Option(..., "--out", help="Scenario folder to write (with mapping.yaml)."),
    mapping: Path | None = typer.Option(
        None,
        "--mapping",
        help="Mapping to apply; labels it lacks are read and said. See docs/import.md.",
    ),
    name: str | None = typer.Option(None, "--name", help="Scenario name (over the mapping's)."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Planning date YYYY-MM-DD (over the mapping's; default today)."
    ),
) -> int:
    """Import exports into a scenario folder and write the mapping used: exit 0 (guesses are
    said, to confirm), or 2 with every problem grouped by column (nothing written)."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    given = ImportMapping.read(mapping) if mapping is not None else None
    try:
        result, notes = import_exports(
            files, None, given, name=name, as_of=parse_date("--as-of", as_of)
        )
    except ImportRefused as exc:
        _say(exc.notes)
        raise
    try:
        write_import(result, out)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--out {out}: cannot write the scenario: {exc}") from None
    _say(notes)
    for warning in result.loaded.warnings:
        typer.echo(f"  warning: {warning}")
    scenario = result.scenario
    if result.mapping.as_of is None:
        typer.echo(
            f"  as_of not given: scenario.yaml says {scenario.as_of.isoformat()} (today); "
            "set --as-of, or as_of in the mapping or in scenario.yaml, to the planning date"
        )
    for line in plausibility_lines(scenario):
        typer.echo(line)
    typer.echo(
        f"Wrote {out}: {len(scenario.families)} families, {len(scenario.staff)} staff, "
        f"and {out / MAPPING_FILE}"
    )
    return EXIT_OK


def _say(notes: tuple[str, ...]) -> None:
    """What was read, each guess marked to confirm."""
    if notes:
        typer.echo("Read (check it; correct mapping.yaml and re-run with --mapping):")
    for note in notes:
        typer.echo(f"  {note}")
