"""Absences with a return date, carried from one plan to the next (``absences.csv``).

An absence is a fact about a staff member: who, from when, until when (inclusive). Under it are
listed the families moved to colleagues for its time, who go back to the staff member once it
has ended (``famassign reassign --absent ID --until DATE`` records both). ``famassign update``
keeps the staff member away while the absence runs and brings the listed families back from the
day after `until` (see :mod:`famassign.solver.update`).

``absences.csv`` has one row per absence and one per family listed under it:

- an absence row: ``staff_id``, ``starts``, ``until`` (ISO ``YYYY-MM-DD``), ``family_id`` blank;
- a family row: ``staff_id`` (whose absence), ``family_id`` and ``moved_to_staff_id`` (the
  colleague who took it); ``starts`` and ``until`` blank or those of the absence.

Every plan folder holds the absences not yet ended (it is the next scenario). The file is read
with the scenario (:func:`famassign.models.loading.read_scenario_files`) and checked against it: a
staff id that is not in staff.csv is an error (``absences.csv:ROW:COLUMN``); a family row naming
a family that is no longer enrolled is dropped with a warning and never makes anyone absent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, model_validator

from famassign.models.domain import Code
from famassign.models.files import ReadLimits, given_or_env, read_csv
from famassign.models.problems import LocatedProblem

ABSENCES_CSV = "absences.csv"
ABSENCE_COLUMNS = ["staff_id", "starts", "until", "family_id", "moved_to_staff_id"]
"""Columns of absences.csv, in order."""


class AbsentFamily(BaseModel):
    """A family moved away for an absence: it goes back to the absent staff member after it.

    `moved_to_staff_id` is the colleague who took it for the time of the absence.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    family_id: Code
    moved_to_staff_id: Code


class Absence(BaseModel):
    """`staff_id` is away from `starts` to `until` (both inclusive); `families` go back to them
    on the day after `until` (:attr:`returns_on`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    staff_id: Code
    starts: date
    until: date
    families: tuple[AbsentFamily, ...] = ()

    @model_validator(mode="after")
    def _dated(self) -> Absence:
        if self.until < self.starts:
            raise ValueError(f"until {self.until} is before starts {self.starts}")
        return self

    @property
    def returns_on(self) -> date:
        """The first day the staff member is back: the day after `until`."""
        return date.fromordinal(self.until.toordinal() + 1)

    def ended(self, as_of: date) -> bool:
        """True once `as_of` is past the last day of the absence."""
        return as_of > self.until

    def runs_on(self, as_of: date) -> bool:
        """True when the staff member is away on `as_of` (``starts <= as_of <= until``)."""
        return self.starts <= as_of <= self.until


def absence_rows(absences: Iterable[Absence]) -> list[list[str]]:
    """absences.csv's data rows (:data:`ABSENCE_COLUMNS`): each absence, then its families."""
    rows: list[list[str]] = []
    for a in absences:
        rows.append([a.staff_id, a.starts.isoformat(), a.until.isoformat(), "", ""])
        rows.extend([a.staff_id, "", "", f.family_id, f.moved_to_staff_id] for f in a.families)
    return rows


@dataclass(frozen=True)
class ReadAbsences:
    """absences.csv checked against a scenario: the absences, the problems (errors, exit 2) and
    the warnings (family rows dropped)."""

    absences: tuple[Absence, ...]
    problems: tuple[LocatedProblem, ...]
    warnings: tuple[LocatedProblem, ...]


def _date(
    row: Mapping[str, str], column: str, line: int, problems: list[LocatedProblem]
) -> date | None:
    text = row.get(column, "")
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(
            LocatedProblem(ABSENCES_CSV, line, column, f"{text!r} is not a date (YYYY-MM-DD)")
        )
        return None


