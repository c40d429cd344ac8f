"""The plan workbook (``plan.xlsx``): the plan as the sheets staff and managers open in Excel.

Sheets: Summary, Assignments and Caseloads (the CSV outputs, same columns and values; Caseloads
adds an ``above_cap`` note last), Unplaced, Exceptions, Compliance, one sheet per staff member
with their families and what they need to know (:func:`staff_rosters`: the family's private
display data, name, children and contact, and its language, option and outcomes in words with
the codes; no other free text from the family's record: the agency of an outside plan is said as
yes/no; the reasons name a matched agency as assignments.csv does), and the families leaving
them, the hand-out words comparing with the plan in force, then one sheet per extra table the
caller passes
(e.g. moves or handover notes). Every sheet has its header row frozen, filters on and widths set;
a caseload above its cap is marked in text ("ABOVE CAP ...") as well as in colour. Text cells that
a spreadsheet would run as formulas are neutralised as in the CSVs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import astuple, dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from famassign.models.domain import Outcome, Staff, StaffStatus
from famassign.models.scenario import Scenario
from famassign.models.words import language_words, option_words, outcomes_words
from famassign.report import plan_facts
from famassign.safe_io import sheet_title, xlsx_cells
from famassign.solver.result import Result

ABOVE_CAP_FILL = "FFC7CE"
"""Background of a caseload above its cap (Excel's light red)."""
HEADER_FILL = "DDEBF7"
MAX_WIDTH = 60

STAFF_SHEET_COLUMNS = (
    "family_id",
    "family_name",
    "children",
    "contact",
    "handout",
    "language",
    "site",
    "program_option",
    "urgency",
    "intensity",
    "needs",
    "interests",
    "disability_services",
    "plan_with_other_agency",
    "new_to_you",
    "previous_staff_id",
    "exception_id",
    "reasons",
)
"""The columns of a staff member's own sheet (:class:`RosterEntry`'s fields, in order)."""

PlanInForce = Mapping[str, str | None]
"""family_id -> the staff_id the family has in the plan staff last received (the plan in force);
a family missing from it, or with None, had nobody."""


@dataclass(frozen=True)
class RosterEntry:
    """One line of a staff member's list (their sheet in plan.xlsx and staff_lists.xlsx, their
    printed roster): a family of theirs, or one leaving them, in words for the reader.

    ``handout`` says what this is for the staff member relative to the plan in force ("new to
    you (from Ana Ruiz (S2))", "continues with you", "leaves you: to ...; why"), and where the
    plan this one continues differs from the plan in force, says that too. ``new_to_you`` is
    "yes" when the family is theirs now and was not in the plan in force; ``previous_staff_id``
    is the staff member of the plan this one continues (the solver's view, as assignments.csv).
    ``family_name``, ``children`` and ``contact`` are the family's private display data.
    """

    family_id: str
    family_name: str
    children: str
    contact: str
    handout: str
    language: str
    site: str
    program_option: str
    urgency: int
    intensity: str
    needs: str
    interests: str
    disability_services: str
    plan_with_other_agency: str
    new_to_you: str
    previous_staff_id: str
    exception_id: str
    reasons: str

    @property
    def leaving(self) -> bool:
        """True for a family leaving this staff member's caseload."""
        return self.handout.startswith(LEAVES_YOU)


LEAVES_YOU = "leaves you"
"""How ``handout`` starts for a family leaving the staff member's caseload."""


def staff_names(scenario: Scenario) -> dict[str, str]:
    """staff_id -> display name (blank when the scenario gives none)."""
    return {s.staff_id: s.name or "" for s in scenario.staff}


def above_cap_note(families: int, cap: int, exception_id: Any) -> str:
    """The text mark of a caseload above its cap ("" when within it)."""
    if families <= cap:
        return ""
    allowed = f"under exception {exception_id}" if exception_id else "NO EXCEPTION"
    return f"ABOVE CAP: {families} of {cap} ({allowed})"


def _summary_sheet(summary: Mapping[str, Any]) -> pd.DataFrame:
    rows = []
    for key, value in summary.items():
        if isinstance(value, list):
            value = "; ".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = "; ".join(f"{k}: {v}" for k, v in value.items())
        rows.append({"item": key, "value": value})
    return pd.DataFrame(rows, columns=["item", "value"])


def _exceptions_sheet(result: Result, scenario: Scenario) -> pd.DataFrame:
    facts = plan_facts(result, scenario)
    rows = [
        {
            "exception_id": s.exception.exception_id,
            "kind": s.exception.kind.value,
            "staff_id": s.exception.staff_id or "every staff member",
            "max_families": s.exception.max_families,
            "starts": s.exception.starts.isoformat(),
            "ends": s.exception.ends.isoformat(),
            "reference": s.exception.reference or "",
            "state": s.state,
            "used_by": "; ".join(s.used_by),
        }
        for s in facts.exceptions
    ]
    columns = ["exception_id", "kind", "staff_id", "max_families", "starts", "ends"]
    return pd.DataFrame(rows, columns=[*columns, "reference", "state", "used_by"])


def _compliance_sheet(result: Result, scenario: Scenario) -> pd.DataFrame:
    facts = plan_facts(result, scenario)
    names = staff_names(scenario)
    rows: list[dict[str, Any]] = []
    for over in facts.over_cap:
        exc = over.exception
        paragraph = (
            "1302.52(d)(2)(i)"
            if exc is not None and exc.kind.value == "waiver"
            else "1302.52(d)(2)(ii)"
        )
        rows.append(
            {
                "staff_id": over.staff_id,
                "staff_name": names.get(over.staff_id, ""),
                "families": over.families,
                "cap": over.cap,
                "note": above_cap_note(over.families, over.cap, over.exception_id),
                "exception_id": over.exception_id or "",
                "kind": exc.kind.value if exc else "",
                "paragraph": paragraph if exc else "",
                "reference": (exc.reference or "") if exc else "",
                "starts": exc.starts.isoformat() if exc else "",
                "ends": exc.ends.isoformat() if exc else "",
                "finding": over.problem or "allowed by the exception",
            }
        )
    for problem in facts.problems:
        if not any(problem.endswith(r["finding"]) for r in rows):
            rows.append({"finding": problem})
    if not rows:
        rows.append(
            {"finding": f"every caseload within its cap (1302.52(d)(2)); as of {facts.as_of}"}
        )
    columns = ["staff_id", "staff_name", "families", "cap", "note", "exception_id", "kind"]
    return pd.DataFrame(
        rows, columns=[*columns, "paragraph", "reference", "starts", "ends", "finding"]
    )


def staff_label(staff_id: str | None, names: Mapping[str, str]) -> str:
    """A staff member as people name them: ``Ana Ruiz (S2)``, the id alone when unnamed,
    ``nobody`` for None."""
    if not staff_id:
        return "nobody"
    name = names.get(staff_id, "")
    return f"{name} ({staff_id})" if name else staff_id


def plan_in_force(scenario: Scenario) -> dict[str, str | None]:
    """The plan in force on the command line: each family's ``current_staff_id`` in the
    scenario (the plan the scenario continues, which is what staff last received)."""
    return {f.family_id: f.current_staff_id for f in scenario.families}


def _leaving_why(staff: Staff | None, unplaced_reason: str | None) -> str:
    if unplaced_reason is not None:
        return f"not placed: {unplaced_reason}"
    if staff is not None and staff.status is StaffStatus.departed:
        return "you have left the caseload"
    if staff is not None and staff.status is StaffStatus.absent:
        return "while you are away"
    return "moved by the plan"


def staff_rosters(
    result: Result, scenario: Scenario, in_force: PlanInForce | None = None
) -> dict[str, list[RosterEntry]]:
    """staff_id -> their list: their families in plan order, then the families leaving them
    (relative to `in_force`, by default :func:`plan_in_force`), for every staff member with a
    line. A family that moves is on both lists: the receiving one ("new to you (from ...)") and
    the losing one ("leaves you: to ...; why")."""
    in_force = plan_in_force(scenario) if in_force is None else in_force
    families = scenario.family_by_id
    staff_by_id = {s.staff_id: s for s in scenario.staff}
    names = staff_names(scenario)
    unplaced = {u.family_id: u.reason for u in result.unplaced}
    languages: dict[str, str] = {}
    titles: dict[tuple[Outcome, ...], str] = {}
    owned: dict[str, list[RosterEntry]] = {}
    leaving: dict[str, list[RosterEntry]] = {}
    for a in result.assignments:
        f = families[a.family_id]
        before = in_force.get(a.family_id)
        if a.staff_id:
            if before == a.staff_id:
                handout = "continues with you"
            elif before is None:
                handout = "new to you (new family)"
            else:
                handout = f"new to you (from {staff_label(before, names)})"
        else:
            handout = ""
        if a.previous_staff_id != before:
            handout += (
                f"; the plan this one continues had it with "
                f"{staff_label(a.previous_staff_id, names)}, not yet handed out"
            )
        language = languages.get(f.language) or languages.setdefault(
            f.language, language_words(f.language)
        )
        needs = titles.get(f.needs) or titles.setdefault(f.needs, outcomes_words(f.needs))
        interests = titles.get(f.interests) or titles.setdefault(
            f.interests, outcomes_words(f.interests)
        )
        entry = RosterEntry(
            family_id=f.family_id,
            family_name=f.family_name or "",
            children="; ".join(f.children),
            contact=f.contact or "",
            handout=handout.removeprefix("; "),
            language=language,
            site=f.site,
            program_option=option_words(f.program_option),
            urgency=f.urgency,
            intensity=f.intensity.value,
            needs=needs,
            interests=interests,
            disability_services="yes" if f.disability_services else "",
            plan_with_other_agency="yes" if f.external_plan_agency else "",
            new_to_you="yes" if before != a.staff_id else "",
            previous_staff_id=a.previous_staff_id or "",
            exception_id=a.exception_id or "",
            reasons=a.reasons,
        )
        if a.staff_id:
            owned.setdefault(a.staff_id, []).append(entry)
        if before and before != a.staff_id:
            why = _leaving_why(staff_by_id.get(before), unplaced.get(a.family_id))
            leaving.setdefault(before, []).append(
                replace(
                    entry,
                    handout=f"{LEAVES_YOU}: to {staff_label(a.staff_id, names)}; {why}",
                    new_to_you="",
                    exception_id="",
                    reasons="",
                )
            )
    return {
        staff_id: owned.get(staff_id, []) + leaving.get(staff_id, [])
        for staff_id in [*owned, *(s for s in leaving if s not in owned)]
    }


def _staff_sheets(
    result: Result, scenario: Scenario, in_force: PlanInForce | None
) -> dict[str, pd.DataFrame]:
    """staff_id -> the frame of their own sheet (:data:`STAFF_SHEET_COLUMNS`, the lines of
    :func:`staff_rosters`). Built as one frame and sliced (a frame per sheet was the larger part
    of the outputs' time on 30,000 families)."""
    rosters = staff_rosters(result, scenario, in_force)
    frame = pd.DataFrame(
        [astuple(entry) for entries in rosters.values() for entry in entries],
        columns=list(STAFF_SHEET_COLUMNS),
    )
    sheets: dict[str, pd.DataFrame] = {}
    first = 0
    for staff_id, entries in rosters.items():
        sheets[staff_id] = frame.iloc[first : first + len(entries)]
        first += len(entries)
    return sheets


def plan_sheets(
    result: Result,
    scenario: Scenario,
    *,
    summary: Mapping[str, Any],
    assignments: pd.DataFrame,
    caseloads: pd.DataFrame,
    extra_files: Mapping[str, pd.DataFrame] | None = None,
    in_force: PlanInForce | None = None,
) -> dict[str, pd.DataFrame]:
    """The sheets of plan.xlsx, by title, in order (see the module docstring).

    Parameters
    ----------
    result, scenario
        The plan and its scenario.
    summary
        summary.json as a dict.
    assignments, caseloads
        The frames written as assignments.csv and caseloads.csv.
    extra_files
        Extra tables (file name -> frame); each becomes a sheet named after the file's stem.
    in_force
        The plan staff last received, which the staff sheets' hand-out words compare with
        (:func:`staff_rosters`); by default the families' current staff in `scenario`.

    Returns
    -------
    dict
        Sheet title -> frame.
    """
    loads = caseloads.copy()
    loads["above_cap"] = [
        above_cap_note(int(n), int(c), e)
        for n, c, e in zip(loads["families"], loads["cap"], loads["exception_id"], strict=True)
    ]
    unplaced = pd.DataFrame(
        [u.model_dump() for u in result.unplaced], columns=["family_id", "reason", "would_place"]
    )
    sheets: dict[str, pd.DataFrame] = {
        "Summary": _summary_sheet(summary),
        "Assignments": assignments,
        "Caseloads": loads,
        "Unplaced": unplaced,
        "Exceptions": _exceptions_sheet(result, scenario),
        "Compliance": _compliance_sheet(result, scenario),
    }
    caseloads_of = _staff_sheets(result, scenario, in_force)
    for staff in scenario.staff:
        if staff.staff_id in caseloads_of or staff.status.value == "active":
            title = f"{staff.staff_id} {staff.name}" if staff.name else staff.staff_id
            mine = caseloads_of.get(staff.staff_id)
            if mine is None:
                mine = pd.DataFrame(columns=list(STAFF_SHEET_COLUMNS))
            sheets[f"staff:{title}"] = mine
    for name, frame in (extra_files or {}).items():
        sheets[f"extra:{Path(name).stem}"] = frame
    return sheets


def _column_cells(column: pd.Series) -> list[Any]:
    """A column's values fit for workbook cells (as :func:`famassign.safe_io.xlsx_cell` makes
    them), a column at a time: numbers stay numbers, missing values become None."""
    values = column.tolist()
    if pd.api.types.is_bool_dtype(column.dtype) or pd.api.types.is_integer_dtype(column.dtype):
        return values
    if pd.api.types.is_float_dtype(column.dtype):
        return [None if v != v else v for v in values]  # NaN is the one value unequal to itself
    return xlsx_cells(values)


def _width(title: str, cells: list[Any]) -> float:
    """The width of a column: its longest value or title, two more, at most :data:`MAX_WIDTH`."""
    longest = max(map(len, map(str, [v for v in cells if v is not None])), default=0)
    return float(min(MAX_WIDTH, max(longest, len(title)) + 2))


def _is_above_cap(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("ABOVE CAP")


def _sheet(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[float], list[int]]:
    """`frame` as written: its cells (see :func:`_column_cells`), column widths, and the sheet
    rows (header = 0) whose ``above_cap`` or ``note`` cell marks a caseload above its cap."""
    columns = [str(c) for c in frame.columns]
    cells = [_column_cells(column) for _, column in frame.items()]
    widths = [_width(title, values) for title, values in zip(columns, cells, strict=True)]
    marked: set[int] = set()
    for title, values in zip(columns, cells, strict=True):
        if title in ("above_cap", "note"):
            marked.update(n for n, v in enumerate(values, start=1) if _is_above_cap(v))
    written = pd.DataFrame(dict(enumerate(cells)), index=range(len(frame)), dtype=object)
    written.columns = pd.Index(columns or [])
    return written, widths, sorted(marked)


def write_workbook(sheets: Mapping[str, pd.DataFrame], path: Path | str) -> Path:
    """Write `sheets` as a formatted workbook: frozen header, filters, widths, marks.

    Parameters
    ----------
    sheets
        Title -> frame, in order. Keys may carry a ``staff:`` or ``extra:`` prefix (dropped
        from the title). Titles are made valid and unique (31 characters, no ``[]:*?/\\``).
    path
        The file to write.

    Returns
    -------
    Path
        `path`.

    Notes
    -----
    A row whose ``above_cap`` or ``note`` cell starts with "ABOVE CAP" is filled in
    :data:`ABOVE_CAP_FILL`. Text cells are neutralised as in the CSVs
    (:func:`famassign.safe_io.xlsx_cell`).
    Written by rustpy-xlsxwriter (rust_xlsxwriter underneath), a sheet at a time: a plan of
    30,000 families (about 580,000 cells in 650 sheets) takes a third of the CPU time XlsxWriter
    took (benchmarks/RESULTS.md, "Limits").
    """
    from rustpy_xlsxwriter import FastExcel, Format

    path = Path(path)
    book = FastExcel(str(path)).freeze(row=1)
    header_format = Format().set_bold().set_background_color("#" + HEADER_FILL)
    above_format = Format().set_background_color("#" + ABOVE_CAP_FILL)
    used: set[str] = set()
    for key, frame in sheets.items():
        title = sheet_title(key.split(":", 1)[1] if ":" in key else key, used)
        if frame.shape[1] == 0:
            frame = pd.DataFrame(columns=["(empty)"])
        written, widths, marked = _sheet(frame)
        book.sheet(
            title,
            written,
            column_widths=widths,
            header_format=header_format,
            autofilter=True,
            row_formats=dict.fromkeys(marked, above_format) or None,
            # Shared strings: the sheet is held in memory until written (a sheet is at most one
            # row per family), the repeated texts (sites, languages, reasons) are written once,
            # which takes about a sixth less time; and row formats need it (streamed, the last
            # marked row is written twice).
            dedupe_strings=True,
        )
    if not sheets:
        book.sheet("empty", pd.DataFrame(columns=["(empty)"]))
    book.save()
    return path


__all__ = [
    "ABOVE_CAP_FILL",
    "LEAVES_YOU",
    "STAFF_SHEET_COLUMNS",
    "PlanInForce",
    "RosterEntry",
    "above_cap_note",
    "plan_in_force",
    "plan_sheets",
    "staff_label",
    "staff_names",
    "staff_rosters",
    "write_workbook",
]
