"""The staffing answer, verified independently: adding exactly the named staff places every family
with no exception (build_arrays + flow on a real Scenario), and one fewer of any does not."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from famassign.cli import app
from famassign.models import Scenario
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


@pytest.mark.parametrize(("config", "seed", "factor"), PROGRAMS)
def test_named_staff_place_everyone_and_none_can_be_dropped(
    config: GeneratorConfig, seed: int, factor: float
) -> None:
    program = grown(config, seed, factor)
    answer = staffing(program)
    assert answer.unplaced_without_exceptions > 0  # the question is not trivial
    assert answer.total_staff >= answer.lower_bound >= 1
    assert not answer.not_placeable
    hired = with_new_staff(program, answer)
    assert not hired.exceptions
    assert placed(hired) == len(program.families)
    for k in range(answer.total_staff):
        assert placed(with_new_staff(program, answer, drop=k)) < len(program.families), k
    # every named staff member serves exactly one language, site and option
    for s in answer.new_staff():
        assert len(s.languages) == len(s.sites) == len(s.program_options) == 1 and s.fte == 1


def test_waiver_program_needs_one_bilingual_advocate_and_the_waiver_carries_three() -> None:
    program = generate(GeneratorConfig(n_families=200, n_sites=3, waiver=True), seed=5)
    answer = staffing(program)
    assert answer.placed_with_exceptions == len(program.families)
    assert answer.unplaced_without_exceptions == 3  # the generator makes demand 40k + 3
    assert answer.total_staff == 1 and answer.proven_fewest
    need = answer.needs[0]
    assert need.language == "es" and need.unplaced_without_exceptions == 3
    (waiver,) = answer.exceptions
    assert (waiver.exception_id, waiver.places_above_cap, waiver.needed_by) == ("W-2026-01", 3, 3)
    assert placed(with_new_staff(program, answer)) == len(program.families)
    assert placed(with_new_staff(program, answer, drop=0)) == len(program.families) - 3


def test_well_staffed_program_needs_nobody() -> None:
    answer = staffing(generate(GeneratorConfig(n_families=150, n_sites=2), seed=7))
    assert answer.needs == () and answer.total_staff == 0 and answer.exceptions == ()
    assert "No additional staff" in answer.text()


def test_staffing_command_prints_the_answer() -> None:
    result = CliRunner().invoke(app, ["staffing", str(example_path())])
    assert result.exit_code == 0, result.output
    assert "Fewest additional full-time staff" in result.output
    assert "W-2026-01" in result.output
