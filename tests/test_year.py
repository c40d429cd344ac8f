"""A program's year through the command line, nothing copied by hand: each step's --out folder
is the next step's scenario (docs/through-the-year.md). Enrolments, withdrawals and
re-assessments are edited into the plan folder's families.csv, a hire into its staff.csv, as the
documented cycle says.

120 families and 6 advocates at 0.55 FTE (cap 22 each, 132 places), 30 Spanish-speaking
families and 2 bilingual advocates. At every step the plan's placed count and its moves equal an
independent lexicographic MIP (tests/independent_mip.py) of the scenario as planned, built here
from the files alone; a temporary exception created by a re-plan stays in force until its end;
``moves`` counts the families left unplaced; returns from leave are counted apart.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import builders
import pandas as pd
from independent_mip import independent_levels
from typer.testing import CliRunner

from famassign.cli import app
from famassign.models import Scenario, StaffStatus
from famassign.models.loading import load_scenario
from famassign.models.writing import write_scenario

runner = CliRunner()
START = date(2026, 8, 17)
LANGUAGES = ("en", "es")


def program() -> Scenario:
    rng = random.Random(7)
    families = [
        builders.fam(
            f"F{i:03d}",
            language="es" if i < 30 else "en",
            urgency=rng.randint(1, 5),
            intensity=rng.choice(("low", "medium", "high")),
        )
        for i in range(120)
    ]
    staff = [
        builders.staff(f"S{j}", fte=0.55, languages=LANGUAGES if j < 2 else ("en",))
        for j in range(6)
    ]
    return builders.scenario(families, staff, name="Year test program")


@dataclass(frozen=True)
class Step:
    """One step of the year: the command's own arguments and the hand edits before it."""

    as_of: str
    command: tuple[str, ...] = ("update",)
    withdraw: int = 3
    enroll: int = 3
    reassess: int = 3
    hire: str | None = None


YEAR = (
    Step("2026-09-01"),
    Step("2026-10-01", enroll=5),
    Step(
        "2026-10-15",
        ("reassign", "--departed", "S5", "--temporary-cap", "44", "--until", "2026-11-30"),
        withdraw=0,
        enroll=0,
        reassess=0,
    ),
    Step("2026-11-01"),
    Step("2026-12-01", hire="S6"),
    Step(
        "2026-12-15",
        ("reassign", "--absent", "S2", "--until", "2027-01-20"),
        withdraw=0,
        enroll=0,
        reassess=0,
    ),
    Step("2027-01-05", enroll=4),
    Step("2027-02-01"),
    Step("2027-03-01", enroll=6),
    Step("2027-04-01"),
    Step("2027-05-01", withdraw=5),
)
"""Eleven re-plans after the first solve: twelve plans."""


def edit_families(folder: Path, step: Step, k: int, rng: random.Random) -> None:
    """The month's withdrawals, enrolments (blank current_staff_id) and re-assessments, edited
    into the plan folder's families.csv."""
    path = folder / "families.csv"
    families = pd.read_csv(path, dtype=str, keep_default_na=False)
    gone = rng.sample(list(families.index), step.withdraw)
    families = families.drop(index=gone).reset_index(drop=True)
    for i in rng.sample(list(families.index), step.reassess):
        families.loc[i, "urgency"] = str(rng.randint(1, 5))
        families.loc[i, "intensity"] = rng.choice(("low", "medium", "high"))
    new = families.iloc[: step.enroll].copy()
    new["family_id"] = [f"N{k:02d}-{j}" for j in range(step.enroll)]
    new["language"] = [rng.choice(LANGUAGES) for _ in range(step.enroll)]
    new["current_staff_id"] = ""
    new["pinned"] = "false"
    pd.concat([families, new]).to_csv(path, index=False)


def hire(folder: Path, staff_id: str) -> None:
    """A new advocate added to the plan folder's staff.csv."""
    path = folder / "staff.csv"
    staff = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = staff.iloc[[-1]].copy()
    row["staff_id"], row["name"], row["status"] = staff_id, "", "active"
    pd.concat([staff, row]).to_csv(path, index=False)


