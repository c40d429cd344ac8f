"""Load levels: a strong bound on the best largest load, and the plan at a level (HiGHS).

A staff member's weighted load is a sum of family loads, so a multiple of their greatest common
divisor g. "Largest load per FTE at most t" is therefore the same as a cap on each staff member,
``load <= g * floor(t * fte / g)``: the *caps of level t*. Only the levels where some cap changes
matter. At each level the balance model (placement and its urgency, exception places, moves and the
match floor exactly as in the CP-SAT model of `solver.balance`) has an LP relaxation whose best
match grows with the level; the lowest level at which it reaches the match floor is a lower bound
on the best largest load. Rounding the caps down to the lattice makes this bound much stronger than
the plain LP. The plan at a level is then a MIP that maximises the match within that level's
caps.

Both are solved by HiGHS, the LP warm-started from level to level (much faster than CP-SAT at
finding the best match at a level: benchmarks/RESULTS.md, "Constants of the balance stage").
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
from scipy.sparse import csr_matrix, vstack

from famassign.solver.arrays import IntArray, ProblemArrays
from famassign.solver.components import Component
from famassign.solver.highs import quiet_highs
from famassign.solver.settings import SolverSettings

log = logging.getLogger(__name__)

FTE_SCALE = 100
"""FTE in hundredths: the unit `level` arithmetic shares with the CP-SAT model."""
MATCH_GAP = 1e-3
"""The plan at a level is within this share of the best match there (HiGHS's relative MIP gap;
on five generated 600-family programs 0-45% faster than HiGHS's default of 1e-4)."""
NODES_PER_SECOND = 200
"""Branch-and-bound nodes per second of budget in deterministic mode (no clock involved)."""

_INF = highspy.kHighsInf


def run_with_fresh_threads(highs: Any) -> None:
    """Run `highs` after starting HiGHS's shared worker threads afresh: the scheduler keeps
    the thread count of the first instance that ran in the process, so an instance that wants
    another count (famassign's one thread, a baseline's two) fails or runs short otherwise."""
    highspy.Highs.resetGlobalScheduler(True)
    highs.run()


def set_rowwise_matrix(model: Any, matrix: csr_matrix) -> None:
    """Give the HiGHS model (`highspy.HighsLp`) its constraint matrix, row by row."""
    model.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    model.a_matrix_.num_row_, model.a_matrix_.num_col_ = matrix.shape
    model.a_matrix_.start_ = matrix.indptr
    model.a_matrix_.index_ = matrix.indices
    model.a_matrix_.value_ = matrix.data


def fte_units(arrays: ProblemArrays) -> IntArray:
    """FTE of every staff member in hundredths (at least one)."""
    return np.maximum(np.round(arrays.staff_fte * FTE_SCALE), 1).astype(np.int64)


def level_of(loads: np.ndarray, units: IntArray) -> int:
    """The level of a plan: the smallest t with ``load * FTE_SCALE <= t * fte`` for every staff
    member (`loads` in LOAD_SCALE units, `units` from :func:`fte_units`)."""
    return int(np.ceil((loads * FTE_SCALE / units).max(initial=0)))


def plan_level(arrays: ProblemArrays, families: IntArray, staff: IntArray, plan: IntArray) -> int:
    """The level of `plan` on `families` (sorted), carried by `staff` (sorted): as
    :func:`level_of`, from the plan itself."""
    current = plan[families]
    placed = current >= 0
    loads = np.bincount(
        np.searchsorted(staff, current[placed]),
        weights=arrays.family_load[families[placed]],
        minlength=len(staff),
    )
    return level_of(loads, fte_units(arrays)[staff])


def level_caps(level: int, units: IntArray, gcd: int) -> np.ndarray:
    """Each staff member's largest weighted load (LOAD_SCALE units) at `level`, for staff of
    FTE `units` (:func:`fte_units`) whose family loads are multiples of `gcd`."""
    return gcd * np.floor(level * units / (FTE_SCALE * gcd) + 1e-9)


def candidate_levels(units: IntArray, gcd: int, low: int, high: int) -> IntArray:
    """Every level in [low, high] at which some staff member's cap changes, ascending (the
    level `high` always included): the only levels a plan's largest load can take."""
    found = [np.array([high])]
    step = gcd * FTE_SCALE
    for fte in np.unique(units).tolist():
        first, last = low * fte // step, high * fte // step + 1
        k = np.arange(first, last + 1)
        found.append(-((-k * step) // fte))  # ceil(k * step / fte)
    every = np.unique(np.concatenate(found))
    return every[(every >= low) & (every <= high)].astype(np.int64)


@dataclass(frozen=True)
class Budget:
    """How long a HiGHS solve may run: wall seconds, or (deterministic) a node count."""

    seconds: float
    deterministic: bool

    def apply(self, highs: Any) -> None:
        """Set this budget's limits on `highs`."""
        if self.deterministic:
            highs.setOptionValue("time_limit", _INF)
            highs.setOptionValue("mip_max_nodes", max(int(self.seconds * NODES_PER_SECOND), 1))
        else:
            highs.setOptionValue("time_limit", max(self.seconds, 0.01))


class LoadLevels:
    """The balance model of one component for HiGHS: columns are the pairs' choices, then one
    "unplaced" column per family (only when the reference plan leaves some unplaced), then one
    exception-place column per staff member who may exceed the policy cap. The objective is the
    match; the largest load enters as the caps of a level.

    `plan` is the reference (the flow plan): placement and its urgency, exception places and
    (with `minimize_moves`) moves may not get worse than in it, and the match may not fall below
    `match_floor`.

    `load_rows` are the rows of the staff members' weighted loads (whose upper bounds are the caps
    of a level) and `integer_cols` the columns that are integer in the MIP.
    """

    def __init__(
        self,
        arrays: ProblemArrays,
        families: IntArray,
        staff: IntArray,
        pairs: IntArray,
        plan: IntArray,
        match_floor: int,
        minimize_moves: bool,
        seed: int = 0,
        stopped: Callable[[], bool] | None = None,
    ) -> None:
        a = arrays
        self.families, self.staff, self.pairs = families, staff, pairs
        pf = np.searchsorted(families, a.pair_family[pairs])
        ps = np.searchsorted(staff, a.pair_staff[pairs])
        self.pair_staff = a.pair_staff[pairs]
        self._pair_family, self._pair_local_staff = pf, ps
        nf, ns, n_pairs = len(families), len(staff), len(pairs)
        current = plan[families]
        chosen = current[pf] == self.pair_staff
        unplaced = current < 0
        load = a.family_load[a.pair_family[pairs]]
        self._pair_load = load
        self.gcd = int(np.gcd.reduce(a.family_load[families])) or 1
        self.units = fte_units(a)[staff]
        self.level_now = level_of(np.bincount(ps[chosen], load[chosen], ns), self.units)

        n_unplaced = nf if unplaced.any() else 0
        room = a.staff_limit[staff] - a.staff_cap[staff]
        over_staff = np.flatnonzero(room > 0)
        self._n_unplaced, self._n_over = n_unplaced, len(over_staff)
        self._over_staff, self._policy_cap = over_staff, a.staff_cap[staff]
        counts_now = np.bincount(ps[chosen], minlength=ns)
        # no staff member more exception places than now (a rounding stays within the total)
        self._count_limit = np.minimum(
            np.maximum(np.minimum(a.staff_cap[staff], a.staff_limit[staff]), counts_now),
            a.staff_limit[staff],
        ).astype(np.int64)
        n_cols = n_pairs + n_unplaced + len(over_staff)
        pair_cols = np.arange(n_pairs)
        unplaced_cols = n_pairs + np.arange(n_unplaced)
        over_cols = n_pairs + n_unplaced + np.arange(len(over_staff))

        def rows(r: IntArray, c: IntArray, v: np.ndarray, n: int) -> csr_matrix:
            return csr_matrix((v.astype(float), (r, c)), shape=(n, n_cols))

        ones = np.ones(n_pairs)
        blocks = [
            # each family: exactly one staff member, or unplaced
            rows(
                np.concatenate([pf, np.arange(n_unplaced)]),
                np.concatenate([pair_cols, unplaced_cols]),
                np.ones(n_pairs + n_unplaced),
                nf,
            ),
            rows(ps, pair_cols, ones, ns),  # caseload within the limit
            rows(ps, pair_cols, load, ns),  # weighted load within the level's caps
            rows(np.zeros(n_pairs, np.int64), pair_cols, a.pair_match[pairs], 1),  # match floor
        ]
        lower: list[np.ndarray] = [
            np.ones(nf),
            np.full(ns, -_INF),
            np.full(ns, -_INF),
            np.array([float(match_floor)]),
        ]
        upper: list[np.ndarray] = [
            np.ones(nf),
            a.staff_limit[staff].astype(float),
            np.full(ns, _INF),
            np.array([_INF]),
        ]
        self.load_rows = np.arange(nf + ns, nf + 2 * ns, dtype=np.int32)
        if n_unplaced:
            # as many unplaced as now, and no more urgency among them
            urgency = a.family_urgency[families]
            both = np.concatenate([np.zeros(nf, np.int64), np.ones(nf, np.int64)])
            blocks.append(
                rows(both, np.tile(unplaced_cols, 2), np.concatenate([np.ones(nf), urgency]), 2)
            )
            lower.append(np.array([float(unplaced.sum()), -_INF]))
            upper.append(np.array([float(unplaced.sum()), float(urgency[unplaced].sum())]))
        if len(over_staff):
            # exception places: over >= caseload - cap, and no more of them than now
            member = np.isin(ps, over_staff)
            position = np.searchsorted(over_staff, ps[member])
            k = len(over_staff)
            blocks.append(
                rows(
                    np.concatenate([position, np.arange(k), np.full(k, k)]),
                    np.concatenate([pair_cols[member], over_cols, over_cols]),
                    np.concatenate([np.ones(member.sum()), -np.ones(k), np.ones(k)]),
                    k + 1,
                )
            )
            counts = np.bincount(ps[chosen], minlength=ns)
            over_now = float(np.maximum(counts - a.staff_cap[staff], 0).sum())
            lower.append(np.full(k + 1, -_INF))
            upper.append(np.concatenate([a.staff_cap[staff][over_staff].astype(float), [over_now]]))
        if minimize_moves:
            stay = a.pair_stay[pairs]  # no more moves: no fewer stays (unplaced ones count)
            blocks.append(rows(np.zeros(n_pairs, np.int64), pair_cols, stay, 1))
            lower.append(np.array([float(stay[chosen].sum())]))
            upper.append(np.array([_INF]))
        matrix = vstack(blocks).tocsr()

        model = highspy.HighsLp()
        model.num_col_, model.num_row_ = n_cols, matrix.shape[0]
        model.sense_ = highspy.ObjSense.kMaximize
        model.col_cost_ = np.concatenate(
            [a.pair_match[pairs].astype(float), np.zeros(n_cols - n_pairs)]
        )
        model.col_lower_ = np.zeros(n_cols)
        col_upper = np.concatenate([np.ones(n_pairs + n_unplaced), room[over_staff].astype(float)])
        if n_unplaced:  # a pinned family stays placed
            col_upper[unplaced_cols[a.family_pinned[families]]] = 0.0
        model.col_upper_ = col_upper
        model.row_lower_ = np.concatenate(lower)
        model.row_upper_ = np.concatenate(upper)
        set_rowwise_matrix(model, matrix)
        self.integer_cols = np.arange(n_pairs + n_unplaced, dtype=np.int32)
        self.highs: Any = quiet_highs()
        highs = self.highs
        # One thread: HiGHS's worker threads would hang a process forked after a solve (as
        # `famassign compare` and other callers' process pools do); measured 5% slower.
        highs.setOptionValue("threads", 1)
        highs.setOptionValue("random_seed", seed)
        highs.setOptionValue("mip_rel_gap", MATCH_GAP)
        # Measured on seven generated 600-family and two 2,000-family programs, four seeds
        # each: without the root reduced-cost heuristic the MIP is 15% faster on average and
        # its slowest run 20-25% faster.
        highs.setOptionValue("mip_heuristic_run_root_reduced_cost", False)
        highs.passModel(model)
        if stopped is not None:

            def interrupt(event: Any) -> None:
                if stopped():
                    event.interrupt()

            highs.cbSimplexInterrupt.subscribe(interrupt)
            highs.cbMipInterrupt.subscribe(interrupt)
        self._integer = False
        self._min_max = False
        self.bound_complete = False
        """True once :meth:`bound` has finished (else it returned its `low`)."""

    @classmethod
    def of_component(
        cls,
        arrays: ProblemArrays,
        comp: Component,
        plan: IntArray,
        settings: SolverSettings,
        match_floor: int,
        minimize_moves: bool,
    ) -> LoadLevels:
        """The load-level model of a component (or sub-problem), with the settings' seed, and
        stopping when the caller asks the solve to stop."""
        return cls(
            arrays,
            comp.families,
            comp.staff,
            comp.pairs,
            plan,
            match_floor,
            minimize_moves,
            seed=settings.seed,
            stopped=lambda: settings.stopped,
        )

    def levels(self, low: int, high: int) -> IntArray:
        """Every level in [low, high] at which some staff member's cap changes, ascending (the
        level `high` always included)."""
        return candidate_levels(self.units, self.gcd, low, high)

    def nodes(self) -> int:
        """Branch-and-bound nodes of the last MIP solve."""
        return int(self.highs.getInfo().mip_node_count)

    def caps(self, level: int) -> np.ndarray:
        """Each staff member's largest weighted load (LOAD_SCALE units) at `level`."""
        return level_caps(level, self.units, self.gcd)

    def _run(self) -> None:
        if self.highs.run() == highspy.HighsStatus.kError:
            # Another HiGHS user in this process started HiGHS's shared threads with more than
            # our one: start them afresh (HiGHS restarts them as each user needs).
            run_with_fresh_threads(self.highs)

    def _solve_at(self, level: int) -> highspy.HighsModelStatus:
        caps = self.caps(level)
        self.highs.changeRowsBounds(
            len(caps), self.load_rows, np.full(len(caps), -_INF), caps.astype(float)
        )
        self._run()
        status: highspy.HighsModelStatus = self.highs.getModelStatus()
        return status

    def bound(self, low: int, high: int) -> int:
        """The lowest level in [low, high] whose LP relaxation meets every constraint (`high`
        if none below it does): no plan has a smaller largest load. Bisection over
        :meth:`levels`, each LP warm-started from the last."""
        if self._integer:
            raise RuntimeError("bound() needs the LP: call it before plan_at()")
        low = min(low, high)
        candidates = self.levels(low, high)
        lo, hi = 0, len(candidates) - 1
        self.bound_complete = False
        while lo < hi:
            mid = (lo + hi) // 2
            status = self._solve_at(int(candidates[mid]))
            if status == highspy.HighsModelStatus.kOptimal:
                hi = mid
            elif status == highspy.HighsModelStatus.kInfeasible:
                lo = mid + 1
            else:  # interrupted, or a numerical failure: no claim beyond `low`
                log.warning("level bound stopped: HiGHS status %s", status)
                return low
        self.bound_complete = True
        return int(candidates[lo])

    def bound_from_below(self, low: int, high: int, seconds: float | None) -> int | None:
        """As :meth:`bound`, for a `low` that is usually close (a large component, where each LP
        is costly): the levels from `low` up are tried 1, 2, 4, ... apart until one is
        feasible, then bisected. `seconds` limits every LP (None: no limit). None when HiGHS
        stops first (time limit, stop signal or a numerical failure)."""
        if self._integer:
            raise RuntimeError("bound_from_below() needs the LP: call it before plan_at()")
        deadline = None if seconds is None else time.monotonic() + seconds

        def solve(level: int) -> bool | None:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.highs.setOptionValue("time_limit", left)
            status = self._solve_at(level)
            if status == highspy.HighsModelStatus.kOptimal:
                return True
            if status == highspy.HighsModelStatus.kInfeasible:
                return False
            log.info("level bound stopped: HiGHS status %s", status)
            return None

        candidates = self.levels(min(low, high), high)
        bad, step, at = -1, 1, 0
        while at < len(candidates) - 1:
            found = solve(int(candidates[at]))
            if found is None:
                return None
            if found:
                break
            bad, at, step = at, min(at + step, len(candidates) - 1), step * 2
        lo, hi = bad + 1, at  # the level at `hi` is feasible (`high`: a plan exists there)
        while lo < hi:
            mid = (lo + hi) // 2
            found = solve(int(candidates[mid]))
            if found is None:
                return None
            if found:
                hi = mid
            else:
                lo = mid + 1
        self.highs.setOptionValue("time_limit", _INF)
        return int(candidates[lo])

    def rounded_at(self, level: int, seconds: float) -> IntArray | None:
        """The LP relaxation at `level` (within `seconds`), rounded: the families it places
        wholly keep their staff member, and the few it splits go, by a min-cost flow within the
        count caps left, to the staff member holding most of them. Count caps hold; a load may
        exceed the level's cap by the families rounded onto it. None when the LP has no
        solution in time or the reference plan leaves a family unplaced (an "unplaced" column
        cannot be rounded this way)."""
        if self._integer:
            raise RuntimeError("rounded_at() needs the LP: call it before plan_at()")
        n_pairs = len(self.pairs)
        if self._n_unplaced:
            return None
        self.highs.setOptionValue("time_limit", max(seconds, 0.01))
        status = self._solve_at(level)
        self.highs.setOptionValue("time_limit", _INF)
        if status != highspy.HighsModelStatus.kOptimal:
            return None
        x = np.asarray(self.highs.getSolution().col_value)[:n_pairs]
        whole = x > 1 - 1e-6
        out = np.full(len(self.families), -1, dtype=np.int64)
        out[self._pair_family[whole]] = self._pair_local_staff[whole]
        split = (x > 1e-6) & ~whole & (out[self._pair_family] < 0)
        open_families = np.flatnonzero(out < 0)
        if len(open_families):
            ns = len(self.staff)
            counts = np.bincount(out[out >= 0], minlength=ns)
            node = np.searchsorted(open_families, self._pair_family[split])
            nf = len(open_families)
            flow = min_cost_flow.SimpleMinCostFlow()
            starts = np.concatenate([node, nf + np.arange(ns)])
            ends = np.concatenate([nf + self._pair_local_staff[split], np.full(ns, nf + ns)])
            room = np.maximum(self._count_limit - counts, 0)
            flow.add_arcs_with_capacity_and_unit_cost(
                starts.astype(np.int32),
                ends.astype(np.int32),
                np.concatenate([np.ones(int(split.sum()), np.int64), room]),
                np.concatenate([-np.round(x[split] * 1000), np.zeros(ns)]).astype(np.int64),
            )
            flow.set_nodes_supplies(
                np.arange(nf + ns + 1, dtype=np.int32),
                np.concatenate([np.ones(nf, np.int64), np.zeros(ns, np.int64), [-nf]]),
            )
            if flow.solve() != flow.OPTIMAL:
                return None
            used = flow.flows(np.arange(int(split.sum()), dtype=np.int32)) > 0
            out[open_families[node[used]]] = self._pair_local_staff[split][used]
        counts = np.bincount(out, minlength=len(self.staff))
        if (out < 0).any() or (counts > self._count_limit).any():
            return None  # the LP spread exception places differently: not this way
        return self.staff[out]

    def plan_at(self, level: int, budget: Budget) -> tuple[IntArray | None, bool]:
        """The plan of most match (within MATCH_GAP) whose largest load is at most `level`, as
        a staff index per family of the component.

        Returns (plan or None, proven that no plan exists at this level)."""
        if self._min_max:
            raise RuntimeError("plan_at() needs the level model: call it before min_max()")
        if not self._integer:
            n = len(self.integer_cols)
            self.highs.changeColsIntegrality(
                n, self.integer_cols, np.full(n, highspy.HighsVarType.kInteger)
            )
            self._integer = True
        budget.apply(self.highs)
        # Measured on four generated 600-family programs (two repetitions) and two
        # 2,000-family ones, same run, 2-core machine at a load of 6: without presolve this
        # MIP took 25-30% less time in total (faster on 9 of 10 runs), to the same gap. Only
        # this MIP: presolve is on again for whatever runs next (the min-max MIP).
        self.highs.setOptionValue("presolve", "off")
        status = self._solve_at(level)
        self.highs.setOptionValue("presolve", "choose")
        if status == highspy.HighsModelStatus.kInfeasible:
            return None, True
        feasible = highspy.SolutionStatus.kSolutionStatusFeasible
        if self.highs.getInfo().primal_solution_status != feasible:
            return None, False
        values = np.asarray(self.highs.getSolution().col_value)[: len(self.pairs)]
        picked = values > 0.5
        out = np.full(len(self.families), -1, dtype=np.int64)
        out[self._pair_family[picked]] = self.pair_staff[picked]
        return out, False

    def to_min_max(self) -> None:
        """Turn the model into one MIP that minimises the largest load per FTE itself: a last
        column t, in level units, with ``load * FTE_SCALE <= t * fte`` for each staff member.
        Only :meth:`min_max` (or a caller running `highs` itself) may use the model after."""
        h, rows, n = self.highs, self.load_rows, len(self.load_rows)
        h.changeObjectiveSense(highspy.ObjSense.kMinimize)
        cols = h.getNumCol()
        h.changeColsCost(cols, np.arange(cols, dtype=np.int32), np.zeros(cols))
        h.addCol(1.0, 0.0, _INF, n, rows, -self.units / FTE_SCALE)
        h.changeRowsBounds(n, rows, np.full(n, -_INF), np.zeros(n))
        k = len(self.integer_cols)
        h.changeColsIntegrality(k, self.integer_cols, np.full(k, highspy.HighsVarType.kInteger))
        self._integer = self._min_max = True

    def min_max(self, start: IntArray, budget: Budget) -> IntArray | None:
        """The min-max MIP (:meth:`to_min_max`) started from `start`, a plan of the component
        keeping every constraint of the model (staff index per family, as :meth:`plan_at`
        returns): HiGHS's best plan at the end of `budget`, or None when it has none."""
        if not self._min_max:
            self.to_min_max()
        local = np.full(len(self.families), -1, dtype=np.int64)
        placed = start >= 0
        local[placed] = np.searchsorted(self.staff, start[placed])
        chosen = local[self._pair_family] == self._pair_local_staff
        counts = np.bincount(local[placed], minlength=len(self.staff))
        loads = np.bincount(
            self._pair_local_staff[chosen],
            weights=self._pair_load[chosen],
            minlength=len(self.staff),
        )
        values = np.concatenate(
            [
                chosen.astype(float),
                (~placed).astype(float)[: self._n_unplaced],
                np.maximum(counts - self._policy_cap, 0)[self._over_staff].astype(float),
                [float(level_of(loads, self.units))],
            ]
        )
        solution = highspy.HighsSolution()
        solution.col_value = values.tolist()
        solution.value_valid = True
        self.highs.setSolution(solution)
        budget.apply(self.highs)
        self._run()
        feasible = highspy.SolutionStatus.kSolutionStatusFeasible
        if self.highs.getInfo().primal_solution_status != feasible:
            return None
        col = np.asarray(self.highs.getSolution().col_value)[: len(self.pairs)]
        picked = col > 0.5
        out = np.full(len(self.families), -1, dtype=np.int64)
        out[self._pair_family[picked]] = self.pair_staff[picked]
        return out
