"""What every command shares: the error policy, exit codes, the options of planning commands,
progress, Ctrl-C handling and writing a plan.

A command is a function returning its exit code, wrapped in :func:`guarded`; `famassign.cli`
registers it on the app. :func:`guarded` turns :class:`ScenarioError` into every problem on
stderr and exit 2, a ValueError from argument checks (raise :class:`UsageError`) into exit 2,
and any other exception into a one-line message and exit 1, with the traceback logged at DEBUG
(``famassign --debug ...``). A traceback is never printed otherwise.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from famassign.history import PlanFolderError
from famassign.models import Scenario
from famassign.models.errors import FamassignError
from famassign.models.files import LimitsError
from famassign.models.loading import LoadedScenario
from famassign.models.problems import ScenarioError, group_problems
from famassign.outputs import write_plan, write_seconds
from famassign.replan_outputs import ending_lines, replan_line, write_replan
from famassign.safe_io import OutputDirError, check_output_dir
from famassign.scenarios.hiring import HiringError
from famassign.scenarios.reading import read_scenario
from famassign.scenarios.staffing import StaffingError
from famassign.solver import PLAN_TIME_LIMIT, OptionsError, PlanOptions, Result
from famassign.solver.arrays import ProblemTooLarge
from famassign.solver.reassign import ReassignError, ReassignResult
from famassign.solver.recommend import RecommendError
from famassign.solver.solve import Progress as SolveProgress
from famassign.solver.stop import StopSignal
from famassign.solver.update import UpdateError, UpdateResult

logger = logging.getLogger("famassign")

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INVALID = 2
EXIT_UNPLACED = 3
EXIT_INTERRUPTED = 130

P = ParamSpec("P")

USER_ERRORS: tuple[type[Exception], ...] = (
    HiringError,
    LimitsError,
    OptionsError,
    PlanFolderError,
    ProblemTooLarge,
    ReassignError,
    RecommendError,
    StaffingError,
    UpdateError,
)
"""The library's own errors for a caller's mistake: exit 2 with their message, never exit 1."""


class UsageError(FamassignError):
    """Invalid command-line arguments found by a command itself: exit 2 with this message."""


SERVER_EXTRA = "pip install 'famassign[server]'"
"""What installs the server stack and the plan store (FastAPI, uvicorn, SQLAlchemy, ...)."""
STORE_MODULES = ("sqlalchemy", "alembic")
"""The server extra's packages that the plan store imports."""
SERVER_MODULES = ("fastapi", "uvicorn", "multipart", "jinja2", *STORE_MODULES)
"""The server extra's packages that ``famassign serve`` imports."""


def require_server_extra(what: str, modules: tuple[str, ...]) -> None:
    """UsageError (exit 2) naming what to install when the server extra is missing.

    `what` says what needed it (``famassign serve``, ``--store``); `modules` are the packages of
    the extra that it imports.
    """
    import importlib

    absent = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            absent.append(name)
    if absent:
        raise UsageError(
            f"{what} needs the server extra, which is not installed (missing: "
            f"{', '.join(absent)}): {SERVER_EXTRA}"
        )


_INVALID: tuple[type[Exception], ...] = (UsageError, OutputDirError, *USER_ERRORS)


def error_line(message: str) -> None:
    """Print one line to stderr."""
    typer.echo(message, err=True)


def guarded(command: Callable[P, int | None]) -> Callable[P, None]:
    """Wrap a command with the common error policy and exit with its return code.

    ScenarioError -> each problem on its own line on stderr (the same message in one column on
    one line, with its count and first rows: :func:`group_problems`), exit 2. UsageError,
    OutputDirError (an --out folder that cannot be replaced safely) and the library's own errors
    for a caller's mistake (:data:`USER_ERRORS`: an option out of range, a program too large, an
    invalid reassignment, update or recommendation, a folder that is not a plan) -> exit 2.
    typer.Exit / SystemExit pass through. Any other exception -> ``famassign: internal error:
    ...`` on one line, exit 1, traceback at DEBUG. The command returns its exit code (None = 0).
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        _command_begins()
        try:
            code = command(*args, **kwargs)
        except ScenarioError as exc:
            for group in group_problems(exc.problems):
                error_line(str(group))
            error_line(f"famassign: {len(exc.problems)} problem(s) found; nothing was written")
            code = EXIT_INVALID
        except _INVALID as exc:
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


def parse_date(option: str, value: str | None) -> date | None:
    """`value` of `option` as a date (None when not given); UsageError names the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date; use YYYY-MM-DD") from None


# --------------------------------------------------------------------------- time budget

TIME_MARGIN_SECONDS = 2.0
"""A command ends within ``--time-limit`` plus this many seconds plus :data:`TIME_MARGIN_SHARE`
of the limit (on an unloaded machine; docs/reliability.md, "Time limits")."""
TIME_MARGIN_SHARE = 0.1


