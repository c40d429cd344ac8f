"""Update: fewest moves after enrolments and withdrawals (checked against an independent MIP),
the per-staff disruption bound, returns from leave, the plan folder as the next scenario,
handover notes for both sides, plan diff and timeline, solve --variant."""

from __future__ import annotations

import itertools
import json
import random
from datetime import date, timedelta
from pathlib import Path

import builders
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from independent_mip import Levels, independent_levels
from typer.testing import CliRunner
from typer.testing import Result as CliResult

from famassign.cli import app
from famassign.history import PlanRecord, diff_plans, read_plan, timeline
from famassign.models import Conflict, Family, Intensity, Scenario
from famassign.models.absence import Absence
from famassign.models.loading import load_scenario, read_scenario_files
from famassign.models.writing import write_scenario
from famassign.outputs import write_plan
from famassign.scenarios import GeneratorConfig, generate
from famassign.solver import PlanOptions, Result, evaluate, solve
from famassign.solver.continuation import next_families, next_scenario
from famassign.solver.handover_notes import handover_notes
from famassign.solver.reassign import MoveKind, reassign
from famassign.solver.update import UpdateError, UpdateResult, update

AS_OF = builders.AS_OF
runner = CliRunner()


def check_valid(scenario: Scenario, result: Result) -> None:
    """The independent evaluator finds no violation and agrees with the plan's terms."""
    ev = evaluate(scenario, result.plan(), result.exception_of())
    assert ev.violations == []
    assert (ev.placed, ev.moves, ev.match, ev.over_cap) == (
        result.terms.placed,
        result.terms.moves,
        result.terms.match,
        result.terms.over_cap,
    )


def levels_of(out: UpdateResult) -> Levels:
    t = out.result.terms
    return Levels(t.placed, t.urgency_unplaced, t.over_cap, t.moves, t.match)


def churn(sc: Scenario, *, withdraw: int, enroll: int, seed: int) -> Scenario:
    """`withdraw` families gone (with their conflicts), `enroll` new families without staff,
    copied from the non-English families (the scarce bilingual staff must make room)."""
    rng = random.Random(seed)
    families = list(sc.families)
    gone = {f.family_id for f in rng.sample(families, withdraw)}
    families = [f for f in families if f.family_id not in gone]
    source = [f for f in families if f.language != "en" and not f.pinned] or families
    new = [
        f.model_copy(
            update={"family_id": f"N{seed}-{i}", "current_staff_id": None, "pinned": False}
        )
        for i, f in enumerate(rng.choices(source, k=enroll))
    ]
    conflicts = tuple(c for c in sc.conflicts if c.family_id not in gone)
    return sc.rebuilt(families=tuple(families + new), conflicts=conflicts)


def program(seed: int, n_families: int = 200) -> Scenario:
    cfg = GeneratorConfig(
        n_families=n_families,
        n_sites=2,
        with_current_assignments=True,
        slack=0.0,
        conflicts_share=0.03,
    )
    return generate(cfg, seed=seed)


# ----------------------------------------------------------------------------- fewest moves


@pytest.mark.parametrize(("seed", "withdraw", "enroll"), [(1, 8, 12), (2, 5, 15), (3, 12, 6)])
def test_update_after_enrolments_and_withdrawals_moves_exactly_the_fewest(
    seed: int, withdraw: int, enroll: int
) -> None:
    """Every level (placed, urgency, exception places, moves, match) equals the independent
    lexicographic MIP; every new family that can be placed is; nobody leaves."""
    sc = churn(program(seed), withdraw=withdraw, enroll=enroll, seed=seed)
    out = update(sc, options=PlanOptions(time_limit=2, seed=seed))
    check_valid(out.scenario, out.result)
    assert levels_of(out) == independent_levels(sc)
    assert out.count(MoveKind.room) == out.result.terms.moves
    new = {f.family_id for f in sc.families if f.current_staff_id is None}
    assert {m.family_id for m in out.moves if m.kind is MoveKind.new} <= new
    assert all(m.kind in (MoveKind.new, MoveKind.room) for m in out.moves)


def test_a_churn_that_needs_room_moves_some_and_no_more() -> None:
    """The first case above needs moves at all (so the MIP check is not vacuous)."""
    sc = churn(program(1), withdraw=8, enroll=12, seed=1)
    out = update(sc, options=PlanOptions(time_limit=2, seed=1))
    assert out.result.terms.moves > 0


def test_reassessed_loads_are_planned_with_and_nobody_moves_without_need() -> None:
    """Re-assessed urgency and intensity change the weighted loads; with room everywhere no
    current family moves, and the caseload loads reflect the new intensities."""
    fams = [builders.fam(f"A{i}", current_staff_id="A") for i in range(10)]
    fams += [builders.fam(f"B{i}", current_staff_id="B") for i in range(10)]
    sc = builders.scenario(fams, [builders.staff("A"), builders.staff("B")])
    reassessed = sc.rebuilt(
        families=tuple(
            f.model_copy(update={"intensity": Intensity.high, "urgency": 5})
            if f.family_id < "A5"
            else f
            for f in sc.families
        ),
    )
    out = update(reassessed, options=PlanOptions(time_limit=2))
    check_valid(out.scenario, out.result)
    assert out.result.terms.moves == 0 and out.moves == ()
    loads = {c.staff_id: c.weighted_load for c in out.result.caseloads}
    assert loads == {"A": 5 * 3 + 5 * 2, "B": 10 * 2}


