"""The `famassign` command line: the app, its global options, and the commands registered on it.

Each command lives in its own module under :mod:`famassign.commands` as a function returning its
exit code, wrapped in :func:`famassign.commands.common.guarded` (the one error policy).
"""

from __future__ import annotations

import logging
import sys

import typer

from famassign import __version__
from famassign.commands import (
    compare,
    history,
    reassign,
    recommend,
    serve,
    solve,
    sweep,
    update,
    users,
    validate,
)
from famassign.commands import import_exports as import_cmd
from famassign.commands.common import EXIT_OK, count_from_process_start

app = typer.Typer(
    name="famassign",
    help="Assign Head Start families to family-services staff under 45 CFR 1302.52.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _configure_logging(level: int) -> None:
    """Log to the current stderr (re-done per invocation so test runners capture it)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_famassign", False):
            root.removeHandler(handler)
    # `serve` routes these loggers to its own handler; an earlier invocation in this process
    # (a test runner's) must not leave them writing to a stream that is closed now.
    for name in ("famassign", "uvicorn.error"):
        named = logging.getLogger(name)
        for handler in list(named.handlers):
            if getattr(handler, "_famassign", False):
                named.removeHandler(handler)
                named.propagate = True
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    handler._famassign = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"famassign {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main_options(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress (INFO)."),
    debug: bool = typer.Option(False, "--debug", help="Log everything, with tracebacks."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Assign Head Start families to family-services staff under 45 CFR 1302.52."""
    _configure_logging(logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING)


app.command("validate")(validate.validate)
app.command("solve")(solve.solve)
app.command("reassign")(reassign.reassign)
app.command("compare")(compare.compare_command)
app.command("staffing")(compare.staffing_command)
app.command("recommend")(recommend.recommend)
app.command("demo")(solve.demo)
app.command("update")(update.update)
app.command("diff")(history.diff)
app.command("timeline")(history.timeline_command)
app.command("history")(history.history)
app.command("import")(import_cmd.import_command)
app.command("serve")(serve.serve)
app.command("sweep")(sweep.sweep)
app.add_typer(users.app, name="users")


def main() -> None:
    """Console entry point `famassign`."""
    count_from_process_start()  # one command per process: --time-limit counts from its start
    app(prog_name="famassign")


__all__ = ["app", "main"]
