"""The per-staff disruption bound: at most K of a staff member's families moved away.

A family is *moved away* from its current staff member when that person is active and the plan
places the family with someone else (the same count as the ``moves`` objective term, per staff
member). Leaving a family unplaced is not a move away, so the bound never makes a plan
infeasible.

The bound couples the families of one staff member, so the plan is no longer a pure flow. The
exact flow plan is tried first: when it keeps the bound it is optimal under the bound too (the
bound only removes plans). Otherwise :func:`bounded_plan` solves the same lexicographic order
(families placed then urgency of the unplaced, exception places, moves, match) as successive
mixed-integer programs with HiGHS, each level fixed before the next.
"""

from __future__ import annotations

import logging
import time

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, csr_matrix

from famassign.solver.arrays import IntArray, ProblemArrays
from famassign.solver.flow import FlowPlan

log = logging.getLogger(__name__)


def moved_away(arrays: ProblemArrays, staff_of: IntArray) -> IntArray:
    """Per staff member: how many of its current families the plan places with someone else.

    Counted only for active staff members (an inactive one's families must move).
    """
    current = arrays.family_current
    has = (current >= 0) & (staff_of >= 0)
    has[has] = arrays.staff_active[current[has]]
    away = has & (staff_of != current)
    counts: IntArray = np.bincount(current[away], minlength=arrays.n_staff).astype(np.int64)
    return counts


def keeps_bound(arrays: ProblemArrays, staff_of: IntArray, bound: int) -> bool:
    """True when no staff member has more than `bound` families moved away."""
    return bool((moved_away(arrays, staff_of) <= bound).all())


def bounded_plan(arrays: ProblemArrays, bound: int, *, time_limit: float) -> tuple[FlowPlan, bool]:
    """The lexicographically best plan with at most `bound` families moved away per staff member.

    Parameters
    ----------
    arrays
        The problem (eligible pairs, caps, current staff).
    bound
        K >= 0.
    time_limit
        Seconds for all levels together (each level gets what is left, at least one second).

    Returns
    -------
    tuple of FlowPlan and bool
        The plan and whether every level was proven optimal.
    """
    start = time.monotonic()
    n, m = arrays.n_families, arrays.n_staff
    p = len(arrays.pair_family)
    pf, ps = arrays.pair_family, arrays.pair_staff
    cap = np.minimum(arrays.staff_cap, arrays.staff_limit)
    extra = np.maximum(arrays.staff_limit - cap, 0)
    # Variables: one per eligible pair, then one per staff member (its exception places).
    ones = np.ones(p)
    family_rows = csr_matrix((ones, (pf, np.arange(p))), shape=(n, p + m))
    staff_rows = coo_matrix(
        (
            np.concatenate([ones, -np.ones(m)]),
            (np.concatenate([ps, np.arange(m)]), np.concatenate([np.arange(p), p + np.arange(m)])),
        ),
        shape=(m, p + m),
    ).tocsr()
    away = arrays.pair_move.astype(bool)
    current = arrays.family_current[pf]
    away_rows = csr_matrix(
        (np.ones(int(away.sum())), (current[away], np.flatnonzero(away))), shape=(m, p + m)
    )
    pinned_floor = arrays.family_pinned.astype(float)
    constraints = [
        LinearConstraint(family_rows, pinned_floor, np.ones(n)),
        LinearConstraint(staff_rows, -np.inf, cap.astype(float)),
        LinearConstraint(away_rows, -np.inf, np.full(m, float(bound))),
    ]
    bounds = Bounds(np.zeros(p + m), np.concatenate([ones, extra.astype(float)]))
    integrality = np.ones(p + m)
    urgency = arrays.family_urgency[pf].astype(float)
    big = 5.0 * n + 1.0
    zeros_m, zeros_p = np.zeros(m), np.zeros(p)
    levels = [
        ("placed", np.concatenate([-(big + urgency), zeros_m])),
        ("over_cap", np.concatenate([zeros_p, np.ones(m)])),
        ("moves", np.concatenate([arrays.pair_move.astype(float), zeros_m])),
        ("match", np.concatenate([-arrays.pair_match.astype(float), zeros_m])),
    ]
    proven = True
    x = np.zeros(p + m)
    for name, objective in levels:
        left = max(time_limit - (time.monotonic() - start), 1.0)
        res = milp(
            objective,
            constraints=constraints,
            bounds=bounds,
            integrality=integrality,
            options={"time_limit": left, "disp": False},
        )
        if res.x is None:  # no plan at all in the time: keep the previous level's
            proven = False
            log.warning("disruption bound: level %s found no plan in time", name)
            break
        x = res.x
        proven = proven and res.status == 0
        value = float(objective @ x)
        constraints.append(
            LinearConstraint(csr_matrix(objective.reshape(1, -1)), -np.inf, value + 0.5)
        )
        if res.status != 0:
            break
    chosen = x[:p] > 0.5
    staff_of = np.full(n, -1, dtype=np.int64)
    staff_of[pf[chosen]] = ps[chosen]
    placed = staff_of >= 0
    counts = np.bincount(staff_of[placed], minlength=m)
    plan = FlowPlan(
        staff_of=staff_of,
        placed=int(placed.sum()),
        urgency_unplaced=int(arrays.family_urgency[~placed].sum()),
        over_cap=int(np.maximum(counts - arrays.staff_cap, 0).sum()),
        moves=int(arrays.pair_move[chosen].sum()),
        match=int(arrays.pair_match[chosen].sum()),
    )
    log.info(
        "disruption bound %d: placed %d, moves %d in %.2fs (%s)",
        bound,
        plan.placed,
        plan.moves,
        time.monotonic() - start,
        "optimal" if proven else "best found",
    )
    return plan, proven


__all__ = ["bounded_plan", "keeps_bound", "moved_away"]