# ----------------------------------------------------------------------------- disruption bound


def full_bilingual_scenario() -> Scenario:
    """A (en/es) carries 38 en + 2 es (full at 40); E (en) has room; 5 new es families can only
    go to A, so 5 of A's en families must move to E (the fewest)."""
    fams = [builders.fam(f"AE{i}", current_staff_id="A") for i in range(38)]
    fams += [builders.fam(f"AS{i}", language="es", current_staff_id="A") for i in range(2)]
    fams += [builders.fam(f"EE{i}", current_staff_id="E") for i in range(10)]
    fams += [builders.fam(f"NEW{i}", language="es", urgency=5) for i in range(5)]
    return builders.scenario(
        fams, [builders.staff("A", languages=("en", "es")), builders.staff("E")]
    )


def test_without_a_bound_five_move_and_with_k2_the_bound_costs_three_placements() -> None:
    sc = full_bilingual_scenario()
    free = update(sc, options=PlanOptions(time_limit=2))
    check_valid(free.scenario, free.result)
    assert free.result.terms.moves == 5 and not free.result.unplaced

    out = update(sc, max_moves_per_staff=2, options=PlanOptions(time_limit=2))
    check_valid(out.scenario, out.result)
    moved_from_a = [m for m in out.moves if m.kind is MoveKind.room and m.from_staff_id == "A"]
    assert len(moved_from_a) == 2
    assert levels_of(out) == independent_levels(sc, max_moves_per_staff=2)
    cost = out.bound_cost
    assert cost is not None
    assert cost.placements == 3 and cost.exception_places == 0
    assert len(cost.unplaced_by_bound) == 3
    assert set(cost.unplaced_by_bound) <= {f"NEW{i}" for i in range(5)}
    assert cost.staff_at_bound == ("A",)


@pytest.mark.parametrize("k", [0, 1, 2])
def test_the_bound_holds_and_is_optimal_under_it(k: int) -> None:
    sc = churn(program(1), withdraw=8, enroll=12, seed=1)
    out = update(sc, max_moves_per_staff=k, options=PlanOptions(time_limit=3, seed=1))
    check_valid(out.scenario, out.result)
    away: dict[str, int] = {}
    plan = out.result.plan()
    for f in sc.families:
        if f.current_staff_id and plan[f.family_id] != f.current_staff_id:
            away[f.current_staff_id] = away.get(f.current_staff_id, 0) + 1
    # the generated program has every current family eligible and within the caps
    assert max(away.values(), default=0) <= k
    assert levels_of(out) == independent_levels(sc, max_moves_per_staff=k)


def test_negative_bound_is_refused() -> None:
    with pytest.raises(UpdateError, match="0 or more"):
        update(full_bilingual_scenario(), max_moves_per_staff=-1)


# ----------------------------------------------------------------------------- returns from leave


def leave_scenario() -> Scenario:
    """X carries 6 families, Y and Z 5 each; all en at North with room."""
    fams = [builders.fam(f"X{i}", current_staff_id="X") for i in range(6)]
    fams += [builders.fam(f"Y{i}", current_staff_id="Y") for i in range(5)]
    fams += [builders.fam(f"Z{i}", current_staff_id="Z") for i in range(5)]
    return builders.scenario(fams, [builders.staff(s) for s in ("X", "Y", "Z")])


UNTIL = date(2026, 10, 31)


def listed(absences: tuple[Absence, ...]) -> set[str]:
    """The families listed under `absences`."""
    return {f.family_id for a in absences for f in a.families}


def test_families_return_on_the_first_day_after_until_not_before() -> None:
    sc = leave_scenario()
    away = reassign(sc, absent="X", until=UNTIL, options=PlanOptions(time_limit=2))
    (absence,) = away.absences
    assert listed(away.absences) == {f"X{i}" for i in range(6)}
    assert (absence.staff_id, absence.starts, absence.until) == ("X", AS_OF, UNTIL)
    assert absence.returns_on == UNTIL + timedelta(days=1)
    carried = away.next_scenario()
    assert all(f.current_staff_id != "X" for f in carried.families)
    assert carried.staff_by_id["X"].status.value == "active"  # the absence keeps X away

    on_last_day = update(carried, as_of=UNTIL)
    check_valid(on_last_day.scenario, on_last_day.result)
    assert on_last_day.returned_staff == () and on_last_day.still_absent == ("X",)
    assert all(s != "X" for s in on_last_day.result.plan().values())
    assert on_last_day.moves == ()
    assert listed(on_last_day.absences) == listed(away.absences)

    next_day = update(carried, as_of=UNTIL + timedelta(days=1))
    check_valid(next_day.scenario, next_day.result)
    assert next_day.returned_staff == ("X",)
    assert next_day.still_absent == () and next_day.absences == ()
    plan = next_day.result.plan()
    assert all(plan[f"X{i}"] == "X" for i in range(6))
    assert set(next_day.returned_families) == {f"X{i}" for i in range(6)}
    assert next_day.result.terms.moves == 0  # going back is not a disruption move
    rows = {a.family_id: a for a in next_day.result.assignments}
    assert rows["X0"].previous_staff_id not in (None, "X") and rows["X0"].changed
    assert next_day.next_scenario().absences == ()


