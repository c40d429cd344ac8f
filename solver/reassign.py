"""`reassign(scenario, departed=..., absent=...) -> ReassignResult`: re-plan after staff leave.

The contract (scenario-format.md, `famassign reassign`):

- the leaving staff members get status ``departed`` or ``absent``, so they carry no families; each
  of their families is placed with an active colleague under every hard rule when any plan can;
- the plan is :func:`solver.solve.plan` with ``minimize_moves=True``: an exact min-cost flow whose
  lexicographic order is families placed, urgency of the unplaced, exception places, **moves**
  (families taken from a current staff member who is still active), match; the balance
  stage then lowers the largest weighted load per FTE without changing any of those levels. By
  default reassign plans with ``balance_match_tolerance = 0``, so the order is strict: fewest
  moves, then best match, then balanced load (pass ``match_tolerance=None`` to keep the
  scenario's own tolerance). Exception places rank above moves: a temporary exception is used
  only where no plan within the caps, whatever it moves, places the family;
- pinned families never move (the flow has one arc for them); a pin on a leaving staff member is
  released and reported in ``result.notes``;
- ``temporary_cap`` (needs ``until``) adds a :class:`models.CapException` of kind
  ``staff_attrition`` (any departed) or ``staff_absence`` (absent only), in force from
  ``as_of`` to ``until``, covering every staff member (``staff_id`` blank), ``max_families`` =
  ``temporary_cap`` (> 40), ``created_by`` naming this reassignment; it stays in the next
  scenario (:meth:`ReassignResult.next_scenario`) until it ends;
- staff whose absence (``scenario.absences``) runs on ``as_of`` are kept away; an absence with
  ``until`` is recorded as an :class:`models.absence.Absence` listing the families moved to a
  colleague for it (a family left unplaced is not listed: it is not "returned" later);
- ``as_of`` earlier than the scenario's (the plan it continues) is refused unless
  ``allow_backdate``. Without it, families that do not fit stay unplaced and
  ``result.unplaced[i].would_place`` says which exception would place them.

Every family whose staff member changes is listed in :attr:`ReassignResult.moves` (the
before/after view written as ``moves.csv``). Logging names identifiers only.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

import pandas as pd

from famassign.models import (
    EXCEPTION_CAP_LIMIT,
    POLICY_CAP_LIMIT,
    CapException,
    ExceptionKind,
    Scenario,
    Staff,
    StaffStatus,
    rule_breaks,
)
from famassign.models.absence import Absence, AbsentFamily
from famassign.models.errors import FamassignError, check_argument
from famassign.solver.continuation import away_on_leave, next_scenario
from famassign.solver.explain import move_cause
from famassign.solver.options import PlanOptions
from famassign.solver.result import Result
from famassign.solver.solve import Progress, solve

log = logging.getLogger(__name__)

MOVE_COLUMNS = ["family_id", "from_staff_id", "to_staff_id", "reason"]
"""Columns of moves.csv (the before/after view)."""


class ReassignError(FamassignError, ValueError):
    """The reassignment request is invalid (unknown staff ids, a bad cap or date); the message
    says what to change."""


class MoveKind(StrEnum):
    """Why a family's staff member changed."""

    leaving = "leaving"
    """Its staff member departs or goes on leave in this reassignment."""
    room = "room"
    """Its staff member stays; it moved because every plan without such a move places fewer
    families (or less urgent ones) or uses more exception places."""
    inactive_before = "inactive_before"
    """Its staff member was already absent or departed in the input."""
    new = "new"
    """It had no staff member and is now placed."""
    no_longer_eligible = "no_longer_eligible"
    """Its staff member stays but may no longer serve it (language, site, option or a conflict)."""
    returned = "returned"
    """It goes back to its staff member, who is back from leave (update)."""


@dataclass(frozen=True)
class Move:
    """One family whose staff member changes (`to_staff_id` None: it could not be placed)."""

    family_id: str
    from_staff_id: str | None
    to_staff_id: str | None
    kind: MoveKind
    reason: str
    temporary_until: date | None = None


