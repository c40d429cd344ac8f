"""Caseload mixes: the plan of a large component at a load level, from how many families of
each weighted load every staff member carries.

Families with the same weighted load and the same eligible staff members (a *family type*) are
interchangeable for every rule of the balance stage but the match: caps, exception places and
load levels see only how many families of each type a staff member carries. The generated
programs have few types (language, site and program option decide eligibility; pins and conflicts
of interest make families individual): the 10,000-family `dense` program has 45 types for 1.6
million eligible pairs, so "type t gives z families to staff
member s" is an integer model of a few thousand variables, exact for everything but the match.

At a level, a HiGHS MIP chooses the counts z within the level's caps, changing the reference
plan's counts as little as possible; then one min-cost flow gives each family a slot of its load
at a staff member of the resulting mix (families of each load per staff member), with the most
match (given the mix, the flow is exact over all eligible pairs). The plan is kept when its
match meets the floor. The match is what the types cannot see: the mix with the least change is
not the one of most match, and on a program whose match floor is tight the plan may fall short
(then the transfer chains take over).
When the MIP proves that no mix fits a level, no plan has that level: the bound rises to the next
one (`BoundKind.caseload_mix`). Measured on `dense` at 10,000 families: a plan at 61.0, the
max-flow bound, where the transfer chains stopped at 62.0 (see `balance._balance_large`).

Only for a component whose families are all placed, without fewest moves (a type does not see
which staff member a family has now).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.sparse import csr_matrix, hstack, identity, vstack

from famassign.solver.arrays import IntArray, ProblemArrays
from famassign.solver.components import Component
from famassign.solver.highs import quiet_highs
from famassign.solver.levels import (
    fte_units,
    level_caps,
    run_with_fresh_threads,
    set_rowwise_matrix,
)

log = logging.getLogger(__name__)

MAX_TYPE_PAIRS = 10_000
"""Most (family type, eligible staff member) pairs a component may have for the mix model; with
more it is not tried and the transfer chains get the time (beyond it the model found no mix in
time where the chains reached the bound: benchmarks/RESULTS.md, "Constants of the balance
stage")."""
MIX_MATCH_WEIGHT = 0.05
"""Weight of the mean match of a type's families with a staff member against one family of
change in the mix model's objective: small enough that the change comes first, large enough to
prefer the mix of more match among those of one change."""
FLOW_SECONDS_PER_PAIR = 4e-6
"""Seconds of the slot flow per eligible pair, kept back from the MIP's budget so that the
component ends within its time.

Calibration: the slot flow took 4-5 s on the 1.6 million pairs of the ``dense`` preset (10,000
families) on the 2-core AMD EPYC development machine at a load average of 6, timed around the
flow; about 3 microseconds per pair, rounded up."""
MIX_GAP = 0.05
"""Relative MIP gap on the mix's change: any mix within the caps is a plan, the smallest change
only keeps the most match; a close one is found much sooner."""

_INF = highspy.kHighsInf


@dataclass(frozen=True)
class FamilyTypes:
    """The family types of a component: families of one weighted load and one set of eligible
    staff members. Staff are local to the component (indexes into `comp.staff`)."""

    type_of: IntArray
    """Type of each family of the component (in the order of `comp.families`)."""
    size: IntArray
    """Families of each type."""
    load: IntArray
    """Weighted load (LOAD_SCALE units) of each type's families."""
    pair_type: IntArray
    """Type of each (type, eligible staff member) pair."""
    pair_staff: IntArray
    """Local staff member of each (type, eligible staff member) pair."""


def family_types(arrays: ProblemArrays, comp: Component) -> FamilyTypes:
    """The family types of `comp`: families grouped by load and by their set of eligible staff
    members (hashed, then checked exactly: every family of a type has as many eligible staff
    members as the type has in all)."""
    a = arrays
    families = comp.families
    local_f = np.searchsorted(families, a.pair_family[comp.pairs])
    local_s = np.searchsorted(comp.staff, a.pair_staff[comp.pairs])
    nf, ns = len(families), len(comp.staff)
    rng = np.random.default_rng(0)
    weights = rng.integers(0, 2**62, size=(2, ns), dtype=np.int64).astype(np.uint64)
    keys = np.zeros((nf, 3), dtype=np.uint64)
    for i in range(2):
        np.add.at(keys[:, i], local_f, weights[i][local_s])  # wraps modulo 2**64
    keys[:, 2] = a.family_load[families].astype(np.uint64)
    _, type_of = np.unique(keys, axis=0, return_inverse=True)
    type_of = type_of.ravel().astype(np.int64)
    n_types = int(type_of.max(initial=-1)) + 1
    code = np.unique(type_of[local_f] * ns + local_s)
    pair_type, pair_staff = code // ns, code % ns
    degree = np.bincount(local_f, minlength=nf)
    type_degree = np.bincount(pair_type, minlength=n_types)
    if (degree != type_degree[type_of]).any():  # a hash collision: two sets merged
        raise RuntimeError("family types: eligible staff sets collided")
    load = np.zeros(n_types, dtype=np.int64)
    load[type_of] = a.family_load[families]
    return FamilyTypes(
        type_of, np.bincount(type_of, minlength=n_types), load, pair_type, pair_staff
    )


@dataclass(frozen=True)
class MixOutcome:
    """One level tried: a plan (staff index per family of the component) or None, and whether
    no mix fits the level at all (then no plan does)."""

    plan: IntArray | None
    empty: bool


class CaseloadMix:
    """The mix model of one component under a reference plan (all its families placed): counts
    z of each family type per staff member, whole numbers, within each staff member's count limit
    and a level's load caps, no more exception places than the reference plan uses; the change
    from the reference's counts as small as possible, a little of it traded for mean match
    (MIX_MATCH_WEIGHT)."""

    def __init__(
        self, arrays: ProblemArrays, comp: Component, plan: IntArray, types: FamilyTypes
    ) -> None:
        a = arrays
        self.arrays, self.comp, self.types = arrays, comp, types
        staff = comp.staff
        ns = len(staff)
        self.gcd = int(np.gcd.reduce(a.family_load[comp.families])) or 1
        self.units = fte_units(a)[staff]
        self.loads = np.unique(types.load)
        nk = len(self.loads)
        self.nk = nk
        current = np.searchsorted(staff, plan[comp.families])
        local_pf = np.searchsorted(comp.families, a.pair_family[comp.pairs])
        local_ps = np.searchsorted(staff, a.pair_staff[comp.pairs])
        self.family_class = np.searchsorted(self.loads, a.family_load[comp.families])
        counts_now = np.bincount(current, minlength=ns)
        t, s = types.pair_type, types.pair_staff
        nz, nt = len(t), len(types.size)
        cap, limit = a.staff_cap[staff], a.staff_limit[staff]
        over = np.flatnonzero(limit > cap)
        n_over = len(over)
        code = t * ns + s  # sorted (see family_types)
        # the change counted per type and staff member: z against the reference plan's counts
        z_now = np.bincount(np.searchsorted(code, types.type_of * ns + current), minlength=nz)
        # columns: z, then the change up and down (z - up + down = z_now), then exception places
        n_cols = 3 * nz + n_over
        # rows: each type placed; loads within caps; counts within limits; the change;
        # exception places (count - over <= cap, sum over <= now)
        z = np.arange(nz)
        blocks = [
            csr_matrix((np.ones(nz), (t, z)), shape=(nt, nz)),
            csr_matrix((types.load[t].astype(float), (s, z)), shape=(ns, nz)),
            csr_matrix((np.ones(nz), (s, z)), shape=(ns, nz)),
            identity(nz, format="csr"),
        ]
        top = vstack(blocks)
        extra = vstack(
            [
                csr_matrix((nt + 2 * ns, 2 * nz + n_over)),
                hstack([-identity(nz), identity(nz), csr_matrix((nz, n_over))]),
            ]
        )
        matrix = hstack([top, extra]).tocsr()
        lower = [types.size.astype(float), np.full(2 * ns, -_INF), z_now.astype(float)]
        upper = [
            types.size.astype(float),
            np.full(ns, _INF),
            limit.astype(float),
            z_now.astype(float),
        ]
        if n_over:
            member = np.isin(s, over)
            position = np.searchsorted(over, s[member])
            over_cols = 3 * nz + np.arange(n_over)
            rows = csr_matrix(
                (
                    np.concatenate([np.ones(int(member.sum())), -np.ones(n_over), np.ones(n_over)]),
                    (
                        np.concatenate([position, np.arange(n_over), np.full(n_over, n_over)]),
                        np.concatenate([z[member], over_cols, over_cols]),
                    ),
                ),
                shape=(n_over + 1, n_cols),
            )
            matrix = vstack([matrix, rows]).tocsr()
            over_now = float(np.maximum(counts_now - cap, 0).sum())
            lower.append(np.full(n_over + 1, -_INF))
            upper.append(np.concatenate([cap[over].astype(float), [over_now]]))
        self.load_rows = np.arange(nt, nt + ns, dtype=np.int32)
        model = highspy.HighsLp()
        model.num_col_, model.num_row_ = n_cols, matrix.shape[0]
        model.sense_ = highspy.ObjSense.kMinimize
        # the mean match of a type's families with each staff member: a little less change where
        # it pays in match (the flow below then places each family at its best)
        mean_match = (
            np.bincount(
                np.searchsorted(code, types.type_of[local_pf] * ns + local_ps),
                weights=a.pair_match[comp.pairs],
                minlength=nz,
            )
            / types.size[t]
        )
        model.col_cost_ = np.concatenate(
            [-MIX_MATCH_WEIGHT * mean_match, np.ones(2 * nz), np.zeros(n_over)]
        )
        model.col_lower_ = np.zeros(n_cols)
        model.col_upper_ = np.concatenate(
            [types.size[t].astype(float), np.full(2 * nz + n_over, _INF)]
        )
        model.row_lower_ = np.concatenate(lower)
        model.row_upper_ = np.concatenate(upper)
        set_rowwise_matrix(model, matrix)
        model.integrality_ = [highspy.HighsVarType.kInteger] * n_cols
        self.n_z = nz
        self.highs: Any = quiet_highs()
        self.highs.setOptionValue("threads", 1)  # see solver.levels: forked callers
        self.highs.setOptionValue("mip_rel_gap", MIX_GAP)
        self.highs.passModel(model)

    def try_level(self, level: int, seconds: float, match_floor: int) -> MixOutcome:
        """A plan whose largest load is at most `level`, of most match for the mix found, or
        None (no mix in `seconds`, or its best match below `match_floor`)."""
        caps = level_caps(level, self.units, self.gcd)
        ns = len(caps)
        self.highs.changeRowsBounds(ns, self.load_rows, np.full(ns, -_INF), caps.astype(float))
        self.highs.setOptionValue("time_limit", max(seconds, 0.01))
        start = time.monotonic()
        if self.highs.run() == highspy.HighsStatus.kError:
            run_with_fresh_threads(self.highs)
        status = self.highs.getModelStatus()
        log.debug("caseload mix at level %d: %s in %.1fs", level, status, time.monotonic() - start)
        if status == highspy.HighsModelStatus.kInfeasible:
            return MixOutcome(None, True)
        feasible = highspy.SolutionStatus.kSolutionStatusFeasible
        if self.highs.getInfo().primal_solution_status != feasible:
            return MixOutcome(None, False)
        z = np.round(np.asarray(self.highs.getSolution().col_value)[: self.n_z]).astype(np.int64)
        t = self.types
        slots = np.bincount(
            t.pair_staff * self.nk + np.searchsorted(self.loads, t.load[t.pair_type]),
            weights=z,
            minlength=ns * self.nk,
        ).astype(np.int64)
        plan = self._assign(slots)
        if plan is None:
            return MixOutcome(None, False)
        a, comp = self.arrays, self.comp
        chosen = (
            plan[np.searchsorted(comp.families, a.pair_family[comp.pairs])]
            == a.pair_staff[comp.pairs]
        )
        match = int(a.pair_match[comp.pairs][chosen].sum())
        log.debug("caseload mix at level %d: match %d (floor %d)", level, match, match_floor)
        return MixOutcome(plan if match >= match_floor else None, False)

    def _assign(self, slots: IntArray) -> IntArray | None:
        """Each family to a slot of its load (`slots[staff * classes + class]`) at an eligible
        staff member, with the most match: one min-cost flow. Staff ids per family, or None
        when the flow fails (it cannot when the mix came from the model)."""
        a, comp, nk = self.arrays, self.comp, self.nk
        nf, ns = len(comp.families), len(comp.staff)
        pf = np.searchsorted(comp.families, a.pair_family[comp.pairs])
        ps = np.searchsorted(comp.staff, a.pair_staff[comp.pairs])
        n_pairs = len(pf)
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(
            np.concatenate([pf, nf + np.arange(ns * nk)]).astype(np.int32),
            np.concatenate(
                [nf + ps * nk + self.family_class[pf], np.full(ns * nk, nf + ns * nk)]
            ).astype(np.int32),
            np.concatenate([np.ones(n_pairs, np.int64), slots]),
            np.concatenate(
                [-a.pair_match[comp.pairs].astype(np.int64), np.zeros(ns * nk, np.int64)]
            ),
        )
        flow.set_nodes_supplies(
            np.arange(nf + ns * nk + 1, dtype=np.int32),
            np.concatenate([np.ones(nf, np.int64), np.zeros(ns * nk, np.int64), [-nf]]),
        )
        if flow.solve() != flow.OPTIMAL:
            log.warning("caseload mix: the slot flow failed")
            return None
        used = flow.flows(np.arange(n_pairs, dtype=np.int32)) > 0
        out = np.full(nf, -1, dtype=np.int64)
        out[pf[used]] = comp.staff[ps[used]]
        return None if (out < 0).any() else out


def lowest_mix_plan(
    arrays: ProblemArrays,
    comp: Component,
    plan: IntArray,
    match_floor: int,
    levels: IntArray,
    seconds: float,
    stopped: Callable[[], bool] | None = None,
) -> tuple[int, IntArray | None]:
    """Try `levels` (ascending, the last one the plan's own level, not tried) while the mix
    model proves them empty, within `seconds` in all; at the first level it does not, the plan
    of its mix when that meets the match floor.

    Parameters
    ----------
    arrays, comp, plan
        The program, one component, and the reference plan (every family of `comp` placed).
    match_floor
        The least match a plan of the component may have.
    levels
        Candidate levels, ascending (`solver.levels.candidate_levels`), the last the plan's.
    seconds
        Time for all the MIPs and the slot flow.
    stopped
        True when the caller asks the solve to stop.

    Returns
    -------
    tuple[int, IntArray | None]
        The lowest of `levels` not proven empty (a lower bound on the component's level), and
        the plan found there (staff index per family of `comp`) or None.
    """
    deadline = time.monotonic() + seconds
    candidates = [int(x) for x in levels.tolist()]
    if len(candidates) < 2:  # only the plan's own level
        return candidates[0], None
    types = family_types(arrays, comp)
    if len(types.pair_type) > MAX_TYPE_PAIRS:
        log.debug("caseload mix: %d type pairs, not tried", len(types.pair_type))
        return candidates[0], None
    mix = CaseloadMix(arrays, comp, plan, types)
    log.debug(
        "caseload mix: %d types, %d type pairs, %.1fs left",
        len(types.size),
        len(types.pair_type),
        deadline - time.monotonic(),
    )
    low = candidates[0]
    for i, level in enumerate(candidates[:-1]):
        left = deadline - time.monotonic() - FLOW_SECONDS_PER_PAIR * len(comp.pairs)
        if left <= 0 or (stopped is not None and stopped()):
            break
        outcome = mix.try_level(level, left, match_floor)
        if outcome.empty and low == level:
            # no plan at this level: none below the next one either
            low = candidates[i + 1]
        if not outcome.empty:
            # a plan, or a mix whose match fell short (then higher levels rarely do better:
            # the transfer chains get the time) or no answer in time
            return low, outcome.plan
    return low, None
