"""Writing a plan to its output folder: the files named in the contract, all or none.

:func:`write_plan` writes, in one atomic folder replacement (:func:`atomic_output_dir`):

- ``assignments.csv``: ``family_id, staff_id, previous_staff_id, changed, exception_id, score,
  reasons, staff_name``, one row per family; booleans ``true``/``false``, blanks for none;
- ``caseloads.csv``: ``staff_id, families, weighted_load, cap, exception_id, staff_name``, one
  row per staff (``staff_name`` comes last, after the contract's columns);
- ``summary.json``: status, counts, objective and bound, every objective term, runtime, seed,
  version, exceptions used, notes, plus the caller's `extra` keys;
- ``compliance.md`` and ``report.html`` (see :mod:`famassign.report`);
- ``plan.xlsx``: the workbook of :mod:`famassign.workbook` (every table above, one sheet per
  staff member, and one per extra file);
- ``assignments_import.csv``: ``family_id, staff_id, staff_name, effective_date`` for every
  placed family, the load-back file for a data system;
- the next scenario (:data:`famassign.models.writing.SCENARIO_FILES`: scenario.yaml,
  families.csv with ``current_staff_id`` set to the plan, staff.csv, exceptions.csv,
  conflicts.csv, absences.csv; :func:`famassign.solver.continuation.next_scenario`), so the
  folder is the scenario of the next ``famassign update`` or ``reassign``. These files are
  written exactly as the scenario format has them (they are the next plan's input), not
  neutralised;
- the printed rosters (:mod:`famassign.rosters`): ``rosters/<staff_id>.pdf`` per staff member
  and ``rosters/all-staff.pdf``;
- any `extra_files` CSVs the caller adds (e.g. ``moves.csv`` from reassign) and
  `extra_documents` (e.g. ``handover/<staff_id>.html``).

Every text cell of a CSV or sheet is neutralised against spreadsheet formulas. The CSVs are plain
UTF-8 without a byte-order mark (other tools read them with a plain UTF-8 reader); Excel users
open plan.xlsx.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import pandas as pd

from famassign.models.domain import StaffStatus
from famassign.models.errors import ArgumentTypeError, FamassignError, check_argument
from famassign.models.scenario import Scenario
from famassign.models.writing import SCENARIO_FILES, write_scenario
from famassign.report import Section, compliance_markdown, plan_facts, render_report
from famassign.rosters import ROSTERS_DIR, roster_pdfs, write_rosters
from famassign.safe_io import atomic_output_dir, write_csv
from famassign.solver.continuation import next_scenario as next_scenario_of
from famassign.solver.continuation import plan_fingerprint
from famassign.solver.result import Result
from famassign.workbook import PlanInForce, plan_sheets, staff_names, write_workbook

log = logging.getLogger(__name__)

ASSIGNMENTS_CSV = "assignments.csv"
CASELOADS_CSV = "caseloads.csv"
SUMMARY_JSON = "summary.json"
COMPLIANCE_MD = "compliance.md"
REPORT_HTML = "report.html"
PLAN_XLSX = "plan.xlsx"
ASSIGNMENTS_IMPORT_CSV = "assignments_import.csv"
PLAN_FILES = (
    ASSIGNMENTS_CSV,
    CASELOADS_CSV,
    SUMMARY_JSON,
    COMPLIANCE_MD,
    REPORT_HTML,
    PLAN_XLSX,
    ASSIGNMENTS_IMPORT_CSV,
)
"""The plan's own files, in the order written (the next scenario's files follow them)."""

SUMMARY_REQUIRED_KEYS = (
    "status",
    "families",
    "assigned",
    "unassigned",
    "objective",
    "bound",
    "runtime_s",
    "seed",
    "version",
    "exceptions_used",
)
"""The keys summary.json must hold under the contract."""


class PlanOutputError(FamassignError, ValueError):
    """An extra summary key, file or document that :func:`write_plan` cannot write (it would
    replace one of the plan's own, or its name is not allowed)."""


_EXTRA_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,100}\.csv")
_EXTRA_DOCUMENT_NAME = re.compile(
    r"(?:[A-Za-z0-9][A-Za-z0-9_-]{0,60}/)?[A-Za-z0-9][A-Za-z0-9_.-]{0,120}\.(?:html|md|txt)"
)