def test_a_family_unplaced_when_the_leave_starts_is_not_returned() -> None:
    """X carries 6 families and Y, the only colleague, has room for 4: 2 of X's families are
    left unplaced by the absence; they are not listed under it, so when X is back they are
    placed as any unplaced family is (newly placed, not returned)."""
    fams = [builders.fam(f"X{i}", current_staff_id="X") for i in range(6)]
    fams += [builders.fam(f"Y{i}", current_staff_id="Y") for i in range(36)]
    sc = builders.scenario(fams, [builders.staff("X"), builders.staff("Y")])
    away = reassign(sc, absent="X", until=UNTIL, options=PlanOptions(time_limit=2))
    assert len(away.unplaced_from_leaving) == 2
    assert listed(away.absences) == {f"X{i}" for i in range(6)} - set(away.unplaced_from_leaving)
    back = update(away.next_scenario(), as_of=UNTIL + timedelta(days=1))
    assert set(back.returned_families) == listed(away.absences)
    assert {m.family_id for m in back.moves if m.kind is MoveKind.new} == set(
        away.unplaced_from_leaving
    )


def test_a_family_reassigned_since_or_now_in_conflict_stays() -> None:
    sc = leave_scenario()
    away = reassign(sc, absent="X", until=UNTIL, options=PlanOptions(time_limit=2))
    nxt = away.next_scenario()
    families = list(nxt.families)
    where = {f.family_id: f.current_staff_id for f in families}
    other = "Y" if where["X0"] == "Z" else "Z"
    families = [
        f.model_copy(update={"current_staff_id": other}) if f.family_id == "X0" else f
        for f in families
    ]
    carried = nxt.rebuilt(
        families=tuple(families), conflicts=(Conflict(family_id="X1", staff_id="X"),)
    )
    out = update(carried, as_of=UNTIL + timedelta(days=3))
    check_valid(out.scenario, out.result)
    reasons = {n.family_id: n.reason for n in out.not_returned}
    assert "reassigned since" in reasons["X0"] and "conflict" in reasons["X1"]
    plan = out.result.plan()
    assert plan["X0"] == other and plan["X1"] != "X"
    assert all(plan[f"X{i}"] == "X" for i in range(2, 6))


# ----------------------------------------------------------------------------- CLI end to end


def _run(*args: str | Path) -> CliResult:
    return runner.invoke(app, [str(a) for a in args])


