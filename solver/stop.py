"""Ending a solve early from another thread (Ctrl-C in the command line, a caller's timeout)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ortools.sat.python import cp_model


class StopSignal:
    """Set once to stop: CP-SAT searches under way end at once, no new search starts, and the
    solve returns the best plan found so far (every stage keeps a complete plan at all times)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._solvers: set[cp_model.CpSolver] = set()

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._event.is_set()

    def stop(self) -> None:
        """Stop the solve (safe to call from any thread, any number of times)."""
        self._event.set()
        with self._lock:
            for solver in self._solvers:
                solver.stop_search()

    @contextmanager
    def watching(self, solver: cp_model.CpSolver) -> Iterator[None]:
        """Let :meth:`stop` interrupt `solver` while the block runs."""
        with self._lock:
            self._solvers.add(solver)
        try:
            yield
        finally:
            with self._lock:
                self._solvers.discard(solver)
