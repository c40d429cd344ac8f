"""Lower bounds on a component's best largest load per FTE: the max-flow relaxation (cheap,
without caps or the match floor) and the load-level LP of the whole balance model."""

from __future__ import annotations

from enum import StrEnum

import numpy as np
from ortools.graph.python import max_flow

from famassign.solver.arrays import LOAD_SCALE, IntArray, ProblemArrays
from famassign.solver.components import Component, load_per_fte


class BoundKind(StrEnum):
    """Which lower bound on the largest load per FTE a plan is measured against (strongest
    first). summary.json names it as ``max_load_bound_kind``."""

    level_lp_moves = "level_lp_moves"
    """The load-level LP of the balance model with the match floor and the number of moves
    fixed at its optimum (reassign, update)."""
    level_lp = "level_lp"
    """The load-level LP of the balance model with the match floor."""
    cp_sat = "cp_sat"
    """CP-SAT's proven bound on the balance model (a moderate component HiGHS did not finish)."""
    kept_caseloads = "kept_caseloads"
    """Under fewest moves: the families each staff member must keep when no more families move
    than in the optimum (cheap; the level LP was not affordable)."""
    fte_mean = "fte_mean"
    """The families' total weighted load over the active staff's total FTE (no balance stage,
    or every other bound is weaker)."""
    max_flow = "max_flow"
    """The max-flow relaxation: loads split fractionally, without count caps, match floor or
    moves (the LP was not affordable in the time limit)."""
    forced = "forced"
    """Caseloads no plan can change (staff alone in their component)."""
    forced_face = "forced_face"
    """With no match given up for balance: caseloads that every plan as good as the flow plan
    on each level (placed, exception places, moves, match) keeps, the staff members alone in
    their component of the optimal face (`solver.optimal_face`)."""
    none = "none"
    """No bound was computed (no balance stage, or no time left for it): 0."""


def level_kind(minimize_moves: bool) -> BoundKind:
    """The kind of a load-level LP bound."""
    return BoundKind.level_lp_moves if minimize_moves else BoundKind.level_lp


def relaxed_load_bound(arrays: ProblemArrays, comp: Component, plan: IntArray) -> float:
    """A valid lower bound on the component's best largest load per FTE: the smallest T for
    which the loads of its families can be split fractionally among eligible staff with at most
    T x FTE each (caps and match dropped), found by bisection over max-flows. Families unplaced
    in `plan` are left out, which keeps the bound valid only when all are placed (else 0)."""
    a = arrays
    if (plan[comp.families] < 0).any():
        return 0.0
    nf, ns = len(comp.families), len(comp.staff)
    local_f = np.searchsorted(comp.families, a.pair_family[comp.pairs])
    local_s = np.searchsorted(comp.staff, a.pair_staff[comp.pairs])
    load = a.family_load[comp.families]
    total = int(load.sum())
    fte = a.staff_fte[comp.staff]
    source, sink = nf + ns, nf + ns + 1
    big = total + 1

    def feasible(t: float) -> bool:
        flow = max_flow.SimpleMaxFlow()
        caps = np.floor(t * fte * LOAD_SCALE + 1e-9).astype(np.int64)
        starts = np.concatenate([np.full(nf, source), local_f, nf + np.arange(ns)])
        ends = np.concatenate([np.arange(nf), nf + local_s, np.full(ns, sink)])
        capacity = np.concatenate([load, np.full(len(local_f), big), caps])
        flow.add_arcs_with_capacity(starts.astype(np.int32), ends.astype(np.int32), capacity)
        flow.solve(source, sink)
        return bool(flow.optimal_flow() >= total)

    lo = float(load.sum() / LOAD_SCALE / fte.sum()) if fte.sum() > 0 else 0.0
    hi = float(load_per_fte(a, plan)[comp.staff].max(initial=0.0))
    if lo >= hi or feasible(lo):
        return min(lo, hi)
    for _ in range(30):
        if hi - lo <= 1e-3:
            break
        mid = (lo + hi) / 2
        if feasible(mid):
            hi = mid
        else:
            lo = mid
    return lo


def kept_caseload_bound(arrays: ProblemArrays, comp: Component, plan: IntArray) -> float:
    """A lower bound under fewest moves (reassign, update): the plan may take at most as many
    families from their current staff members as it does now (`plan`'s moves, the optimum), so
    a staff member keeps all its current families but the few it gives away, and the moves
    given away in total stay within that number. The smallest T for which each staff member
    can shed down to T x FTE within that total (pinned families never leave), found by
    bisection. A family left unplaced is no move, but every plan as good leaves exactly as many
    of the component's families unplaced as `plan` (placement ranks first): so a staff member
    may also shed families to "unplaced", at most that many in all."""
    a = arrays
    families = comp.families
    current = a.family_current[families]
    active = current >= 0
    active[active] = a.staff_active[current[active]]
    placed = plan[families] >= 0
    moves_now = int((active & placed & (plan[families] != current)).sum())
    shed_now = moves_now + int((~placed).sum())
    in_comp = np.isin(current, comp.staff) & active
    per_staff: list[tuple[float, float, np.ndarray, float]] = []
    for s in np.unique(current[in_comp]).tolist():
        mine = families[in_comp & (current == s)]
        load = a.family_load[mine].astype(np.float64)
        pinned = a.family_pinned[mine]
        movable = np.sort(load[~pinned])[::-1]
        # what the staff member carries after giving away its k heaviest movable families
        after = load.sum() - np.concatenate([[0.0], np.cumsum(movable)])
        per_staff.append((float(a.staff_fte[s]), float(load.sum()), after, float(after[-1])))
    if not per_staff:
        return 0.0

    def shed(t: float) -> int | None:
        """Moves needed to bring every staff member to `t` per FTE (None: impossible)."""
        total = 0
        for fte, _, after, least in per_staff:
            limit = t * fte * LOAD_SCALE + 1e-9
            if least > limit:
                return None
            total += int(np.argmax(after <= limit))
        return total

    lo, hi = 0.0, max(carried / LOAD_SCALE / fte for fte, carried, _, _ in per_staff)
    for _ in range(40):
        if hi - lo <= 1e-4:
            break
        mid = (lo + hi) / 2
        needed = shed(mid)
        if needed is not None and needed <= shed_now:
            hi = mid
        else:
            lo = mid
    # The smallest feasible T is a load one staff member can shed down to: snap to it.
    points = np.unique(np.concatenate([after / fte / LOAD_SCALE for fte, _, after, _ in per_staff]))
    for point in points[(points > lo) & (points <= hi + 1e-9)].tolist():
        needed = shed(point)
        if needed is not None and needed <= shed_now:
            return float(point)
    return lo
