"""Baselines on the same models as famassign: HiGHS MIP, its LP relaxation, greedy, and HiGHS
MIP on the balance model.

The model (see :mod:`solver.flow`): one binary per eligible pair, one "unplaced" binary per
family, one integer of exception places per staff member with an exception in force; every family
is placed once or left unplaced; a staff member's count stays within the policy cap plus its
exception places (at most the exception limit). The objective is the flow's single weighted cost,
which orders the levels strictly: families placed, urgency of the unplaced, exception places, then
match. Same arrays, same multipliers, so the optima are equal and directly comparable.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from famassign.solver.arrays import LOAD_SCALE, IntArray, ProblemArrays
from famassign.solver.flow import Multipliers, multipliers
from famassign.solver.highs import quiet_highs
from famassign.solver.levels import run_with_fresh_threads


@dataclass(frozen=True)
class PlanLevels:
    """The objective levels of a plan and the single weighted cost that orders them."""

    placed: int
    urgency_unplaced: int
    over_cap: int
    match: int
    weighted: int


def flow_multipliers(arrays: ProblemArrays) -> Multipliers:
    """The flow stage's multipliers (moves not minimised, as in a plain solve)."""
    return multipliers(arrays, arrays.pair_match, minimize_moves=False)


def _caps(arrays: ProblemArrays) -> tuple[IntArray, IntArray]:
    cap = np.minimum(arrays.staff_cap, arrays.staff_limit)
    return cap, arrays.staff_limit - cap


def levels(arrays: ProblemArrays, staff_of: IntArray) -> PlanLevels:
    """Objective levels of a plan (staff index per family, -1 unplaced)."""
    mult = flow_multipliers(arrays)
    placed = staff_of >= 0
    m = arrays.n_staff
    pair_key = arrays.pair_family * m + arrays.pair_staff
    fam = np.flatnonzero(placed)
    pos = np.searchsorted(pair_key, fam * m + staff_of[placed])
    if len(pos) and not np.array_equal(
        pair_key[np.minimum(pos, len(pair_key) - 1)], fam * m + staff_of[placed]
    ):
        raise ValueError("plan uses a pair that is not eligible")
    match = int(arrays.pair_match[pos].sum())
    counts = np.bincount(staff_of[placed], minlength=m)
    cap, _ = _caps(arrays)
    over_cap = int(np.maximum(counts - cap, 0).sum())
    unplaced = int((~placed).sum())
    urgency = int(arrays.family_urgency[~placed].sum())
    weighted = mult.placed * unplaced + mult.urgency * urgency + mult.over_cap * over_cap - match
    return PlanLevels(int(placed.sum()), urgency, over_cap, match, int(weighted))


def greedy_plan(arrays: ProblemArrays) -> IntArray:
    """What a careful person would do by hand.

    Most urgent families first (input order among equals); each goes to the eligible staff
    member with room under the cap and the best match (fewest families first among equals);
    only when nobody eligible has room under the cap, to one with room under an exception;
    otherwise the family stays unplaced.
    """
    n, m = arrays.n_families, arrays.n_staff
    cap, _ = _caps(arrays)
    limit = arrays.staff_limit
    count = np.zeros(m, dtype=np.int64)
    staff_of = np.full(n, -1, dtype=np.int64)
    starts = np.searchsorted(arrays.pair_family, np.arange(n + 1))
    match = arrays.pair_match
    order = np.argsort(-arrays.family_urgency, kind="stable")
    for f in order.tolist():
        lo, hi = int(starts[f]), int(starts[f + 1])
        if lo == hi:
            continue
        staff = arrays.pair_staff[lo:hi]
        for room in (cap, limit):
            ok = count[staff] < room[staff]
            if ok.any():
                # Best match, then the emptiest caseload.
                key = np.where(
                    ok, match[lo:hi] * (m + 1) * 64 - count[staff], np.iinfo(np.int64).min
                )
                s = int(staff[int(np.argmax(key))])
                staff_of[f] = s
                count[s] += 1
                break
    return staff_of


@dataclass(frozen=True)
class HighsRun:
    """A HiGHS run on the flow model: status, objective, bound, plan and times."""

    status: str
    optimal: bool
    objective: float | None
    bound: float | None
    staff_of: IntArray | None
    seconds: float
    build_seconds: float
    first_plan_seconds: float | None