def as_planned(before: Scenario, out: Path, step: Step) -> Scenario:
    """The scenario the step planned, from the files alone: the input on the step's date, staff
    leaving now or on a running absence not active, families of an ended absence back with their
    staff member when still with the colleague who took them, the exceptions of the output
    folder (the temporary one included)."""
    as_of = date.fromisoformat(step.as_of)
    args = dict(zip(step.command[1::2], step.command[2::2], strict=False))
    away = {a.staff_id for a in before.absences if a.starts <= as_of <= a.until}
    status = {s: StaffStatus.absent for s in away}
    status |= {s: StaffStatus.departed for s in args.get("--departed", "").split(",") if s}
    status |= {s: StaffStatus.absent for s in args.get("--absent", "").split(",") if s}
    back = {
        f.family_id: a.staff_id
        for a in before.absences
        if a.until < as_of
        for f in a.families
        if before.family_by_id[f.family_id].current_staff_id == f.moved_to_staff_id
    }
    exceptions = {e.exception_id: e for e in (*before.exceptions, *load_scenario(out).exceptions)}
    return before.rebuilt(
        as_of=as_of,
        staff=tuple(
            s.model_copy(update={"status": status[s.staff_id]}) if s.staff_id in status else s
            for s in before.staff
        ),
        families=tuple(
            f.model_copy(update={"current_staff_id": back[f.family_id]})
            if f.family_id in back
            else f
            for f in before.families
        ),
        exceptions=tuple(exceptions.values()),
        absences=(),
    )


def taken_from_active(out: Path, planned: Scenario) -> int:
    """moves.csv's families taken from a staff member active in the planned scenario (placed
    elsewhere or left unplaced)."""
    moves = pd.read_csv(out / "moves.csv", dtype=str, keep_default_na=False)
    active = {s.staff_id for s in planned.staff if s.status is StaffStatus.active}
    current = {f.family_id: f.current_staff_id for f in planned.families}
    return sum(
        1 for fid, to in zip(moves["family_id"], moves["to_staff_id"], strict=True)
        if current[fid] in active and to != current[fid]
    )  # fmt: skip


def test_a_year_of_plans_through_the_command_line(tmp_path: Path) -> None:
    rng = random.Random(11)
    folder = write_scenario(program(), tmp_path / "program")
    plan = tmp_path / "plan-00"
    res = runner.invoke(app, ["solve", str(folder), "--out", str(plan), "--time-limit", "2"])
    assert res.exit_code == 0, res.output
    summaries = [json.loads((plan / "summary.json").read_text())]
    exception_id = None
    unplaced_moves = returns = 0
    for k, step in enumerate(YEAR, start=1):
        edit_families(plan, step, k, rng)
        if step.hire:
            hire(plan, step.hire)
        before = load_scenario(plan)
        out = tmp_path / f"plan-{k:02d}"
        args = [step.command[0], str(plan), "--out", str(out), *step.command[1:]]
        res = runner.invoke(app, [*args, "--as-of", step.as_of, "--time-limit", "3"])
        assert res.exit_code in (0, 3), res.output
        summary = json.loads((out / "summary.json").read_text())
        assert summary["continues"] == summaries[-1]["plan_fingerprint"]
        planned = as_planned(before, out, step)
        levels = independent_levels(planned, with_match=False)
        assert (summary["assigned"], summary["moves"]) == (levels.placed, levels.moves), step
        assert summary["moves"] == taken_from_active(out, planned), step
        assert summary["moves"] == summary["moved_placed"] + summary["moved_unplaced"]
        unplaced_moves += summary["moved_unplaced"]
        returns += summary["returns"]
        if step.command[0] == "update":
            assert summary["update_returned_families"] == summary["returns"]
        nxt = load_scenario(out)
        created = [e for e in nxt.exceptions if e.created_by]
        if "--temporary-cap" in step.command:
            (exc,) = created
            exception_id = exc.exception_id
            assert (exc.kind.value, exc.max_families, exc.starts, exc.ends) == (
                "staff_attrition",
                44,
                date(2026, 10, 15),
                date(2026, 11, 30),
            )
            assert exc.created_by == "reassign 2026-10-15: S5 departed"
        elif exception_id is not None:
            in_force = date.fromisoformat(step.as_of) <= date(2026, 11, 30)
            assert [e.exception_id for e in created] == ([exception_id] if in_force else [])
            assert (exception_id in summary["exceptions_in_force_unused"] + summary[
                "exceptions_used"]) == in_force  # fmt: skip
        summaries.append(summary)
        plan = out
    assert len(summaries) == 12
    assert returns > 0 and summaries[8]["update_returned_staff"] == ["S2"]
    assert unplaced_moves > 0
