"""The staffing answer, verified independently: the fewest people equal an independent
family-level MIP (written here from docs/variants.md, sharing no code with scenarios/hiring.py),
with and without `hiring:` profiles; adding the hires to staff.csv places every family with no
exception (build_arrays + flow on a real Scenario), and one fewer of any does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix
from typer.testing import CliRunner

from famassign.cli import app
from famassign.models import Scenario, StaffStatus
from famassign.models.loading import read_scenario_files
from famassign.models.writing import write_scenario
from famassign.scenarios import GeneratorConfig, generate
from famassign.scenarios.example import example_path
from famassign.scenarios.staffing import staffing, with_new_staff
from famassign.scenarios.variants import apply_variant, parse_variants
from famassign.solver.arrays import build_arrays
from famassign.solver.flow import solve_flow


def placed(scenario: Scenario) -> int:
    return solve_flow(build_arrays(scenario)).placed


def grown(config: GeneratorConfig, seed: int, factor: float) -> Scenario:
    """A generated program whose enrollment grew by `factor` without new staff."""
    variants, problems = parse_variants(
        [{"name": "growth", "changes": [{"scale_enrollment": {"factor": factor}}]}]
    )
    assert not problems
    return apply_variant(generate(config, seed), variants[0], seed)


PROGRAMS = [
    (GeneratorConfig(n_families=120, n_sites=2), 1, 1.6),
    (GeneratorConfig(n_families=250, n_sites=3), 2, 1.5),
    (GeneratorConfig(n_families=300, n_sites=4, part_time_share=0.3), 3, 1.3),
]


def _default_profiles(sc: Scenario) -> list[dict[str, Any]]:
    """docs/variants.md: per site, English alone or English and one other language of the
    families there, every option of the families there, full-time, cost 1."""
    profiles = []
    for site in sorted({f.site for f in sc.families}):
        here = [f for f in sc.families if f.site == site]
        options = {f.program_option for f in here}
        for other in [None, *sorted({f.language for f in here} - {"en"})]:
            languages = {"en"} if other is None else {"en", other}
            profiles.append(
                {"languages": languages, "sites": {site}, "options": options, "fte": 1.0, "cost": 1}
            )
    return profiles


def independent_fewest_people(sc: Scenario, profiles: list[dict[str, Any]]) -> tuple[int, float]:
    """(fewest people, least cost among them) placing every family with no exception: one binary
    per family x existing staff member or profile, an integer count per profile (HiGHS)."""
    staff = [s for s in sc.staff if s.status is StaffStatus.active]
    conflicts = {(c.family_id, c.staff_id) for c in sc.conflicts}
    cap = []
    for s in staff:
        c = int(sc.policy.max_families_per_staff * s.fte + 1e-9)
        cap.append(c if s.max_families is None else min(c, s.max_families))
    cap += [int(sc.policy.max_families_per_staff * p["fte"] + 1e-9) for p in profiles]
    receivers = len(staff) + len(profiles)
    pairs = []
    for i, f in enumerate(sc.families):
        for j, s in enumerate(staff):
            pinned_elsewhere = f.pinned and f.current_staff_id != s.staff_id
            if (
                f.language in s.languages
                and ("*" in s.sites or f.site in s.sites)
                and f.program_option in s.program_options
                and (f.family_id, s.staff_id) not in conflicts
                and not pinned_elsewhere
            ):
                pairs.append((i, j))
        for p, prof in enumerate(profiles):
            if (
                not f.pinned
                and f.language in prof["languages"]
                and f.site in prof["sites"]
                and f.program_option in prof["options"]
            ):
                pairs.append((i, len(staff) + p))
    n_pairs, n_fam = len(pairs), len(sc.families)
    n_var = n_pairs + len(profiles)
    rows = [i for i, _ in pairs] + [n_fam + r for _, r in pairs]
    cols = list(range(n_pairs)) * 2
    vals = [1.0] * (2 * n_pairs)
    for p in range(len(profiles)):  # profile rows: assigned - cap x count <= 0
        rows.append(n_fam + len(staff) + p)
        cols.append(n_pairs + p)
        vals.append(-float(cap[len(staff) + p]))
    a = coo_matrix((vals, (rows, cols)), shape=(n_fam + receivers, n_var)).tocsr()
    upper = np.array(cap[: len(staff)] + [0] * len(profiles), dtype=float)
    constraints = [
        LinearConstraint(a[:n_fam], 1, 1),
        LinearConstraint(a[n_fam:], -np.inf, upper),
    ]
    bounds = Bounds(0, np.r_[np.ones(n_pairs), np.full(len(profiles), n_fam)])
    integrality = np.ones(n_var)
    people = np.r_[np.zeros(n_pairs), np.ones(len(profiles))]
    first = milp(people, constraints=constraints, bounds=bounds, integrality=integrality)
    assert first.status == 0, first.message
    constraints.append(LinearConstraint(people[None, :], -np.inf, round(first.fun) + 1e-6))
    cost = np.r_[np.zeros(n_pairs), [p["cost"] * p["fte"] for p in profiles]]
    second = milp(cost, constraints=constraints, bounds=bounds, integrality=integrality)
    assert second.status == 0, second.message
    return round(first.fun), round(second.fun, 6)


@pytest.mark.parametrize(("config", "seed", "factor"), PROGRAMS)
def test_fewest_people_equal_an_independent_mip_and_place_everyone(
    config: GeneratorConfig, seed: int, factor: float
) -> None:
    program = grown(config, seed, factor)
    answer = staffing(program)
    assert answer.unplaced_without_exceptions > 0  # the question is not trivial
    assert answer.places_everyone and answer.people.proven
    people = answer.people
    assert (people.people, people.cost) == independent_fewest_people(
        program, _default_profiles(program)
    )
    assert people.people <= answer.total_staff  # a person may serve several groups
    hired = with_new_staff(program, answer)
    assert not hired.exceptions
    assert placed(hired) == len(program.families)
    for k in range(people.people):
        assert placed(with_new_staff(program, answer, drop=k)) < len(program.families), k
    # each hire is a default profile: English and at most one other language, one site
    for s in people.staff():
        assert "en" in s.languages and len(s.languages) <= 2 and len(s.sites) == 1


def test_hiring_profiles_and_site_groups_equal_an_independent_mip() -> None:
    program = grown(GeneratorConfig(n_families=120, n_sites=2), 1, 1.6)
    sites = sorted({f.site for f in program.families})
    languages = sorted({f.language for f in program.families})
    own: list[dict[str, Any]] = [
        {"name": "all-both", "languages": languages, "sites": sites, "fte": [0.5, 1.0], "cost": 3},
        {"name": "en-es", "languages": ["en", "es"], "sites": sites[:1], "fte": [0.5, 1.0]},
        {"name": "en", "languages": ["en"], "sites": sites, "fte": 1.0, "cost": 1.5},
    ]
    with_profiles = program.rebuilt(hiring={"profiles": own})
    answer = staffing(with_profiles)
    options = {f.program_option for f in program.families}
    expected = [
        {
            "languages": set(p["languages"]),
            "sites": set(p["sites"]),
            "options": options,
            "fte": fte,
            "cost": p.get("cost", 1),
        }
        for p in own
        for fte in (p["fte"] if isinstance(p["fte"], list) else [p["fte"]])
    ]
    assert answer.places_everyone and answer.people.proven
    assert (answer.people.people, answer.people.cost) == independent_fewest_people(
        with_profiles, expected
    )
    assert placed(with_new_staff(with_profiles, answer)) == len(program.families)
    # sites close enough to share an advocate: the default profiles plus one per site group
    shared = program.rebuilt(hiring={"site_groups": [sites]})
    answer = staffing(shared)
    others = [{"en", lang} for lang in sorted(set(languages) - {"en"})]
    by_site = _default_profiles(program) + [
        {"languages": spoken, "sites": set(sites), "options": options, "fte": 1.0, "cost": 1}
        for spoken in [{"en"}, *others]
    ]
    assert (answer.people.people, answer.people.cost) == independent_fewest_people(shared, by_site)


def test_waiver_program_needs_one_bilingual_advocate_and_the_waiver_carries_three() -> None:
    program = generate(GeneratorConfig(n_families=200, n_sites=3, waiver=True), seed=5)
    answer = staffing(program)
    assert answer.placed_with_exceptions == len(program.families)
    assert answer.unplaced_without_exceptions == 3  # the generator makes demand 40k + 3
    assert answer.total_staff == 1 and answer.proven_fewest
    (hire,) = answer.people.hires  # one person: English and Spanish, serving that site
    assert hire.profile.languages == ("en", "es") and answer.people.proven
    need = answer.needs[0]
    assert need.language == "es" and need.unplaced_without_exceptions == 3
    (waiver,) = answer.exceptions
    assert (waiver.exception_id, waiver.places_above_cap, waiver.needed_by) == ("W-2026-01", 3, 3)
    assert placed(with_new_staff(program, answer)) == len(program.families)
    assert placed(with_new_staff(program, answer, drop=0)) == len(program.families) - 3


def test_well_staffed_program_needs_nobody() -> None:
    answer = staffing(generate(GeneratorConfig(n_families=150, n_sites=2), seed=7))
    assert answer.needs == () and answer.total_staff == 0 and answer.exceptions == ()
    assert answer.people.hires == () and answer.places_everyone
    assert "No one needs to be hired" in answer.text()


def test_staffing_command_writes_hires_that_place_everyone_in_staff_csv(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["staffing", str(example_path()), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Fewest people to hire" in result.output and "W-2026-01" in result.output
    hires = pd.read_csv(out / "hires.csv", dtype=str)
    assert list(hires.columns[:5]) == ["hire", "profile", "fte", "languages", "sites"]
    assert "program_options" in hires.columns and len(hires) == 1
    # the hires as rows of staff.csv, every exception withdrawn: every family placed
    example = read_scenario_files(example_path()).scenario
    folder = write_scenario(example.rebuilt(exceptions=()), tmp_path / "hired")
    staff_csv = pd.read_csv(folder / "staff.csv", dtype=str, keep_default_na=False)
    rows = [
        {
            "staff_id": h["hire"],
            "fte": h["fte"],
            "languages": h["languages"],
            "sites": h["sites"],
            "program_options": h["program_options"],
            "status": "active",
        }
        for h in hires.to_dict("records")
    ]
    pd.concat([staff_csv, pd.DataFrame(rows)]).fillna("").to_csv(folder / "staff.csv", index=False)
    hired = read_scenario_files(folder).scenario
    assert len(hired.staff) == len(example.staff) + 1
    assert placed(hired) == len(hired.families)


def test_staffing_exits_3_naming_families_no_allowed_profile_places(tmp_path: Path) -> None:
    example = read_scenario_files(example_path()).scenario
    only_english = {"profiles": [{"languages": ["en"], "sites": ["*"]}]}
    folder = write_scenario(example.rebuilt(hiring=only_english), tmp_path / "sc")
    result = CliRunner().invoke(app, ["staffing", str(folder)])
    assert result.exit_code == 3, result.output
    assert result.output.count("not placeable:") == 3
    assert "no allowed hiring profile serves language es" in result.output
    bad = write_scenario(example.rebuilt(hiring={"profiles": [{"sites": ["x"]}]}), tmp_path / "b")
    result = CliRunner().invoke(app, ["staffing", str(bad)])
    assert result.exit_code == 2 and "hiring.profiles[0]" in result.output