# What write_plan is expected to take: WRITE_SECONDS_FIXED + WRITE_SECONDS_PER_FAMILY * families
# + WRITE_SECONDS_PER_STAFF * staff, plus WRITE_SECONDS_ROSTERS_FIXED +
# WRITE_SECONDS_ROSTERS_PER_FAMILY * families for the printed rosters. Calibration: write_plan
# timed on generated plans of 30,000 families with 646 staff (7.3 s) and 6,000 families with 500
# staff (2.3 s) on the 2-core AMD EPYC development machine at a load of 4.5, which gives about
# 200 microseconds per family and 1.6 ms per staff member (a sheet each in plan.xlsx); the
# per-family figure is taken half as large again for the extra files of reassign and update
# (moves, handover notes) and a busier machine. The rosters (famassign.rosters.roster_pdfs)
# timed on the same machine at a load of 4-5: 0.35-0.6 s for the 400 families and 14 staff of
# the bundled example (most of it loading and subsetting the fonts) and 2.1 s for a generated
# 10,000 families with 304 staff ("large", seed 1; 3.8 s with a test run beside it), which gives
# about 0.3 s plus 180 microseconds per family (staff slices included); taken as 0.45 s plus
# 300 microseconds per family for a busier machine.
WRITE_SECONDS_FIXED = 0.3
"""Seconds :func:`write_plan` takes whatever the size (rendering, the folder swap)."""
WRITE_SECONDS_PER_FAMILY = 300e-6
"""Seconds :func:`write_plan` takes per family (calibration above)."""
WRITE_SECONDS_PER_STAFF = 2e-3
"""Seconds :func:`write_plan` takes per staff member (calibration above)."""
WRITE_SECONDS_ROSTERS_FIXED = 0.45
"""Seconds the printed rosters take whatever the size (the fonts; calibration above)."""
WRITE_SECONDS_ROSTERS_PER_FAMILY = 300e-6
"""Seconds the printed rosters take per family (calibration above)."""


def write_seconds(families: int, staff: int) -> float:
    """The time :func:`write_plan` is expected to take for a plan of this size.

    Parameters
    ----------
    families, staff
        How many families and staff members the plan has.

    Returns
    -------
    float
        Seconds: :data:`WRITE_SECONDS_FIXED` plus :data:`WRITE_SECONDS_PER_FAMILY` per family
        and :data:`WRITE_SECONDS_PER_STAFF` per staff member, and for the printed rosters
        :data:`WRITE_SECONDS_ROSTERS_FIXED` plus :data:`WRITE_SECONDS_ROSTERS_PER_FAMILY` per
        family. A command keeps this much of its
        ``--time-limit`` back from the search (:func:`famassign.commands.common.search_seconds`).
    """
    return (
        WRITE_SECONDS_FIXED
        + WRITE_SECONDS_PER_FAMILY * max(families, 0)
        + WRITE_SECONDS_PER_STAFF * max(staff, 0)
        + WRITE_SECONDS_ROSTERS_FIXED
        + WRITE_SECONDS_ROSTERS_PER_FAMILY * max(families, 0)
    )


