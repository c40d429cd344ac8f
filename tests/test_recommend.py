"""Recommend: exclusion rules by name, score terms, agreement with solve, and the CLI."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from builders import AS_OF, fam, staff, waiver
from typer.testing import CliRunner

from famassign.cli import app
from famassign.models import CapException, Conflict, Family, Scenario
from famassign.models.writing import write_scenario
from famassign.scenarios import GeneratorConfig, generate
from famassign.solver import solve
from famassign.solver.options import PlanOptions
from famassign.solver.recommend import TERM_NAMES, Candidate, RecommendError, recommend

runner = CliRunner()


def rules_program() -> Scenario:
    """One family X (ar, North, home_based) and one staff member per excluding rule."""
    fams = [
        fam(
            "X",
            language="ar",
            program_option="home_based",
            urgency=4,
            needs=("well_being", "learners"),
            interests=("parent_child",),
            external_plan_agency="County Health",
            current_staff_id="OK2",
        )
    ]
    fams += [fam(f"F{i}", language="ar", current_staff_id="FULL") for i in range(40)]
    fams += [fam(f"G{i}", language="ar", current_staff_id="WAIVED") for i in range(42)]
    ar = ("ar", "en")
    team = (
        staff("OK1", languages=ar, strengths=("well_being", "learners", "parent_child")),
        staff("OK2", languages=ar, agencies=("County Health",)),
        staff("FULL", languages=ar),
        staff("WAIVED", languages=ar),
        staff("ENONLY"),
        staff("SOUTH", languages=ar, sites=("South",)),
        staff("CENTER", languages=ar, program_options=("center_based",)),
        staff("AWAY", languages=ar, status="absent"),
        staff("GONE", languages=ar, status="departed"),
        staff("FEUD", languages=ar),
    )
    return Scenario(
        as_of=AS_OF,
        families=tuple(fams),
        staff=team,
        exceptions=(waiver(staff_id="WAIVED", max_families=42),),
        conflicts=(Conflict(family_id="X", staff_id="FEUD", reason="relative"),),
    )


def test_every_other_staff_member_is_excluded_by_a_named_rule() -> None:
    rec = recommend(rules_program(), "X", top=5)
    assert sorted(c.staff_id for c in rec.candidates) == ["OK1", "OK2"]
    rules = {e.staff_id: e.rule for e in rec.excluded}
    assert rules == {
        "FULL": "at cap 40/40",
        "WAIVED": "at cap 42/42 under exception W1",
        "ENONLY": "does not speak ar",
        "SOUTH": "does not serve site North",
        "CENTER": "does not serve option home_based",
        "AWAY": "absent",
        "GONE": "departed",
        "FEUD": "in conflict",
    }


def test_candidate_terms_sum_to_the_solver_pair_score() -> None:
    """OK1: strengths match 2 needs and 1 interest at urgency 4 = 4*(4*2 + 2*1) = 40, plus
    language 60 = 100. OK2: continuity 30 + agency 15 + language 60 = 105, so OK2 ranks first."""
    rec = recommend(rules_program(), "X")
    by_id = {c.staff_id: c for c in rec.candidates}
    ok1, ok2 = by_id["OK1"], by_id["OK2"]
    assert ok1.terms == {
        "language": 60,
        "site": 0,
        "needs": 32,
        "interests": 8,
        "disability": 0,
        "agency": 0,
        "continuity": 0,
    }
    assert ok1.score == 100 and ok2.score == 105
    assert list(ok1.terms) == list(TERM_NAMES)
    assert [c.staff_id for c in rec.candidates] == ["OK2", "OK1"]
    assert (ok2.families_after, ok2.cap, ok2.exception_id) == (1, 40, None)
    assert ok1.load_per_fte_after == 1.0  # medium (2) x 0.5: another agency holds a plan


def test_a_new_family_record_not_in_the_scenario_works() -> None:
    sc = rules_program()
    new = fam("NEW", language="ar", program_option="home_based", urgency=5, needs=("parent_child",))
    rec = recommend(sc, new, top=1)
    assert rec.new_family and rec.family_id == "NEW"
    assert [c.staff_id for c in rec.candidates] == ["OK1"]  # 60 + 5*4*1 strengths points
    assert rec.candidates[0].score == 80
    # OK2 and FEUD both score 60 (no conflict for the new family); FEUD carries less load.
    assert rec.also_eligible == ("FEUD", "OK2")
    excluded = {e.staff_id for e in rec.excluded}
    assert excluded == {"FULL", "WAIVED", "ENONLY", "SOUTH", "CENTER", "AWAY", "GONE"}


def test_unknown_family_and_bad_top_are_errors() -> None:
    with pytest.raises(RecommendError, match="unknown family_id 'nope'"):
        recommend(rules_program(), "nope")
    with pytest.raises(RecommendError, match="top"):
        recommend(rules_program(), "X", top=0)


def test_above_cap_places_rank_last_and_name_the_exception() -> None:
    """W has a waiver to 45 and 40 families; P has room. W's match is higher, but the solver
    uses an exception place only when needed, so P ranks first."""
    fams = [fam(f"W{i}", current_staff_id="W") for i in range(40)]
    fams.append(fam("X", needs=("learners",)))
    sc = Scenario(
        as_of=AS_OF,
        families=tuple(fams),
        staff=(staff("W", strengths=("learners",)), staff("P")),
        exceptions=(
            CapException(
                exception_id="WV",
                kind="waiver",
                staff_id="W",
                max_families=45,
                starts=AS_OF,
                ends=date(2027, 1, 1),
                reference="R",
            ),
        ),
    )
    rec = recommend(sc, "X")
    assert [c.staff_id for c in rec.candidates] == ["P", "W"]
    w = rec.candidates[1]
    assert w.above_cap and w.exception_id == "WV" and (w.families_after, w.cap) == (41, 40)
    assert solve(sc, PlanOptions(time_limit=2)).plan()["X"] == "P"


def _key(c: Candidate) -> tuple[bool, int, float]:
    return (c.above_cap, c.score, c.load_per_fte_after)


def _check_agrees(sc: Scenario, family: Family) -> None:
    """Solve places `family` where recommend ranks first (or on a candidate tied with it on every
    ranking term: exception place, score, load per FTE after)."""
    rec = recommend(sc, family, top=50)
    placed = solve(sc, PlanOptions(time_limit=2, deterministic=True)).plan()[family.family_id]
    if rec.best is None:
        assert placed is None
        return
    tied = [c.staff_id for c in rec.candidates if _key(c) == _key(rec.best)]
    assert placed in tied
    if len(tied) == 1:
        assert placed == rec.best.staff_id


def _strict(sc: Scenario) -> Scenario:
    """Balancing may not give up any match (see the recommend docstring)."""
    weights = sc.weights.model_copy(update={"balance_match_tolerance": 0.0})
    return sc.model_copy(update={"weights": weights})


def test_recommend_agrees_with_solve_for_a_family_placed_alone() -> None:
    """Each family of a generated program, alone with all the staff: the top recommendation is
    the staff member solve assigns."""
    program = generate(GeneratorConfig(n_families=120, n_sites=3), seed=11)
    unique = 0
    for f in program.families[:30]:
        alone = _strict(program.model_copy(update={"families": (f,)}))
        alone = Scenario.model_validate(alone.model_dump())
        _check_agrees(alone, f)
        rec = recommend(alone, f, top=50)
        if rec.best and sum(_key(c) == _key(rec.best) for c in rec.candidates) == 1:
            unique += 1
    assert unique >= 20


def test_recommend_agrees_with_solve_for_a_new_family_when_the_others_are_pinned() -> None:
    """Every current family pinned; one new family enrolls: solve places it on the top pick."""
    program = generate(
        GeneratorConfig(n_families=200, n_sites=2, with_current_assignments=True), seed=12
    )
    pinned = tuple(
        f.model_copy(update={"pinned": True}) if f.current_staff_id else f
        for f in program.families
        if f.current_staff_id
    )
    base = _strict(
        Scenario.model_validate(program.model_copy(update={"families": pinned}).model_dump())
    )
    unique = 0
    for template in program.families[:12]:
        new = template.model_copy(
            update={
                "family_id": f"NEW-{template.family_id}",
                "current_staff_id": None,
                "pinned": False,
            }
        )
        with_new = Scenario.model_validate(
            base.model_copy(update={"families": (*base.families, new)}).model_dump()
        )
        _check_agrees(with_new, new)
        rec = recommend(base, new, top=50)
        if rec.best and sum(_key(c) == _key(rec.best) for c in rec.candidates) == 1:
            unique += 1
    assert unique >= 6


# ----------------------------------------------------------------------------- CLI


def test_cli_prints_the_ranking_and_the_rules(tmp_path: Path) -> None:
    folder = write_scenario(rules_program(), tmp_path / "prog")
    res = runner.invoke(app, ["recommend", str(folder), "--family", "X", "--top", "1"])
    assert res.exit_code == 0, res.output
    assert "OK2" in res.output and "105" in res.output
    assert "Also eligible" in res.output and "OK1" in res.output
    for text in (
        "at cap 40/40",
        "does not speak ar",
        "absent",
        "in conflict",
        "does not serve site North",
    ):
        assert text in res.output
    assert "County Health" not in res.output  # identifiers and rule texts only


def test_cli_no_candidate_exits_3(tmp_path: Path) -> None:
    sc = Scenario(as_of=AS_OF, families=(fam("X", language="so"),), staff=(staff("A"),))
    folder = write_scenario(sc, tmp_path / "prog")
    res = runner.invoke(app, ["recommend", str(folder), "--family", "X"])
    assert res.exit_code == 3
    assert "does not speak so" in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--family", "nope"], "unknown family_id 'nope'"),
        (["--family", "X", "--top", "0"], "--top must be at least 1"),
    ],
)
def test_cli_bad_arguments_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    folder = write_scenario(rules_program(), tmp_path / "prog")
    res = runner.invoke(app, ["recommend", str(folder), *args])
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output


def test_cli_missing_family_option_exit_2(tmp_path: Path) -> None:
    folder = write_scenario(rules_program(), tmp_path / "prog")
    res = runner.invoke(app, ["recommend", str(folder)])
    assert res.exit_code == 2
