"""`PlanOptions`: how long, how reproducibly and on how many threads a plan is searched for."""

from __future__ import annotations

from dataclasses import dataclass

from famassign.models.errors import FamassignError
from famassign.solver.stop import StopSignal

# The default time limit of each operation, in seconds; the best plan so far is kept when one
# runs out. The faces (command line, API, server, page) read them from here.
PLAN_TIME_LIMIT = 30.0
"""A plan from the library or the HTTP API (``PlanOptions()``: solve, reassign, update) and every
command's ``--time-limit`` except sweep's."""
PAGE_TIME_LIMIT = 10.0
"""One plan asked for on the web page, where someone waits for it."""
COMPARE_TIME_LIMIT = 10.0
"""Each plan of a comparison of a scenario and its variants, in the library (``compare``) and in
the server's compare requests."""
SWEEP_TIME_LIMIT = 10.0
"""The workload balance of each sample of a sweep (only when the sweep balances)."""
MAX_SEED = 2**31 - 1
"""The largest seed: CP-SAT's and HiGHS's ``random_seed`` are 32-bit signed integers."""


class OptionsError(FamassignError, ValueError):
    """An option outside its range; the message names the option and what it accepts."""


@dataclass(frozen=True)
class PlanOptions:
    """How to plan; one object shared by solve, reassign, compare and the other entry points.

    Parameters
    ----------
    time_limit
        Seconds for the whole plan, >= 0 (0: the exact flow plan, no balance search).
    seed
        Seed of the search, from 0 to :data:`MAX_SEED`.
    workers
        Solver threads, >= 1; None uses every core.
    deterministic
        Identical plans for identical input and seed (one worker, deterministic time).
    minimize_moves
        Put the number of families moved off an active current staff member right after
        exception places (reassign and update set it); otherwise continuity is a match term.
    balance
        Run the workload stage after the exact flow stage.
    stop
        Set from another thread to end the search early with the best plan so far.

    Raises
    ------
    OptionsError
        When an option is outside its range.
    """

    time_limit: float = PLAN_TIME_LIMIT
    seed: int = 0
    workers: int | None = None
    deterministic: bool = False
    minimize_moves: bool = False
    balance: bool = True
    stop: StopSignal | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.time_limit, int | float) or not self.time_limit >= 0:
            raise OptionsError(
                f"time_limit must be a number of seconds >= 0, got {self.time_limit!r}"
            )
        if self.time_limit == float("inf"):
            raise OptionsError("time_limit must be finite")
        if (
            isinstance(self.seed, bool)
            or not isinstance(self.seed, int)
            or not 0 <= self.seed <= MAX_SEED
        ):
            raise OptionsError(
                f"seed must be a whole number from 0 to {MAX_SEED}, got {self.seed!r}"
            )
        if self.workers is not None and (
            isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1
        ):
            raise OptionsError(f"workers must be a whole number >= 1 or None, got {self.workers!r}")


__all__ = [
    "COMPARE_TIME_LIMIT",
    "MAX_SEED",
    "PAGE_TIME_LIMIT",
    "PLAN_TIME_LIMIT",
    "SWEEP_TIME_LIMIT",
    "OptionsError",
    "PlanOptions",
]
