"""Codes in words for the people who read a plan: staff members by name, languages, program
options, PFCE outcomes and staff statuses.

Two forms: ``*_name`` gives the words alone (``Spanish``), for a page that shows the code beside
them in its own markup; ``*_words`` gives the words with the code beside them (``Spanish (es)``),
for files. A code a helper does not know comes back as it is. Only display text: nothing here is
read back, so the codes in the scenario files stay the codes.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import langcodes

from famassign.models.domain import OUTCOME_TITLES, Outcome, ProgramOption
from famassign.models.scenario import Scenario

OPTION_TITLES: dict[ProgramOption, str] = {
    ProgramOption.center_based: "Center-based",
    ProgramOption.home_based: "Home-based",
    ProgramOption.family_child_care: "Family child care",
    ProgramOption.locally_designed: "Locally designed",
}
"""The program options as 45 CFR 1302 Subpart B names them."""
STATUS_TITLES = {"active": "active", "absent": "away (absent)", "departed": "departed"}
"""Staff statuses in words."""


def person(staff_id: str, name: str | None) -> str:
    """A staff member for people: ``Name (E1001)``, or the id alone when there is no name."""
    return f"{name} ({staff_id})" if name else staff_id


def staff_people(scenario: Scenario) -> dict[str, str]:
    """staff_id -> :func:`person` for every staff member of the scenario."""
    return {s.staff_id: person(s.staff_id, s.name) for s in scenario.staff}


@lru_cache(maxsize=1024)
def language_name(code: str) -> str:
    """A language code's English name through ``langcodes`` (``es`` -> ``Spanish``); the code
    itself when ``langcodes`` does not know it (a program's own code, e.g. ``other``)."""
    try:
        if langcodes.tag_is_valid(code):
            name = str(langcodes.Language.get(code).display_name())
            if name and not name.lower().startswith("unknown"):
                return name
    except (ValueError, LookupError):
        pass
    return code


def option_name(option: str | ProgramOption) -> str:
    """A program option in words (``home_based`` -> ``Home-based``)."""
    try:
        return OPTION_TITLES[ProgramOption(str(getattr(option, "value", option)))]
    except ValueError:
        return str(option)


def outcome_name(outcome: str | Outcome) -> str:
    """A PFCE outcome in words (``well_being`` -> ``Family well-being``)."""
    try:
        return OUTCOME_TITLES[Outcome(str(getattr(outcome, "value", outcome)))]
    except ValueError:
        return str(outcome)


def status_name(status: str) -> str:
    """A staff status in words."""
    return STATUS_TITLES.get(str(status), str(status))


def _with_code(words: str, code: str) -> str:
    return code if words == code else f"{words} ({code})"


def language_words(code: str) -> str:
    """The language's name with its code, ``Spanish (es)`` (the code alone when unknown)."""
    return _with_code(language_name(code), code)


def option_words(option: ProgramOption) -> str:
    """The program option's name with its code, ``Home-based (home_based)``."""
    return _with_code(option_name(option), option.value)


def outcomes_words(outcomes: Iterable[Outcome]) -> str:
    """PFCE outcomes by their titles with the codes, ``;``-separated:
    ``Family well-being (well_being); Families as learners (learners)``."""
    return "; ".join(_with_code(outcome_name(o), o.value) for o in outcomes)


__all__ = [
    "OPTION_TITLES",
    "STATUS_TITLES",
    "language_name",
    "language_words",
    "option_name",
    "option_words",
    "outcome_name",
    "outcomes_words",
    "person",
    "staff_people",
    "status_name",
]
