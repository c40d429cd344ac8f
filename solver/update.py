"""`update(scenario) -> UpdateResult`: the plan in force, brought up to date mid-year.

families.csv carries ``current_staff_id`` from the plan in force (``next_families.csv`` of the
last plan): new families have none, withdrawn families are simply gone, re-assessed families
carry their new urgency and intensity. The update:

- places the new families and plans with the re-assessed urgency and intensity (the flow and the
  weighted loads use the values in the file);
- moves as few current families as possible, then maximises the match, then balances the load:
  :func:`famassign.solve` with ``minimize_moves=True`` and, by default, no match given up for
  balance (the same order as reassign, with nobody leaving);
- with ``max_moves_per_staff=K``, moves at most K of any staff member's families away (to
  someone else or unplaced; a staff member who must shed more sheds only what it must:
  :mod:`famassign.solver.disruption`); when the bound costs a placement or an exception place,
  :attr:`UpdateResult.bound_cost` says how many and which families;
- keeps away the staff members whose absence (``absences.csv``, written by
  ``reassign --absent ID --until DATE``) has not ended on ``as_of``, and brings back to a staff
  member whose absence has ended (``as_of`` after ``until``) the families moved away for it,
  unless they have been reassigned since, are pinned elsewhere, or returning breaks a rule
  (:attr:`UpdateResult.not_returned` says which and why).

Logging names identifiers and counts only.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np

from famassign.models import Family, Scenario, StaffStatus, pin_breaks_rule
from famassign.models.absence import AbsenceMove
from famassign.models.errors import FamassignError, check_argument
from famassign.solver.arrays import IntArray, build_arrays
from famassign.solver.disruption import bounded_plan, keeps_bound, moved_away, staff_bounds
from famassign.solver.flow import solve_flow
from famassign.solver.options import PlanOptions
from famassign.solver.reassign import Move, MoveKind, plan_moves
from famassign.solver.result import Assignment, Result
from famassign.solver.solve import Progress, plan_result, solve

log = logging.getLogger(__name__)


class UpdateError(FamassignError, ValueError):
    """The update request is invalid (a negative bound); the message says what to change."""


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
    staff with an ongoing absence marked absent, and each returning family's current staff member
    set to the staff member it returns to. `result.assignments` give the input's
    ``current_staff_id`` as ``previous_staff_id``.
    """

    result: Result
    scenario: Scenario
    moves: tuple[Move, ...]
    returned_staff: tuple[str, ...]
    not_returned: tuple[NotReturned, ...]
    still_absent: tuple[str, ...]
    absences: tuple[AbsenceMove, ...]
    max_moves_per_staff: int | None
    bound_cost: BoundCost | None

    def count(self, kind: MoveKind) -> int:
        """How many placed families moved for `kind`."""
        return sum(1 for m in self.moves if m.kind is kind and m.to_staff_id is not None)

    @property
    def returned_families(self) -> tuple[str, ...]:
        """Families back with their staff member after leave."""
        return tuple(m.family_id for m in self.moves if m.kind is MoveKind.returned)


def next_families(scenario: Scenario, plan: Mapping[str, str | None]) -> tuple[Family, ...]:
    """The families with ``current_staff_id`` set to `plan` (next_families.csv).

    A pin is kept only where the family stays with the staff member it was pinned to (a released
    pin does not follow the family to someone new).
    """
    out = []
    for fam in scenario.families:
        staff_id = plan.get(fam.family_id)
        pinned = fam.pinned and staff_id is not None and staff_id == fam.current_staff_id
        if staff_id != fam.current_staff_id or pinned != fam.pinned:
            fam = fam.model_copy(update={"current_staff_id": staff_id, "pinned": pinned})
        out.append(fam)
    return tuple(out)


@dataclass(frozen=True)
class _Returns:
    scenario: Scenario
    returning: dict[str, AbsenceMove]
    not_returned: list[NotReturned]
    ended_staff: list[str]
    still_absent: list[str]
    ongoing: list[AbsenceMove]


