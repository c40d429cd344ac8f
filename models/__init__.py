"""The famassign domain: families, staff, policy, cap exceptions, and the Scenario."""

from famassign.models.domain import (
    ALL_SITES,
    OUTCOME_TITLES,
    POLICY_CAP_LIMIT,
    CapException,
    Conflict,
    ExceptionKind,
    Family,
    Intensity,
    IntensityWeights,
    LanguagePolicy,
    Outcome,
    Policy,
    ProgramOption,
    Staff,
    StaffStatus,
    Weights,
)
from famassign.models.problems import LocatedProblem, Problem, ScenarioError
from famassign.models.scenario import Scenario, cross_record_problems, pin_breaks_rule

__all__ = [
    "ALL_SITES",
    "OUTCOME_TITLES",
    "POLICY_CAP_LIMIT",
    "CapException",
    "Conflict",
    "ExceptionKind",
    "Family",
    "Intensity",
    "IntensityWeights",
    "LanguagePolicy",
    "LocatedProblem",
    "Outcome",
    "Policy",
    "Problem",
    "ProgramOption",
    "Scenario",
    "ScenarioError",
    "Staff",
    "StaffStatus",
    "Weights",
    "cross_record_problems",
    "pin_breaks_rule",
]
