"""Handover notes: what each staff member needs to know about a family that changes staff.

For every family whose staff member changes (update, reassign, a manual move) there are two
notes: one for the receiving staff member (``side`` ``joins``) and one for the staff member who
hands the family over (``side`` ``leaves``), when that staff member is active (a departed or
absent one gets none). Each note carries the family id, from whom, to whom, why, urgency,
intensity, needs and interests as PFCE outcome titles (1302.52(b)), language, the other agency's
plan if any (1302.52(e)), the date the move takes effect, the family's private display data
(name, children, contact) and the staff members' names. These notes carry family data by
design (they are written for the staff members who hand over and take over the family); logs
still name identifiers only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import pandas as pd

from famassign.models import OUTCOME_TITLES, Outcome, Scenario, StaffStatus

log = logging.getLogger(__name__)

HANDOVER_COLUMNS = [
    "to_staff_id",
    "family_id",
    "from_staff_id",
    "why",
    "urgency",
    "intensity",
    "needs",
    "interests",
    "language",
    "external_plan_agency",
    "effective",
    "for_staff_id",
    "side",
    "family_name",
    "children",
    "contact",
    "from_staff_name",
    "to_staff_name",
]
"""Columns of handover.csv, one row per note: ``for_staff_id`` is whose note it is, ``side``
``joins`` (the family joins their caseload) or ``leaves`` (it leaves it; ``to_staff_id`` blank:
left unplaced); ``family_name``, ``children`` and ``contact`` are the family's private display
data, the staff names those of ``from_staff_id`` and ``to_staff_id`` (blank when unnamed)."""

JOINS = "joins"
"""The side of the receiving staff member's note."""
LEAVES = "leaves"
"""The side of the note of the staff member who hands the family over."""

URGENCY_WORDS = {
    5: "urgent need",
    4: "support needed",
    3: "secure",
    2: "self-sufficient",
    1: "thriving",
}
"""The family-assessment scale (scenario-format.md) in words."""


class StaffChange(Protocol):
    """A family's change of staff member: reassign's and update's moves, or a manual move."""

    @property
    def family_id(self) -> str: ...

    @property
    def from_staff_id(self) -> str | None: ...

    @property
    def to_staff_id(self) -> str | None: ...

    @property
    def reason(self) -> str: ...


@dataclass(frozen=True)
class HandoverNote:
    """The note for `for_staff_id` about `family_id`, who goes from `from_staff_id` to
    `to_staff_id` (None: left unplaced); `side` is :data:`JOINS` or :data:`LEAVES`."""

    for_staff_id: str
    side: str
    to_staff_id: str | None
    family_id: str
    from_staff_id: str | None
    why: str
    urgency: int
    intensity: str
    needs: tuple[str, ...]
    interests: tuple[str, ...]
    language: str
    external_plan_agency: str | None
    effective: date
    family_name: str | None = None
    children: tuple[str, ...] = ()
    contact: str | None = None
    from_staff_name: str | None = None
    to_staff_name: str | None = None

    @property
    def urgency_text(self) -> str:
        """Urgency with its word on the assessment scale, e.g. ``4 (support needed)``."""
        return f"{self.urgency} ({URGENCY_WORDS.get(self.urgency, '?')})"


def _titles(outcomes: Iterable[Outcome]) -> tuple[str, ...]:
    return tuple(OUTCOME_TITLES[o] for o in outcomes)


def handover_notes(
    scenario: Scenario, changes: Iterable[StaffChange], effective: date
) -> tuple[HandoverNote, ...]:
    """The notes of every change of staff: for the receiving and for the handing-over side.

    Parameters
    ----------
    scenario
        The scenario the families are read from (the one the plan was made for); its staff
        statuses decide who hands over: only an active staff member gets a :data:`LEAVES` note.
    changes
        The families that change staff (``Move`` of reassign and update, or a manual move):
        a family placed with a new staff member gets a :data:`JOINS` note for them; a family
        taken from an active staff member (placed elsewhere or left unplaced) a :data:`LEAVES`
        note for that staff member. A "change" to the same staff member gets none.
    effective
        The day the move takes effect (the plan's ``as_of``).

    Returns
    -------
    tuple of HandoverNote
        Sorted by the staff member whose note it is, then side, then family id.

    Raises
    ------
    KeyError
        When a change names a family that is not in `scenario`.
    """
    notes = []
    names = {s.staff_id: s.name for s in scenario.staff}
    for change in changes:
        if change.to_staff_id == change.from_staff_id:
            continue
        fam = scenario.family_by_id[change.family_id]
        handing = scenario.staff_by_id.get(change.from_staff_id or "")
        sides = [(change.to_staff_id, JOINS)] if change.to_staff_id is not None else []
        if handing is not None and handing.status is StaffStatus.active:
            sides.append((handing.staff_id, LEAVES))
        for staff_id, side in sides:
            notes.append(
                HandoverNote(
                    for_staff_id=staff_id,
                    side=side,
                    to_staff_id=change.to_staff_id,
                    family_id=fam.family_id,
                    from_staff_id=change.from_staff_id,
                    why=change.reason,
                    urgency=fam.urgency,
                    intensity=fam.intensity.value,
                    needs=_titles(fam.needs),
                    interests=_titles(fam.interests),
                    language=fam.language,
                    external_plan_agency=fam.external_plan_agency,
                    effective=effective,
                    family_name=fam.family_name,
                    children=fam.children,
                    contact=fam.contact,
                    from_staff_name=names.get(change.from_staff_id or ""),
                    to_staff_name=names.get(change.to_staff_id or ""),
                )
            )
    notes.sort(key=lambda n: (n.for_staff_id, n.side, n.family_id))
    log.info(
        "handover: %d notes for %d staff members",
        len(notes),
        len({n.for_staff_id for n in notes}),
    )
    return tuple(notes)


def handover_frame(notes: Iterable[HandoverNote]) -> pd.DataFrame:
    """handover.csv: one row per note (lists `;`-separated, the date ISO)."""
    return pd.DataFrame(
        [
            [
                n.to_staff_id,
                n.family_id,
                n.from_staff_id,
                n.why,
                n.urgency,
                n.intensity,
                "; ".join(n.needs),
                "; ".join(n.interests),
                n.language,
                n.external_plan_agency,
                n.effective.isoformat(),
                n.for_staff_id,
                n.side,
                n.family_name,
                "; ".join(n.children),
                n.contact,
                n.from_staff_name,
                n.to_staff_name,
            ]
            for n in notes
        ],
        columns=HANDOVER_COLUMNS,
    )


__all__ = [
    "HANDOVER_COLUMNS",
    "JOINS",
    "LEAVES",
    "URGENCY_WORDS",
    "HandoverNote",
    "StaffChange",
    "handover_frame",
    "handover_notes",
]