def test_cli_absence_carried_through_the_plan_folders(tmp_path: Path) -> None:
    """reassign --absent X --until D, then update its folder on D (X still away) and the next
    folder on D+1 (X's families back, "X returned" in the outputs), nothing copied by hand;
    handover notes for exactly the moved families, both sides; diff of the plans exact;
    timeline periods."""
    sc = leave_scenario()
    folder = write_scenario(sc, tmp_path / "prog")
    first = tmp_path / "plan0"
    res = _run("solve", folder, "--out", first, "--time-limit", "1")
    assert res.exit_code == 0, res.output
    away = tmp_path / "plan1"
    res = _run(
        "reassign", first, "--out", away, "--absent", "X", "--until", UNTIL.isoformat(),
        "--as-of", "2026-09-01", "--time-limit", "1",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert_handover_exact(away)
    loaded = load_scenario(away)
    assert listed(loaded.absences) == {f"X{i}" for i in range(6)}
    assert {f.family_id: f.current_staff_id for f in loaded.families} == {
        a: s for a, s in read_plan(away).staff_of.items()
    }
    still = tmp_path / "plan2"
    res = _run("update", away, "--out", still, "--as-of", UNTIL.isoformat(), "--time-limit", "1")
    assert res.exit_code == 0, res.output
    summary = json.loads((still / "summary.json").read_text())
    assert summary["update_returned_staff"] == [] and summary["update_still_absent"] == ["X"]
    assert listed(load_scenario(still).absences) == {f"X{i}" for i in range(6)}
    assert not (still / "handover").exists()
    back = tmp_path / "plan3"
    day_after = (UNTIL + timedelta(days=1)).isoformat()
    res = _run("update", still, "--out", back, "--as-of", day_after, "--time-limit", "1")
    assert res.exit_code == 0, res.output
    assert "X returned" in res.output
    summary = json.loads((back / "summary.json").read_text())
    assert summary["update_returned_staff"] == ["X"]
    assert summary["update_returned_families"] == 6 == summary["returns"]
    assert summary["moves"] == 0
    assert "X returned from leave" in (back / "compliance.md").read_text()
    assert load_scenario(back).absences == ()
    notes = assert_handover_exact(back)
    assert set(notes[notes["side"] == "joins"]["for_staff_id"]) == {"X"}
    page = (back / "handover" / "X.html").read_text()
    assert "back from leave" in page and "Family X0" in page

    # diff: exact against the assignments themselves
    d = diff_plans(read_plan(away), read_plan(back))
    a, b = read_plan(away).staff_of, read_plan(back).staff_of
    assert set(d.families["family_id"]) == {f for f in a if a[f] != b.get(f)}
    assert d.count("moved") == 6
    assert set(d.caseloads["staff_id"]) == {"X", "Y", "Z"} & {
        s
        for s in ("X", "Y", "Z")
        if sum(v == s for v in a.values()) != sum(v == s for v in b.values())
    }
    res = _run("diff", away, back, "--out", tmp_path / "d")
    assert res.exit_code == 0, res.output
    assert "6 moved" in res.output
    assert len(pd.read_csv(tmp_path / "d" / "families_changed.csv")) == 6

    res = _run("timeline", first, away, back, still, "--out", tmp_path / "t")
    assert res.exit_code == 0, res.output
    periods = pd.read_csv(tmp_path / "t" / "assignment_periods.csv", dtype=str,
                          keep_default_na=False)  # fmt: skip
    x0 = periods[periods["family_id"] == "X0"].values.tolist()
    sub = a["X0"]
    assert x0 == [
        ["X0", "X", AS_OF.isoformat(), "2026-08-31"],
        ["X0", sub, "2026-09-01", day_after_minus(day_after)],
        ["X0", "X", day_after, ""],
    ]


def day_after_minus(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


def assert_handover_exact(out: Path) -> pd.DataFrame:
    """handover.csv has a "joins" note for exactly the placed families whose staff member
    changed (for the new staff member) and "leaves" notes only for families taken from a staff
    member (for that staff member), and each staff member with a note has one page naming each
    of their families."""
    assignments = pd.read_csv(out / "assignments.csv", dtype=str, keep_default_na=False)
    changed = assignments[assignments["staff_id"] != assignments["previous_staff_id"]]
    moved = changed[changed["staff_id"] != ""]
    notes = pd.read_csv(out / "handover.csv", dtype=str, keep_default_na=False)
    joins, leaves = notes[notes["side"] == "joins"], notes[notes["side"] == "leaves"]
    assert set(notes["side"]) <= {"joins", "leaves"}
    assert dict(zip(joins["family_id"], joins["for_staff_id"], strict=True)) == dict(
        zip(moved["family_id"], moved["staff_id"], strict=True)
    )
    assert (joins["to_staff_id"] == joins["for_staff_id"]).all()
    assert set(leaves["family_id"]) <= set(changed["family_id"])
    assert (leaves["from_staff_id"] == leaves["for_staff_id"]).all()
    for staff_id, group in notes.groupby("for_staff_id"):
        page = (out / "handover" / f"{staff_id}.html").read_text()
        for fid in group["family_id"]:
            assert f"Family {fid}" in page
    if notes.empty:
        assert not (out / "handover").exists()
    else:
        assert sorted(p.stem for p in (out / "handover").iterdir()) == sorted(
            set(notes["for_staff_id"])
        )
    return notes


def test_handover_note_content() -> None:
    """A note carries urgency, intensity, needs and interests as PFCE outcome titles, language,
    the other agency's plan and the date."""
    fam = builders.fam(
        "F1",
        language="es",
        urgency=4,
        intensity="high",
        needs=("well_being", "transitions"),
        interests=("learners",),
        external_plan_agency="County WIC",
        current_staff_id="A",
    )
    sc = builders.scenario([fam], [builders.staff("A", languages=("es",)), builders.staff("B")])

    class Change:
        family_id, from_staff_id, to_staff_id, reason = "F1", "A", "B", "manual move"

    handed, note = handover_notes(sc, [Change()], date(2026, 9, 1))
    assert (handed.for_staff_id, handed.side, handed.to_staff_id) == ("A", "leaves", "B")
    assert (note.for_staff_id, note.side) == ("B", "joins")
    assert (note.to_staff_id, note.from_staff_id, note.why) == ("B", "A", "manual move")
    assert note.urgency_text == "4 (support needed)" and note.intensity == "high"
    assert note.needs == ("Family engagement in transitions", "Family well-being")
    assert note.interests == ("Families as learners",)
    assert (note.language, note.external_plan_agency) == ("es", "County WIC")
    assert note.effective == date(2026, 9, 1)


# ----------------------------------------------------------------------------- next scenario, diff


def test_every_plan_folder_is_the_next_scenario(tmp_path: Path) -> None:
    """The plan folder's families.csv has the families columns and the plan as
    current_staff_id, and the folder loads as a scenario with no warning, carrying the plan's
    fingerprint; it equals the library's next_scenario."""
    sc = churn(program(4, n_families=120), withdraw=3, enroll=5, seed=4)
    folder = write_scenario(sc, tmp_path / "prog")
    out = tmp_path / "plan"
    res = _run("solve", folder, "--out", out, "--time-limit", "1")
    assert res.exit_code in (0, 3), res.output
    families = pd.read_csv(folder / "families.csv", dtype=str, keep_default_na=False)
    nxt = pd.read_csv(out / "families.csv", dtype=str, keep_default_na=False)
    assert list(nxt.columns) == list(families.columns)
    assert list(nxt["family_id"]) == list(families["family_id"])
    assignments = pd.read_csv(out / "assignments.csv", dtype=str, keep_default_na=False)
    assert list(nxt["current_staff_id"]) == list(assignments["staff_id"])
    same = [c for c in families.columns if c not in ("current_staff_id", "pinned")]
    assert nxt[same].equals(families[same])
    assert not (out / "next_families.csv").exists()
    loaded = read_scenario_files(out)
    assert loaded.warnings == ()
    summary = json.loads((out / "summary.json").read_text())
    assert loaded.scenario.continues == summary["plan_fingerprint"]
    assert summary["continues"] is None
    result = solve(sc, PlanOptions(time_limit=1))
    assert next_scenario(sc, result).families == loaded.scenario.families


def test_diff_of_two_plans_is_exact(tmp_path: Path) -> None:
    """Two hand-built plans with every kind of change: moved, placed, unplaced, enrolled,
    withdrawn, a caseload change, an exception started and one ended."""
    exc = builders.waiver(starts=date(2026, 1, 1))
    # A (en) must carry 42 + G1 under the waiver; B (es) two; U1 (fr) has nobody.
    fams = [builders.fam(f"F{i}", current_staff_id="A") for i in range(42)]
    fams += [builders.fam("G1"), builders.fam("U1", language="fr")]
    fams += [builders.fam(f"S{i}", language="es", current_staff_id="B") for i in range(2)]
    staff = [builders.staff("A"), builders.staff("B", languages=("es",))]
    sc = builders.scenario(fams, staff, exceptions=(exc,))
    plan_a = solve(sc, PlanOptions(time_limit=0))
    assert plan_a.exception_of()["A"] == "W1" and plan_a.plan()["U1"] is None
    write_plan(plan_a, sc, tmp_path / "a")
    # later: F0..F2 withdrawn (A back to 40: W1 ends for A), 40 es families enrol (B at 42: W1
    # starts for B), C (fr) is hired (U1 placed).
    later = [f for f in fams if f.family_id not in ("F0", "F1", "F2")]
    later += [builders.fam(f"H{i}", language="es") for i in range(40)]
    staff2 = [*staff, builders.staff("C", languages=("fr",))]
    sc2 = builders.scenario(later, staff2, exceptions=(exc,))
    plan_b = solve(sc2, PlanOptions(time_limit=2))
    write_plan(plan_b, sc2, tmp_path / "b")
    d = diff_plans(read_plan(tmp_path / "a"), read_plan(tmp_path / "b"))
    pa, pb = plan_a.plan(), plan_b.plan()
    expected = {}
    for fid in pa.keys() | pb.keys():
        if fid not in pb:
            expected[fid] = "withdrawn"
        elif fid not in pa:
            expected[fid] = "enrolled"
        elif pa[fid] != pb[fid]:
            expected[fid] = "moved" if pa[fid] and pb[fid] else "placed" if pb[fid] else "unplaced"
    assert dict(zip(d.families["family_id"], d.families["change"], strict=True)) == expected
    load_a = {c.staff_id: (c.families, c.weighted_load) for c in plan_a.caseloads}
    load_b = {c.staff_id: (c.families, c.weighted_load) for c in plan_b.caseloads}
    changed = {
        s for s in load_a.keys() | load_b.keys() if load_a.get(s, (0, 0)) != load_b.get(s, (0, 0))
    }
    assert changed == {"A", "B", "C"}
    assert set(expected.values()) == {"withdrawn", "enrolled", "placed"}
    assert set(d.caseloads["staff_id"]) == changed
    cited_a = {(e, s) for s, e in plan_a.exception_of().items() if e}
    cited_b = {(e, s) for s, e in plan_b.exception_of().items() if e}
    rows = set(zip(d.exceptions["exception_id"], d.exceptions["staff_id"], d.exceptions["change"],
                   strict=True))  # fmt: skip
    assert rows == {(e, s, "started") for e, s in cited_b - cited_a} | {
        (e, s, "ended") for e, s in cited_a - cited_b
    }
    assert rows == {("W1", "A", "ended"), ("W1", "B", "started")}


def test_exception_days_per_staff_member(tmp_path: Path) -> None:
    exc = builders.waiver(starts=date(2026, 1, 1))
    fams = [builders.fam(f"F{i}", current_staff_id="A") for i in range(43)]
    sc = builders.scenario(fams, [builders.staff("A")], exceptions=(exc,))
    folders = []
    for k, day in enumerate((date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1))):
        plan_sc = sc.on(day)
        if k == 2:  # by November three families withdrew: back under the cap
            plan_sc = plan_sc.rebuilt(families=plan_sc.families[:40])
        result = solve(plan_sc, PlanOptions(time_limit=0))
        folders.append(write_plan(result, plan_sc, tmp_path / f"p{k}")[0].parent)
    t = timeline([read_plan(f) for f in reversed(folders)])
    rows = t.exception_days.values.tolist()
    assert rows == [["W1", "A", date(2026, 9, 1), date(2026, 10, 31), 61, False]]
    f41 = t.periods[t.periods["family_id"] == "F41"].values.tolist()
    assert f41 == [["F41", "A", date(2026, 9, 1), date(2026, 10, 31)]]


# ----------------------------------------------------------------------------- CLI odds and ends


def test_solve_variant_writes_full_outputs_and_unknown_is_exit_2(tmp_path: Path) -> None:
    fams = [builders.fam(f"F{i}") for i in range(30)]
    sc = builders.scenario(
        fams,
        [builders.staff("A"), builders.staff("B")],
        variants=({"name": "one-less", "changes": [{"remove_staff": {"staff_id": "B"}}]},),
    )
    folder = write_scenario(sc, tmp_path / "prog")
    out = tmp_path / "v"
    res = _run("solve", folder, "--out", out, "--variant", "one-less", "--time-limit", "1")
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["variant"] == "one-less"
    caseloads = pd.read_csv(out / "caseloads.csv", dtype=str)
    assert list(caseloads["staff_id"]) == ["A"]
    assert (out / "families.csv").exists() and (out / "report.html").exists()
    res = _run("solve", folder, "--out", tmp_path / "w", "--variant", "nope")
    assert res.exit_code == 2 and "'one-less'" in res.output
    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "2026-13-01"], "--as-of"),
        (["--max-moves-per-staff", "-1"], "max-moves-per-staff"),
    ],
)
def test_update_cli_bad_arguments_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    folder = write_scenario(leave_scenario(), tmp_path / "prog")
    res = _run("update", folder, "--out", tmp_path / "o", *args)
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("staff_id,starts,until,family_id,moved_to_staff_id\nX,2026-09-01,31/10/2026,,\n",
         "absences.csv:2:until"),
        ("staff_id,starts,until,family_id,moved_to_staff_id\nQ9,2026-09-01,2026-10-31,,\n",
         "absences.csv:2:staff_id"),
        ("staff_id,starts,until,family_id,moved_to_staff_id\n"
         "X,2026-09-01,2026-10-31,,\nX,,,X0,Q9\n", "absences.csv:3:moved_to_staff_id"),
        ("staff_id,starts,until,family_id,moved_to_staff_id\nX,,,X0,Y\n",
         "absences.csv:2:staff_id"),
        ("family_id,staff_id,until,moved_to_staff_id\nX0,X,2026-10-31,Y\n",
         "absences.csv:1:starts"),
        ("exception_id,kind,staff_id,max_families,starts,ends\n"
         "T1,staff_absence,Q9,44,2026-09-01,2026-10-31\n", "exceptions.csv:2:staff_id"),
    ],
)  # fmt: skip
def test_bad_state_files_are_located_and_nothing_is_written(
    tmp_path: Path, text: str, where: str
) -> None:
    folder = write_scenario(leave_scenario(), tmp_path / "prog")
    (folder / where.split(":")[0]).write_text(text, encoding="utf-8")
    res = _run("update", folder, "--out", tmp_path / "o")
    assert res.exit_code == 2, res.output
    assert where in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


