"""The program's year that tests/test_year.py (command line, checked against an independent MIP)
and tests/test_year_http.py (the same year by command line and by HTTP) both run: the program,
its twelve steps, the month's hand edits into a plan folder, and the scenario a step planned,
built from the files alone.

120 families and 6 advocates at 0.55 FTE (cap 22 each, 132 places), 30 Spanish-speaking
families and 2 bilingual advocates; a departure with a temporary cap mid-period, an absence with
a return, a hire, enrolments, withdrawals and re-assessments every month.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import builders
import pandas as pd
from typer.testing import CliRunner

from famassign.cli import app
from famassign.models import Scenario, StaffStatus
from famassign.models.loading import load_scenario

runner = CliRunner()
LANGUAGES = ("en", "es")
SEED = 11
"""The seed of the month's edits (withdrawals, enrolments, re-assessments)."""


def program(
    families: int = 120,
    spanish: int = 30,
    staff: int = 6,
    bilingual: int = 2,
    fte: float = 0.55,
    seed: int = 7,
    name: str = "Year test program",
) -> Scenario:
    """The program at the start of the year (the defaults); other sizes for shorter tests:
    `families` of drawn urgency and intensity, the first `spanish` speaking Spanish, and
    `staff` members of `fte`, the first `bilingual` also speaking Spanish."""
    rng = random.Random(seed)
    members = [
        builders.fam(
            f"F{i:03d}",
            language="es" if i < spanish else "en",
            urgency=rng.randint(1, 5),
            intensity=rng.choice(("low", "medium", "high")),
        )
        for i in range(families)
    ]
    team = [
        builders.staff(f"S{j}", fte=fte, languages=LANGUAGES if j < bilingual else ("en",))
        for j in range(staff)
    ]
    return builders.scenario(members, team, name=name)


@dataclass(frozen=True)
class Step:
    """One step of the year: the command's own arguments and the hand edits before it."""

    as_of: str
    command: tuple[str, ...] = ("update",)
    withdraw: int = 3
    enroll: int = 3
    reassess: int = 3
    hire: str | None = None

    @property
    def arguments(self) -> dict[str, str]:
        """The command's options after its name, as ``{"--departed": "S5", ...}``."""
        return dict(zip(self.command[1::2], self.command[2::2], strict=True))


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


def edit_month(folder: Path, step: Step, k: int, rng: random.Random) -> None:
    """Everything edited by hand into the plan folder before step `k`: the families, a hire."""
    edit_families(folder, step, k, rng)
    if step.hire:
        hire(folder, step.hire)


def run_step(plan: Path, out: Path, step: Step, options: Sequence[str]) -> dict[str, Any]:
    """``famassign STEP.command PLAN --out OUT --as-of STEP.as_of OPTIONS``; its summary.json
    (exit 0 or 3)."""
    args = [step.command[0], str(plan), "--out", str(out), *step.command[1:]]
    res = runner.invoke(app, [*args, "--as-of", step.as_of, *options])
    assert res.exit_code in (0, 3), res.output
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


def as_planned(before: Scenario, out: Path, step: Step) -> Scenario:
    """The scenario the step planned, from the files alone: the input on the step's date, staff
    leaving now or on a running absence not active, families of an ended absence back with their
    staff member when still with the colleague who took them, the exceptions of the output
    folder (the temporary one included)."""
    as_of = date.fromisoformat(step.as_of)
    args = step.arguments
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
