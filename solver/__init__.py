"""Solving: Scenario to arrays, an exact flow plan, workload balance, an independent evaluator."""

from famassign.solver.evaluator import Evaluation, evaluate
from famassign.solver.options import (
    COMPARE_TIME_LIMIT,
    PAGE_TIME_LIMIT,
    PLAN_TIME_LIMIT,
    SWEEP_TIME_LIMIT,
    OptionsError,
    PlanOptions,
)
from famassign.solver.result import (
    Assignment,
    Caseload,
    ObjectiveTerms,
    Result,
    SolveStatus,
    Unplaced,
)
from famassign.solver.solve import Progress, solve

__all__ = [
    "COMPARE_TIME_LIMIT",
    "PAGE_TIME_LIMIT",
    "PLAN_TIME_LIMIT",
    "SWEEP_TIME_LIMIT",
    "Assignment",
    "Caseload",
    "Evaluation",
    "ObjectiveTerms",
    "OptionsError",
    "PlanOptions",
    "Progress",
    "Result",
    "SolveStatus",
    "Unplaced",
    "evaluate",
    "solve",
]