@dataclass(frozen=True)
class ReassignResult:
    """The plan after the change, the changed scenario it was made for, and the moves.

    `scenario` is the input on `as_of` with the leaving staff's status changed (and staff on a
    running absence kept away) and the temporary exception (if any) added: write outputs against
    it. `temporary_until` is set for ``absent`` with ``until``: the moves of the absent staff's
    families are temporary and they go back after it. `staff_before` is the staff as the input
    had them (the next scenario keeps an absent staff member with a return date as they were:
    the absence keeps them away).
    """

    result: Result
    scenario: Scenario
    departed: tuple[str, ...]
    absent: tuple[str, ...]
    until: date | None
    temporary_exception: CapException | None
    moves: tuple[Move, ...] = field(default_factory=tuple)
    staff_before: tuple[Staff, ...] = ()

    @property
    def absences(self) -> tuple[Absence, ...]:
        """The absences of the next scenario: one per staff member absent now with a return
        date, listing the families moved to a colleague for it; then the earlier ones, without
        the families this reassignment moved again."""
        back = self.temporary_until
        new = tuple(
            Absence(
                staff_id=staff_id,
                starts=self.scenario.as_of,
                until=back,
                families=tuple(
                    AbsentFamily(family_id=m.family_id, moved_to_staff_id=m.to_staff_id)
                    for m in self.moves
                    if m.kind is MoveKind.leaving
                    and m.from_staff_id == staff_id
                    and m.to_staff_id is not None
                ),
            )
            for staff_id in (self.absent if back is not None else ())
        )
        moved = {m.family_id for m in self.moves}
        renewed = {a.staff_id for a in new}
        kept = tuple(
            a.model_copy(
                update={"families": tuple(f for f in a.families if f.family_id not in moved)}
            )
            for a in self.scenario.absences
            if a.staff_id not in renewed
        )
        return (*new, *kept)

    @property
    def temporary_until(self) -> date | None:
        """Last day of the absence when the absent staff's families go back after it."""
        return self.until if self.absent and self.until is not None else None

    @property
    def leaving(self) -> tuple[str, ...]:
        """Every staff member leaving in this reassignment (departed, then absent)."""
        return self.departed + self.absent

    def count(self, kind: MoveKind) -> int:
        """How many families moved for `kind`, placed with someone else or left unplaced."""
        return sum(1 for m in self.moves if m.kind is kind)

    @property
    def unplaced_from_leaving(self) -> tuple[str, ...]:
        """Families of leaving staff that could not be placed."""
        return tuple(
            m.family_id for m in self.moves if m.kind is MoveKind.leaving and m.to_staff_id is None
        )

    def moves_frame(self) -> pd.DataFrame:
        """moves.csv: family_id, from_staff_id, to_staff_id, reason (one row per change)."""
        return moves_frame(self.moves)

    def next_scenario(self) -> Scenario:
        """The scenario of the next plan (:func:`famassign.solver.continuation.next_scenario`):
        families on this plan, departed staff marked departed, an absent staff member with a
        return date as before (:attr:`absences` keeps them away until then), the temporary
        exception until it ends."""
        back = self.temporary_until
        before = {s.staff_id: s for s in self.staff_before}
        staff = tuple(
            before.get(s.staff_id, s) if back is not None and s.staff_id in self.absent else s
            for s in self.scenario.staff
        )
        return next_scenario(self.scenario, self.result, staff=staff, absences=self.absences)


def moves_frame(moves: Collection[Move]) -> pd.DataFrame:
    """moves.csv: family_id, from_staff_id, to_staff_id, reason (one row per move)."""
    return pd.DataFrame(
        [[m.family_id, m.from_staff_id, m.to_staff_id, m.reason] for m in moves],
        columns=MOVE_COLUMNS,
    )


def check_not_backdated(
    scenario: Scenario,
    as_of: date | None,
    allow_backdate: bool,
    error: type[FamassignError],
) -> None:
    """Refuse an `as_of` earlier than the scenario's own (the date of the plan it continues)
    unless `allow_backdate`: a re-plan dated before its plan would enter the history out of
    order. The same date is allowed. Raises `error` naming both dates."""
    if as_of is not None and as_of < scenario.as_of and not allow_backdate:
        raise error(
            f"--as-of {as_of.isoformat()} is before {scenario.as_of.isoformat()}, the date of "
            "the plan this scenario continues (as_of in scenario.yaml); give a later date, or "
            "--allow-backdate to plan on an earlier day"
        )


