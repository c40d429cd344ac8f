"""The `famassign` command line: thin commands over the library, one error policy for all.

Every command is written as a function returning its exit code and decorated with
:func:`guarded` (below ``@app.command()``)::

    @app.command()
    @guarded
    def solve(scenario: Path = typer.Argument(..., help="scenario folder")) -> int:
        loaded = load_for_command(scenario)
        ...
        return 0

:func:`guarded` turns :class:`ScenarioError` into every problem on stderr and exit 2, a ValueError
from argument checks (raise :class:`UsageError`) into exit 2, and any other exception into a
one-line message and exit 1, with the traceback logged at DEBUG (``famassign --debug ...``).
A traceback is never printed otherwise.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec

import typer

from famassign import __version__
from famassign.models.loading import LoadedScenario, read_scenario
from famassign.models.problems import ScenarioError
from famassign.models.summary import summary_text
from famassign.safe_io import OutputDirError

logger = logging.getLogger("famassign")

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INVALID = 2
EXIT_UNPLACED = 3
EXIT_INTERRUPTED = 130

app = typer.Typer(
    name="famassign",
    help="Assign Head Start families to family-services staff under 45 CFR 1302.52.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

P = ParamSpec("P")


class UsageError(Exception):
    """Invalid command-line arguments found by a command itself: exit 2 with this message."""


def _configure_logging(level: int) -> None:
    """Log to the current stderr (re-done per invocation so test runners capture it)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_famassign", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    handler._famassign = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)


def error_line(message: str) -> None:
    """Print one line to stderr."""
    typer.echo(message, err=True)


def guarded(command: Callable[P, int | None]) -> Callable[P, None]:
    """Wrap a command with the common error policy and exit with its return code.

    ScenarioError -> each problem on its own line on stderr, exit 2. UsageError and
    OutputDirError (an --out folder that cannot be replaced safely) -> exit 2.
    typer.Exit / SystemExit pass through. Any other exception -> ``famassign: internal error:
    ...`` on one line, exit 1, traceback at DEBUG. The command returns its exit code (None = 0).
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            code = command(*args, **kwargs)
        except ScenarioError as exc:
            for problem in exc.problems:
                error_line(str(problem))
            error_line(f"famassign: {len(exc.problems)} problem(s) found; nothing was written")
            code = EXIT_INVALID
        except (UsageError, OutputDirError) as exc:
            error_line(f"famassign: {exc}")
            code = EXIT_INVALID
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            error_line("famassign: interrupted; nothing was written")
            # Leave at once: OR-Tools' native threads, stopped mid-search, can abort the normal
            # interpreter shutdown, and there is nothing left to clean up (outputs are atomic).
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)
        except Exception as exc:
            logger.debug("internal error", exc_info=True)
            first = str(exc).splitlines()[0][:300] if str(exc) else ""
            error_line(
                f"famassign: internal error: {type(exc).__name__}: {first} "
                "(run with --debug for details)"
            )
            code = EXIT_INTERNAL
        raise typer.Exit(code or EXIT_OK)

    return wrapper


def load_for_command(scenario: Path) -> LoadedScenario:
    """Read and check the scenario folder for a command (warnings go to the log on stderr).

    Raises ScenarioError, which :func:`guarded` reports with exit 2.
    """
    loaded = read_scenario(scenario)
    for note in loaded.notes:
        logger.info("%s", note)
    return loaded


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


@app.command()
@guarded
def validate(
    scenario: Path = typer.Argument(..., help="Scenario folder (families, staff, ...)."),
) -> int:
    """Check a scenario and print a one-screen summary: exit 0 valid, 2 invalid. Writes nothing."""
    loaded = load_for_command(scenario)
    typer.echo(summary_text(loaded.scenario, warnings=len(loaded.warnings)))
    return EXIT_OK


def main() -> None:
    """Console entry point `famassign`."""
    app(prog_name="famassign")


# Registers the other commands on `app`; at the bottom because they import `app` from here.
from famassign import commands  # noqa: E402, F401

__all__ = [
    "EXIT_INTERNAL",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_UNPLACED",
    "UsageError",
    "app",
    "error_line",
    "guarded",
    "load_for_command",
    "main",
]
