"""The seeded program generator and the bundled example program."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.graph.python import max_flow

from famassign.models import ALL_SITES, ExceptionKind, Family, ProgramOption, Scenario, StaffStatus
from famassign.scenarios import PRESETS, GeneratorConfig, count_eligible_pairs, generate, scaled
from famassign.scenarios.example import SPRINGFIELD, example_path, springfield

DEFAULT_PRESETS = ["rural", "small", "medium", "large", "dense"]


def caps_of(scenario: Scenario, with_exceptions: bool = True) -> dict[str, int]:
    """Most families each active staff member may carry (exceptions in force when asked)."""
    in_force = scenario.exceptions_in_force() if with_exceptions else ()
    return {
        s.staff_id: max(
            [s.cap(scenario.policy)]
            + [e.cap_for(s, scenario.policy) for e in in_force if e.covers(s.staff_id)]
        )
        for s in scenario.staff
        if s.status is StaffStatus.active
    }


def max_placeable(scenario: Scenario, with_exceptions: bool = True) -> int:
    """Most families placeable under every hard rule (a family-level max flow)."""
    staff = [s for s in scenario.staff if s.status is StaffStatus.active]
    caps = caps_of(scenario, with_exceptions)
    conflicts = {(c.family_id, c.staff_id) for c in scenario.conflicts}
    n = len(scenario.families)
    source, sink = n + len(staff), n + len(staff) + 1
    graph = max_flow.SimpleMaxFlow()
    for i, f in enumerate(scenario.families):
        graph.add_arc_with_capacity(source, i, 1)
        for j, s in enumerate(staff):
            if (
                f.language in s.languages
                and s.serves_site(f.site)
                and f.program_option in s.program_options
                and (f.family_id, s.staff_id) not in conflicts
            ):
                graph.add_arc_with_capacity(i, n + j, 1)
    for j, s in enumerate(staff):
        graph.add_arc_with_capacity(n + j, sink, caps[s.staff_id])
    assert graph.solve(source, sink) == graph.OPTIMAL
    return int(graph.optimal_flow())


def assert_current_plan_valid(scenario: Scenario) -> None:
    """Current assignments are eligible, active, conflict-free and within caps; pins are sound."""
    by_id = scenario.staff_by_id
    caps = caps_of(scenario)
    conflicts = {(c.family_id, c.staff_id) for c in scenario.conflicts}
    load: Counter[str] = Counter()
    for f in scenario.families:
        if f.current_staff_id is None:
            assert not f.pinned
            continue
        s = by_id[f.current_staff_id]
        assert f.language in s.languages, f
        assert s.serves_site(f.site), f
        assert f.program_option in s.program_options, f
        assert (f.family_id, s.staff_id) not in conflicts
        if f.pinned:
            assert s.status is StaffStatus.active
        load[s.staff_id] += 1
    for staff_id, n in load.items():
        s = by_id[staff_id]
        # absent staff carried their families within the policy cap before they left
        limit = caps.get(staff_id, s.cap(scenario.policy))
        assert n <= limit, (staff_id, n, limit)


def assert_ids_unique(scenario: Scenario) -> None:
    for ids in (
        [f.family_id for f in scenario.families],
        [s.staff_id for s in scenario.staff],
        [e.exception_id for e in scenario.exceptions],
        [(c.family_id, c.staff_id) for c in scenario.conflicts],
    ):
        assert len(ids) == len(set(ids))


@pytest.mark.parametrize("preset", DEFAULT_PRESETS)
def test_preset_validates_and_fits(preset: str) -> None:
    scenario = generate(preset, seed=1)
    assert isinstance(scenario, Scenario)
    assert len(scenario.families) == PRESETS[preset].n_families
    assert_ids_unique(scenario)
    assert len({f.site for f in scenario.families}) == PRESETS[preset].n_sites
    # total capacity is above the families, with modest slack in programs of some size
    capacity = sum(caps_of(scenario).values())
    assert capacity >= len(scenario.families)
    if PRESETS[preset].n_families >= 2_000:
        assert capacity <= 1.2 * len(scenario.families)
    # every family has somebody eligible
    assert count_eligible_pairs(scenario) >= len(scenario.families)


def test_state_preset() -> None:
    scenario = generate("state", seed=0)
    assert len(scenario.families) == 30_000
    assert_ids_unique(scenario)


@pytest.mark.parametrize("preset", ["rural", "small", "medium"])
def test_deterministic_for_a_seed(preset: str) -> None:
    assert generate(preset, seed=7) == generate(preset, seed=7)
    assert generate(preset, seed=7) != generate(preset, seed=8)


def test_every_family_placeable_in_small_presets() -> None:
    for preset in ("rural", "small"):
        scenario = generate(preset, seed=3)
        assert max_placeable(scenario) == len(scenario.families)


def test_unknown_preset_names_the_presets() -> None:
    with pytest.raises(ValueError, match="rural"):
        generate("huge")


@pytest.mark.parametrize(
    "bad",
    [
        {"n_families": 0},
        {"n_sites": 0},
        {"slack": -0.1},
        {"languages": {}},
        {"program_options": {"nursery": 1.0}},
        {"n_sites": 2, "site_names": ("A",)},
        {"rare_intensity": (0.0, 0.0, 0.0)},
        {"rare_intensity": (1.0, -1.0, 1.0)},
    ],
)
def test_config_rejects_nonsense(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        GeneratorConfig(**bad)  # type: ignore[arg-type]


def test_newcomers_families_of_rarer_languages_are_all_high_intensity() -> None:
    program = generate(scaled("newcomers", 2_000), seed=1)
    rare = [f for f in program.families if f.language not in ("en", "es")]
    assert len(rare) > 100
    assert {f.intensity.value for f in rare} == {"high"}
    others = {f.intensity.value for f in program.families if f.language in ("en", "es")}
    assert others == {"low", "medium", "high"}


def test_proportions_roughly_as_configured() -> None:
    scenario = generate("large", seed=11)
    families = scenario.families
    n = len(families)

    def share(pred: Callable[[Family], bool]) -> float:
        return sum(1 for f in families if pred(f)) / n

    assert share(lambda f: f.language == "en") == pytest.approx(0.65, abs=0.06)
    assert share(lambda f: f.language == "es") == pytest.approx(0.28, abs=0.06)
    assert {f.language for f in families} >= {"en", "es", "ar", "vi", "zh", "so", "ht"}
    opt = ProgramOption
    assert share(lambda f: f.program_option is opt.center_based) == pytest.approx(0.80, abs=0.03)
    assert share(lambda f: f.program_option is opt.home_based) == pytest.approx(0.15, abs=0.03)
    assert share(lambda f: f.program_option is opt.family_child_care) == pytest.approx(
        0.04, abs=0.015
    )
    assert share(lambda f: f.intensity.value == "low") == pytest.approx(0.45, abs=0.03)
    assert share(lambda f: f.intensity.value == "high") == pytest.approx(0.20, abs=0.03)
    assert share(lambda f: 2 <= f.urgency <= 4) == pytest.approx(0.82, abs=0.03)
    assert share(lambda f: f.disability_services) == pytest.approx(0.12, abs=0.02)
    assert share(lambda f: f.external_plan_agency is not None) == pytest.approx(0.10, abs=0.02)
    assert share(lambda f: len(f.needs) > 0) > 0.5

    staff = scenario.staff
    assert all(2 <= len(s.strengths) <= 4 for s in staff)
    part_time = sum(s.fte < 1 for s in staff) / len(staff)
    assert 0.08 <= part_time <= 0.35
    assert all(s.fte >= 0.5 for s in staff)
    assert sum(s.disability_services for s in staff) / len(staff) == pytest.approx(0.2, abs=0.07)
    home_visitors = [s for s in staff if ProgramOption.center_based not in s.program_options]
    assert home_visitors
    assert all(ProgramOption.home_based in s.program_options for s in home_visitors)
    bilingual = [s for s in staff if "es" in s.languages]
    assert 0.15 <= len(bilingual) / len(staff) <= 0.45
    assert any(ALL_SITES in s.sites or len(s.sites) > 2 for s in staff if "so" in s.languages)


def test_realistic_and_dense_eligibility() -> None:
    sparse = generate("large", seed=0)
    dense = generate("dense", seed=0)
    assert 80_000 <= count_eligible_pairs(sparse) <= 250_000
    assert count_eligible_pairs(dense) >= 1_000_000
    assert all(s.sites == (ALL_SITES,) for s in dense.staff)
    # dense differs from large only in the sites staff serve
    assert [f.family_id for f in dense.families] == [f.family_id for f in sparse.families]


def test_current_plan_pins_conflicts_and_exceptions() -> None:
    config = replace(
        PRESETS["medium"],
        with_current_assignments=True,
        pinned_share=0.05,
        conflicts_share=0.03,
        waiver=True,
        expired_exception=True,
        absent_staff=2,
    )
    scenario = generate(config, seed=5)
    assert_current_plan_valid(scenario)
    assert all(f.current_staff_id for f in scenario.families)
    assert sum(f.pinned for f in scenario.families) == pytest.approx(0.05 * 2_000, abs=10)
    assert len(scenario.conflicts) >= 0.02 * 2_000
    absent = [s for s in scenario.staff if s.status is StaffStatus.absent]
    assert len(absent) == 2
    assert all(any(f.current_staff_id == s.staff_id for f in scenario.families) for s in absent)
    (waiver,) = scenario.exceptions_in_force()
    assert waiver.kind is ExceptionKind.waiver and waiver.reference
    assert any("expired" in note for note in scenario.exception_notes())
    # the waiver is what places everyone: without it three families have no place
    n = len(scenario.families)
    assert max_placeable(scenario) == n
    assert max_placeable(scenario, with_exceptions=False) == n - 3


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    n_families=st.integers(20, 300),
    n_sites=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
    waiver=st.booleans(),
    absent=st.integers(0, 1),
    dense=st.booleans(),
    pinned=st.sampled_from([0.0, 0.1]),
    conflicts=st.sampled_from([0.0, 0.05]),
    es_share=st.floats(0.0, 0.6),
)
def test_generated_programs_are_always_valid(
    n_families: int,
    n_sites: int,
    seed: int,
    waiver: bool,
    absent: int,
    dense: bool,
    pinned: float,
    conflicts: float,
    es_share: float,
) -> None:
    config = GeneratorConfig(
        n_families=n_families,
        n_sites=n_sites,
        languages={"en": 1.0 - es_share, "es": es_share, "ar": 0.03, "vi": 0.02},
        with_current_assignments=True,
        current_share=0.9,
        pinned_share=pinned,
        conflicts_share=conflicts,
        waiver=waiver,
        expired_exception=waiver,
        absent_staff=absent,
        dense=dense,
    )
    scenario = generate(config, seed)  # building the Scenario runs every cross-record check
    assert len(scenario.families) == n_families
    assert_ids_unique(scenario)
    assert_current_plan_valid(scenario)
    assert max_placeable(scenario) == n_families


# ---------------------------------------------------------------------------------------------
# the bundled example


def test_example_folder_has_the_files() -> None:
    folder = example_path()
    assert folder.is_dir()
    for name in ("families.csv", "staff.csv", "conflicts.csv", "scenario.yaml"):
        assert (folder / name).is_file(), name


def test_example_program_shows_every_feature() -> None:
    scenario = springfield()
    families, staff = scenario.families, scenario.staff
    assert 350 <= len(families) <= 450
    assert 4 <= len({f.site for f in families}) <= 6
    assert scenario.as_of.isoformat() == "2026-08-17"
    assert sum(f.language == "es" for f in families) >= 100
    assert any(f.program_option is ProgramOption.home_based for f in families)
    assert any(
        ProgramOption.home_based in s.program_options
        and ProgramOption.center_based not in s.program_options
        for s in staff
    )
    assert sum(s.fte < 1 for s in staff) >= 2
    absent = [s for s in staff if s.status is StaffStatus.absent]
    assert len(absent) == 1
    assert any(f.current_staff_id == absent[0].staff_id for f in families)
    assert sum(f.current_staff_id is not None for f in families) >= 0.8 * len(families)
    assert 1 <= sum(f.pinned for f in families) <= 3
    assert 3 <= len(scenario.conflicts) <= 10
    assert_current_plan_valid(scenario)

    (waiver,) = scenario.exceptions_in_force()
    assert waiver.kind is ExceptionKind.waiver
    assert waiver.reference and waiver.max_families in (44, 45)
    expired = [e for e in scenario.exceptions if e.ends < scenario.as_of]
    assert len(expired) == 1 and expired[0].kind.temporary
    assert any(expired[0].exception_id in note for note in scenario.exception_notes())
    # the waiver is needed: without it some Spanish-speaking families cannot be placed
    assert max_placeable(scenario) == len(families)
    assert max_placeable(scenario, with_exceptions=False) < len(families)


def test_example_files_load_as_the_generated_program() -> None:
    loading = pytest.importorskip("famassign.models.loading")
    loaded = loading.load_scenario(example_path())
    expected = springfield()
    assert loaded.name == SPRINGFIELD.name
    assert loaded.as_of == expected.as_of
    assert loaded.families == expected.families
    assert loaded.staff == expected.staff
    assert loaded.exceptions == expected.exceptions
    assert loaded.conflicts == expected.conflicts
    assert loaded.policy == expected.policy