def _split_ids(ids: Collection[str] | str) -> tuple[str, ...]:
    raw = ids.split(",") if isinstance(ids, str) else list(ids)
    return tuple(dict.fromkeys(i.strip() for i in raw if i and i.strip()))


def temporary_exception_id(scenario: Scenario, kind: ExceptionKind) -> str:
    """A new exception id ``<kind>-<as_of>`` (suffixed ``-2``, ``-3`` ... when taken)."""
    taken = {e.exception_id for e in scenario.exceptions}
    base = f"{kind.value}-{scenario.as_of.isoformat()}"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def check_leave_request(
    departed: tuple[str, ...],
    absent: tuple[str, ...],
    until: date | None,
    temporary_cap: int | None,
) -> None:
    """The rules of a leave request that need no scenario (the one place they are written).

    Raises
    ------
    ReassignError
        No staff named; an id both departed and absent; a temporary cap without an end date
        (until), not a whole number, not above 40 or above the largest exception cap; an end
        date (until) with departures only and no temporary cap.
    """
    if not departed and not absent:
        raise ReassignError(
            "name at least one staff member who departs or is absent "
            "(--departed ID[,ID..] and/or --absent ID[,ID..])"
        )
    both = sorted(set(departed) & set(absent))
    if both:
        raise ReassignError(f"staff {', '.join(both)} named both departed and absent; choose one")
    if temporary_cap is not None and until is None:
        raise ReassignError(
            "a temporary cap (--temporary-cap) needs an end date (--until DATE): temporary "
            "exceptions under 1302.52(d)(2)(ii) are dated"
        )
    if temporary_cap is not None:
        if isinstance(temporary_cap, bool) or not isinstance(temporary_cap, int):
            raise ReassignError(f"temporary cap must be a whole number, got {temporary_cap!r}")
        if temporary_cap <= POLICY_CAP_LIMIT:
            raise ReassignError(
                f"temporary cap {temporary_cap} must be above {POLICY_CAP_LIMIT}; at or below "
                "the policy cap no exception is needed"
            )
        if temporary_cap > EXCEPTION_CAP_LIMIT:
            raise ReassignError(
                f"temporary cap {temporary_cap} is above {EXCEPTION_CAP_LIMIT}, the largest "
                "exception cap famassign accepts; give the caseload the exception allows"
            )
    if until is not None and not absent and temporary_cap is None:
        raise ReassignError(
            "an end date (--until) with departures only dates a temporary cap; departures are "
            "permanent (add --temporary-cap N, or drop --until)"
        )


def leave_scenario(
    scenario: Scenario,
    *,
    departed: Collection[str] | str = (),
    absent: Collection[str] | str = (),
    until: date | None = None,
    temporary_cap: int | None = None,
) -> tuple[Scenario, CapException | None]:
    """The scenario after the change: statuses set, the temporary exception added.

    Raises :class:`ReassignError` for what :func:`check_leave_request` rejects, unknown staff
    ids (all named) and ``until`` before ``as_of``.
    """
    gone, away = _split_ids(departed), _split_ids(absent)
    check_leave_request(gone, away, until, temporary_cap)
    unknown = [s for s in gone + away if s not in scenario.staff_by_id]
    if unknown:
        raise ReassignError(
            f"unknown staff_id {', '.join(repr(s) for s in unknown)}: "
            "each must be a staff_id in staff.csv"
        )
    if until is not None and until < scenario.as_of:
        raise ReassignError(
            f"until {until.isoformat()} is before the planning date {scenario.as_of.isoformat()}"
        )
    status = {s: StaffStatus.departed for s in gone} | {s: StaffStatus.absent for s in away}
    staff = tuple(
        s.model_copy(update={"status": status[s.staff_id]}) if s.staff_id in status else s
        for s in scenario.staff
    )
    exception: CapException | None = None
    exceptions = scenario.exceptions
    if temporary_cap is not None and until is not None:
        kind = ExceptionKind.staff_attrition if gone else ExceptionKind.staff_absence
        exception = CapException(
            exception_id=temporary_exception_id(scenario, kind),
            kind=kind,
            staff_id=None,
            max_families=temporary_cap,
            starts=scenario.as_of,
            ends=until,
            created_by=f"reassign {scenario.as_of.isoformat()}: "
            + "; ".join(
                part
                for part in (
                    f"{', '.join(gone)} departed" if gone else "",
                    f"{', '.join(away)} absent" if away else "",
                )
                if part
            ),
        )
        exceptions = (*exceptions, exception)
    changed = scenario.rebuilt(staff=staff, exceptions=exceptions)
    return changed, exception


