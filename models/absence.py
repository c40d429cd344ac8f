"""Absences with a return date, remembered from one plan to the next (``absences.csv``).

``famassign reassign --absent ID --until DATE`` moves the absent staff member's families to
colleagues for the time of the absence. Each such move is one :class:`AbsenceMove`: the family,
the absent staff member, the last day of the absence and the colleague who took the family. The
plan's outputs carry them in ``absences.csv``; put that file in the scenario folder (beside
``families.csv``, which ``next_families.csv`` replaces) and ``famassign update`` keeps the staff
member away until the date, then brings the families back (see :mod:`famassign.solver.update`).

``absences.csv`` columns: ``family_id, staff_id, until, moved_to_staff_id`` (``until`` ISO
``YYYY-MM-DD``; ``moved_to_staff_id`` blank when the family could not be placed).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict

from famassign.models.domain import Code
from famassign.models.files import ReadLimits, given_or_env, read_csv
from famassign.models.problems import LocatedProblem, ScenarioError

ABSENCES_CSV = "absences.csv"
ABSENCE_COLUMNS = ["family_id", "staff_id", "until", "moved_to_staff_id"]
"""Columns of absences.csv, in order."""


class AbsenceMove(BaseModel):
    """A family moved away from `staff_id` while that person is absent (to `until`, inclusive).

    The family returns on the day after `until` (:attr:`returns_on`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    family_id: Code
    staff_id: Code
    until: date
    moved_to_staff_id: Code | None = None

    @property
    def returns_on(self) -> date:
        """The first day the staff member is back: the day after `until`."""
        return date.fromordinal(self.until.toordinal() + 1)

    def ended(self, as_of: date) -> bool:
        """True once `as_of` is past the last day of the absence."""
        return as_of > self.until


def absences_frame(absences: Iterable[AbsenceMove]) -> pd.DataFrame:
    """absences.csv as a DataFrame (ISO dates, blanks for none)."""
    return pd.DataFrame(
        [[a.family_id, a.staff_id, a.until.isoformat(), a.moved_to_staff_id] for a in absences],
        columns=ABSENCE_COLUMNS,
    )


def read_absences(folder: str | Path, limits: ReadLimits | None = None) -> tuple[AbsenceMove, ...]:
    """The absences remembered in ``folder/absences.csv`` (empty when the file is absent), read
    within `limits` (None: the defaults, as the environment sets them).

    Raises
    ------
    ScenarioError
        Every problem as ``absences.csv:ROW:COLUMN: message`` (unreadable or crossing a limit,
        missing column, blank id, a date that is not ``YYYY-MM-DD``, a family listed twice).
    """
    path = Path(folder) / ABSENCES_CSV
    if not path.is_file():
        return ()
    problems: list[LocatedProblem] = []
    records: list[AbsenceMove] = []
    seen: set[str] = set()
    table = read_csv(path, given_or_env(limits))
    header = [h.strip() for h in table.rows[0]] if table.rows else []
    missing = [c for c in ABSENCE_COLUMNS if c not in header and c != "moved_to_staff_id"]
    for column in missing:
        problems.append(LocatedProblem(ABSENCES_CSV, 1, column, "required column missing"))
    if missing:
        raise ScenarioError(problems)
    for cells, line in zip(table.rows[1:], table.lines[1:], strict=True):
        if not any(cell.strip() for cell in cells):
            continue
        row = {name: cell.strip() for name, cell in zip(header, cells, strict=False)}
        bad = False
        for column in ("family_id", "staff_id"):
            if not row.get(column):
                problems.append(LocatedProblem(ABSENCES_CSV, line, column, "blank; required"))
                bad = True
        try:
            until = date.fromisoformat(row.get("until", ""))
        except ValueError:
            problems.append(
                LocatedProblem(
                    ABSENCES_CSV, line, "until", f"{row.get('until')!r} is not YYYY-MM-DD"
                )
            )
            bad = True
        if bad:
            continue
        if row["family_id"] in seen:
            problems.append(
                LocatedProblem(
                    ABSENCES_CSV, line, "family_id", f"family {row['family_id']!r} listed twice"
                )
            )
            continue
        seen.add(row["family_id"])
        records.append(
            AbsenceMove(
                family_id=row["family_id"],
                staff_id=row["staff_id"],
                until=until,
                moved_to_staff_id=row.get("moved_to_staff_id") or None,
            )
        )
    if problems:
        raise ScenarioError(problems)
    return tuple(records)


__all__ = [
    "ABSENCES_CSV",
    "ABSENCE_COLUMNS",
    "AbsenceMove",
    "absences_frame",
    "read_absences",
]
