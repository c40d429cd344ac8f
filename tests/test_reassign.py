"""Reassign: fewest moves (checked against an independent MIP), temporary exceptions, pins, CLI."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import builders
import pandas as pd
import pytest
from independent_mip import Levels, independent_levels
from typer.testing import CliRunner

from famassign.cli import app
from famassign.models import Family, Scenario, Staff, StaffStatus
from famassign.models.loading import load_scenario
from famassign.models.writing import write_scenario
from famassign.scenarios import GeneratorConfig, generate
from famassign.solver import evaluate, solve
from famassign.solver.continuation import next_scenario
from famassign.solver.options import PlanOptions
from famassign.solver.reassign import MoveKind, ReassignError, ReassignResult, reassign

AS_OF = date(2026, 8, 17)
runner = CliRunner()


# ----------------------------------------------------------------------------- independent MIP


# ----------------------------------------------------------------------------- helpers


def fam(fid: str, **kw: Any) -> Family:
    """A Spanish-speaking family (the builders' defaults otherwise)."""
    return builders.fam(fid, **({"language": "es"} | kw))


def staff(sid: str, **kw: Any) -> Staff:
    """A bilingual en/es staff member (the builders' defaults otherwise)."""
    return builders.staff(sid, **({"languages": ("en", "es")} | kw))


def check_valid(out: ReassignResult) -> None:
    """The evaluator finds no violation and agrees with the plan's own terms."""
    result = out.result
    exception_of = {c.staff_id: c.exception_id for c in result.caseloads}
    ev = evaluate(out.scenario, result.plan(), exception_of)
    assert ev.violations == []
    assert ev.placed == result.terms.placed
    assert ev.moves == result.terms.moves
    assert ev.match == result.terms.match
    assert ev.over_cap == result.terms.over_cap
    for leaving in out.leaving:
        assert ev.caseloads.get(leaving, 0) == 0


def assert_optimal(out: ReassignResult, *, with_match: bool = True) -> Levels:
    """Reassign reaches the independent lexicographic optimum on every level (the match level
    too unless `with_match` is False)."""
    levels = independent_levels(out.scenario, with_match=with_match)
    t = out.result.terms
    got = Levels(t.placed, t.urgency_unplaced, t.over_cap, t.moves, t.match if with_match else -1)
    assert got == levels
    return levels


def short_room_scenario() -> Scenario:
    """Three es advocates at North with 30 families each (C's: ten of urgency 1, C1..C10,
    twenty of urgency 4; A's and B's urgency 3). When C departs, 20 places remain for 30."""
    fams = [fam(f"A{i}", current_staff_id="A") for i in range(1, 31)]
    fams += [fam(f"B{i}", current_staff_id="B") for i in range(1, 31)]
    fams += [fam(f"C{i}", current_staff_id="C", urgency=1 if i <= 10 else 4) for i in range(1, 31)]
    return Scenario(as_of=AS_OF, families=tuple(fams), staff=(staff("A"), staff("B"), staff("C")))


def short_room(temporary_cap: int | None = None, until: date | None = None) -> ReassignResult:
    """C departs from :func:`short_room_scenario`."""
    return reassign(
        short_room_scenario(),
        departed=["C"],
        temporary_cap=temporary_cap,
        until=until,
        options=PlanOptions(time_limit=5),
    )


# ----------------------------------------------------------------------------- generated programs


def _program(
    seed: int, slack: float, pinned_share: float = 0.0, n_families: int = 240, n_sites: int = 3
) -> Scenario:
    cfg = GeneratorConfig(
        n_families=n_families,
        n_sites=n_sites,
        with_current_assignments=True,
        slack=slack,
        pinned_share=pinned_share,
        conflicts_share=0.03,
    )
    return generate(cfg, seed=seed)


def test_one_departure_moves_exactly_their_families_when_colleagues_have_room() -> None:
    """500 families, 19 staff. English-only advocates have colleagues with room: removing one
    moves exactly their families (and the MIP agrees no fewer moves are possible). A bilingual
    advocate whose colleagues are full is checked too: there other families must move, and the
    count of moves still equals the independent minimum."""
    sc = _program(1, slack=0.35, n_families=500, n_sites=2)
    carrying = [s for s in sc.staff if any(f.current_staff_id == s.staff_id for f in sc.families)]
    english = [s.staff_id for s in carrying if s.languages == ("en",)][:6]
    others = [s.staff_id for s in carrying if s.languages != ("en",)][:3]
    exact_cases = 0
    total_room_moves = 0
    for leaving in english + others:
        out = reassign(sc, departed=[leaving], options=PlanOptions(time_limit=2, seed=1))
        check_valid(out)
        levels = assert_optimal(out, with_match=leaving in english[:2])
        theirs = {f.family_id for f in sc.families if f.current_staff_id == leaving}
        moved = {
            a.family_id
            for a in out.result.assignments
            if a.previous_staff_id is not None and a.staff_id != a.previous_staff_id
        }
        assert {m.family_id for m in out.moves if m.kind is MoveKind.leaving} == theirs
        assert out.count(MoveKind.room) == levels.moves
        total_room_moves += levels.moves
        if levels.moves == 0 and not out.unplaced_from_leaving:
            exact_cases += 1
            assert moved == theirs
            assert out.count(MoveKind.leaving) == len(theirs)
    assert exact_cases >= 6  # every English-only advocate
    assert total_room_moves > 0  # and at least one case where others had to move


def test_moves_equal_the_independent_minimum_when_room_is_tight() -> None:
    """With little slack, families of staff who stay must move; every level equals the MIP."""
    for seed in (3, 4):
        sc = _program(seed, slack=0.02)
        for leaving in [s.staff_id for s in sc.staff][4:7]:
            out = reassign(sc, departed=[leaving], options=PlanOptions(time_limit=2, seed=seed))
            check_valid(out)
            levels = assert_optimal(out)
            assert out.count(MoveKind.room) == levels.moves


def test_a_spanish_family_makes_room_by_moving_the_fewest_english_families() -> None:
    """A (en/es) is full with 38 en + 2 es; E (en only) has room; the es advocate C departs with
    5 es families. The es families can only go to A, so exactly 5 of A's en families move to E:
    that is the minimum, since A can take 5 more only by giving up 5."""
    fams = [fam(f"AE{i}", language="en", current_staff_id="A") for i in range(38)]
    fams += [fam(f"AS{i}", current_staff_id="A") for i in range(2)]
    fams += [fam(f"CS{i}", current_staff_id="C") for i in range(5)]
    fams += [fam(f"EE{i}", language="en", current_staff_id="E") for i in range(10)]
    sc = Scenario(
        as_of=AS_OF,
        families=tuple(fams),
        staff=(staff("A"), staff("C", languages=("es",)), staff("E", languages=("en",))),
    )
    out = reassign(sc, departed="C", options=PlanOptions(time_limit=2))
    check_valid(out)
    assert out.result.terms.moves == 5 == assert_optimal(out).moves
    room = [m for m in out.moves if m.kind is MoveKind.room]
    assert len(room) == 5
    assert all(m.from_staff_id == "A" and m.to_staff_id == "E" for m in room)
    assert all(m.family_id.startswith("AE") for m in room)
    assert not out.result.unplaced


def test_pinned_families_never_move_and_a_pin_on_the_leaver_is_released() -> None:
    sc = _program(5, slack=0.05, pinned_share=0.6)
    leavers = [
        s.staff_id
        for s in sc.staff
        if any(f.pinned and f.current_staff_id == s.staff_id for f in sc.families)
    ][:3]
    assert leavers
    for leaving in leavers:
        out = reassign(sc, departed=[leaving], options=PlanOptions(time_limit=2))
        check_valid(out)
        assert_optimal(out)
        plan = out.result.plan()
        for f in sc.families:
            if f.pinned and f.current_staff_id != leaving:
                assert plan[f.family_id] == f.current_staff_id
        released = [f.family_id for f in sc.families if f.pinned and f.current_staff_id == leaving]
        for fid in released:
            assert any(fid in note and "released" in note for note in out.result.notes)
            assert plan[fid] != leaving
            move = next(m for m in out.moves if m.family_id == fid)
            assert "pin to" in move.reason and "released" in move.reason


def test_absent_staff_with_until_are_temporary_moves() -> None:
    sc = _program(6, slack=0.3)
    leaving = sc.staff[-1].staff_id
    out = reassign(
        sc, absent=[leaving], until=date(2026, 10, 31), options=PlanOptions(time_limit=2)
    )
    check_valid(out)
    assert out.scenario.staff_by_id[leaving].status is StaffStatus.absent
    assert out.temporary_until == date(2026, 10, 31)
    leaving_moves = [m for m in out.moves if m.kind is MoveKind.leaving]
    assert leaving_moves
    assert all(m.temporary_until == date(2026, 10, 31) for m in leaving_moves)
    assert all("goes back to" in m.reason and "2026-11-01" in m.reason for m in leaving_moves)


# ----------------------------------------------------------------------------- room is short


def test_short_room_leaves_the_least_urgent_unplaced_and_names_the_exception() -> None:
    out = short_room()
    check_valid(out)
    assert_optimal(out)
    unplaced = {u.family_id for u in out.result.unplaced}
    assert unplaced == {f"C{i}" for i in range(1, 11)}  # the ten least urgent
    assert out.result.terms.moves == 0
    for u in out.result.unplaced:
        assert u.would_place is not None
        assert "45" in u.would_place and "exception" in u.would_place
    assert out.temporary_exception is None
    assert out.result.exceptions_used == ()


def test_temporary_cap_places_everyone_and_cites_the_exception() -> None:
    out = short_room(temporary_cap=50, until=date(2026, 12, 31))
    check_valid(out)
    assert_optimal(out)
    exc = out.temporary_exception
    assert exc is not None and exc.kind.value == "staff_attrition"
    assert exc.staff_id is None and exc.max_families == 50
    assert (exc.starts, exc.ends) == (AS_OF, date(2026, 12, 31))
    r = out.result
    assert not r.unplaced and r.placed == 90
    # used only where needed: 10 places above the cap of 40, the least possible
    assert r.terms.over_cap == 10
    assert r.exceptions_used == (exc.exception_id,)
    for c in r.caseloads:
        if c.families > c.cap:
            assert c.exception_id == exc.exception_id
    for a in r.assignments:
        caseload = next(c for c in r.caseloads if c.staff_id == a.staff_id)
        assert (a.exception_id == exc.exception_id) == (caseload.families > caseload.cap)


def test_request_errors_are_named() -> None:
    sc = Scenario(as_of=AS_OF, families=(fam("F1", current_staff_id="A"),), staff=(staff("A"),))
    with pytest.raises(ReassignError, match="'Z9'"):
        reassign(sc, departed=["A", "Z9"])
    with pytest.raises(ReassignError, match="until"):
        reassign(sc, departed=["A"], temporary_cap=45)
    with pytest.raises(ReassignError, match="above 40"):
        reassign(sc, departed=["A"], temporary_cap=40, until=date(2026, 9, 1))
    with pytest.raises(ReassignError, match="before the planning date"):
        reassign(sc, absent=["A"], until=date(2026, 1, 1))
    with pytest.raises(ReassignError, match="at least one"):
        reassign(sc)


# ----------------------------------------------------------------------------- CLI


def _short_room_folder(tmp_path: Path) -> Path:
    return write_scenario(short_room_scenario(), tmp_path / "short")


def test_cli_short_room_exit_3_then_temporary_cap_exit_0(tmp_path: Path) -> None:
    folder = _short_room_folder(tmp_path)
    out = tmp_path / "out1"
    res = runner.invoke(
        app, ["reassign", str(folder), "--out", str(out), "--departed", "C", "--time-limit", "2"]
    )
    assert res.exit_code == 3, res.output
    moves = pd.read_csv(out / "moves.csv", dtype=str, keep_default_na=False)
    assert list(moves.columns) == [
        "family_id",
        "from_staff_id",
        "to_staff_id",
        "reason",
        "from_staff_name",
        "to_staff_name",
    ]  # the contract's columns, then the staff members' names
    assert len(moves) == 30 and set(moves["from_staff_id"]) == {"C"}
    unplaced = moves[moves["to_staff_id"] == ""]
    assert set(unplaced["family_id"]) == {f"C{i}" for i in range(1, 11)}
    compliance = (out / "compliance.md").read_text()
    assert "would place them" in compliance
    summary = json.loads((out / "summary.json").read_text())
    assert summary["unassigned"] == 10 and summary["reassign_departed"] == ["C"]

    out2 = tmp_path / "out2"
    res = runner.invoke(
        app,
        [
            "reassign",
            str(folder),
            "--out",
            str(out2),
            "--departed",
            "C",
            "--until",
            "2026-12-31",
            "--temporary-cap",
            "45",
            "--time-limit",
            "2",
        ],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((out2 / "summary.json").read_text())
    exc_id = summary["reassign_temporary_exception"]
    assert summary["exceptions_used"] == [exc_id] and summary["unassigned"] == 0
    assert summary["reassign_temporary_exception_ends"] == "2026-12-31"
    assignments = pd.read_csv(out2 / "assignments.csv", dtype=str, keep_default_na=False)
    over = assignments[assignments["staff_id"].isin(["A", "B"])]
    assert (over["exception_id"] == exc_id).all() and len(over) == 90
    compliance = (out2 / "compliance.md").read_text()
    assert exc_id in compliance and "2026-12-31" in compliance and "staff_attrition" in compliance
    # the plan folder is the next scenario: C departed, the exception kept, naming its re-plan
    nxt = load_scenario(out2)
    assert nxt.staff_by_id["C"].status.value == "departed"
    (exc,) = nxt.exceptions
    assert (exc.exception_id, exc.max_families, exc.ends) == (exc_id, 45, date(2026, 12, 31))
    assert exc.created_by == f"reassign {AS_OF.isoformat()}: C departed" and exc.reference is None


def test_cli_absent_until_says_the_moves_are_temporary(tmp_path: Path) -> None:
    sc = _program(7, slack=0.3)
    folder = write_scenario(sc, tmp_path / "prog")
    leaving = sc.staff[0].staff_id
    out = tmp_path / "out"
    res = runner.invoke(
        app,
        [
            "reassign",
            str(folder),
            "--out",
            str(out),
            "--absent",
            leaving,
            "--until",
            "2026-10-31",
            "--time-limit",
            "2",
            "--deterministic",
        ],
    )
    assert res.exit_code in (0, 3), res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["reassign_absent"] == [leaving]
    assert summary["reassign_temporary_moves"] is True
    assert summary["reassign_families_return_on"] == "2026-11-01"
    compliance = (out / "compliance.md").read_text()
    assert "temporary moves" in compliance and "2026-11-01" in compliance
    assert (out / "report.html").read_text().count("temporary moves") >= 1
    moves = pd.read_csv(out / "moves.csv", dtype=str, keep_default_na=False)
    assert set(moves["from_staff_id"]) >= {leaving}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--departed", "NOPE1,NOPE2"], "'NOPE1', 'NOPE2'"),
        (["--departed", "C", "--temporary-cap", "45"], "--until"),
        (["--departed", "C", "--until", "2026-12-31", "--temporary-cap", "40"], "above 40"),
        (["--departed", "C", "--absent", "C"], "both departed and absent"),
        ([], "--departed"),
        (["--absent", "C", "--until", "2026-02-30"], "YYYY-MM-DD"),
        (["--absent", "C", "--until", "2025-01-01"], "before the planning date"),
        (["--departed", "C", "--until", "2026-12-31"], "--temporary-cap"),
        (["--departed", " , "], "at least one staff id"),
    ],
)
def test_cli_bad_arguments_exit_2_without_traceback(
    tmp_path: Path, args: list[str], message: str
) -> None:
    folder = _short_room_folder(tmp_path)
    out = tmp_path / "out"
    res = runner.invoke(app, ["reassign", str(folder), "--out", str(out), *args])
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert "Traceback" not in res.output
    assert not out.exists()