def _json_value(value: Any) -> Any:
    """A JSON-safe copy: dates as ISO text, enums by value, non-finite floats as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return _json_value(value.value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_json_value(v) for v in items]
    if hasattr(value, "item"):  # numpy scalar
        return _json_value(value.item())
    if hasattr(value, "model_dump"):  # pydantic model
        return _json_value(value.model_dump(mode="json"))
    raise ArgumentTypeError(
        f"summary value of type {type(value).__name__} cannot be written as JSON"
    )


def _rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def summary_dict(
    result: Result, scenario: Scenario, *, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """summary.json as a dict: the contract keys, every objective term, and `extra` merged in.

    `extra` may add keys but not replace one set here (PlanOutputError names the clash).
    """
    facts = plan_facts(result, scenario)
    terms = result.terms
    summary: dict[str, Any] = {
        "status": result.status.value,
        "families": facts.families,
        "assigned": facts.placed,
        "unassigned": facts.families - facts.placed,
        "objective": result.objective,
        "bound": result.bound,
        "runtime_s": round(result.runtime_s, 3),
        "seed": result.seed,
        "version": result.version,
        "exceptions_used": list(result.exceptions_used),
        "plan_fingerprint": plan_fingerprint(result.plan()),
        "continues": scenario.continues,
        "placed": terms.placed,
        "urgency_unplaced": terms.urgency_unplaced,
        "over_cap": terms.over_cap,
        "moves": terms.moves,
        "match": terms.match,
        "max_load_per_fte": terms.max_load_per_fte,
        "max_load_bound": result.max_load_bound,
        "max_load_bound_kind": result.max_load_bound_kind,
        "scenario": scenario.name,
        "as_of": scenario.as_of.isoformat(),
        "active_staff": facts.active_staff,
        "active_fte": round(facts.active_fte, 4),
        "families_per_staff": _rounded(facts.ratio_per_staff),
        "families_per_fte": _rounded(facts.ratio_per_fte),
        "caseloads_above_cap": len(facts.over_cap),
        "staff_not_active": sum(1 for s in scenario.staff if s.status is not StaffStatus.active),
        "exceptions_in_force_unused": [
            s.exception.exception_id for s in facts.exceptions if s.state == "in force, unused"
        ],
        "exceptions_not_in_force": [
            s.exception.exception_id
            for s in facts.exceptions
            if s.state in ("expired", "not yet in force")
        ],
        "compliance_findings": list(facts.problems),
        "placement": result.placement,
        "proof": result.proof,
        "status_text": result.status_text(),
        "notes": list(result.notes),
    }
    for key, value in (extra or {}).items():
        if key in summary:
            raise PlanOutputError(f"extra summary key {key!r} would replace a key write_plan sets")
        summary[str(key)] = value
    return {key: _json_value(value) for key, value in summary.items()}


def _check_extra_files(extra_files: Mapping[str, pd.DataFrame]) -> None:
    for name in extra_files:
        if not _EXTRA_FILE_NAME.fullmatch(name):
            raise PlanOutputError(
                f"extra file name {name!r} must be a plain file name ending in .csv "
                "(letters, digits, '_', '-', '.'; no folders)"
            )
        if name in PLAN_FILES or name in SCENARIO_FILES:
            raise PlanOutputError(f"extra file {name!r} would replace a plan file")


def _check_extra_documents(documents: Mapping[str, str]) -> None:
    for name in documents:
        if not _EXTRA_DOCUMENT_NAME.fullmatch(name) or ".." in name:
            raise PlanOutputError(
                f"extra document name {name!r} must be FILE or FOLDER/FILE ending in .html, .md "
                "or .txt (letters, digits, '_', '-', '.')"
            )
        if name in PLAN_FILES or name in SCENARIO_FILES or name.startswith(f"{ROSTERS_DIR}/"):
            raise PlanOutputError(f"extra document {name!r} would replace a plan file")


def _write_text(path: Path, text: str) -> Path:
    """Write `text` as UTF-8 with newlines as is."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    return path