def test_an_absences_row_of_a_withdrawn_family_is_dropped_and_makes_nobody_absent(
    tmp_path: Path,
) -> None:
    """A family row naming a family that is not enrolled is a warning and is dropped (here
    under an absence that has ended): nobody is absent because of it."""
    folder = write_scenario(leave_scenario(), tmp_path / "prog")
    (folder / "absences.csv").write_text(
        "staff_id,starts,until,family_id,moved_to_staff_id\n"
        "X,2026-08-01,2026-08-10,,\nX,,,GONE,Y\n",
        encoding="utf-8",
    )
    loaded = read_scenario_files(folder)
    assert [w.line for w in loaded.warnings] == [3]
    assert "GONE" in loaded.warnings[0].message
    assert listed(loaded.scenario.absences) == set()
    res = _run("update", folder, "--out", tmp_path / "o", "--time-limit", "1")
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["update_still_absent"] == [] and summary["moves"] == 0


def test_a_backdated_as_of_is_refused_unless_asked_for(tmp_path: Path) -> None:
    folder = write_scenario(leave_scenario(), tmp_path / "prog")
    plan = tmp_path / "plan"
    res = _run("update", folder, "--out", plan, "--as-of", "2026-09-15", "--time-limit", "1")
    assert res.exit_code == 0, res.output
    db = tmp_path / "plans.sqlite"
    for command in (["update"], ["reassign", "--departed", "Y"]):
        out = tmp_path / "early"
        res = _run(command[0], plan, "--out", out, *command[1:], "--as-of", "2026-09-01",
                   "--store", db)  # fmt: skip
        assert res.exit_code == 2, res.output
        assert "2026-09-15" in res.output and "--allow-backdate" in res.output
        assert not out.exists() and not db.exists()
    res = _run("update", plan, "--out", tmp_path / "same", "--as-of", "2026-09-15",
               "--time-limit", "1")  # fmt: skip
    assert res.exit_code == 0, res.output
    res = _run("update", plan, "--out", tmp_path / "asked", "--as-of", "2026-09-01",
               "--allow-backdate", "--time-limit", "1")  # fmt: skip
    assert res.exit_code == 0, res.output
    with pytest.raises(UpdateError, match="allow-backdate"):
        update(load_scenario(plan), as_of=date(2026, 9, 1))


