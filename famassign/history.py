"""Plan history from plan output folders: what changed between two plans, and over a year.

A plan folder (the ``--out`` of solve, reassign or update) holds ``assignments.csv``,
``caseloads.csv`` and ``summary.json`` (whose ``as_of`` dates the plan). From two of them
:func:`diff_plans` gives, exactly: the families that moved (staff changed, placed or unplaced),
the families only in one plan (enrolled, withdrawn), the caseloads that changed, and the
exception citations that started and ended. From any number of them :func:`timeline` gives
each family's assignment periods (who worked with the family, from when to when) and, per
exception, the days each staff member's caseload used it.

A plan is in force from its ``as_of`` to the day before the next plan's ``as_of``; the last plan
is in force on its own ``as_of`` at least, and its periods stay open (blank end).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from famassign.models.errors import FamassignError
from famassign.models.files import ReadLimits, read_csv
from famassign.models.problems import ScenarioError
from famassign.safe_io import atomic_output_dir, check_output_dir, write_csv

DIFF_FAMILY_COLUMNS = ["family_id", "change", "from_staff_id", "to_staff_id"]
DIFF_CASELOAD_COLUMNS = [
    "staff_id",
    "families_before",
    "families_after",
    "weighted_load_before",
    "weighted_load_after",
]
DIFF_EXCEPTION_COLUMNS = ["exception_id", "staff_id", "change"]
PERIOD_COLUMNS = ["family_id", "staff_id", "start", "end"]
EXCEPTION_DAY_COLUMNS = ["exception_id", "staff_id", "first_day", "last_day", "days", "open"]


class PlanFolderError(FamassignError, ValueError):
    """A folder is not a readable plan; the message names the folder and the file."""


@dataclass(frozen=True)
class PlanRecord:
    """The parts of a plan folder that history needs."""

    folder: Path
    as_of: date
    staff_of: dict[str, str | None]
    caseloads: pd.DataFrame
    exception_of: dict[str, str]


def _csv(folder: Path, name: str, columns: Sequence[str]) -> pd.DataFrame:
    """The plan file `name` as text cells, read within the read limits the environment sets."""
    path = folder / name
    try:
        table = read_csv(path, ReadLimits.from_env())
    except OSError as exc:
        raise PlanFolderError(f"{path}: cannot be read as a plan file ({exc})") from None
    except ScenarioError as exc:
        raise PlanFolderError(
            f"{path}: cannot be read as a plan file ({exc.problems[0]})"
        ) from None
    rows = [row for row in table.rows if row]
    if not rows:
        raise PlanFolderError(f"{path}: cannot be read as a plan file (it is empty)")
    width = len(rows[0])
    body = [(row + [""] * width)[:width] for row in rows[1:]]
    frame = pd.DataFrame(body, columns=rows[0], dtype=str)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise PlanFolderError(f"{path}:1: missing column(s) {', '.join(missing)}")
    return frame


def read_plan(folder: str | Path) -> PlanRecord:
    """Read a plan output folder.

    Raises
    ------
    PlanFolderError
        When assignments.csv, caseloads.csv or summary.json is missing or unreadable.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise PlanFolderError(f"{folder}: not a folder (give a plan's --out folder)")
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        as_of = date.fromisoformat(summary["as_of"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PlanFolderError(f"{folder / 'summary.json'}: no readable as_of ({exc})") from None
    assignments = _csv(folder, "assignments.csv", ["family_id", "staff_id"])
    caseloads = _csv(
        folder, "caseloads.csv", ["staff_id", "families", "weighted_load", "exception_id"]
    )
    staff_of = {
        f: (s or None)
        for f, s in zip(assignments["family_id"], assignments["staff_id"], strict=True)
    }
    exception_of = {
        s: e for s, e in zip(caseloads["staff_id"], caseloads["exception_id"], strict=True) if e
    }
    return PlanRecord(folder, as_of, staff_of, caseloads, exception_of)


@dataclass(frozen=True)
class PlanDiff:
    """What changed from plan `before` to plan `after` (every frame exact, sorted by id)."""

    before: PlanRecord
    after: PlanRecord
    families: pd.DataFrame
    caseloads: pd.DataFrame
    exceptions: pd.DataFrame

    def count(self, change: str) -> int:
        """Rows of `families` with this change (moved, placed, unplaced, enrolled, withdrawn)."""
        return int((self.families["change"] == change).sum())


def diff_plans(before: PlanRecord, after: PlanRecord) -> PlanDiff:
    """The exact difference between two plans.

    `families` has one row per family whose staff member differs: ``moved`` (staff to another
    staff), ``placed`` (unplaced before), ``unplaced`` (placed before), ``enrolled`` (only in
    `after`), ``withdrawn`` (only in `before`). `caseloads` one row per staff member whose
    family count or weighted load differs (a staff member in one plan only counts 0 in the
    other). `exceptions` one row per (exception, staff member) citation that ``started`` or
    ``ended``.
    """
    rows = []
    for fid in sorted(before.staff_of.keys() | after.staff_of.keys()):
        a, b = before.staff_of.get(fid, ""), after.staff_of.get(fid, "")
        if fid not in after.staff_of:
            rows.append([fid, "withdrawn", a, None])
        elif fid not in before.staff_of:
            rows.append([fid, "enrolled", None, b])
        elif a != b:
            change = "placed" if a is None else "unplaced" if b is None else "moved"
            rows.append([fid, change, a, b])
    # dtype=object keeps None for "no staff member" beside staff ids (pandas would make it NaN)
    families = pd.DataFrame(rows, columns=DIFF_FAMILY_COLUMNS, dtype=object)

    def loads(record: PlanRecord) -> dict[str, tuple[int, float]]:
        return {
            s: (int(n), float(w))
            for s, n, w in zip(
                record.caseloads["staff_id"],
                record.caseloads["families"],
                record.caseloads["weighted_load"],
                strict=True,
            )
        }

    la, lb = loads(before), loads(after)
    caseload_rows = []
    for sid in sorted(la.keys() | lb.keys()):
        na, wa = la.get(sid, (0, 0.0))
        nb, wb = lb.get(sid, (0, 0.0))
        if na != nb or abs(wa - wb) > 1e-9:
            caseload_rows.append([sid, na, nb, wa, wb])
    caseloads = pd.DataFrame(caseload_rows, columns=DIFF_CASELOAD_COLUMNS)
    cited_a = {(e, s) for s, e in before.exception_of.items()}
    cited_b = {(e, s) for s, e in after.exception_of.items()}
    exception_rows = [[e, s, "started"] for e, s in sorted(cited_b - cited_a)]
    exception_rows += [[e, s, "ended"] for e, s in sorted(cited_a - cited_b)]
    exceptions = pd.DataFrame(exception_rows, columns=DIFF_EXCEPTION_COLUMNS)
    return PlanDiff(before, after, families, caseloads, exceptions)


@dataclass(frozen=True)
class Timeline:
    """Assignment periods per family and exception use per staff member over a plan sequence."""

    plans: tuple[PlanRecord, ...]
    periods: pd.DataFrame
    exception_days: pd.DataFrame

    def write(self, out: Path) -> None:
        """Write assignment_periods.csv and exception_days.csv into `out`, replaced as a whole.

        Parameters
        ----------
        out
            The output folder.

        Raises
        ------
        OutputDirError
            When `out` cannot be replaced safely.
        """
        check_output_dir(out)
        with atomic_output_dir(out) as tmp:
            write_csv(self.periods, tmp / "assignment_periods.csv")
            write_csv(self.exception_days, tmp / "exception_days.csv")


def _end(plans: Sequence[PlanRecord], k: int) -> date | None:
    """Last day plan k is in force (None: the last plan, still in force)."""
    return plans[k + 1].as_of - timedelta(days=1) if k + 1 < len(plans) else None


def timeline(records: Sequence[PlanRecord]) -> Timeline:
    """Periods and exception days over `records` (sorted by ``as_of``; equal dates refused).

    `periods`: one row per (family, staff member) stretch, ``start`` the first plan's as_of,
    ``end`` the last day before the plan that changed it (blank while it lasts). Unplaced
    stretches have a blank staff_id. `exception_days`: one row per exception and staff member
    cited, first and last day, days counted (to the last plan's as_of for open ones) and whether
    it is still cited by the last plan. Raises PlanFolderError for two plans of the same day.
    """
    plans = tuple(sorted(records, key=lambda r: r.as_of))
    for a, b in itertools.pairwise(plans):
        if a.as_of == b.as_of:
            raise PlanFolderError(
                f"{a.folder} and {b.folder} are both dated {a.as_of.isoformat()}; a timeline "
                "needs one plan per day"
            )
    periods: list[tuple[str, str | None, date, date | None]] = []
    open_since: dict[str, tuple[str | None, date]] = {}
    for plan in plans:
        for fid in sorted(open_since.keys() - plan.staff_of.keys()):  # withdrawn
            staff, start = open_since.pop(fid)
            periods.append((fid, staff, start, plan.as_of - timedelta(days=1)))
        for fid, staff in plan.staff_of.items():
            if fid in open_since and open_since[fid][0] == staff:
                continue
            if fid in open_since:
                old, start = open_since[fid]
                periods.append((fid, old, start, plan.as_of - timedelta(days=1)))
            open_since[fid] = (staff, plan.as_of)
    for fid, (staff, start) in open_since.items():
        periods.append((fid, staff, start, None))
    periods.sort(key=lambda period: (period[0], period[2]))
    period_frame = pd.DataFrame(periods, columns=PERIOD_COLUMNS)
    use: dict[tuple[str, str], list[tuple[date, date, bool]]] = {}
    for k, plan in enumerate(plans):
        end = _end(plans, k)
        for sid, eid in plan.exception_of.items():
            use.setdefault((eid, sid), []).append((plan.as_of, end or plan.as_of, end is None))
    day_rows = []
    for (eid, sid), spans in sorted(use.items()):
        days = sum((last - first).days + 1 for first, last, _ in spans)
        day_rows.append([eid, sid, spans[0][0], spans[-1][1], days, spans[-1][2]])
    return Timeline(plans, period_frame, pd.DataFrame(day_rows, columns=EXCEPTION_DAY_COLUMNS))


__all__ = [
    "PlanDiff",
    "PlanFolderError",
    "PlanRecord",
    "Timeline",
    "diff_plans",
    "read_plan",
    "timeline",
]