def plan_moves(
    before: Scenario,
    after: Scenario,
    result: Result,
    leaving: Mapping[str, StaffStatus],
    until: date | None,
    returning: Mapping[str, Absence] | None = None,
) -> tuple[Move, ...]:
    """Every family whose staff member changes (from `previous_staff_id`), with the reason.

    `before` gives the staff statuses before the change, `after` the families; `leaving` the
    staff leaving now; `until` the end of their absence; `returning` the families whose staff
    member is back from leave (by family id).
    """
    unplaced = {
        u.family_id: u.reason + (f"; what would place it: {u.would_place}" if u.would_place else "")
        for u in result.unplaced
    }
    returning = returning or {}
    caseloads = {c.staff_id: c for c in result.caseloads}
    moves = []
    for a in result.assignments:
        if a.staff_id == a.previous_staff_id:
            continue
        fam = after.family_by_id[a.family_id]
        prev = a.previous_staff_id
        temporary: date | None = None
        returns = returning.get(a.family_id)
        if returns is not None and a.staff_id == returns.staff_id:
            kind = MoveKind.returned
            why = (
                f"{returns.staff_id} back from leave (absent until {returns.until.isoformat()}): "
                f"returns from {prev or 'no staff member'}"
            )
        elif prev is None:
            kind, why = MoveKind.new, "had no staff member"
        elif prev in leaving:
            kind = MoveKind.leaving
            if leaving[prev] is StaffStatus.departed:
                why = f"{prev} departed"
            elif until is not None:
                temporary = until
                back = (until + timedelta(days=1)).isoformat()
                why = (
                    f"{prev} absent until {until.isoformat()}: temporary move, "
                    f"goes back to {prev} on {back}"
                )
            else:
                why = f"{prev} absent (no return date given)"
            if fam.pinned:
                why += f"; pin to {prev} released"
        elif before.staff_by_id[prev].status is not StaffStatus.active:
            kind = MoveKind.inactive_before
            why = f"{prev} was already {before.staff_by_id[prev].status.value}"
        else:
            previous = after.staff_by_id[prev]
            why = move_cause(after, fam, previous, minimize_moves=True)
            eligible = not rule_breaks(fam, previous, after.policy) and not after.in_conflict(
                fam.family_id, prev
            )
            kind = MoveKind.room if eligible else MoveKind.no_longer_eligible
        if a.staff_id is None:
            why += f"; not placed: {unplaced.get(a.family_id, 'no room')}"
        else:
            load = caseloads[a.staff_id]
            if load.families > load.cap:
                why += (
                    f"; joins {a.staff_id}'s caseload of {load.families}, above its cap of "
                    f"{load.cap}, under exception {load.exception_id}"
                )
        moves.append(Move(a.family_id, prev, a.staff_id, kind, why, temporary))
    return tuple(moves)


def _leave_on(
    scenario: Scenario,
    *,
    departed: Collection[str] | str,
    absent: Collection[str] | str,
    until: date | None,
    temporary_cap: int | None,
    as_of: date | None,
    allow_backdate: bool,
) -> tuple[Scenario, Scenario, CapException | None]:
    """What :func:`reassign` plans before it searches: the scenario on `as_of` with staff on a
    running absence kept away, the same after the change (:func:`leave_scenario`), and the
    temporary exception; every refusal of a reassignment is raised here."""
    check_not_backdated(scenario, as_of, allow_backdate, ReassignError)
    scenario = away_on_leave(scenario.on(as_of))
    changed, exception = leave_scenario(
        scenario, departed=departed, absent=absent, until=until, temporary_cap=temporary_cap
    )
    return scenario, changed, exception


