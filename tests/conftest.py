"""Shared test fixtures: a small valid scenario folder written from text, easy to spoil; the
hypothesis profiles; a client and the uploaded example for modules that run a server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from builders import write_files
from hypothesis import settings as hypothesis_settings
from server_process import ServerProcess, upload_folder

import famassign as fa

GOOD_FILES: dict[str, str] = {
    "scenario.yaml": """\
name: Test Head Start
as_of: 2026-08-17
policy:
  max_families_per_staff: 40
  prorate_by_fte: true
  language: required
weights:
  continuity: 30
exceptions:
  - exception_id: W2
    kind: start_up
    staff_id: s2
    max_families: 44
    starts: 2026-08-01
    ends: 2026-09-30
variants: []
""",
    "families.csv": """\
family_id,language,site,program_option,urgency,intensity,needs,interests,disability_services,external_plan_agency,current_staff_id,pinned
f1,en,North,center_based,5,high,well_being;learners,parent_child,true,,s1,true
f2,es,North,center_based,4,medium,transitions,,false,County Health,s1,false
f3,EN,South,,3,low,,,no,,,
f4,ar,South,home_based,2,2,connections,advocates_leaders,,,s3,
f5,en,North,center_based,1,1,,,,,,
f6,es,South,center_based,5,3,well_being,well_being;learners,yes,,,
f7,en,South,home_based,3,medium,lifelong_educators,,,,,
""",
    "staff.csv": """\
staff_id,name,fte,languages,sites,program_options,strengths,disability_services,agencies,status,max_families
s1,Ana,1,en;es,North;South,center_based,well_being;transitions,true,County Health,active,
s2,Ben,0.5,en,North,,learners,false,,active,
s3,Chloe,1,ar;en,*,home_based;center_based,connections,,,active,30
s4,Dev,1,en,*,,,,,absent,
""",
    "exceptions.csv": """\
exception_id,kind,staff_id,max_families,starts,ends,reference,note
W1,waiver,s1,45,2026-07-01,2027-06-30,HHS-ACF-2026-017,granted by the regional office
E9,emergency_response,,50,2025-01-01,2025-03-31,,expired storm recovery
""",
    "conflicts.csv": """\
family_id,staff_id,reason
f2,s2,neighbour
""",
}
"""A valid scenario: 7 families, 4 staff (one absent), a waiver, an expired exception, a
start-up exception in scenario.yaml and one conflict."""


@pytest.fixture
def good_files() -> dict[str, str | bytes]:
    """A fresh copy of the good scenario's files, to spoil in a test."""
    return dict(GOOD_FILES)


@pytest.fixture
def good_scenario_dir(tmp_path: Path) -> Path:
    """A folder holding the good scenario."""
    return write_files(tmp_path / "good", dict(GOOD_FILES))


# ---------------------------------------------------------------------- hypothesis profiles
# Every run (the README's command, CI) is derandomised: each property and fuzz test draws the
# same examples, with the counts written in its @settings, so a run passes or fails on the code,
# never by chance. A search for new failures draws at random: HYPOTHESIS_PROFILE=explore with
# the same counts, or HYPOTHESIS_PROFILE=release, which also multiplies each test's max_examples
# by FAMASSIGN_RELEASE_FACTOR (default 20); see docs/reliability.md. A failure found that way is
# kept as an @example of its test.

RELEASE_FACTOR = int(os.environ.get("FAMASSIGN_RELEASE_FACTOR", "20"))
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, database=None)
hypothesis_settings.register_profile("explore", deadline=None)
hypothesis_settings.register_profile("release", deadline=None, max_examples=100 * RELEASE_FACTOR)
_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "") or "ci"
hypothesis_settings.load_profile(_PROFILE)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under the release profile, scale the max_examples each hypothesis test fixes in its own
    @settings (a profile alone cannot: explicit settings win over the profile)."""
    if _PROFILE != "release":
        return
    seen: set[int] = set()
    for item in items:
        test = getattr(item, "obj", None)
        current = getattr(test, "_hypothesis_internal_use_settings", None)
        if not getattr(test, "is_hypothesis_test", False) or current is None or id(test) in seen:
            continue
        seen.add(id(test))
        test._hypothesis_internal_use_settings = hypothesis_settings(  # type: ignore[union-attr]
            current, max_examples=current.max_examples * RELEASE_FACTOR, deadline=None
        )


# ---------------------------------------------------------------------- browser tests in CI
BROWSER_TESTS = ("tests/test_report_browser.py::", "tests/test_page_browser.py::")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """End the run with one line saying how the Chromium tests came out, so that CI's log shows
    they ran (under CI=true a missing browser fails them, see tests/browsers.py)."""
    outcomes = {
        outcome: sum(1 for r in terminalreporter.stats.get(outcome, []) if _is_browser(r))
        for outcome in ("passed", "failed", "error", "skipped")
    }
    if any(outcomes.values()):
        said = ", ".join(f"{n} {outcome}" for outcome, n in outcomes.items() if n)
        terminalreporter.write_line(f"chromium tests: {said}")


def _is_browser(report: object) -> bool:
    return str(getattr(report, "nodeid", "")).startswith(BROWSER_TESTS)


# ---------------------------------------------------------------------- a running server
# A module that defines a `server` fixture (a running `famassign serve`, tests/server_process.py)
# gets a client signed in with its token and the bundled example uploaded through it.


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    """A client of the module's running server, with its token."""
    with server.client() as c:
        yield c


@pytest.fixture(scope="module")
def example_id(client: httpx.Client) -> str:
    """The id of the bundled example, uploaded to the module's running server."""
    response = upload_folder(client, fa.example_path())
    assert response.status_code == 201, response.text
    scenario_id: str = response.json()["id"]
    return scenario_id