def with_staff_names(frame: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """`frame` with a ``staff_name`` column added last (after the contract's columns), the name
    of the row's ``staff_id`` (blank when unplaced or unnamed)."""
    out = frame.copy()
    out["staff_name"] = [names.get(s, "") if isinstance(s, str) else "" for s in out["staff_id"]]
    return out


def assignments_import_frame(assignments: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The load-back file: ``family_id, staff_id, staff_name, effective_date`` for every placed
    family, the effective date being the plan's `as_of` (the shape a data system's import takes).
    """
    placed = assignments[assignments["staff_id"].map(lambda s: isinstance(s, str) and s != "")]
    out = placed[["family_id", "staff_id", "staff_name"]].copy()
    out["effective_date"] = scenario.as_of.isoformat()
    return out.reset_index(drop=True)


def write_plan(
    result: Result,
    scenario: Scenario,
    out_dir: Path | str,
    *,
    extra: Mapping[str, Any] | None = None,
    extra_files: Mapping[str, pd.DataFrame] | None = None,
    extra_sections: Sequence[Section] | None = None,
    extra_documents: Mapping[str, str] | None = None,
    next_scenario: Scenario | None = None,
    replace_foreign: bool = False,
    in_force: PlanInForce | None = None,
) -> list[Path]:
    """Write the plan into `out_dir`, completely or not at all; return the paths written.

    Writes :data:`PLAN_FILES`, the next scenario's files (`next_scenario`, by default
    :func:`famassign.solver.continuation.next_scenario` of `scenario` and `result`; a re-plan
    passes its own, with the exceptions it created, the statuses and the absences) and then
    `extra_files` (each a CSV named by its key, neutralised);
    `extra` keys are merged into summary.json; `extra_documents` (relative name -> text, one
    folder level at most, e.g. ``handover/S1.html``) are written as UTF-8 text;
    `extra_sections` (markdown strings or :class:`famassign.report.ReportSection`) are appended
    to compliance.md and report.html. `in_force` is the plan staff last received (family_id ->
    staff_id), which the staff sheets of plan.xlsx and the printed rosters compare with ("new to
    you", "continues with you", "leaves you"); by default the families' current staff in
    `scenario` (the command line: the plan the scenario continues); the server passes the last
    published plan, never an unpublished draft.
    Everything is rendered before the folder is touched; the folder is replaced as a whole by
    :func:`famassign.safe_io.atomic_output_dir` (see there for `replace_foreign`).

    Raises :class:`PlanOutputError` (a ValueError) for a bad extra key or file name,
    :class:`famassign.models.errors.ArgumentTypeError` when `result` or `scenario` is of the
    wrong type, and :class:`famassign.safe_io.OutputDirError` when `out_dir` cannot be written
    safely.
    """
    check_argument("write_plan", result, Result, "result")
    check_argument("write_plan", scenario, Scenario, "scenario")
    extra_files = dict(extra_files or {})
    _check_extra_files(extra_files)
    documents = dict(extra_documents or {})
    _check_extra_documents(documents)
    following = next_scenario_of(scenario, result) if next_scenario is None else next_scenario
    check_argument("write_plan", following, Scenario, "next_scenario")
    sections = list(extra_sections or ())
    summary = summary_dict(result, scenario, extra=extra)
    summary_text = json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    compliance = compliance_markdown(result, scenario, sections=sections)
    report = render_report(result, scenario, sections=sections)
    staff_name_of = staff_names(scenario)
    assignments = with_staff_names(result.assignments_frame(), staff_name_of)
    caseloads = with_staff_names(result.caseloads_frame(), staff_name_of)
    load_back = assignments_import_frame(assignments, scenario)
    sheets = plan_sheets(
        result,
        scenario,
        summary=summary,
        assignments=assignments,
        caseloads=caseloads,
        extra_files=extra_files,
        in_force=in_force,
    )
    rosters = roster_pdfs(result, scenario, in_force)

    target = Path(out_dir)
    names: list[str] = []
    with atomic_output_dir(target, replace_foreign=replace_foreign) as tmp:
        write_csv(assignments, tmp / ASSIGNMENTS_CSV)
        write_csv(caseloads, tmp / CASELOADS_CSV)
        _write_text(tmp / SUMMARY_JSON, summary_text)
        _write_text(tmp / COMPLIANCE_MD, compliance)
        _write_text(tmp / REPORT_HTML, report)
        write_workbook(sheets, tmp / PLAN_XLSX)
        write_csv(load_back, tmp / ASSIGNMENTS_IMPORT_CSV)
        names.extend(PLAN_FILES)
        write_scenario(following, tmp)
        names.extend(SCENARIO_FILES)
        names.extend(write_rosters(rosters, tmp))
        for name, frame in extra_files.items():
            write_csv(frame, tmp / name)
            names.append(name)
        for name, text in documents.items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            _write_text(tmp / name, text)
            names.append(name)
    log.info("wrote plan to %s (%d files)", target, len(names))
    return [target / name for name in names]


__all__ = [
    "ASSIGNMENTS_CSV",
    "ASSIGNMENTS_IMPORT_CSV",
    "CASELOADS_CSV",
    "COMPLIANCE_MD",
    "PLAN_FILES",
    "PLAN_XLSX",
    "REPORT_HTML",
    "SUMMARY_JSON",
    "SUMMARY_REQUIRED_KEYS",
    "PlanOutputError",
    "assignments_import_frame",
    "summary_dict",
    "with_staff_names",
    "write_plan",
    "write_seconds",
]
