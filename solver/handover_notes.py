"""Handover notes: what the receiving staff member needs to know about a family that moves.

One note per family whose staff member changes (update, reassign, a manual move), for the
receiving staff member: the family id, from whom, why, urgency, intensity, needs and interests as
PFCE outcome titles (1302.52(b)), language, the other agency's plan if any (1302.52(e)), and the
date the move takes effect. These notes carry family data by design (they are written for the
staff member who takes the family over); logs still name identifiers only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import pandas as pd

from famassign.models import OUTCOME_TITLES, Outcome, Scenario

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
]
"""Columns of handover.csv (one row per family that changes staff and is placed)."""

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
    """The note for `to_staff_id` about `family_id`, who comes from `from_staff_id`."""

    to_staff_id: str
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

    @property
    def urgency_text(self) -> str:
        """Urgency with its word on the assessment scale, e.g. ``4 (support needed)``."""
        return f"{self.urgency} ({URGENCY_WORDS.get(self.urgency, '?')})"


def _titles(outcomes: Iterable[Outcome]) -> tuple[str, ...]:
    return tuple(OUTCOME_TITLES[o] for o in outcomes)


def handover_notes(
    scenario: Scenario, changes: Iterable[StaffChange], effective: date
) -> tuple[HandoverNote, ...]:
    """A note for every change whose family is placed with a new staff member.

    Parameters
    ----------
    scenario
        The scenario the families are read from (the one the plan was made for).
    changes
        The families that change staff (``Move`` of reassign and update, or a manual move):
        those with no receiving staff member (unplaced) get no note, nor does a "change" to the
        same staff member.
    effective
        The day the move takes effect (the plan's ``as_of``).

    Returns
    -------
    tuple of HandoverNote
        Sorted by receiving staff member, then family id.

    Raises
    ------
    KeyError
        When a change names a family that is not in `scenario`.
    """
    notes = []
    for change in changes:
        if change.to_staff_id is None or change.to_staff_id == change.from_staff_id:
            continue
        fam = scenario.family_by_id[change.family_id]
        notes.append(
            HandoverNote(
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
            )
        )
    notes.sort(key=lambda n: (n.to_staff_id, n.family_id))
    log.info(
        "handover: %d notes for %d receiving staff",
        len(notes),
        len({n.to_staff_id for n in notes}),
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
            ]
            for n in notes
        ],
        columns=HANDOVER_COLUMNS,
    )


__all__ = [
    "HANDOVER_COLUMNS",
    "URGENCY_WORDS",
    "HandoverNote",
    "StaffChange",
    "handover_frame",
    "handover_notes",
]
