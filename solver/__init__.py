"""Solving: Scenario to arrays, an exact flow plan, workload balance, an independent evaluator."""

from solver.evaluator import Evaluation, evaluate
from solver.result import (
    Assignment,
    Caseload,
    ObjectiveTerms,
    Result,
    SolveStatus,
    Unplaced,
)
from solver.solve import DEFAULT_TIME_LIMIT, PlanOptions, Progress, plan, solve

__all__ = [
    "DEFAULT_TIME_LIMIT",
    "Assignment",
    "Caseload",
    "Evaluation",
    "ObjectiveTerms",
    "PlanOptions",
    "Progress",
    "Result",
    "SolveStatus",
    "Unplaced",
    "evaluate",
    "plan",
    "solve",
]
