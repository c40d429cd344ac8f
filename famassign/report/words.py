"""Codes in words for people: staff members by name, languages, program options, outcomes and
intensities. Each helper returns the words alone; the page and the reports show the code beside
them where a planner may need it (a code a helper does not know comes back as it is)."""

from __future__ import annotations

from functools import lru_cache

import langcodes

from famassign.models import Scenario
from famassign.models.domain import OUTCOME_TITLES, Outcome

OPTION_WORDS = {
    "center_based": "Center-based",
    "home_based": "Home-based",
    "family_child_care": "Family child care",
    "locally_designed": "Locally designed",
}
"""Program options (45 CFR 1302 subpart B) in words."""
STATUS_WORDS = {"active": "active", "absent": "away (absent)", "departed": "departed"}
"""Staff statuses in words."""


def person(staff_id: str, name: str | None) -> str:
    """A staff member for people: ``Name (E1001)``, or the id alone when there is no name."""
    return f"{name} ({staff_id})" if name else staff_id


def staff_people(scenario: Scenario) -> dict[str, str]:
    """staff_id -> :func:`person` for every staff member of the scenario."""
    return {s.staff_id: person(s.staff_id, s.name) for s in scenario.staff}


@lru_cache(maxsize=512)
def language_words(code: str) -> str:
    """A language code's English name through ``langcodes`` (``es`` -> ``Spanish``); the code
    itself when it is not a valid language tag."""
    try:
        if not langcodes.tag_is_valid(code):
            return code
        return str(langcodes.Language.get(code).display_name())
    except (ValueError, LookupError):
        return code


def option_words(option: str) -> str:
    """A program option in words (``home_based`` -> ``Home-based``)."""
    return OPTION_WORDS.get(str(option), str(option))


def outcome_words(outcome: str) -> str:
    """A PFCE outcome in words (``well_being`` -> ``Family well-being``)."""
    try:
        return OUTCOME_TITLES[Outcome(str(outcome))]
    except ValueError:
        return str(outcome)


def status_words(status: str) -> str:
    """A staff status in words."""
    return STATUS_WORDS.get(str(status), str(status))


__all__ = [
    "OPTION_WORDS",
    "STATUS_WORDS",
    "language_words",
    "option_words",
    "outcome_words",
    "person",
    "staff_people",
    "status_words",
]
