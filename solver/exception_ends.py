"""Temporary exceptions through the year: those about to end, and those that have ended.

Every re-plan warns about each temporary exception (1302.52(d)(2)(ii)) in force on its date that
ends within :data:`WARN_DAYS` days, with how many families depend on it (:func:`ending_soon`).
An update whose date is past a temporary exception's end re-plans the families above the cap it
allowed with the fewest moves, and says why (:func:`ended_exceptions`, :func:`with_end_reasons`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from famassign.models import Scenario
from famassign.solver.reassign import Move, MoveKind
from famassign.solver.result import Result

WARN_DAYS = 30
"""A temporary exception ending within this many days of a re-plan's date is warned about."""


@dataclass(frozen=True)
class ExceptionEnding:
    """A temporary exception in force on the plan's date that ends within :data:`WARN_DAYS`."""

    exception_id: str
    ends: date
    days_left: int
    families: int
    """Families above the policy cap on the caseloads that cite it in the plan."""


@dataclass(frozen=True)
class ExceptionEnded:
    """A temporary exception that has ended since the plan an update continues."""

    exception_id: str
    ends: date
    staff_ids: tuple[str, ...]
    """Staff members whose caseload it allowed and who now carry more than they may."""

    @property
    def reason(self) -> str:
        """The reason written into the moves and handover notes of its families."""
        return f"temporary exception {self.exception_id} ended on {self.ends.isoformat()}"


def ending_soon(scenario: Scenario, result: Result) -> tuple[ExceptionEnding, ...]:
    """The temporary exceptions in force on `scenario`'s date that end within :data:`WARN_DAYS`
    days of it, with the families above the cap on the plan's caseloads that cite each."""
    horizon = scenario.as_of + timedelta(days=WARN_DAYS)
    above = Counter[str]()
    for c in result.caseloads:
        if c.exception_id is not None:
            above[c.exception_id] += max(c.families - c.cap, 0)
    return tuple(
        ExceptionEnding(
            e.exception_id, e.ends, (e.ends - scenario.as_of).days, above[e.exception_id]
        )
        for e in sorted(scenario.exceptions_in_force(), key=lambda e: (e.ends, e.exception_id))
        if e.kind.temporary and e.ends <= horizon
    )


def ended_exceptions(scenario: Scenario, as_of: date) -> tuple[ExceptionEnded, ...]:
    """The temporary exceptions of `scenario` (the plan's next scenario, on the plan's date) in
    force on its date that have ended before `as_of`, each with the staff members whose current
    caseload (``current_staff_id``) it allowed and who carry more than they may on `as_of`."""
    later = scenario.on(as_of) if as_of > scenario.as_of else scenario
    counts = Counter(f.current_staff_id for f in scenario.families if f.current_staff_id)
    out = []
    for e in scenario.exceptions:
        if not (e.kind.temporary and e.in_force(scenario.as_of) and e.ends < as_of):
            continue
        staff = tuple(
            s.staff_id
            for s in scenario.staff
            if e.covers(s.staff_id) and counts[s.staff_id] > later.most_allowed(s)
        )
        out.append(ExceptionEnded(e.exception_id, e.ends, staff))
    return tuple(out)


def with_end_reasons(moves: Iterable[Move], ended: Iterable[ExceptionEnded]) -> tuple[Move, ...]:
    """`moves` with the families taken from a staff member above the cap an ended exception
    allowed given its reason first (``temporary exception X ended on DATE; ...``)."""
    why: dict[str | None, str] = {}
    for e in ended:
        for staff_id in e.staff_ids:
            why.setdefault(staff_id, e.reason)
    return tuple(
        replace(m, reason=f"{why[m.from_staff_id]}; {m.reason}")
        if m.from_staff_id in why and m.kind in (MoveKind.room, MoveKind.no_longer_eligible)
        else m
        for m in moves
    )


__all__ = [
    "WARN_DAYS",
    "ExceptionEnded",
    "ExceptionEnding",
    "ended_exceptions",
    "ending_soon",
    "with_end_reasons",
]
