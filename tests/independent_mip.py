"""An independent lexicographic MIP of a plan (HiGHS via scipy), shared by the tests of
reassign and update: it shares no code with solver/."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from famassign.models import Family, Scenario, Staff, StaffStatus


@dataclass(frozen=True)
class Levels:
    """The lexicographic optimum: placed, urgency unplaced, exception places, moves, match."""

    placed: int
    urgency_unplaced: int
    over_cap: int
    moves: int
    match: int


def _pair_match(sc: Scenario, f: Family, s: Staff) -> int:
    w, strengths = sc.weights, set(s.strengths)
    score = f.urgency * (
        w.need * len(set(f.needs) & strengths) + w.interest * len(set(f.interests) & strengths)
    )
    score += w.disability if f.disability_services and s.disability_services else 0
    score += w.agency if f.external_plan_agency and f.external_plan_agency in s.agencies else 0
    score += w.continuity if f.current_staff_id == s.staff_id else 0
    score += w.language if f.language in s.languages else 0
    return score


def independent_levels(
    sc: Scenario, *, with_match: bool = True, max_moves_per_staff: int | None = None
) -> Levels:
    """Solve the re-plan as five successive MIPs (HiGHS via scipy), from the records alone.

    `max_moves_per_staff` K adds, per active staff member: at most K of its current families
    placed elsewhere or unplaced, unless more must go (families it may not serve, or above the
    most it may carry): then only those.

    Written from scenario-format.md, sharing nothing with solver/: eligible pairs by language,
    site, option, status, conflicts and pins; caps by FTE proration, personal cap and exceptions
    in force; a move is a family whose current staff member is active and is not its new one
    (placed with someone else or left unplaced).
    """
    active = {s.staff_id: s for s in sc.staff if s.status is StaffStatus.active}
    conflicts = {(c.family_id, c.staff_id) for c in sc.conflicts}
    pairs: list[tuple[int, int]] = []
    staff_list = list(active.values())
    for i, f in enumerate(sc.families):
        pin = f.current_staff_id if f.pinned and f.current_staff_id in active else None
        for j, s in enumerate(staff_list):
            if pin is not None and s.staff_id != pin:
                continue
            if f.language not in s.languages or (f.family_id, s.staff_id) in conflicts:
                continue
            if "*" not in s.sites and f.site not in s.sites:
                continue
            if f.program_option not in s.program_options:
                continue
            pairs.append((i, j))
    n_pairs, m = len(pairs), len(staff_list)
    cap = np.zeros(m)
    limit = np.zeros(m)
    for j, s in enumerate(staff_list):
        c = sc.policy.max_families_per_staff
        if sc.policy.prorate_by_fte:
            c = int(c * s.fte + 1e-9)
        if s.max_families is not None:
            c = min(c, s.max_families)
        lim = c
        for e in sc.exceptions:
            if e.starts <= sc.as_of <= e.ends and e.staff_id in (None, s.staff_id):
                relaxed = (
                    int(e.max_families * s.fte + 1e-9)
                    if sc.policy.prorate_by_fte
                    else (e.max_families)
                )
                lim = max(lim, relaxed)
        cap[j], limit[j] = c, lim
    # variables: x (pairs), then o (exception places per staff)
    nv = n_pairs + m
    rows, cols, vals = [], [], []
    for k, (i, _) in enumerate(pairs):
        rows.append(i)
        cols.append(k)
        vals.append(1.0)
    n_f = len(sc.families)
    for k, (_, j) in enumerate(pairs):
        rows.append(n_f + j)
        cols.append(k)
        vals.append(1.0)
    for j in range(m):
        rows.append(n_f + j)
        cols.append(n_pairs + j)
        vals.append(-1.0)
    a = coo_matrix((vals, (rows, cols)), shape=(n_f + m, nv)).tocsr()
    base = [
        LinearConstraint(a[:n_f], -np.inf, np.ones(n_f)),
        LinearConstraint(a[n_f:], -np.inf, cap),
    ]
    if max_moves_per_staff is not None:
        # per active staff member c: families kept >= current(c) - max(K, forced(c)), where
        # forced(c) = current families c may not serve + those above the most c may carry
        keep_rows, keep_cols = [], []
        staff_index = {s.staff_id: j for j, s in enumerate(staff_list)}
        for k, (i, j) in enumerate(pairs):
            if sc.families[i].current_staff_id == staff_list[j].staff_id:
                keep_rows.append(j)
                keep_cols.append(k)
        current = np.zeros(m)
        for f in sc.families:
            if f.current_staff_id in staff_index:
                current[staff_index[f.current_staff_id]] += 1
        keepable = np.bincount(np.array(keep_rows, dtype=int), minlength=m).astype(float)
        forced = (current - keepable) + np.maximum(keepable - limit, 0)
        floor = current - np.maximum(forced, max_moves_per_staff)
        keep = coo_matrix((np.ones(len(keep_rows)), (keep_rows, keep_cols)), shape=(m, nv)).tocsr()
        base.append(LinearConstraint(keep, floor, np.inf))
    ub = np.concatenate([np.ones(n_pairs), limit - cap])
    # a family pinned to an active staff member stays there (its only pair)
    lb = np.zeros(nv)
    for k, (i, _) in enumerate(pairs):
        f = sc.families[i]
        if f.pinned and f.current_staff_id in active:
            lb[k] = 1.0
    bounds = Bounds(lb, ub)
    integrality = np.ones(nv)
    urg = np.array([sc.families[i].urgency for i, _ in pairs], dtype=float)
    # moves = families with an active current staff member not kept there (placed elsewhere
    # or unplaced) = served - kept: minimised as -kept, the count added back below
    served = sum(1 for f in sc.families if f.current_staff_id in active)
    mv = np.array(
        [
            -1.0
            if sc.families[i].current_staff_id in active
            and sc.families[i].current_staff_id == staff_list[j].staff_id
            else 0.0
            for i, j in pairs
        ]
    )
    match = np.array(
        [_pair_match(sc, sc.families[i], staff_list[j]) for i, j in pairs], dtype=float
    )
    zeros_o = np.zeros(m)
    objectives = [
        np.concatenate([-np.ones(n_pairs), zeros_o]),  # max placed
        np.concatenate([-urg, zeros_o]),  # min urgency unplaced == max urgency placed
        np.concatenate([np.zeros(n_pairs), np.ones(m)]),  # min exception places
        np.concatenate([mv, zeros_o]),  # min moves
        np.concatenate([-match, zeros_o]),  # max match
    ]
    constraints = list(base)
    values = []
    for objective in objectives if with_match else objectives[:4]:
        res = milp(objective, constraints=constraints, bounds=bounds, integrality=integrality)
        assert res.status == 0, res.message
        value = round(float(res.fun))
        values.append(value)
        constraints.append(LinearConstraint(objective.reshape(1, -1), -np.inf, value + 0.5))
    total_urgency = sum(f.urgency for f in sc.families)
    return Levels(
        placed=-values[0],
        urgency_unplaced=total_urgency + values[1],
        over_cap=values[2],
        moves=served + values[3],
        match=-values[4] if with_match else -1,
    )
