"""Solver settings shared by every model of the balance stage: time, seed, workers, determinism."""

from __future__ import annotations

from dataclasses import dataclass

from ortools.sat.python import cp_model

from famassign.solver.stop import StopSignal


@dataclass(frozen=True)
class SolverSettings:
    """CP-SAT settings shared by every model: time, seed, workers, determinism, gap."""

    time_limit: float
    seed: int = 0
    workers: int = 2
    deterministic: bool = False
    relative_gap: float = 0.0
    stop: StopSignal | None = None

    @property
    def stopped(self) -> bool:
        """True when the caller asked the solve to stop."""
        return self.stop is not None and self.stop.stopped

    def parameters(self, solver: cp_model.CpSolver, seconds: float) -> None:
        """Apply these settings, with `seconds` for this one solve, to `solver`."""
        p = solver.parameters
        p.random_seed = self.seed
        p.relative_gap_limit = self.relative_gap
        p.catch_sigint_signal = False  # Ctrl-C is ours: famassign stops the search itself
        if self.deterministic:
            p.num_workers = 1
            p.max_deterministic_time = max(seconds, 0.01)
        else:
            p.num_workers = self.workers
            p.max_time_in_seconds = max(seconds, 0.01)
