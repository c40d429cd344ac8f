"""Codes in words for people (famassign.models.words), shared by the page and the outputs."""

from __future__ import annotations

import famassign as fa
from famassign.models.domain import Outcome, ProgramOption
from famassign.models.words import (
    language_name,
    language_words,
    option_name,
    option_words,
    outcome_name,
    outcomes_words,
    person,
    staff_people,
    status_name,
)


def test_codes_in_words_and_unknown_codes_as_they_are() -> None:
    assert language_name("es") == "Spanish"
    assert language_name("vi") == "Vietnamese"
    assert language_name("not a code!") == "not a code!"
    assert option_name("home_based") == "Home-based"
    assert option_name("other") == "other"
    assert outcome_name("well_being") == "Family well-being"
    assert outcome_name("other") == "other"
    assert status_name("absent") == "away (absent)"


def test_words_with_the_code_beside_them_for_files() -> None:
    assert language_words("es") == "Spanish (es)"
    assert language_words("other") == "other"
    assert option_words(ProgramOption.home_based) == "Home-based (home_based)"
    assert outcomes_words([Outcome.well_being, Outcome.learners]) == (
        "Family well-being (well_being); Families as learners (learners)"
    )


def test_staff_by_name_with_the_id_beside_it() -> None:
    assert person("E1001", "Ana Ruiz") == "Ana Ruiz (E1001)"
    assert person("E1001", None) == "E1001"
    scenario = fa.read_scenario(fa.example_path()).scenario
    people = staff_people(scenario)
    assert set(people) == {s.staff_id for s in scenario.staff}
    assert all(v.endswith(f"({k})") or v == k for k, v in people.items())
