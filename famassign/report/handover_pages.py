"""Handover documents: one self-contained HTML page per staff member with a note.

The notes themselves are made by :func:`famassign.solver.handover_notes.handover_notes`; this module
renders them as ``handover/<staff_id>.html`` (one page per staff member with a note: the families
joining their caseload, then those leaving it, a card per family) for the plan's output folder,
and as the ``handover.csv`` frame that also becomes a sheet of the plan workbook. Every value is
HTML-escaped. The pages carry family data by design.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

import pandas as pd

from famassign.models import Scenario
from famassign.models.words import language_words
from famassign.report.page import html_page
from famassign.solver.handover_notes import (
    JOINS,
    HandoverNote,
    StaffChange,
    handover_frame,
    handover_notes,
)

HANDOVER_CSV = "handover.csv"
HANDOVER_FOLDER = "handover"

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _file_stem(staff_id: str, used: set[str]) -> str:
    """A safe, unique file stem for a staff id (unsafe characters become '_')."""
    stem = _UNSAFE.sub("_", staff_id).strip(".")[:100] or "staff"
    if not stem[0].isalnum():
        stem = "s" + stem
    base, n = stem, 2
    while stem.lower() in used:
        stem = f"{base}-{n}"
        n += 1
    used.add(stem.lower())
    return stem


def _who(staff_id: str | None, name: str | None) -> str:
    return f"{name} ({staff_id})" if name and staff_id else staff_id or ""


def _card(note: HandoverNote) -> str:
    rows: list[tuple[str, str]] = [
        ("From", _who(note.from_staff_id, note.from_staff_name) or "no staff member (newly placed)")
        if note.side == JOINS
        else ("To", _who(note.to_staff_id, note.to_staff_name) or "nobody: left unplaced"),
        ("Why", note.why),
        ("Effective", note.effective.isoformat()),
        ("Urgency", note.urgency_text),
        ("Intensity", note.intensity),
        ("Needs (PFCE outcomes)", "; ".join(note.needs) or "none recorded"),
        ("Interests (PFCE outcomes)", "; ".join(note.interests) or "none recorded"),
        ("Language", language_words(note.language)),
        (
            "Plan with another agency (1302.52(e))",
            note.external_plan_agency or "none recorded",
        ),
    ]
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    people = [
        ("Family or parent/guardian", note.family_name or ""),
        ("Children", "; ".join(note.children)),
        ("Contact", note.contact or ""),
    ]
    body = (
        "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in people if v
        )
        + body
    )
    title = f"{note.family_name} ({note.family_id})" if note.family_name else note.family_id
    return f"<h3>Family {html.escape(title)}</h3><table>{body}</table>"


def handover_page(staff_id: str, staff_name: str | None, notes: Sequence[HandoverNote]) -> str:
    """The handover page of one staff member: the families joining their caseload, then those
    leaving it."""
    who = f"{staff_name} ({staff_id})" if staff_name else staff_id
    joining = [n for n in notes if n.side == JOINS]
    leaving = [n for n in notes if n.side != JOINS]

    def families(count: int) -> str:
        return f"{count} famil{'y' if count == 1 else 'ies'}"

    intro = (
        f"<h1>Handover for {html.escape(who)}</h1>"
        f'<p class="sub">{families(len(joining))} join your caseload and '
        f"{families(len(leaving))} leave it. Read each note before the first contact; the "
        "family's partnership agreement and goals continue with its new staff member.</p>"
        '<p class="note">These notes carry family information: keep them as you keep family '
        "records.</p>"
    )
    body = "".join(
        f"<h2>{title}</h2>" + "".join(_card(n) for n in group)
        for title, group in (
            ("Joining your caseload", joining),
            ("Leaving your caseload", leaving),
        )
        if group
    )
    return html_page(f"Handover: {who}", intro + body)


def handover_documents(scenario: Scenario, notes: Iterable[HandoverNote]) -> dict[str, str]:
    """``handover/<staff>.html`` -> page, one per staff member with a note (sorted by staff id)."""
    by_staff: dict[str, list[HandoverNote]] = {}
    for note in notes:
        by_staff.setdefault(note.for_staff_id, []).append(note)
    used: set[str] = set()
    documents = {}
    for staff_id in sorted(by_staff):
        staff = scenario.staff_by_id.get(staff_id)
        stem = _file_stem(staff_id, used)
        documents[f"{HANDOVER_FOLDER}/{stem}.html"] = handover_page(
            staff_id, staff.name if staff else None, by_staff[staff_id]
        )
    return documents


def handover_outputs(
    scenario: Scenario, changes: Iterable[StaffChange]
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """The handover outputs of a re-plan: ``{"handover.csv": frame}`` and the HTML pages.

    Pass the first as (part of) `extra_files` and the second as `extra_documents` to
    :func:`famassign.outputs.write_plan`. The date is the scenario's ``as_of``.
    """
    notes = handover_notes(scenario, changes, scenario.as_of)
    return {HANDOVER_CSV: handover_frame(notes)}, handover_documents(scenario, notes)


__all__ = [
    "HANDOVER_CSV",
    "HANDOVER_FOLDER",
    "handover_documents",
    "handover_outputs",
    "handover_page",
]