def read_absences(
    folder: str | Path,
    staff_ids: Iterable[str],
    family_ids: Iterable[str],
    limits: ReadLimits | None = None,
) -> ReadAbsences:
    """Read ``folder/absences.csv`` (no file: no absences) within `limits` (None: the defaults,
    as the environment sets them) and check it against the scenario's `staff_ids` and enrolled
    `family_ids`. A file unreadable or crossing a limit raises ScenarioError.

    Problems (each ``absences.csv:ROW:COLUMN``): a missing column, a blank or unknown staff id,
    a date that is not ``YYYY-MM-DD``, an absence without ``starts`` or ``until`` or ending
    before it starts, a staff member with two absences, a family row with no absence of its
    staff member listed, dates on a family row other than the absence's, a family listed twice,
    a blank or unknown ``moved_to_staff_id``. Warnings: a family row naming a family that is not
    in families.csv (withdrawn since) is dropped.
    """
    path = Path(folder) / ABSENCES_CSV
    if not path.is_file():
        return ReadAbsences((), (), ())
    known_staff, enrolled = set(staff_ids), set(family_ids)
    problems: list[LocatedProblem] = []
    warnings: list[LocatedProblem] = []
    heads: dict[str, tuple[date, date]] = {}
    order: list[str] = []
    listed: dict[str, list[AbsentFamily]] = {}
    family_rows: list[tuple[int, dict[str, str]]] = []
    table = read_csv(path, given_or_env(limits))
    header = [h.strip() for h in table.rows[0]] if table.rows else []
    missing = [c for c in ABSENCE_COLUMNS if c not in header]
    if missing:
        return ReadAbsences(
            (),
            tuple(LocatedProblem(ABSENCES_CSV, 1, c, "required column missing") for c in missing),
            (),
        )
    for cells, line in zip(table.rows[1:], table.lines[1:], strict=True):
        if not any(cell.strip() for cell in cells):
            continue
        row = {name: cells[i].strip() if i < len(cells) else "" for i, name in enumerate(header)}
        staff_id = row["staff_id"]
        if not staff_id:
            problems.append(LocatedProblem(ABSENCES_CSV, line, "staff_id", "blank; required"))
            continue
        if staff_id not in known_staff:
            problems.append(
                LocatedProblem(
                    ABSENCES_CSV,
                    line,
                    "staff_id",
                    f"unknown staff_id {staff_id!r}; it must be a staff_id in staff.csv",
                )
            )
            continue
        if row["family_id"]:
            family_rows.append((line, row))
            continue
        starts = _date(row, "starts", line, problems)
        until = _date(row, "until", line, problems)
        for column, value in (("starts", starts), ("until", until)):
            if value is None and not row[column]:
                problems.append(LocatedProblem(ABSENCES_CSV, line, column, "blank; required"))
        if starts is None or until is None:
            continue
        if until < starts:
            problems.append(
                LocatedProblem(ABSENCES_CSV, line, "until", f"{until} is before starts {starts}")
            )
        elif staff_id in heads:
            problems.append(
                LocatedProblem(ABSENCES_CSV, line, "staff_id", f"a second absence of {staff_id!r}")
            )
        else:
            heads[staff_id] = (starts, until)
            order.append(staff_id)
    seen: set[str] = set()
    for line, row in family_rows:
        staff_id, family_id = row["staff_id"], row["family_id"]
        if staff_id not in heads:
            problems.append(
                LocatedProblem(
                    ABSENCES_CSV,
                    line,
                    "staff_id",
                    f"no absence of {staff_id!r} is listed (a row with a blank family_id, its "
                    "starts and until)",
                )
            )
            continue
        for column, value in zip(("starts", "until"), heads[staff_id], strict=True):
            given = _date(row, column, line, problems)
            if given is not None and given != value:
                problems.append(
                    LocatedProblem(
                        ABSENCES_CSV, line, column, f"{given} is not the absence's {value}"
                    )
                )
        moved_to = row["moved_to_staff_id"]
        if moved_to not in known_staff:
            problems.append(
                LocatedProblem(
                    ABSENCES_CSV,
                    line,
                    "moved_to_staff_id",
                    f"unknown staff_id {moved_to!r}; the colleague who took the family"
                    if moved_to
                    else "blank; required (the colleague who took the family)",
                )
            )
            continue
        if family_id in seen:
            problems.append(
                LocatedProblem(
                    ABSENCES_CSV, line, "family_id", f"family {family_id!r} listed twice"
                )
            )
            continue
        seen.add(family_id)
        if family_id not in enrolled:
            warnings.append(
                LocatedProblem(
                    ABSENCES_CSV,
                    line,
                    "family_id",
                    f"family {family_id!r} is not in families.csv (withdrawn); row ignored",
                )
            )
            continue
        listed.setdefault(staff_id, []).append(
            AbsentFamily(family_id=family_id, moved_to_staff_id=moved_to)
        )
    absences = tuple(
        Absence(
            staff_id=s,
            starts=heads[s][0],
            until=heads[s][1],
            families=tuple(listed.get(s, ())),
        )
        for s in order
    )
    return ReadAbsences(absences, tuple(problems), tuple(warnings))


__all__ = [
    "ABSENCES_CSV",
    "ABSENCE_COLUMNS",
    "Absence",
    "AbsentFamily",
    "ReadAbsences",
    "absence_rows",
    "read_absences",
]