def _flow_model_lp(arrays: ProblemArrays, integer: bool) -> Any:
    """The flow model as a highspy HighsLp (column-wise matrix)."""
    import highspy

    n, m = arrays.n_families, arrays.n_staff
    mult = flow_multipliers(arrays)
    cap, extra = _caps(arrays)
    with_extra = np.flatnonzero(extra > 0)
    n_pairs, n_extra = len(arrays.pair_family), len(with_extra)
    n_col = n_pairs + n + n_extra
    # Rows 0..n-1: family placed once or unplaced; rows n..n+m-1: staff count - extra <= cap.
    index = np.concatenate(
        [
            np.stack([arrays.pair_family, n + arrays.pair_staff], axis=1).reshape(-1),
            np.arange(n, dtype=np.int64),
            n + with_extra,
        ]
    ).astype(np.int32)
    value = np.concatenate([np.ones(2 * n_pairs), np.ones(n), -np.ones(n_extra)]).astype(np.float64)
    start = np.concatenate(
        [np.arange(0, 2 * n_pairs + 1, 2), 2 * n_pairs + np.arange(1, n + n_extra + 1)]
    ).astype(np.int32)
    cost = np.concatenate(
        [
            -arrays.pair_match.astype(np.float64),
            (mult.placed + mult.urgency * arrays.family_urgency).astype(np.float64),
            np.full(n_extra, float(mult.over_cap)),
        ]
    )
    upper = np.concatenate([np.ones(n_pairs + n), extra[with_extra].astype(np.float64)])
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = n + m
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(n_col)
    lp.col_upper_ = upper
    lp.row_lower_ = np.concatenate([np.ones(n), np.full(m, -highspy.kHighsInf)])
    lp.row_upper_ = np.concatenate([np.ones(n), cap.astype(np.float64)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = start
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = value
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n_col
    return lp


def solve_highs(
    arrays: ProblemArrays, time_limit: float, *, integer: bool = True, seed: int = 0
) -> HighsRun:
    """HiGHS on the flow model: the MIP (`integer`) or its LP relaxation, within `time_limit`."""
    import highspy

    start = time.monotonic()
    lp = _flow_model_lp(arrays, integer)
    h = quiet_highs()
    h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
    h.setOptionValue("random_seed", seed)
    h.setOptionValue("threads", 2)
    if integer:
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", 0.5)  # integer costs: a gap below 1 proves optimality
    h.passModel(lp)
    build = time.monotonic() - start
    first: list[float] = []
    if integer:
        solve_start = time.monotonic()

        def on_improve(event: object) -> None:
            if not first:
                first.append(time.monotonic() - solve_start)

        h.cbMipImprovingSolution.subscribe(on_improve)
    run_start = time.monotonic()
    run_with_fresh_threads(h)
    seconds = time.monotonic() - run_start
    status = h.getModelStatus()
    info = h.getInfo()
    optimal = status == highspy.HighsModelStatus.kOptimal
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    staff_of: IntArray | None = None
    objective: float | None = None
    if has_solution:
        objective = float(info.objective_function_value)
        if integer:
            col = np.asarray(h.getSolution().col_value)[: len(arrays.pair_family)]
            chosen = col > 0.5
            staff_of = np.full(arrays.n_families, -1, dtype=np.int64)
            staff_of[arrays.pair_family[chosen]] = arrays.pair_staff[chosen]
    if integer:
        bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
    else:
        bound = objective if optimal else None
    return HighsRun(
        status=h.modelStatusToString(status),
        optimal=optimal,
        objective=objective,
        bound=bound,
        staff_of=staff_of,
        seconds=seconds,
        build_seconds=build,
        first_plan_seconds=first[0] if first else (seconds if has_solution and integer else None),
    )


@dataclass(frozen=True)
class BalanceRun:
    """HiGHS on famassign's whole balance model: status, plan, bound on the largest load, time."""

    status: str
    optimal: bool
    staff_of: IntArray | None
    bound: float | None
    seconds: float


def solve_highs_balance(
    arrays: ProblemArrays, time_limit: float, *, tolerance: float, seed: int = 0
) -> BalanceRun:
    """HiGHS MIP on the balance model famassign solves (`solver.levels`), as one model: minimise
    the largest weighted load per FTE while placement, urgency and exception places stay those
    of the flow optimum and the match at least `1 - tolerance` of it."""
    import highspy

    from famassign.solver.flow import solve_flow
    from famassign.solver.levels import LoadLevels

    start = time.monotonic()
    flow = solve_flow(arrays)
    active = np.flatnonzero(arrays.staff_active)
    pairs = np.flatnonzero(arrays.staff_active[arrays.pair_staff])
    floor = int(np.ceil(flow.match * (1 - tolerance)))
    model = LoadLevels(
        arrays, np.arange(arrays.n_families), active, pairs, flow.staff_of, floor, False, seed
    )
    model.to_min_max()
    h = model.highs
    h.setOptionValue("threads", 2)  # like the MIP above (famassign's own HiGHS uses one)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("time_limit", float(max(time_limit - (time.monotonic() - start), 0.01)))
    run_with_fresh_threads(h)
    seconds = time.monotonic() - start
    status, info = h.getModelStatus(), h.getInfo()
    staff_of: IntArray | None = None
    if info.primal_solution_status == 2:  # kSolutionStatusFeasible
        col = np.asarray(h.getSolution().col_value)[: len(pairs)]
        chosen = col > 0.5
        staff_of = np.full(arrays.n_families, -1, dtype=np.int64)
        staff_of[arrays.pair_family[pairs][chosen]] = arrays.pair_staff[pairs][chosen]
    bound = float(info.mip_dual_bound) / LOAD_SCALE if np.isfinite(info.mip_dual_bound) else None
    return BalanceRun(
        status=h.modelStatusToString(status),
        optimal=status == highspy.HighsModelStatus.kOptimal,
        staff_of=staff_of,
        bound=bound,
        seconds=seconds,
    )