def _plan_returns(scenario: Scenario, absences: Collection[AbsenceMove]) -> _Returns:
    """Who is still away, and which families go back to whom (before planning)."""
    conflicts = {(c.family_id, c.staff_id) for c in scenario.conflicts}
    returning: dict[str, AbsenceMove] = {}
    not_returned: list[NotReturned] = []
    ended: dict[str, None] = {}
    away: dict[str, None] = {}
    ongoing: list[AbsenceMove] = []
    for absence in absences:
        staff = scenario.staff_by_id.get(absence.staff_id)
        fam = scenario.family_by_id.get(absence.family_id)
        if not absence.ended(scenario.as_of):
            if staff is not None:
                away[absence.staff_id] = None
            if fam is not None:
                ongoing.append(absence)
            continue
        ended[absence.staff_id] = None
        if fam is None:
            continue  # withdrawn since
        reason: str | None = None
        if staff is None:
            reason = f"{absence.staff_id} is not in staff.csv"
        elif staff.status is not StaffStatus.active:
            reason = f"{absence.staff_id} is marked {staff.status.value} in staff.csv"
        elif absence.moved_to_staff_id is not None and (
            fam.current_staff_id != absence.moved_to_staff_id
        ):
            reason = (
                f"reassigned since (now with {fam.current_staff_id or 'no staff member'}, "
                f"moved to {absence.moved_to_staff_id} for the absence)"
            )
        elif fam.pinned and fam.current_staff_id is not None:
            reason = f"pinned to {fam.current_staff_id}"
        elif (fam.family_id, absence.staff_id) in conflicts:
            reason = f"a conflict with {absence.staff_id} is listed"
        else:
            reason = pin_breaks_rule(fam, staff, scenario.policy)
        if reason is None:
            returning[fam.family_id] = absence
        else:
            not_returned.append(NotReturned(fam.family_id, absence.staff_id, reason))
    staff_now = tuple(
        s.model_copy(update={"status": StaffStatus.absent})
        if s.staff_id in away and s.status is StaffStatus.active
        else s
        for s in scenario.staff
    )
    families = tuple(
        f.model_copy(update={"current_staff_id": returning[f.family_id].staff_id})
        if f.family_id in returning
        else f
        for f in scenario.families
    )
    planning = scenario.rebuilt(staff=staff_now, families=families)
    return _Returns(planning, returning, not_returned, list(ended), list(away), ongoing)


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


def update(
    scenario: Scenario,
    *,
    as_of: date | None = None,
    absences: Collection[AbsenceMove] = (),
    max_moves_per_staff: int | None = None,
    options: PlanOptions | None = None,
    match_tolerance: float | None = 0.0,
    progress: Progress | None = None,
) -> UpdateResult:
    """Bring the plan in force (``current_staff_id``) up to date; see the module docstring.

    Parameters
    ----------
    scenario
        The program now: families.csv from the last plan's next_families.csv, with enrolments,
        withdrawals and re-assessments applied.
    as_of
        The day the update takes effect (default: the scenario's ``as_of``).
    absences
        The absences remembered from earlier plans (absences.csv).
    max_moves_per_staff
        K: at most K of a staff member's families moved away (None: no bound).
    options
        As for :func:`famassign.solve`; moves are always minimised.
    match_tolerance
        Replaces ``weights.balance_match_tolerance`` (0: balance never gives up match; None:
        keep the scenario's).
    progress
        Called as ``progress(stage, done, total)``.

    Returns
    -------
    UpdateResult
        The plan, its moves (new, room, returned, ...), who returned, the absences carried
        forward, and the cost of the bound.

    Raises
    ------
    UpdateError
        When `max_moves_per_staff` is negative.
    ScenarioError
        When the scenario fails its checks on `as_of`.
    """
    check_argument("update", scenario, Scenario)
    if max_moves_per_staff is not None and max_moves_per_staff < 0:
        raise UpdateError(
            f"max moves per staff member must be 0 or more, got {max_moves_per_staff}"
        )
    start = time.monotonic()
    scenario = scenario.on(as_of)
    back = _plan_returns(scenario, absences)
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
    moves = plan_moves(planning, planning, result, {}, None, back.returning)
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
    "next_families",
    "update",
]