def _process_started() -> float:
    """When this process started, on the :func:`time.monotonic` clock (Linux: from /proc, so the
    interpreter's start-up and imports count; elsewhere: when this module was imported)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        age = uptime - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        age = 0.0
    return time.monotonic() - min(max(age, 0.0), 60.0)


PROCESS_STARTED = _process_started()
"""When this process started (monotonic clock)."""


@dataclass
class _CommandClock:
    from_process_start: bool = False
    started: float | None = None


_CLOCK = _CommandClock()


def count_from_process_start() -> None:
    """Make commands count their time limit from the process start (the ``famassign`` entry
    point calls this: the process runs one command, so start-up and imports count). Otherwise
    (a command invoked in a longer-lived process, e.g. a test runner) it counts from the
    command's invocation."""
    _CLOCK.from_process_start = True


def _command_begins() -> None:
    _CLOCK.started = PROCESS_STARTED if _CLOCK.from_process_start else time.monotonic()


def command_started() -> float:
    """When the running command started (monotonic clock; now when no command runs)."""
    return _CLOCK.started if _CLOCK.started is not None else time.monotonic()


def search_seconds(
    time_limit: float,
    scenario: Scenario,
    *,
    searches: int = 1,
    writes_plan: bool = True,
    deterministic: bool = False,
    started: float | None = None,
) -> float:
    """The part of a command's `time_limit` left for each search, so the command ends in time.

    The command's time counts from its start (`started`, default :func:`command_started`: the
    process start for the ``famassign`` program): what start-up and loading took so far is
    spent, and the writing of the outputs (:func:`famassign.outputs.write_seconds`, from the
    number of families and staff) is kept back. What is left is shared by `searches` searches
    run one after another. With
    `deterministic` only the writing is kept back: a deterministic budget must not depend on
    the clock (the plan would change with the machine's load).

    Parameters
    ----------
    time_limit
        The command's ``--time-limit``, in seconds.
    scenario
        The loaded scenario whose plan will be written.
    searches
        How many searches the limit must cover, one after another (compare: the rounds of plans
        and the staffing analysis).
    writes_plan
        Whether the command writes the plan's outputs (False: only a few lines, nothing kept
        back for writing).
    deterministic
        Whether the search runs in deterministic mode.
    started
        When the command started (monotonic clock).

    Returns
    -------
    float
        Seconds for each search, >= 0 (0: the exact placement and match, no balance search).
    """
    spent = 0.0 if deterministic else time.monotonic() - (started or command_started())
    writing = write_seconds(len(scenario.families), len(scenario.staff)) if writes_plan else 0.0
    left = max(time_limit - spent - writing, 0.0) / max(searches, 1)
    if 0 < time_limit < spent + writing:
        logger.warning(
            "--time-limit %gs is shorter than this program needs without any balance search "
            "(%.0fs so far and about %.0fs to write the outputs): it is planned without one "
            "and the command takes longer than the limit",
            time_limit,
            spent,
            writing,
        )
    logger.info(
        "time limit %.1fs: %.1fs spent loading, %.1fs kept for writing, %.1fs for the search%s",
        time_limit,
        spent,
        writing,
        left,
        f" (x{searches})" if searches > 1 else "",
    )
    return left


AS_OF = typer.Option(
    None,
    "--as-of",
    help="Day the change takes effect (YYYY-MM-DD; default: the scenario's as_of).",
)
ALLOW_BACKDATE = typer.Option(
    False,
    "--allow-backdate",
    help="Allow an --as-of earlier than the scenario's own (the date of the plan it continues).",
)
TIME_LIMIT = typer.Option(
    PLAN_TIME_LIMIT,
    "--time-limit",
    min=0.0,
    help="Seconds for the whole command (loading, search, writing); the best plan so far is "
    "kept. Ends within the limit + 2 s + 10% on an unloaded machine (not with --deterministic).",
)
SEED = typer.Option(0, "--seed", help="Random seed of the search.")
WORKERS = typer.Option(None, "--workers", min=1, help="Solver threads (default: all cores).")
DETERMINISTIC = typer.Option(
    False, "--deterministic", help="Identical outputs for identical input and seed."
)
OUT = typer.Option(..., "--out", help="Output folder (replaced as a whole when complete).")


@dataclass(frozen=True)
class RunOptions:
    """The options every planning command shares."""

    time_limit: float
    seed: int
    workers: int | None
    deterministic: bool

    def within_limit(self, scenario: Scenario, *, searches: int = 1) -> RunOptions:
        """These options with the time limit cut to what is left for the search
        (:func:`search_seconds`), so that the command ends within its ``--time-limit``."""
        left = search_seconds(
            self.time_limit, scenario, searches=searches, deterministic=self.deterministic
        )
        return dataclasses.replace(self, time_limit=left)

    def plan_options(self, **changes: Any) -> PlanOptions:
        """As solver PlanOptions, with `changes` applied."""
        return PlanOptions(
            time_limit=self.time_limit,
            seed=self.seed,
            workers=self.workers,
            deterministic=self.deterministic,
            **changes,
        )


