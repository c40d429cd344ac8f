"""A CP-SAT model of assignment with weighted capacities, built from pair arrays.

The generalized assignment problem (GAP) is famassign's core without its side rules: every job
(family) goes to exactly one agent (staff member) among its pairs, and the weighted resource an
agent receives may not exceed its capacity. The model is built from numpy arrays, one boolean per
pair, hinted with a complete plan, and solved with the same :class:`SolverSettings` as balance.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
from ortools.sat.python import cp_model

from famassign.solver.arrays import IntArray
from famassign.solver.settings import SolverSettings


@dataclass(frozen=True)
class AssignmentProblem:
    """Pairs (job, agent) with a cost and a weight; capacity per agent.

    Every job is assigned to exactly one agent among its pairs; the summed weight of the jobs of an
    agent stays within its capacity. `maximize` flips the sense of the cost objective.
    """

    n_jobs: int
    n_agents: int
    pair_job: IntArray
    pair_agent: IntArray
    pair_cost: IntArray
    pair_weight: IntArray
    capacity: IntArray
    maximize: bool = False

    @classmethod
    def dense(
        cls, cost: IntArray, weight: IntArray, capacity: IntArray, *, maximize: bool = False
    ) -> AssignmentProblem:
        """From agent x job matrices of cost and weight (every job may go to every agent)."""
        m, n = cost.shape
        agent, job = np.divmod(np.arange(m * n, dtype=np.int64), n)
        order = np.lexsort((agent, job))
        return cls(
            n_jobs=n,
            n_agents=m,
            pair_job=job[order],
            pair_agent=agent[order],
            pair_cost=cost.reshape(-1)[order].astype(np.int64),
            pair_weight=weight.reshape(-1)[order].astype(np.int64),
            capacity=np.asarray(capacity, dtype=np.int64),
            maximize=maximize,
        )

    def objective(self, agent_of: IntArray) -> int:
        """Total cost of a complete plan (agent index per job)."""
        return int(self._pair_cost_matrix()[agent_of, np.arange(self.n_jobs)].sum())

    def feasible(self, agent_of: IntArray) -> bool:
        """Every job on one of its pairs and every agent within its capacity."""
        if agent_of.min(initial=0) < 0:
            return False
        weight = self._pair_weight_matrix()[agent_of, np.arange(self.n_jobs)]
        if np.any(weight < 0):
            return False
        used = np.bincount(agent_of, weights=weight, minlength=self.n_agents)
        return bool(np.all(used <= self.capacity))

    def _pair_cost_matrix(self) -> IntArray:
        out = np.zeros((self.n_agents, self.n_jobs), dtype=np.int64)
        out[self.pair_agent, self.pair_job] = self.pair_cost
        return out

    def _pair_weight_matrix(self) -> IntArray:
        out = np.full((self.n_agents, self.n_jobs), -1, dtype=np.int64)
        out[self.pair_agent, self.pair_job] = self.pair_weight
        return out


@dataclass(frozen=True)
class AssignmentResult:
    """The best plan found (agent per job, -1 when none found), its cost, bound and status."""

    agent_of: IntArray
    objective: int | None
    bound: float
    optimal: bool
    seconds: float


def regret_greedy(problem: AssignmentProblem) -> IntArray:
    """A first plan: the job that would lose most by waiting goes to its best agent with room.

    Martello and Toth's regret rule on cost. Jobs with no agent left with room are put on the
    agent where they overflow least (the plan is then infeasible, still a useful hint).
    """
    m, n = problem.n_agents, problem.n_jobs
    cost, weight = _cost_matrices(problem)
    room = problem.capacity.astype(np.int64).copy()
    agent_of = np.full(n, -1, dtype=np.int64)
    left = np.ones(n, dtype=bool)
    big = np.iinfo(np.int64).max // 8
    while left.any():
        jobs = np.flatnonzero(left)
        fits = weight[:, jobs] <= room[:, None]
        desir = np.where(fits, cost[:, jobs], big)
        n_fit = fits.sum(axis=0)
        if not n_fit.any():
            # Nothing fits anywhere: overflow each remaining job where it overflows least.
            for j in jobs.tolist():
                i = int(np.argmin(weight[:, j] - room))
                agent_of[j] = i
                room[i] -= weight[i, j]
            break
        part = np.sort(desir, axis=0)
        second_gap = part[1] - part[0] if m > 1 else np.zeros(len(jobs), dtype=np.int64)
        regret = np.where(n_fit >= 2, second_gap, big)
        regret = np.where(n_fit == 0, -1, regret)
        k = int(np.argmax(regret))
        j = int(jobs[k])
        i = int(np.argmin(desir[:, k]))
        agent_of[j] = i
        room[i] -= weight[i, j]
        left[j] = False
    return agent_of


def improve_by_shifts(problem: AssignmentProblem, agent_of: IntArray) -> IntArray:
    """Local search: move single jobs to a cheaper agent with room until no move improves."""
    m, n = problem.n_agents, problem.n_jobs
    cost, weight = _cost_matrices(problem)
    plan = agent_of.copy()
    cols = np.arange(n)
    used = np.bincount(plan, weights=weight[plan, cols], minlength=m).astype(np.int64)
    if np.any(used > problem.capacity):
        return plan
    for _ in range(10 * n):
        room = problem.capacity - used
        gain = cost[plan, cols][None, :] - cost
        gain[weight > room[:, None]] = 0
        best = int(np.argmax(gain))
        i, j = divmod(best, n)
        if gain[i, j] <= 0:
            break
        used[plan[j]] -= weight[plan[j], j]
        used[i] += weight[i, j]
        plan[j] = i
    return plan


def solve_assignment(
    problem: AssignmentProblem,
    settings: SolverSettings,
    *,
    hint: IntArray | None = None,
) -> AssignmentResult:
    """Solve `problem` with CP-SAT within `settings.time_limit`, hinted with `hint` (agent per job).

    The model: one boolean per pair, exactly one pair per job, weighted capacity per agent, a
    linear cost objective. Without a hint, a regret greedy plan improved by shifts is the hint.
    """
    start = time.monotonic()
    if hint is None:
        hint = improve_by_shifts(problem, regret_greedy(problem))
    model = cp_model.CpModel()
    n_pairs = len(problem.pair_job)
    x = [model.new_bool_var(f"x{k}") for k in range(n_pairs)]
    job_bounds = np.searchsorted(problem.pair_job, np.arange(problem.n_jobs + 1))
    for j in range(problem.n_jobs):
        model.add_exactly_one(x[job_bounds[j] : job_bounds[j + 1]])
    by_agent = np.argsort(problem.pair_agent, kind="stable")
    agent_bounds = np.searchsorted(problem.pair_agent[by_agent], np.arange(problem.n_agents + 1))
    for i in range(problem.n_agents):
        ks = by_agent[agent_bounds[i] : agent_bounds[i + 1]]
        model.add(
            cp_model.LinearExpr.weighted_sum(
                [x[k] for k in ks.tolist()], problem.pair_weight[ks].tolist()
            )
            <= int(problem.capacity[i])
        )
    cost = cp_model.LinearExpr.weighted_sum(x, problem.pair_cost.tolist())
    if problem.maximize:
        model.maximize(cost)
    else:
        model.minimize(cost)
    chosen = hint[problem.pair_job] == problem.pair_agent
    for k, var in enumerate(x):
        model.add_hint(var, bool(chosen[k]))
    solver = cp_model.CpSolver()
    settings.parameters(solver, settings.time_limit - (time.monotonic() - start))
    status = solver.solve(model)
    seconds = time.monotonic() - start
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return AssignmentResult(
            np.full(problem.n_jobs, -1, dtype=np.int64),
            None,
            solver.best_objective_bound,
            False,
            seconds,
        )
    values = np.array([solver.boolean_value(v) for v in x], dtype=bool)
    agent_of = np.full(problem.n_jobs, -1, dtype=np.int64)
    agent_of[problem.pair_job[values]] = problem.pair_agent[values]
    return AssignmentResult(
        agent_of=agent_of,
        objective=round(solver.objective_value),
        bound=float(solver.best_objective_bound),
        optimal=status == cp_model.OPTIMAL,
        seconds=seconds,
    )


def _cost_matrices(problem: AssignmentProblem) -> tuple[IntArray, IntArray]:
    """Agent x job cost (minimisation sense) and weight; non-pairs cost and weigh a huge value."""
    m, n = problem.n_agents, problem.n_jobs
    huge = np.iinfo(np.int64).max // 1024
    sign = -1 if problem.maximize else 1
    cost = np.full((m, n), huge, dtype=np.int64)
    cost[problem.pair_agent, problem.pair_job] = sign * problem.pair_cost
    weight = np.full((m, n), huge, dtype=np.int64)
    weight[problem.pair_agent, problem.pair_job] = problem.pair_weight
    return cost, weight


def _subproblem(
    cost: IntArray, weight: IntArray, capacity: IntArray, agents: IntArray, jobs: IntArray
) -> AssignmentProblem:
    """The GAP of `jobs` over `agents` only (minimisation), pairs that exist only."""
    sub_cost, sub_weight = cost[np.ix_(agents, jobs)], weight[np.ix_(agents, jobs)]
    real = sub_weight <= capacity[agents][:, None]
    agent, job = np.nonzero(real)
    order = np.lexsort((agent, job))
    return AssignmentProblem(
        n_jobs=len(jobs),
        n_agents=len(agents),
        pair_job=job[order].astype(np.int64),
        pair_agent=agent[order].astype(np.int64),
        pair_cost=sub_cost[agent[order], job[order]],
        pair_weight=sub_weight[agent[order], job[order]],
        capacity=capacity[agents],
    )


def solve_assignment_lns(
    problem: AssignmentProblem,
    settings: SolverSettings,
    *,
    hint: IntArray | None = None,
    first_share: float = 0.1,
    neighbourhood: int = 3,
    step_seconds: float = 0.5,
) -> AssignmentResult:
    """CP-SAT on the whole model for `first_share` of the time, then large-neighbourhood search.

    Each LNS step frees every job of a few agents chosen at random and re-solves that small GAP
    exactly (single worker, a fraction of a second); a plan no worse is kept. The neighbourhood
    grows by one agent after many steps without improvement. The bound is CP-SAT's from the first
    phase; the result is optimal only when that phase proved it.
    """
    start = time.monotonic()
    first = solve_assignment(
        problem,
        SolverSettings(
            time_limit=max(settings.time_limit * first_share, 0.05),
            seed=settings.seed,
            workers=settings.workers,
            deterministic=settings.deterministic,
        ),
        hint=hint,
    )
    if first.optimal or first.objective is None:
        return first
    cost, weight = _cost_matrices(problem)
    plan = first.agent_of.copy()
    cols = np.arange(problem.n_jobs)
    best = int(cost[plan, cols].sum())
    rng = np.random.default_rng(settings.seed)
    m = problem.n_agents
    k = min(max(neighbourhood, 2), m)
    stale = 0
    sub_settings = SolverSettings(time_limit=step_seconds, seed=settings.seed, workers=1)
    while time.monotonic() - start < settings.time_limit - 0.05 and m > 1:
        agents = np.sort(rng.choice(m, size=k, replace=False))
        jobs = np.flatnonzero(np.isin(plan, agents))
        if len(jobs) == 0:
            continue
        sub = _subproblem(cost, weight, problem.capacity, agents, jobs)
        local = np.searchsorted(agents, plan[jobs])
        left = settings.time_limit - (time.monotonic() - start)
        result = solve_assignment(
            sub, replace(sub_settings, time_limit=max(min(step_seconds, left), 0.01)), hint=local
        )
        if result.objective is not None and result.objective <= int(cost[plan[jobs], jobs].sum()):
            improved = result.objective < int(cost[plan[jobs], jobs].sum())
            plan[jobs] = agents[result.agent_of]
            if improved:
                best = int(cost[plan, cols].sum())
                stale = 0
                continue
        stale += 1
        if stale > 20 * m and k < m:
            k, stale = k + 1, 0
    sign = -1 if problem.maximize else 1
    return AssignmentResult(
        agent_of=plan,
        objective=sign * best,
        bound=first.bound,
        optimal=sign * best == first.bound,
        seconds=time.monotonic() - start,
    )
