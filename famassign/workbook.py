"""The plan workbook (``plan.xlsx``): the plan as the sheets staff and managers open in Excel.

Sheets: Summary, Assignments and Caseloads (the CSV outputs, same columns and values; Caseloads
adds an ``above_cap`` note last), Unplaced, Exceptions, Compliance, one sheet per staff member
with their families and what they need to know (no free text from the family's record: the
agency of an outside plan is said as yes/no; the reasons name a matched agency as
assignments.csv does), then one sheet per extra table the caller passes
(e.g. moves or handover notes). Every sheet has its header row frozen, filters on and widths set;
a caseload above its cap is marked in text ("ABOVE CAP ...") as well as in colour. Text cells that
a spreadsheet would run as formulas are neutralised as in the CSVs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from famassign.models.domain import OUTCOME_TITLES, Outcome
from famassign.models.scenario import Scenario
from famassign.report import plan_facts
from famassign.safe_io import sheet_title, xlsx_cell
from famassign.solver.result import Result

ABOVE_CAP_FILL = "FFC7CE"
"""Background of a caseload above its cap (Excel's light red)."""
HEADER_FILL = "DDEBF7"
MAX_WIDTH = 60

STAFF_SHEET_COLUMNS = (
    "family_id",
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
"""The columns of a staff member's own sheet."""


def staff_names(scenario: Scenario) -> dict[str, str]:
    """staff_id -> display name (blank when the scenario gives none)."""
    return {s.staff_id: s.name or "" for s in scenario.staff}


def _titles(outcomes: Sequence[Outcome]) -> str:
    return "; ".join(OUTCOME_TITLES[o] for o in outcomes)


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


def _staff_sheet(staff_id: str, result: Result, scenario: Scenario) -> pd.DataFrame:
    families = scenario.family_by_id
    rows = []
    for a in result.assignments:
        if a.staff_id != staff_id:
            continue
        f = families[a.family_id]
        rows.append(
            {
                "family_id": f.family_id,
                "language": f.language,
                "site": f.site,
                "program_option": f.program_option.value,
                "urgency": f.urgency,
                "intensity": f.intensity.value,
                "needs": _titles(f.needs),
                "interests": _titles(f.interests),
                "disability_services": "yes" if f.disability_services else "",
                "plan_with_other_agency": "yes" if f.external_plan_agency else "",
                "new_to_you": "yes" if a.previous_staff_id != staff_id else "",
                "previous_staff_id": a.previous_staff_id or "",
                "exception_id": a.exception_id or "",
                "reasons": a.reasons,
            }
        )
    return pd.DataFrame(rows, columns=list(STAFF_SHEET_COLUMNS))


def plan_sheets(
    result: Result,
    scenario: Scenario,
    *,
    summary: Mapping[str, Any],
    assignments: pd.DataFrame,
    caseloads: pd.DataFrame,
    extra_files: Mapping[str, pd.DataFrame] | None = None,
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
    carrying = {a.staff_id for a in result.assignments if a.staff_id}
    for staff in scenario.staff:
        if staff.staff_id in carrying or staff.status.value == "active":
            title = f"{staff.staff_id} {staff.name}" if staff.name else staff.staff_id
            sheets[f"staff:{title}"] = _staff_sheet(staff.staff_id, result, scenario)
    for name, frame in (extra_files or {}).items():
        sheets[f"extra:{Path(name).stem}"] = frame
    return sheets


def write_workbook(sheets: Mapping[str, pd.DataFrame], path: Path | str) -> Path:
    """Write `sheets` as a formatted workbook: frozen header, filters, widths, marks.

    Sheet keys may carry a ``staff:`` or ``extra:`` prefix (dropped from the title). A row whose
    ``above_cap`` or ``note`` cell starts with "ABOVE CAP" is filled in :data:`ABOVE_CAP_FILL`.
    Titles are made valid and unique (31 characters, no ``[]:*?/\\``).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    path = Path(path)
    workbook = Workbook()
    default = workbook.active
    if default is not None:
        workbook.remove(default)
    used: set[str] = set()
    bold = Font(bold=True)
    header_fill = PatternFill("solid", start_color=HEADER_FILL, end_color=HEADER_FILL)
    above_fill = PatternFill("solid", start_color=ABOVE_CAP_FILL, end_color=ABOVE_CAP_FILL)
    for key, frame in sheets.items():
        title = sheet_title(key.split(":", 1)[1] if ":" in key else key, used)
        sheet = workbook.create_sheet(title)
        columns = [str(c) for c in frame.columns]
        sheet.append([xlsx_cell(c) for c in columns])
        widths = [len(c) for c in columns]
        marks = [i for i, c in enumerate(columns) if c in ("above_cap", "note")]
        for row in frame.itertuples(index=False, name=None):
            values = [xlsx_cell(v) for v in row]
            sheet.append(values)
            for i, value in enumerate(values):
                if value is not None:
                    widths[i] = max(widths[i], min(MAX_WIDTH, len(str(value))))
            if any(str(values[i] or "").startswith("ABOVE CAP") for i in marks):
                for cell in sheet[sheet.max_row]:
                    cell.fill = above_fill
        for cell in sheet[1]:
            cell.font = bold
            cell.fill = header_fill
        sheet.freeze_panes = "A2"
        if columns:
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, sheet.max_row)}"
        for i, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = min(MAX_WIDTH, width + 2)
    if not sheets:
        workbook.create_sheet("empty")
    workbook.save(path)
    return path


__all__ = [
    "ABOVE_CAP_FILL",
    "STAFF_SHEET_COLUMNS",
    "above_cap_note",
    "plan_sheets",
    "staff_names",
    "write_workbook",
]