@contextmanager
def progress_display(*, lines: bool = False) -> Iterator[SolveProgress]:
    """A progress callback drawing a bar on stderr: done/total, time elapsed and time left.

    When stderr is not a terminal the bar is silent; with `lines` a plain line is written
    instead at every tenth of each stage (``samples 30/60, about 12 s left``), for long runs
    whose output goes to a log.
    """
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        tasks: dict[str, Any] = {}
        started: dict[str, float] = {}
        plain = lines and not console.is_terminal

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"{stage:>8}", total=max(total, 1))
                started[stage] = time.monotonic()
            bar.update(tasks[stage], completed=done, total=max(total, 1))
            step = max(total // 10, 1)
            if plain and done > 0 and (done % step == 0 or done == total):
                elapsed = time.monotonic() - started[stage]
                left = elapsed / done * (total - done)
                sys.stderr.write(f"{stage} {done}/{total}, about {left:.0f} s left\n")

        yield update


T = TypeVar("T")


def interruptible(work: Callable[[StopSignal], T]) -> T:
    """Run `work` in a thread so that Ctrl-C stops the search at once (not when the current
    CP-SAT search ends); the KeyboardInterrupt is then re-raised and nothing is written."""
    stop = StopSignal()
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = work(stop)
        except BaseException as exc:  # handed to the main thread below
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="famassign-solve", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.1)
    except KeyboardInterrupt:
        stop.stop()
        thread.join()
        raise
    if "error" in outcome:
        raise outcome["error"]
    return cast(T, outcome["value"])


# ---------------------------------------------------------------------- planning for a command


def run_planning(out: Path, run: RunOptions, plan: Callable[[PlanOptions, SolveProgress], T]) -> T:
    """Check that `out` may be replaced, then run `plan(options, progress)` with a progress bar
    and Ctrl-C stopping the search at once (solve, reassign and update).

    Parameters
    ----------
    out
        The command's ``--out`` folder, checked before any search so that a folder that cannot
        be replaced fails at once.
    run
        The command's planning options; `plan` receives them as :class:`PlanOptions` with the
        stop signal of :func:`interruptible`.
    plan
        The library call, as ``plan(options, progress)``.

    Returns
    -------
    T
        What `plan` returned.

    Raises
    ------
    OutputDirError
        When `out` cannot be replaced safely (exit 2 under :func:`guarded`).
    KeyboardInterrupt
        On Ctrl-C, once the search has stopped.
    """
    check_output_dir(out)
    with progress_display() as progress:
        return interruptible(lambda stop: plan(run.plan_options(stop=stop), progress))


def finish_change(change: ReassignResult | UpdateResult, out: Path) -> int:
    """:func:`finish` for a re-plan (reassign, update): its outputs written by
    :func:`famassign.replan_outputs.write_replan` (the writer of every face), the summary line
    and the re-plan's own line printed; returns the exit code (:func:`exit_code`)."""
    write_replan(change, out)
    echo_summary(change.result, out)
    typer.echo(replan_line(change))
    for warning in ending_lines(change):
        typer.echo(f"warning: {warning}")
    return exit_code(change.result)


def exit_code(result: Result) -> int:
    """0 when every family is placed within the rules, 3 when some could not be placed."""
    return EXIT_OK if not result.unplaced else EXIT_UNPLACED


def echo_summary(result: Result, out: Path) -> None:
    """Print the plan's one-line summary: status, exceptions used, the folder."""
    typer.echo(
        f"{result.status_text()}; exceptions used: "
        f"{', '.join(result.exceptions_used) or 'none'}; outputs in {out}"
    )


def finish(result: Result, scenario: Scenario, out: Path, **write: Any) -> int:
    """Write the plan into `out`, print a short summary line, return the exit code."""
    write_plan(result, scenario, out, **write)
    echo_summary(result, out)
    return exit_code(result)


__all__ = [
    "ALLOW_BACKDATE",
    "AS_OF",
    "DETERMINISTIC",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_UNPLACED",
    "OUT",
    "PROCESS_STARTED",
    "SEED",
    "TIME_LIMIT",
    "TIME_MARGIN_SECONDS",
    "TIME_MARGIN_SHARE",
    "USER_ERRORS",
    "WORKERS",
    "RunOptions",
    "UsageError",
    "command_started",
    "count_from_process_start",
    "echo_summary",
    "error_line",
    "exit_code",
    "finish",
    "finish_change",
    "guarded",
    "interruptible",
    "load_for_command",
    "parse_date",
    "progress_display",
    "run_planning",
    "search_seconds",
]
