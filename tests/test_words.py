"""Codes in words for people (famassign.report.words): the page's one helper."""

from __future__ import annotations

import famassign as fa
from famassign.report.words import (
    language_words,
    option_words,
    outcome_words,
    person,
    staff_people,
    status_words,
)


def test_codes_in_words_and_unknown_codes_as_they_are() -> None:
    assert language_words("es") == "Spanish"
    assert language_words("vi") == "Vietnamese"
    assert language_words("not a code!") == "not a code!"
    assert option_words("home_based") == "Home-based"
    assert option_words("other") == "other"
    assert outcome_words("well_being") == "Family well-being"
    assert outcome_words("other") == "other"
    assert status_words("absent") == "away (absent)"


def test_staff_by_name_with_the_id_beside_it() -> None:
    assert person("E1001", "Ana Ruiz") == "Ana Ruiz (E1001)"
    assert person("E1001", None) == "E1001"
    scenario = fa.read_scenario(fa.example_path()).scenario
    people = staff_people(scenario)
    assert set(people) == {s.staff_id for s in scenario.staff}
    assert all(v.endswith(f"({k})") or v == k for k, v in people.items())
