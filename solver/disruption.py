"""The per-staff disruption bound: at most K of a staff member's families moved away.

A family *moves away* from its current staff member (who is active) when the plan places it with
someone else or leaves it unplaced. A staff member who must shed more than K (its cap was
lowered, or some of its families may no longer be served by it) sheds only what it must:
its bound is ``max(K, forced)`` with ``forced`` the families it cannot keep in any plan. So the
bound never makes a plan infeasible.

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
import numpy.typing as npt
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, csr_matrix

from famassign.solver.arrays import IntArray, ProblemArrays
from famassign.solver.flow import FlowPlan

log = logging.getLogger(__name__)


def _stay_pairs(arrays: ProblemArrays) -> npt.NDArray[np.bool_]:
    """Pairs that keep a family with its current staff member, who is active."""
    current = arrays.family_current[arrays.pair_family]
    stay: npt.NDArray[np.bool_] = (current == arrays.pair_staff) & arrays.staff_active[
        arrays.pair_staff
    ]
    return stay


def _current_counts(arrays: ProblemArrays) -> IntArray:
    """Per staff member: its current families (0 for inactive staff)."""
    current = arrays.family_current
    counts = np.bincount(current[current >= 0], minlength=arrays.n_staff).astype(np.int64)
    return np.where(arrays.staff_active, counts, 0)


def staff_bounds(arrays: ProblemArrays, bound: int) -> IntArray:
    """Per staff member: the most families it may have moved away, ``max(K, forced)``.

    ``forced`` counts the current families no plan can keep with it: those it may not serve
    (no eligible pair) and those above the most it may carry.
    """
    stay = _stay_pairs(arrays)
    keepable = np.bincount(arrays.pair_staff[stay], minlength=arrays.n_staff).astype(np.int64)
    current = _current_counts(arrays)
    forced = (current - keepable) + np.maximum(keepable - arrays.staff_limit, 0)
    result: IntArray = np.maximum(forced, bound).astype(np.int64)
    return result


def moved_away(arrays: ProblemArrays, staff_of: IntArray) -> IntArray:
    """Per staff member: how many of its current families the plan places with someone else
    or leaves unplaced (0 for inactive staff, whose families must move)."""
    current = arrays.family_current
    has = current >= 0
    has[has] = arrays.staff_active[current[has]]
    away = has & (staff_of != current)
    counts: IntArray = np.bincount(current[away], minlength=arrays.n_staff).astype(np.int64)
    return counts


def keeps_bound(arrays: ProblemArrays, staff_of: IntArray, bound: int) -> bool:
    """True when no staff member has more families moved away than :func:`staff_bounds`."""
    return bool((moved_away(arrays, staff_of) <= staff_bounds(arrays, bound)).all())


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
    # families kept with their staff member c >= current(c) - bound(c)
    stay = _stay_pairs(arrays)
    keep_rows = csr_matrix(
        (np.ones(int(stay.sum())), (ps[stay], np.flatnonzero(stay))), shape=(m, p + m)
    )
    keep_floor = (_current_counts(arrays) - staff_bounds(arrays, bound)).astype(float)
    pinned_floor = arrays.family_pinned.astype(float)
    constraints = [
        LinearConstraint(family_rows, pinned_floor, np.ones(n)),
        LinearConstraint(staff_rows, -np.inf, cap.astype(float)),
        LinearConstraint(keep_rows, keep_floor, np.inf),
    ]
    bounds = Bounds(np.zeros(p + m), np.concatenate([ones, extra.astype(float)]))
    integrality = np.ones(p + m)
    urgency = arrays.family_urgency[pf].astype(float)
    big = 5.0 * n + 1.0
    zeros_m, zeros_p = np.zeros(m), np.zeros(p)
    levels = [
        ("placed", np.concatenate([-(big + urgency), zeros_m])),
        ("over_cap", np.concatenate([zeros_p, np.ones(m)])),
        # fewest moves (placed elsewhere or unplaced) = most families kept where they are
        ("moves", np.concatenate([-arrays.pair_stay.astype(float), zeros_m])),
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
        moves=arrays.moves_of(staff_of),
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


__all__ = ["bounded_plan", "keeps_bound", "moved_away", "staff_bounds"]
