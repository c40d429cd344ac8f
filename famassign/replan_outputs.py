"""A re-plan's outputs (reassign, update), one writer for every face: the command line, the
server's workers and the library.

:func:`write_replan` writes the plan (:func:`famassign.outputs.write_plan`) with

- ``moves.csv``: ``family_id, from_staff_id, to_staff_id, reason``, every family whose staff
  member changes (blank ``to_staff_id``: left unplaced), then ``from_staff_name`` and
  ``to_staff_name``;
- ``handover.csv`` and ``handover/<staff_id>.html``: the notes for the staff member who takes a
  family over and for the one who hands it over (:mod:`famassign.report.handover_pages`);
- the next scenario of the re-plan (its ``next_scenario()``: the exceptions it created, the
  statuses and the absences), so the folder is the next command's scenario;
- the re-plan's summary.json keys (:func:`replan_summary`) and its section of compliance.md and
  report.html (:func:`replan_section`);
- for an update, ``changes.csv``: the month's changes from the data system (enrolments,
  withdrawals, re-assessments, advocate disagreements; :mod:`famassign.models.month`);
- the temporary exceptions in force that end within 30 days, with how many families depend on
  each (:func:`ending_lines`: summary.json ``exceptions_ending_soon`` and
  ``families_on_exceptions_ending_soon``, the section, the command line).

One count of disruption: ``moves`` (summary.json, the command line, compliance.md, report.html,
the workbook, the plan store) is every family taken from an active current staff member, placed
with someone else or left unplaced (``result.terms.moves``); families back from leave are
``returns``, counted apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from famassign.models import Scenario
from famassign.models.errors import check_argument
from famassign.models.month import CHANGES_CSV, ChangeKind, changes_frame
from famassign.outputs import write_plan
from famassign.report import ReportSection, Section
from famassign.report.handover_pages import handover_outputs
from famassign.solver.exception_ends import WARN_DAYS, ExceptionEnding, ending_soon
from famassign.solver.reassign import Move, MoveKind, ReassignResult, moves_frame
from famassign.solver.result import Result
from famassign.solver.update import UpdateResult
from famassign.workbook import PlanInForce, staff_names

MOVES_CSV = "moves.csv"

_TAKEN = (MoveKind.room, MoveKind.no_longer_eligible)
"""The kinds of move that take a family from an active current staff member."""


class PlanChange(Protocol):
    """A re-plan that moves families between staff: a reassignment or an update."""

    @property
    def result(self) -> Result:
        """The new plan."""

    @property
    def scenario(self) -> Scenario:
        """The scenario the new plan was made for (write the outputs against it)."""

    @property
    def moves(self) -> tuple[Move, ...]:
        """Every family whose staff member changes."""

    def next_scenario(self) -> Scenario:
        """The scenario of the next plan."""


def disruption(change: PlanChange) -> dict[str, int]:
    """The re-plan's disruption: ``moves`` (families taken from an active current staff member),
    of which ``moved_placed`` were placed with someone else and ``moved_unplaced`` left
    unplaced, and ``returns`` (families back with their staff member after leave)."""
    taken = [m for m in change.moves if m.kind in _TAKEN]
    return {
        "moves": change.result.terms.moves,
        "moved_placed": sum(1 for m in taken if m.to_staff_id is not None),
        "moved_unplaced": sum(1 for m in taken if m.to_staff_id is None),
        "returns": sum(1 for m in change.moves if m.kind is MoveKind.returned),
    }


def disruption_text(change: PlanChange) -> str:
    """The count of moves in words, e.g. ``5 families taken from their staff member (3 placed
    with someone else, 2 left unplaced), 14 back from leave``."""
    d = disruption(change)
    return (
        f"{d['moves']} families taken from their staff member ({d['moved_placed']} placed with "
        f"someone else, {d['moved_unplaced']} left unplaced), {d['returns']} back from leave"
    )


def exceptions_ending(change: ReassignResult | UpdateResult) -> tuple[ExceptionEnding, ...]:
    """The temporary exceptions in force on the re-plan's date that end within
    :data:`~famassign.solver.exception_ends.WARN_DAYS` days, with the families on each."""
    if isinstance(change, UpdateResult):
        return change.ending_soon
    return ending_soon(change.scenario, change.result)


def ending_lines(change: ReassignResult | UpdateResult) -> list[str]:
    """One warning per temporary exception ending soon, e.g. ``temporary exception X ends on
    2026-11-30 (in 12 days): 4 families depend on it``."""
    return [
        f"temporary exception {e.exception_id} ends on {e.ends.isoformat()} "
        f"(in {e.days_left} days): {e.families} families depend on it"
        for e in exceptions_ending(change)
    ]


def _moved_summary(change: PlanChange) -> dict[str, int]:
    """The summary.json keys of :func:`disruption` but ``moves`` (the plan's: summary_dict)."""
    d = disruption(change)
    return {key: d[key] for key in ("returns", "moved_placed", "moved_unplaced")}


def _ending_summary(change: ReassignResult | UpdateResult) -> dict[str, Any]:
    ending = exceptions_ending(change)
    return {
        "exceptions_ending_soon": len(ending),
        "exceptions_ending_soon_ids": [e.exception_id for e in ending],
        "families_on_exceptions_ending_soon": sum(e.families for e in ending),
        "exceptions_warn_days": WARN_DAYS,
    }


def reassign_summary(outcome: ReassignResult) -> dict[str, Any]:
    """The summary.json keys reassign adds (``moves`` itself is the plan's: summary_dict)."""
    exc = outcome.temporary_exception
    back = outcome.temporary_until
    return {
        **_moved_summary(outcome),
        "reassign_departed": list(outcome.departed),
        "reassign_absent": list(outcome.absent),
        "reassign_until": outcome.until.isoformat() if outcome.until else None,
        "reassign_temporary_moves": back is not None,
        "reassign_families_return_on": (back + timedelta(days=1)).isoformat() if back else None,
        "reassign_temporary_exception": exc.exception_id if exc else None,
        "reassign_temporary_exception_ends": exc.ends.isoformat() if exc else None,
        "reassign_moved_from_leaving_staff": outcome.count(MoveKind.leaving),
        "reassign_moved_other": outcome.count(MoveKind.room),
        "reassign_moved_no_longer_eligible": outcome.count(MoveKind.no_longer_eligible),
        "reassign_newly_placed": outcome.count(MoveKind.new),
        "reassign_unplaced_from_leaving_staff": list(outcome.unplaced_from_leaving),
    } | _ending_summary(outcome)


def reassignment_section(outcome: ReassignResult) -> ReportSection:
    """The "Reassignment" section of compliance.md and report.html."""
    lines = []
    if outcome.departed:
        lines.append(f"- Departed: {', '.join(outcome.departed)}.")
    if outcome.absent:
        lines.append(f"- Absent: {', '.join(outcome.absent)}.")
    back = outcome.temporary_until
    if back is not None:
        lines.append(
            f"- These are temporary moves: the absence ends on {back.isoformat()}; the families "
            f"go back to {', '.join(outcome.absent)} on {(back + timedelta(days=1)).isoformat()}."
        )
    elif outcome.absent:
        lines.append("- No return date was given (--until): the absence has no planned end.")
    exc = outcome.temporary_exception
    if exc is not None:
        used = exc.exception_id in outcome.result.exceptions_used
        lines.append(
            f"- Temporary exception {exc.exception_id} ({exc.kind.value}, {exc.kind.paragraph}): "
            f"up to {exc.max_families} families per staff member (prorated by FTE when the policy "
            f"prorates), in force {exc.starts.isoformat()} to {exc.ends.isoformat()}; "
            + ("used only by the caseloads above their cap" if used else "not needed by this plan")
            + "; it stays in the next scenario (exceptions.csv) until it ends."
        )
    placed = outcome.count(MoveKind.leaving) - len(outcome.unplaced_from_leaving)
    lines.append(
        f"- Families of leaving staff placed with a colleague: {placed}; left unplaced: "
        f"{len(outcome.unplaced_from_leaving)}."
    )
    lines.append(
        f"- Moves (the fewest any plan needs): {disruption_text(outcome)}; "
        f"of these, {outcome.count(MoveKind.no_longer_eligible)} because their staff member may "
        "no longer serve them (language, site, option or a conflict)."
    )
    lines.extend(f"- Warning: {w}." for w in ending_lines(outcome))
    return ReportSection(
        title="Reassignment (before and after)",
        text="\n".join(lines),
        table=outcome.moves_frame(),
    )


def reassign_line(outcome: ReassignResult) -> str:
    """The command line's one-line account of a reassignment."""
    return (
        f"reassign: {outcome.count(MoveKind.leaving)} families of leaving staff "
        f"({len(outcome.unplaced_from_leaving)} of them unplaced); moves: "
        f"{disruption_text(outcome)}"
    )


def update_summary(outcome: UpdateResult) -> dict[str, Any]:
    """The summary.json keys update adds (``moves`` itself is the plan's: summary_dict)."""
    cost = outcome.bound_cost
    return {
        **_moved_summary(outcome),
        "update_newly_placed": outcome.count(MoveKind.new),
        "update_moved_to_make_room": outcome.count(MoveKind.room),
        "update_moved_from_inactive_staff": outcome.count(MoveKind.inactive_before),
        "update_returned_staff": list(outcome.returned_staff),
        "update_returned_families": len(outcome.returned_families),
        "update_not_returned": [n.family_id for n in outcome.not_returned],
        "update_still_absent": list(outcome.still_absent),
        "update_max_moves_per_staff": outcome.max_moves_per_staff,
        "update_bound_cost_placements": cost.placements if cost else 0,
        "update_bound_cost_exception_places": cost.exception_places if cost else 0,
        "update_unplaced_by_bound": list(cost.unplaced_by_bound) if cost else [],
        "update_staff_at_bound": list(cost.staff_at_bound) if cost else [],
        "update_enrolled": _changed(outcome, ChangeKind.enrolled),
        "update_withdrawn": _changed(outcome, ChangeKind.withdrawn),
        "update_reassessed": _changed(outcome, ChangeKind.reassessed),
        "update_details_changed": _changed(outcome, ChangeKind.details),
        "update_advocate_differs": _changed(outcome, ChangeKind.advocate_differs),
        "update_exceptions_ended": [e.exception_id for e in outcome.exceptions_ended],
    } | _ending_summary(outcome)


def _changed(outcome: UpdateResult, kind: ChangeKind) -> int:
    """Families with a change of `kind` from the data system's export."""
    return len({c.family_id for c in outcome.changes if c.kind is kind})


def update_section(outcome: UpdateResult) -> ReportSection:
    """The "Update" section of compliance.md and report.html."""
    bound = (
        f" with at most {outcome.max_moves_per_staff} moved away per staff member"
        if outcome.max_moves_per_staff is not None
        else ""
    )
    lines = [
        f"- New families placed: {outcome.count(MoveKind.new)}.",
        f"- Moves (the fewest any plan needs{bound}): {disruption_text(outcome)}.",
        f"- Moved from staff no longer active: {outcome.count(MoveKind.inactive_before)}.",
    ]
    for staff_id in outcome.returned_staff:
        back = sum(
            1 for m in outcome.moves if m.kind is MoveKind.returned and m.to_staff_id == staff_id
        )
        lines.append(f"- {staff_id} returned from leave: {back} families back with them.")
    for n in outcome.not_returned:
        lines.append(f"- {n.family_id} stays where it is, not back with {n.staff_id}: {n.reason}.")
    if outcome.still_absent:
        lines.append(f"- Still absent (absences.csv): {', '.join(outcome.still_absent)}.")
    if outcome.changes:
        advocates = [c for c in outcome.changes if c.kind is ChangeKind.advocate_differs]
        lines.append(
            f"- From the data system's export (changes.csv): "
            f"{_changed(outcome, ChangeKind.enrolled)} enrolled, "
            f"{_changed(outcome, ChangeKind.withdrawn)} withdrawn, "
            f"{_changed(outcome, ChangeKind.reassessed)} re-assessed, "
            f"{len(advocates)} with another current advocate in the export ("
            f"{sum(1 for c in advocates if c.kept == 'export')} taken from the export, the "
            "others kept as planned)."
        )
    for e in outcome.exceptions_ended:
        lines.append(
            f"- {e.reason[0].upper()}{e.reason[1:]}: the families above the cap it allowed "
            f"({', '.join(e.staff_ids) or 'none left'}) are re-planned with the fewest moves."
        )
    lines.extend(f"- Warning: {w}." for w in ending_lines(outcome))
    cost = outcome.bound_cost
    if cost is not None:
        if cost.placements or cost.exception_places:
            lines.append(
                f"- The disruption bound costs {cost.placements} placement(s) and "
                f"{cost.exception_places} exception place(s); unplaced because of it: "
                f"{', '.join(cost.unplaced_by_bound) or 'none'}."
            )
        else:
            lines.append("- The disruption bound costs no placement and no exception place.")
        if cost.staff_at_bound:
            lines.append(f"- Staff at the bound: {', '.join(cost.staff_at_bound)}.")
    return ReportSection(
        title="Update (moves and returns)",
        text="\n".join(lines),
        table=moves_frame([m for m in outcome.moves if m.kind is not MoveKind.new]),
    )


def update_line(outcome: UpdateResult) -> str:
    """The command line's one-line account of an update."""
    return (
        f"update: {outcome.count(MoveKind.new)} new families placed; moves: "
        f"{disruption_text(outcome)}"
        + (f" ({', '.join(outcome.returned_staff)} returned)" if outcome.returned_staff else "")
    )


def replan_summary(change: ReassignResult | UpdateResult) -> dict[str, Any]:
    """The summary.json keys of a reassignment (:func:`reassign_summary`) or an update
    (:func:`update_summary`)."""
    if isinstance(change, ReassignResult):
        return reassign_summary(change)
    return update_summary(change)


def replan_section(change: ReassignResult | UpdateResult) -> ReportSection:
    """The compliance.md and report.html section of a reassignment
    (:func:`reassignment_section`) or an update (:func:`update_section`)."""
    if isinstance(change, ReassignResult):
        return reassignment_section(change)
    return update_section(change)


def replan_line(change: ReassignResult | UpdateResult) -> str:
    """The command line's one-line account of a reassignment or an update."""
    if isinstance(change, ReassignResult):
        return reassign_line(change)
    return update_line(change)


def moves_with_names(change: ReassignResult | UpdateResult) -> pd.DataFrame:
    """moves.csv: the contract's columns (:func:`famassign.solver.reassign.moves_frame`), then
    ``from_staff_name`` and ``to_staff_name`` (blank when unnamed or nobody)."""
    names = staff_names(change.scenario)
    frame = moves_frame(change.moves)
    for side in ("from", "to"):
        frame[f"{side}_staff_name"] = [
            names.get(s, "") if isinstance(s, str) else "" for s in frame[f"{side}_staff_id"]
        ]
    return frame


def write_replan(
    change: ReassignResult | UpdateResult,
    out_dir: Path | str,
    *,
    replace_foreign: bool = False,
    in_force: PlanInForce | None = None,
    extra_files: Mapping[str, pd.DataFrame] | None = None,
    extra_sections: Sequence[Section] = (),
) -> list[Path]:
    """Write a re-plan's outputs into `out_dir`, completely or not at all (module docstring).

    Parameters
    ----------
    change
        The reassignment or update.
    out_dir
        The output folder (replaced as a whole, :func:`famassign.outputs.write_plan`).
    replace_foreign
        As for :func:`famassign.outputs.write_plan`.
    in_force
        The plan staff last received, family_id -> staff_id, which the staff sheets and printed
        rosters compare with (:func:`famassign.outputs.write_plan`); by default the plan the
        re-plan continues (the families' current staff), as ``moves`` counts.
    extra_files, extra_sections
        More tables and sections (e.g. the workload check-ins), after the re-plan's own.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    famassign.models.errors.ArgumentTypeError
        When `change` is neither a ReassignResult nor an UpdateResult.
    """
    check_argument("write_replan", change, (ReassignResult, UpdateResult), "change")
    handover_files, documents = handover_outputs(change.scenario, change.moves)
    changes = (
        {CHANGES_CSV: changes_frame(change.changes)} if isinstance(change, UpdateResult) else {}
    )
    return write_plan(
        change.result,
        change.scenario,
        out_dir,
        extra=replan_summary(change),
        extra_files={
            MOVES_CSV: moves_with_names(change),
            **changes,
            **handover_files,
            **(extra_files or {}),
        },
        extra_sections=[replan_section(change), *extra_sections],
        extra_documents=documents,
        next_scenario=change.next_scenario(),
        replace_foreign=replace_foreign,
        in_force=in_force,
    )


__all__ = [
    "MOVES_CSV",
    "PlanChange",
    "disruption",
    "disruption_text",
    "ending_lines",
    "exceptions_ending",
    "moves_with_names",
    "reassign_line",
    "reassign_summary",
    "reassignment_section",
    "replan_line",
    "replan_section",
    "replan_summary",
    "update_line",
    "update_section",
    "update_summary",
    "write_replan",
]
