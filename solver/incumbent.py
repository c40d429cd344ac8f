"""The best plan so far: one DEBUG record on the logger ``famassign.solver.incumbent`` each time
the balance stage lowers the program's largest load, for callers that time the search (the
benchmarks' "time to within 0.5% of the bound"). Nothing is computed unless someone listens."""

from __future__ import annotations

import logging

from famassign.solver.arrays import IntArray, ProblemArrays
from famassign.solver.components import load_per_fte

log = logging.getLogger(__name__)


def note_largest_load(arrays: ProblemArrays, plan: IntArray) -> None:
    """Log the plan's largest load per FTE over the active staff (record attribute
    ``largest_load``), when DEBUG records of this logger are handled."""
    if log.isEnabledFor(logging.DEBUG):
        value = float(load_per_fte(arrays, plan)[arrays.staff_active].max(initial=0.0))
        log.debug("largest load per FTE %.2f", value, extra={"largest_load": value})