def test_cli_invalid_scenario_exit_2(tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        ["reassign", str(tmp_path / "missing"), "--out", str(tmp_path / "o"), "--departed", "A"],
    )
    assert res.exit_code == 2
    assert "Traceback" not in res.output


def test_a_pinned_family_keeps_its_place_even_against_a_more_urgent_family() -> None:
    """A can take one family; P (urgency 1) is pinned to A. B departs with U (urgency 5), whom
    only A could serve. The pin is a hard rule, so U stays unplaced: the plan never unplaces a
    pinned family to place a more urgent one (this was a flow bug, fixed in solver/flow.py)."""
    sc = Scenario(
        as_of=AS_OF,
        families=(
            fam("P", urgency=1, current_staff_id="A", pinned=True),
            fam("U", urgency=5, current_staff_id="B"),
        ),
        staff=(staff("A", max_families=1), staff("B")),
    )
    out = reassign(sc, departed=["B"], options=PlanOptions(time_limit=2))
    check_valid(out)
    assert out.result.plan() == {"P": "A", "U": None}
    assert_optimal(out)


def test_a_solved_plan_carried_into_the_scenario_counts_moves_from_it() -> None:
    """solve, then next_scenario, then reassign: the families have the plan as their current
    staff member, so none is "newly placed" and the departing advocate's families are the ones
    that leave."""
    cfg = GeneratorConfig(n_families=150, n_sites=2, with_current_assignments=False, slack=0.3)
    sc = generate(cfg, seed=5)
    first = solve(sc, PlanOptions(time_limit=2, seed=5))
    nxt = next_scenario(sc, first)
    assert {f.family_id: f.current_staff_id for f in nxt.families} == first.plan()
    leaving = max(first.caseloads, key=lambda c: c.families).staff_id
    out = reassign(nxt, departed=[leaving], options=PlanOptions(time_limit=2, seed=5))
    check_valid(out)
    assert out.count(MoveKind.new) == 0
    theirs = {f for f, s in first.plan().items() if s == leaving}
    assert {m.family_id for m in out.moves if m.kind is MoveKind.leaving} == theirs
    assert out.result.terms.moves == assert_optimal(out).moves
    following = out.next_scenario()
    assert following.continues is not None and following.staff_by_id[leaving].status.value == (
        "departed"
    )
