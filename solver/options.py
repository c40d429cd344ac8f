"""`PlanOptions`: how long, how reproducibly and on how many threads a plan is searched for."""

from __future__ import annotations

from dataclasses import dataclass

from famassign.solver.stop import StopSignal

DEFAULT_TIME_LIMIT = 30.0
"""Seconds a plan may take unless told otherwise (the best plan so far is kept)."""
MAX_SEED = 2**31 - 1
"""The largest seed: CP-SAT's and HiGHS's ``random_seed`` are 32-bit signed integers."""


class OptionsError(ValueError):
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

    time_limit: float = DEFAULT_TIME_LIMIT
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


__all__ = ["DEFAULT_TIME_LIMIT", "MAX_SEED", "OptionsError", "PlanOptions"]