def check_reassign(
    scenario: Scenario,
    *,
    departed: Collection[str] | str = (),
    absent: Collection[str] | str = (),
    until: date | None = None,
    temporary_cap: int | None = None,
    as_of: date | None = None,
    allow_backdate: bool = False,
) -> None:
    """Refuse what :func:`reassign` refuses, without searching (the server checks a request
    with it before it queues a job; the arguments are :func:`reassign`'s).

    Raises
    ------
    ReassignError
        An invalid request (:func:`check_leave_request`), unknown staff, an end before
        `as_of`, or a backdated `as_of` without `allow_backdate`.
    ScenarioError
        When the scenario fails its checks on `as_of`.
    """
    check_argument("reassign", scenario, Scenario)
    _leave_on(
        scenario,
        departed=departed,
        absent=absent,
        until=until,
        temporary_cap=temporary_cap,
        as_of=as_of,
        allow_backdate=allow_backdate,
    )


def reassign(
    scenario: Scenario,
    *,
    departed: Collection[str] | str = (),
    absent: Collection[str] | str = (),
    until: date | None = None,
    temporary_cap: int | None = None,
    as_of: date | None = None,
    allow_backdate: bool = False,
    options: PlanOptions | None = None,
    match_tolerance: float | None = 0.0,
    progress: Progress | None = None,
) -> ReassignResult:
    """Re-plan `scenario` after `departed` staff leave and `absent` staff go on leave.

    `departed`/`absent` are staff ids (a list, or one comma-separated string). `until` is the
    last day of an absence (and the end of the temporary exception); `temporary_cap` the relaxed
    cap of that exception. See the module docstring for the order of the objective.
    `match_tolerance` replaces ``weights.balance_match_tolerance`` (0: balance never gives up
    match; None: keep the scenario's). `options` are as for :func:`famassign.solve` (moves are
    always minimised). `as_of` is the day the change takes effect (default: the scenario's).
    Departures and absences may be given together. The scenario's absences (absences.csv) keep
    their staff away while they run and are carried forward in :attr:`ReassignResult.absences`.
    `as_of` earlier than the scenario's is refused unless `allow_backdate`. Raises
    :class:`ReassignError` for an invalid request and
    :class:`famassign.models.ScenarioError` when the scenario fails its checks on `as_of`.
    """
    check_argument("reassign", scenario, Scenario)
    start = time.monotonic()
    staff_before = scenario.staff
    scenario, changed, exception = _leave_on(
        scenario,
        departed=departed,
        absent=absent,
        until=until,
        temporary_cap=temporary_cap,
        as_of=as_of,
        allow_backdate=allow_backdate,
    )
    planning = changed
    if match_tolerance is not None:
        weights = changed.weights.model_copy(update={"balance_match_tolerance": match_tolerance})
        planning = changed.model_copy(update={"weights": weights})
    gone, away = _split_ids(departed), _split_ids(absent)
    log.info(
        "reassign: departed %s, absent %s%s",
        ", ".join(gone) or "none",
        ", ".join(away) or "none",
        f", temporary exception {exception.exception_id}" if exception else "",
    )
    options = dataclasses.replace(options or PlanOptions(), minimize_moves=True)
    if not options.deterministic:
        # The time limit covers the whole reassignment: what came before the search is spent.
        spent = time.monotonic() - start
        options = dataclasses.replace(options, time_limit=max(options.time_limit - spent, 0.0))
    result = solve(planning, options, progress=progress)
    leaving = {s: StaffStatus.departed for s in gone} | {s: StaffStatus.absent for s in away}
    moves = plan_moves(scenario, changed, result, leaving, until if away else None)
    out = ReassignResult(
        result=result,
        scenario=changed,
        departed=gone,
        absent=away,
        until=until,
        temporary_exception=exception,
        moves=moves,
        staff_before=staff_before,
    )
    log.info(
        "reassign: %d families of leaving staff moved, %d other moves, %d unplaced",
        out.count(MoveKind.leaving),
        out.count(MoveKind.room),
        len(result.unplaced),
    )
    return out


__all__ = [
    "MOVE_COLUMNS",
    "Move",
    "MoveKind",
    "ReassignError",
    "ReassignResult",
    "check_leave_request",
    "check_not_backdated",
    "check_reassign",
    "leave_scenario",
    "moves_frame",
    "plan_moves",
    "reassign",
    "temporary_exception_id",
]