def test_reassign_takes_departures_and_absences_together(tmp_path: Path) -> None:
    sc = leave_scenario()
    out = reassign(sc, departed="Y", absent="X", until=UNTIL, options=PlanOptions(time_limit=2))
    check_valid(out.scenario, out.result)
    plan = out.result.plan()
    assert all(plan[f.family_id] == "Z" for f in sc.families)
    assert listed(out.absences) == {f"X{i}" for i in range(6)}
    assert [a.staff_id for a in out.absences] == ["X"]


def test_next_families_releases_a_pin_that_moved() -> None:
    fam_pinned: Family = builders.fam("P", current_staff_id="A", pinned=True)
    sc = builders.scenario([fam_pinned, builders.fam("Q")], [builders.staff("A")])
    nxt = next_families(sc, {"P": "B", "Q": "A"})
    assert (nxt[0].current_staff_id, nxt[0].pinned) == ("B", False)
    assert nxt[1].current_staff_id == "A"
    kept = next_families(sc, {"P": "A", "Q": None})
    assert kept[0].pinned and kept[1].current_staff_id is None


def test_store_records_plans_history_lists_them_and_diff_reads_ids(tmp_path: Path) -> None:
    sc = leave_scenario()
    folder = write_scenario(sc, tmp_path / "prog")
    db = tmp_path / "plans.sqlite"
    res = _run("solve", folder, "--out", tmp_path / "p0", "--time-limit", "1", "--store", db)
    assert res.exit_code == 0, res.output
    first = res.output.split("recorded in the plan store as ")[1].split()[0]
    res = _run(
        "reassign", folder, "--out", tmp_path / "p1", "--absent", "X", "--until",
        UNTIL.isoformat(), "--as-of", "2026-09-01", "--time-limit", "1", "--store", db,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    second = res.output.split("recorded in the plan store as ")[1].split()[0]
    res = _run("history", "--store", db, "--out", tmp_path / "h")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()  # stdout and the log on stderr, mixed
    header = lines.index("id\tas_of\tkind\tstatus\tplaced\tmoves\tcreated\tfolder")
    assert lines[header + 1].startswith(f"{first}\t{AS_OF.isoformat()}\tsolve\t")
    assert lines[header + 2].startswith(f"{second}\t2026-09-01\treassign\t")
    periods = pd.read_csv(tmp_path / "h" / "assignment_periods.csv", dtype=str)
    assert set(periods[periods["family_id"] == "X0"]["start"]) == {AS_OF.isoformat(), "2026-09-01"}
    res = _run("diff", first, second, "--store", db)
    assert res.exit_code == 0 and "6 moved" in res.output, res.output
    res = _run("diff", first, "nope", "--store", db)
    assert res.exit_code == 2 and "'nope'" in res.output


# ----------------------------------------------------------------------------- history properties

STAFF_IDS = ["A", "B", "C", None]
plans_strategy = st.lists(
    st.dictionaries(
        st.sampled_from([f"F{i}" for i in range(8)]), st.sampled_from(STAFF_IDS), max_size=8
    ),
    min_size=1,
    max_size=5,
)


def _record(k: int, staff_of: dict[str, str | None]) -> PlanRecord:
    counts = pd.Series([s for s in staff_of.values() if s]).value_counts()
    caseloads = pd.DataFrame(
        {
            "staff_id": ["A", "B", "C"],
            "families": [str(int(counts.get(s, 0))) for s in "ABC"],
            "weighted_load": [str(2.0 * int(counts.get(s, 0))) for s in "ABC"],
            "exception_id": ["W1" if counts.get(s, 0) >= 3 else "" for s in "ABC"],
        }
    )
    exception_of = {s: "W1" for s in "ABC" if counts.get(s, 0) >= 3}
    return PlanRecord(
        Path(f"p{k}"), AS_OF + timedelta(days=10 * k), staff_of, caseloads, exception_of
    )


@given(plans_strategy)
@settings(max_examples=60, deadline=None)
def test_diff_replays_and_timeline_covers_every_plan_day(
    plans: list[dict[str, str | None]],
) -> None:
    """Applying the diff of consecutive plans to the first gives the second; the timeline's
    periods of a family never overlap and name, on each plan's day, that plan's staff member;
    exception days add up to the plans' spans."""
    records = [_record(k, p) for k, p in enumerate(plans)]
    for a, b in itertools.pairwise(records):
        changes = _nulls_as_none(diff_plans(a, b).families)
        replay = dict(a.staff_of)
        for fid, change, _, target in changes.itertuples(index=False, name=None):
            if change == "withdrawn":
                del replay[fid]
            else:
                replay[fid] = target
        assert replay == b.staff_of
    t = timeline(list(reversed(records)))
    periods = _nulls_as_none(t.periods)
    for fid in {f for r in records for f in r.staff_of}:
        group = periods[periods["family_id"] == fid]
        spans = sorted(
            zip(group["start"], group["end"], group["staff_id"], strict=True),
            key=lambda span: span[0],
        )
        for (_, end, _), (start, _, _) in itertools.pairwise(spans):
            assert end is not None and end < start
        for r in records:
            covering = [
                s for start, end, s in spans if start <= r.as_of and (end is None or r.as_of <= end)
            ]
            assert covering == ([r.staff_of[fid]] if fid in r.staff_of else [])
    used = sum(len(r.exception_of) for r in records)
    assert (len(t.exception_days) == 0) == (used == 0)


def _nulls_as_none(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(object).where(frame.notna(), None)


def test_diff_names_no_staff_member_as_a_dash(tmp_path: Path) -> None:
    # One family becomes unplaced beside one that moves: pandas would turn the missing staff id
    # into NaN in a mixed column, and the CLI would print "nan" as if it were a staff id.
    caseloads = pd.DataFrame(
        {"staff_id": ["S1", "S2"], "families": ["1", "1"], "weighted_load": ["1", "1"],
         "exception_id": ["", ""]}
    )  # fmt: skip
    before = PlanRecord(tmp_path, AS_OF, {"F1": "S1", "F2": "S1"}, caseloads, {})
    after = PlanRecord(tmp_path, AS_OF, {"F1": None, "F2": "S2"}, caseloads, {})
    d = diff_plans(before, after)
    assert d.families.values.tolist() == [
        ["F1", "unplaced", "S1", None],
        ["F2", "moved", "S1", "S2"],
    ]
    folders = []
    for name, record in (("a", before), ("b", after)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "summary.json").write_text(json.dumps({"as_of": AS_OF.isoformat()}))
        pd.DataFrame(
            {
                "family_id": list(record.staff_of),
                "staff_id": [s or "" for s in record.staff_of.values()],
            }
        ).to_csv(folder / "assignments.csv", index=False)
        caseloads.to_csv(folder / "caseloads.csv", index=False)
        folders.append(folder)
    res = _run("diff", *folders)
    assert res.exit_code == 0, res.output
    assert "F1: unplaced S1 -> -" in res.output and "nan" not in res.output


def test_solve_keeps_a_staff_member_on_a_running_absence_away(tmp_path: Path) -> None:
    """An absence running on as_of (written by hand: a planned leave) keeps X away in solve as in
    update; the plan folder keeps X active in staff.csv and carries the absence."""
    folder = write_scenario(leave_scenario(), tmp_path / "prog")
    (folder / "absences.csv").write_text(
        "staff_id,starts,until,family_id,moved_to_staff_id\nX,2026-08-01,2026-09-30,,\n",
        encoding="utf-8",
    )
    out = tmp_path / "plan"
    res = _run("solve", folder, "--out", out, "--time-limit", "1")
    assert res.exit_code == 0, res.output
    assert "X" not in set(read_plan(out).staff_of.values())
    nxt = load_scenario(out)
    assert nxt.staff_by_id["X"].status.value == "active"
    assert [(a.staff_id, a.until) for a in nxt.absences] == [("X", date(2026, 9, 30))]


def test_a_reassign_after_the_absence_ended_keeps_it_for_the_next_update() -> None:
    """X's absence ends; a departure is planned before any update: its folder keeps the
    absence, and the next update still brings X's families back."""
    sc = leave_scenario()
    away = reassign(sc, absent="X", until=UNTIL, options=PlanOptions(time_limit=2))
    after = reassign(
        away.next_scenario(),
        departed="Z",
        as_of=UNTIL + timedelta(days=2),
        options=PlanOptions(time_limit=2),
    )
    assert [a.staff_id for a in after.next_scenario().absences] == ["X"]
    back = update(after.next_scenario(), as_of=UNTIL + timedelta(days=3))
    assert back.returned_staff == ("X",)
    assert set(back.returned_families) == listed(after.next_scenario().absences)
    assert back.next_scenario().absences == ()
