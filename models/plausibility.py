"""Warnings for settings that are valid but silently change results when they are a mistake.

A missing planning date (the plan then depends on the day it is run), dates far from the planning
date, and exception caps far above what a waiver or temporary exception plausibly allows.
"""

from __future__ import annotations

from datetime import date

from famassign.models.domain import POLICY_CAP_LIMIT
from famassign.models.problems import Problem
from famassign.models.scenario import Scenario

FAR_YEARS = 5
"""A date more than this many years from the planning date (or from today, for the planning date
itself) is reported: it is more often a typo than a plan."""

PLAUSIBLE_EXCEPTION_CAP = POLICY_CAP_LIMIT + POLICY_CAP_LIMIT // 2
"""An exception allowing more families than this (60, one and a half times the 40 of
1302.52(d)(2)) is reported: it is valid, but far above anything a relaxed caseload plausibly is."""


def _years_apart(a: date, b: date) -> float:
    return abs((a - b).days) / 365.25


def plausibility_warnings(scenario: Scenario, *, as_of_given: bool, today: date) -> list[Problem]:
    """Warnings (as :class:`Problem` s) about `scenario` settings that are probably mistakes.

    Parameters
    ----------
    scenario
        The checked scenario.
    as_of_given
        Whether the planning date was set (scenario.yaml ``as_of``), not defaulted to today.
    today
        The day of the run.

    Returns
    -------
    list of Problem
        One per finding, located at the table, row and column concerned.
    """
    found: list[Problem] = []
    if not as_of_given:
        found.append(
            Problem(
                "scenario",
                None,
                "as_of",
                f"no as_of: the planning date is today ({today.isoformat()}), so the plan "
                "(which exceptions are in force) depends on the day it is run; set as_of",
            )
        )
    elif _years_apart(scenario.as_of, today) > FAR_YEARS:
        found.append(
            Problem(
                "scenario",
                None,
                "as_of",
                f"as_of {scenario.as_of.isoformat()} is more than {FAR_YEARS} years from today: "
                "is it a typo?",
            )
        )
    for row, exception in enumerate(scenario.exceptions):
        for column in ("starts", "ends"):
            day: date = getattr(exception, column)
            if _years_apart(day, scenario.as_of) > FAR_YEARS:
                found.append(
                    Problem(
                        "exceptions",
                        row,
                        column,
                        f"{day.isoformat()} is more than {FAR_YEARS} years from as_of "
                        f"{scenario.as_of.isoformat()}: is it a typo?",
                    )
                )
        if exception.max_families > PLAUSIBLE_EXCEPTION_CAP:
            found.append(
                Problem(
                    "exceptions",
                    row,
                    "max_families",
                    f"{exception.max_families} families per staff member is far above any "
                    f"plausible relaxed caseload (more than {PLAUSIBLE_EXCEPTION_CAP}): "
                    "is it a typo?",
                )
            )
    return found


__all__ = ["FAR_YEARS", "PLAUSIBLE_EXCEPTION_CAP", "plausibility_warnings"]
