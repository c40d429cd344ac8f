"""Codes in words for the people who read a plan: languages, program options and PFCE outcomes
each as its name with the code beside it (``Spanish (es)``, ``Center-based (center_based)``).

Only display text: nothing here is read back, so the codes in the scenario files stay the codes.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import langcodes

from famassign.models.domain import OUTCOME_TITLES, Outcome, ProgramOption

OPTION_TITLES: dict[ProgramOption, str] = {
    ProgramOption.center_based: "Center-based",
    ProgramOption.home_based: "Home-based",
    ProgramOption.family_child_care: "Family child care",
    ProgramOption.locally_designed: "Locally designed",
}
"""The program options as 45 CFR 1302 Subpart B names them."""


@lru_cache(maxsize=1024)
def language_words(code: str) -> str:
    """The language's English name with its code, ``Spanish (es)``; the code alone when
    ``langcodes`` does not know it (a program's own code, e.g. ``other``)."""
    try:
        if langcodes.tag_is_valid(code):
            name = langcodes.Language.get(code).display_name()
            if name and not name.lower().startswith("unknown"):
                return f"{name} ({code})"
    except (ValueError, LookupError):
        pass
    return code


def option_words(option: ProgramOption) -> str:
    """The program option's name with its code, ``Home-based (home_based)``."""
    return f"{OPTION_TITLES[option]} ({option.value})"


def outcomes_words(outcomes: Iterable[Outcome]) -> str:
    """PFCE outcomes by their titles with the codes, ``;``-separated:
    ``Family well-being (well_being); Families as learners (learners)``."""
    return "; ".join(f"{OUTCOME_TITLES[o]} ({o.value})" for o in outcomes)


__all__ = ["OPTION_TITLES", "language_words", "option_words", "outcomes_words"]
