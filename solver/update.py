"""`update(scenario) -> UpdateResult`: the plan in force, brought up to date mid-year.

The scenario is the plan in force: a plan folder read as a scenario (families.csv with
``current_staff_id`` set to the plan), with the month's changes applied by hand: new families have
no ``current_staff_id``, withdrawn families are simply gone, re-assessed families carry their new
urgency and intensity. The update:

- places the new families and plans with the re-assessed urgency and intensity (the flow and the
  weighted loads use the values in the file);
- moves as few current families as possible, then maximises the match, then balances the load:
  :func:`famassign.solve` with ``minimize_moves=True`` and, by default, no match given up for
  balance (the same order as reassign, with nobody leaving);
- with ``max_moves_per_staff=K``, moves at most K of any staff member's families away (to
  someone else or unplaced; a staff member who must shed more sheds only what it must:
  :mod:`famassign.solver.disruption`); when the bound costs a placement or an exception place,
  :attr:`UpdateResult.bound_cost` says how many and which families;
- keeps away the staff members whose absence (``scenario.absences``, absences.csv, written by
  ``reassign --absent ID --until DATE``) runs on ``as_of``, and brings back to a staff
  member whose absence has ended (``as_of`` after ``until``) the families listed under it,
  unless they have been reassigned since, are pinned elsewhere, or returning breaks a rule
  (:attr:`UpdateResult.not_returned` says which and why); going back is a return, not a move;
- re-plans, with the fewest moves, the families above the cap a temporary exception allowed
  once it has ended (``as_of`` after its end): their moves and handover notes say
  ``temporary exception X ended on DATE`` (:mod:`famassign.solver.exception_ends`), and
  :attr:`UpdateResult.ending_soon` lists those that end within 30 days;
- carries the month's changes from the data system (:func:`famassign.models.month.month_changes`)
  into :attr:`UpdateResult.changes`, for changes.csv and the summary;
- refuses an ``as_of`` earlier than the scenario's (the plan it continues) unless
  ``allow_backdate``.

Logging names identifiers and counts only.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from famassign.models import Scenario, Staff, StaffStatus, pin_breaks_rule
from famassign.models.absence import Absence
from famassign.models.errors import FamassignError, check_argument
from famassign.models.month import FamilyChange
from famassign.solver.arrays import IntArray, build_arrays
from famassign.solver.continuation import away_on_leave, next_scenario
from famassign.solver.disruption import bounded_plan, keeps_bound, moved_away, staff_bounds
from famassign.solver.exception_ends import (
    ExceptionEnded,
    ExceptionEnding,
    ended_exceptions,
    ending_soon,
    with_end_reasons,
)
from famassign.solver.flow import solve_flow
from famassign.solver.options import PlanOptions
from famassign.solver.reassign import Move, MoveKind, check_not_backdated, plan_moves
from famassign.solver.result import Assignment, Result
from famassign.solver.solve import Progress, plan_result, solve

log = logging.getLogger(__name__)


class UpdateError(FamassignError, ValueError):
    """The update request is invalid (a negative bound, a backdated ``as_of``); the message
    says what to change."""


@dataclass(frozen=True)
class NotReturned:
    """A family moved away for an absence that has ended, left where it is, and why."""

    family_id: str
    staff_id: str
    reason: str


@dataclass(frozen=True)
class BoundCost:
    """What the disruption bound costs against the same update without it."""

    placements: int
    """Families the plan without the bound places and this plan does not (net)."""
    exception_places: int
    """Extra places above a policy cap the bound makes necessary."""
    unplaced_by_bound: tuple[str, ...]
    """Families unplaced here that the plan without the bound places."""
    staff_at_bound: tuple[str, ...]
    """Staff members with exactly as many families moved away as their bound allows (> 0)."""


@dataclass(frozen=True)
class UpdateResult:
    """The updated plan and what it did.

    `scenario` is what the plan was made for (write outputs against it): the input on `as_of`,
    staff with a running absence marked absent, and each returning family's current staff member
    set to the staff member it returns to. `result.assignments` give the input's
    ``current_staff_id`` as ``previous_staff_id``. `staff_before` is the staff as the input had
    them, `absences` the absences not yet ended. `changes` are the month's changes from the
    data system it was given, `exceptions_ended` the temporary exceptions that ended since the
    plan it continues, `ending_soon` those in force that end within 30 days of `as_of`.
    """

    result: Result
    scenario: Scenario
    moves: tuple[Move, ...]
    returned_staff: tuple[str, ...]
    not_returned: tuple[NotReturned, ...]
    still_absent: tuple[str, ...]
    absences: tuple[Absence, ...]
    max_moves_per_staff: int | None
    bound_cost: BoundCost | None
    staff_before: tuple[Staff, ...] = ()
    changes: tuple[FamilyChange, ...] = ()
    exceptions_ended: tuple[ExceptionEnded, ...] = ()
    ending_soon: tuple[ExceptionEnding, ...] = ()

    def count(self, kind: MoveKind) -> int:
        """How many families moved for `kind`, placed with someone else or left unplaced."""
        return sum(1 for m in self.moves if m.kind is kind)

    @property
    def returned_families(self) -> tuple[str, ...]:
        """Families back with their staff member after leave."""
        return tuple(m.family_id for m in self.moves if m.kind is MoveKind.returned)

    def next_scenario(self) -> Scenario:
        """The scenario of the next plan (:func:`famassign.solver.continuation.next_scenario`):
        families on this plan, staff as the input had them (the absences not yet ended keep
        theirs away), the exceptions that have not ended."""
        return next_scenario(
            self.scenario, self.result, staff=self.staff_before, absences=self.absences
        )


@dataclass(frozen=True)
class _Returns:
    scenario: Scenario
    returning: dict[str, Absence]
    not_returned: list[NotReturned]
    ended_staff: list[str]
    still_absent: list[str]
    ongoing: list[Absence]


def _plan_returns(scenario: Scenario) -> _Returns:
    """Who is still away, and which families go back to whom (before planning)."""
    conflicts = {(c.family_id, c.staff_id) for c in scenario.conflicts}
    returning: dict[str, Absence] = {}
    not_returned: list[NotReturned] = []
    ended: list[str] = []
    ongoing: list[Absence] = []
    for absence in scenario.absences:
        if not absence.ended(scenario.as_of):
            ongoing.append(absence)
            continue
        ended.append(absence.staff_id)
        staff = scenario.staff_by_id[absence.staff_id]
        for listed in absence.families:
            fam = scenario.family_by_id[listed.family_id]
            reason: str | None = None
            if staff.status is not StaffStatus.active:
                reason = f"{absence.staff_id} is marked {staff.status.value} in staff.csv"
            elif fam.current_staff_id != listed.moved_to_staff_id:
                reason = (
                    f"reassigned since (now with {fam.current_staff_id or 'no staff member'}, "
                    f"moved to {listed.moved_to_staff_id} for the absence)"
                )
            elif fam.pinned:
                reason = f"pinned to {fam.current_staff_id}"
            elif (fam.family_id, absence.staff_id) in conflicts:
                reason = f"a conflict with {absence.staff_id} is listed"
            else:
                reason = pin_breaks_rule(fam, staff, scenario.policy)
            if reason is None:
                returning[fam.family_id] = absence
            else:
                not_returned.append(NotReturned(fam.family_id, absence.staff_id, reason))
    away = away_on_leave(scenario)
    still_absent = [a.staff_id for a in ongoing if a.runs_on(scenario.as_of)]
    families = tuple(
        f.model_copy(update={"current_staff_id": returning[f.family_id].staff_id})
        if f.family_id in returning
        else f
        for f in scenario.families
    )
    planning = away.rebuilt(families=families)
    return _Returns(planning, returning, not_returned, ended, still_absent, ongoing)


def _with_input_previous(result: Result, scenario: Scenario) -> Result:
    """The result with ``previous_staff_id``/``changed`` from the input families."""
    assignments = []
    for a in result.assignments:
        before = scenario.family_by_id[a.family_id].current_staff_id
        if before != a.previous_staff_id:
            a = Assignment(
                **(a.model_dump() | {"previous_staff_id": before, "changed": a.staff_id != before})
            )
        assignments.append(a)
    return result.model_copy(update={"assignments": tuple(assignments)})


def _checked_on(
    scenario: Scenario, as_of: date | None, allow_backdate: bool, max_moves_per_staff: int | None
) -> Scenario:
    """`scenario` on `as_of`, after every refusal of an update (see :func:`check_update`)."""
    if max_moves_per_staff is not None and max_moves_per_staff < 0:
        raise UpdateError(
            f"max moves per staff member must be 0 or more, got {max_moves_per_staff}"
        )
    check_not_backdated(scenario, as_of, allow_backdate, UpdateError)
    return scenario.on(as_of)


def check_update(
    scenario: Scenario,
    *,
    as_of: date | None = None,
    allow_backdate: bool = False,
    max_moves_per_staff: int | None = None,
) -> None:
    """Refuse what :func:`update` refuses, without searching (the server checks a request with
    it before it queues a job; the arguments are :func:`update`'s).

    Raises
    ------
    UpdateError
        A negative `max_moves_per_staff`, or a backdated `as_of` without `allow_backdate`.
    ScenarioError
        When the scenario fails its checks on `as_of`.
    """
    check_argument("update", scenario, Scenario)
    _checked_on(scenario, as_of, allow_backdate, max_moves_per_staff)


def update(
    scenario: Scenario,
    *,
    as_of: date | None = None,
    allow_backdate: bool = False,
    max_moves_per_staff: int | None = None,
    options: PlanOptions | None = None,
    match_tolerance: float | None = 0.0,
    progress: Progress | None = None,
    changes: Sequence[FamilyChange] = (),
) -> UpdateResult:
    """Bring the plan in force (``current_staff_id``) up to date; see the module docstring.

    Parameters
    ----------
    scenario
        The program now: the last plan's next scenario (a plan folder read as a scenario, or
        :meth:`UpdateResult.next_scenario`) with enrolments, withdrawals and re-assessments
        applied; its absences say who is away and which families go back.
    as_of
        The day the update takes effect (default: the scenario's ``as_of``).
    allow_backdate
        Allow an `as_of` earlier than the scenario's (the plan it continues).
    max_moves_per_staff
        K: at most K of a staff member's families moved away (None: no bound).
    options
        As for :func:`famassign.solve`; moves are always minimised.
    match_tolerance
        Replaces ``weights.balance_match_tolerance`` (0: balance never gives up match; None:
        keep the scenario's).
    progress
        Called as ``progress(stage, done, total)``.
    changes
        The month's changes already applied to `scenario`
        (:attr:`famassign.models.month.MonthChanges.changes`), carried into the result.

    Returns
    -------
    UpdateResult
        The plan, its moves (new, room, returned, ...), who returned, the absences carried
        forward, and the cost of the bound.

    Raises
    ------
    UpdateError
        When `max_moves_per_staff` is negative, or `as_of` is earlier than the scenario's and
        `allow_backdate` is not given.
    ScenarioError
        When the scenario fails its checks on `as_of`.
    """
    check_argument("update", scenario, Scenario)
    on = _checked_on(scenario, as_of, allow_backdate, max_moves_per_staff)
    start = time.monotonic()
    ended = ended_exceptions(scenario, as_of or scenario.as_of)
    scenario = on
    back = _plan_returns(scenario)
    planning = back.scenario
    if match_tolerance is not None:
        weights = planning.weights.model_copy(update={"balance_match_tolerance": match_tolerance})
        planning = planning.model_copy(update={"weights": weights})
    options = dataclasses.replace(options or PlanOptions(), minimize_moves=True)
    log.info(
        "update: %d families, %d returning from leave, %d staff still absent%s",
        len(planning.families),
        len(back.returning),
        len(back.still_absent),
        f", at most {max_moves_per_staff} moved away per staff member"
        if max_moves_per_staff is not None
        else "",
    )
    cost: BoundCost | None = None
    result: Result
    if not options.deterministic:
        # The time limit covers the whole update: what came before the search is spent.
        spent = time.monotonic() - start
        options = dataclasses.replace(options, time_limit=max(options.time_limit - spent, 0.0))
    searching = time.monotonic()
    if max_moves_per_staff is None:
        result = solve(planning, options, progress=progress)
    else:
        k = max_moves_per_staff
        arrays = build_arrays(planning)
        index = {s: j for j, s in enumerate(arrays.staff_ids)}

        def unbalanced(staff_of: IntArray, match: int, proven: bool, note: str) -> Result:
            """The plan `staff_of` as it stands: no workload balance stage (`note` says why)."""
            return plan_result(
                planning,
                arrays,
                staff_of,
                options,
                match,
                proven=proven,
                runtime_s=time.monotonic() - start,
                notes=(note,),
            )

        free = solve_flow(arrays, minimize_moves=True)
        if keeps_bound(arrays, free.staff_of, k):
            result = solve(planning, options, progress=progress)
            if not keeps_bound(arrays, _staff_of(arrays.family_ids, index, result.plan()), k):
                # Balance may trade one staff member's moves for another's: keep the flow plan.
                result = unbalanced(
                    free.staff_of,
                    free.match,
                    True,
                    f"workload balance not applied: it would move more than {k} families "
                    "away from one staff member",
                )
            cost = BoundCost(0, 0, (), ())
        else:
            remaining = max(options.time_limit - (time.monotonic() - searching), 1.0)
            bounded, proven = bounded_plan(arrays, k, time_limit=remaining)
            unplaced_by_bound = tuple(
                arrays.family_ids[i]
                for i in range(arrays.n_families)
                if bounded.staff_of[i] < 0 and free.staff_of[i] >= 0
            )
            cost = BoundCost(
                placements=free.placed - bounded.placed,
                exception_places=bounded.over_cap - free.over_cap,
                unplaced_by_bound=unplaced_by_bound,
                staff_at_bound=(),
            )
            result = unbalanced(
                bounded.staff_of,
                bounded.match,
                proven,
                f"at most {k} families moved away per staff member: workload balance "
                "not applied under the bound",
            )
        away = moved_away(arrays, _staff_of(arrays.family_ids, index, result.plan()))
        limits = staff_bounds(arrays, k)
        cost = dataclasses.replace(
            cost,
            staff_at_bound=tuple(
                arrays.staff_ids[j]
                for j in range(arrays.n_staff)
                if limits[j] > 0 and away[j] == limits[j]
            ),
        )
    result = _with_input_previous(result, scenario)
    moves = with_end_reasons(
        plan_moves(planning, planning, result, {}, None, back.returning), ended
    )
    plan = result.plan()
    not_returned = list(back.not_returned)
    for fid, absence in back.returning.items():
        if plan.get(fid) != absence.staff_id:
            where = plan.get(fid) or "unplaced"
            not_returned.append(
                NotReturned(fid, absence.staff_id, f"no room with {absence.staff_id}: {where}")
            )
    out = UpdateResult(
        result=result,
        scenario=planning,
        moves=moves,
        returned_staff=tuple(back.ended_staff),
        not_returned=tuple(not_returned),
        still_absent=tuple(back.still_absent),
        absences=tuple(back.ongoing),
        max_moves_per_staff=max_moves_per_staff,
        bound_cost=cost,
        staff_before=scenario.staff,
        changes=tuple(changes),
        exceptions_ended=ended,
        ending_soon=ending_soon(planning, result),
    )
    log.info(
        "update: %d new families placed, %d moved to make room, %d returned, %d unplaced",
        out.count(MoveKind.new),
        out.count(MoveKind.room),
        out.count(MoveKind.returned),
        len(result.unplaced),
    )
    return out


def _staff_of(
    family_ids: list[str], index: Mapping[str, int], plan: Mapping[str, str | None]
) -> IntArray:
    return np.array(
        [index[s] if (s := plan.get(f)) is not None else -1 for f in family_ids], dtype=np.int64
    )


__all__ = [
    "BoundCost",
    "NotReturned",
    "UpdateError",
    "UpdateResult",
    "check_update",
    "update",
]
