"""The staffing question: which staff does a program lack to serve every family within 40:1?

:func:`staffing` answers three things:

- the people to hire: the fewest persons (then the least cost), drawn from the candidate profiles
  of :mod:`famassign.scenarios.hiring`, that with the existing staff's spare places place every
  family under the policy caps alone, with **no** exception (an exact MIP, :attr:`people`);
- where the families lack places: the fewest additional full-time staff if each served exactly one
  (language, site, program option) group (exact min-cost flows, :func:`solver.flow.solve_flow`),
  the shortfall a sweep records per sample;
- how many families each exception in force actually carries: its places above the policy cap in
  the best plan, and how many families would be unplaced without it.

Method. Under the policy caps alone some families are unplaced. One virtual staff member per group
with unlimited room, every place on it counted as an "exception place", gives in a single flow the
fewest families that must go to new staff and the groups they belong to (the flow's third priority
minimises those places once the most families are placed). Each group gets
``ceil(families / cap)`` new staff; then, repeatedly, one new staff member is taken away from any
group that can spare one (the flow still places everyone) until none can. The answer is therefore
*minimal*: removing any one of the named staff leaves a family unplaced. ``lower_bound =
ceil(fewest families on new staff / cap)`` proves it the *fewest* when the two are equal.

New staff are full-time (FTE 1), active, with no personal cap: each has the policy cap
(``max_families_per_staff``). Families pinned to a staff member who is full under the caps cannot
be helped by hiring; they are listed in :attr:`StaffingAnswer.not_placeable`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from famassign.models import CapException, ProgramOption, Scenario, Staff, most_allowed
from famassign.models.errors import FamassignError, check_argument
from famassign.scenarios.hiring import (
    Demand,
    GroupKey,
    PeopleAnswer,
    candidate_profiles,
    demand_of,
    fewest_people,
)
from famassign.solver.arrays import IntArray, MatchTerms, ProblemArrays, build_arrays
from famassign.solver.flow import FlowPlan, max_placed, solve_flow
from famassign.solver.solve import Progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StaffNeed:
    """Additional full-time staff for one (language, site, program option) group.

    `unplaced_without_exceptions`: families of the group unplaced under the policy caps alone
    before hiring (0 when hiring here frees a bilingual or multi-site colleague for another group).
    """

    language: str
    site: str
    program_option: ProgramOption
    staff: int
    unplaced_without_exceptions: int


@dataclass(frozen=True)
class ExceptionCarriage:
    """What one exception in force carries in the best plan with every exception in force.

    `places_above_cap`: families above the policy caps of the staff it covers, attributed to it
    (the covering exception with the smallest cap that allows the caseload); `needed_by`: families
    that would be unplaced if only this exception were withdrawn.
    """

    exception_id: str
    kind: str
    staff_id: str | None
    max_families: int
    places_above_cap: int
    needed_by: int | None
    """None when the time limit ended the analysis before this exception was withdrawn."""


@dataclass(frozen=True)
class StaffingAnswer:
    """The staffing analysis of one scenario (see the module docstring for the method)."""

    name: str
    families: int
    cap_per_new_staff: int
    placed_with_exceptions: int
    unplaced_without_exceptions: int
    needs: tuple[StaffNeed, ...]
    lower_bound: int
    not_placeable: tuple[str, ...]
    exceptions: tuple[ExceptionCarriage, ...]
    people: PeopleAnswer
    demand: Demand
    """The unpinned families by group and the existing staff's spare places (what the people
    MIP solved)."""
    minimal: bool = True
    """False when the time limit ended the search for a hire that can be dropped: the staff
    named still place every family, but one of them might be spared."""

    @property
    def total_staff(self) -> int:
        """Number of additional staff named."""
        return sum(n.staff for n in self.needs)

    @property
    def proven_fewest(self) -> bool:
        """True when no smaller number of additional staff could do it."""
        return self.total_staff == self.lower_bound

    @property
    def proof(self) -> str:
        """How far the number of additional staff is known to be the fewest, in words."""
        if self.proven_fewest:
            return "proven fewest"
        if self.minimal:
            return f"no single one can be dropped; lower bound {self.lower_bound}"
        return (
            f"the time limit ended the check that none can be dropped; lower bound "
            f"{self.lower_bound}"
        )

    @property
    def places_everyone(self) -> bool:
        """True when the people to hire place every family with no exception."""
        return not self.not_placeable and not self.people.unplaceable

    def needs_frame(self) -> pd.DataFrame:
        """One row per group that needs staff."""
        return pd.DataFrame(
            [
                {
                    "language": n.language,
                    "site": n.site,
                    "program_option": n.program_option.value,
                    "additional_staff": n.staff,
                    "unplaced_without_exceptions": n.unplaced_without_exceptions,
                }
                for n in self.needs
            ],
            columns=[
                "language",
                "site",
                "program_option",
                "additional_staff",
                "unplaced_without_exceptions",
            ],
        )

    def exceptions_frame(self) -> pd.DataFrame:
        """One row per exception in force."""
        return pd.DataFrame(
            [dataclasses.asdict(e) for e in self.exceptions],
            columns=[f.name for f in dataclasses.fields(ExceptionCarriage)],
        )

    def text(self) -> str:
        """The answer for a person, a few lines."""
        lines = [
            f"Staffing for {self.name}: {self.families} families; "
            f"{self.placed_with_exceptions} placed with the exceptions in force; "
            f"{self.unplaced_without_exceptions} unplaced under the policy caps alone.",
        ]
        people = self.people
        if not people.hires:
            lines.append("No one needs to be hired to place every family without exceptions.")
        else:
            lines.append(
                f"Fewest people to hire to place every family with no exception: {people.people} "
                f"(cost {people.cost:g}; {people.proof}; from {people.profiles} candidate "
                "profiles):"
            )
            lines += people.lines()
        for family in people.unplaceable:
            lines.append(f"  not placeable: {family.family_id}: {family.why}")
        if self.needs:
            lines.append(
                f"Where places lack, as full-time staff of one group each (cap "
                f"{self.cap_per_new_staff}): {self.total_staff} ({self.proof})"
            )
            for n in self.needs:
                lines.append(
                    f"  +{n.staff}  language {n.language}, site {n.site}, "
                    f"{n.program_option.value} ({n.unplaced_without_exceptions} unplaced "
                    "there without exceptions)"
                )
        if self.not_placeable:
            lines.append(
                f"{len(self.not_placeable)} pinned families cannot be placed by hiring: "
                + ", ".join(self.not_placeable[:20])
            )
        if self.exceptions:
            lines.append("Exceptions in force:")
            for e in self.exceptions:
                without = (
                    "not checked (time limit)"
                    if e.needed_by is None
                    else f"{e.needed_by} would be unplaced without it"
                )
                lines.append(
                    f"  {e.exception_id} ({e.kind}, {e.staff_id or 'every staff member'}, up to "
                    f"{e.max_families}): {e.places_above_cap} families above cap; {without}"
                )
        else:
            lines.append("No exception is in force.")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------


def _groups(scenario: Scenario) -> tuple[list[GroupKey], IntArray]:
    keys = [(f.language, f.site, f.program_option) for f in scenario.families]
    index = {k: i for i, k in enumerate(dict.fromkeys(keys))}
    return list(index), np.array([index[k] for k in keys], dtype=np.int64)


def _with_group_staff(arrays: ProblemArrays, group: IntArray, n_groups: int) -> ProblemArrays:
    """`arrays` plus one virtual staff member per group, eligible for its unpinned families."""
    m0 = arrays.n_staff
    fam = np.flatnonzero(~arrays.family_pinned).astype(np.int64)
    pair_f = np.concatenate([arrays.pair_family, fam])
    pair_s = np.concatenate([arrays.pair_staff, m0 + group[fam]])
    order = np.lexsort((pair_s, pair_f))
    zeros = np.zeros(len(fam), dtype=np.int64)
    terms = MatchTerms(
        *(
            np.concatenate([getattr(arrays.terms, f.name), zeros])[order]
            for f in dataclasses.fields(MatchTerms)
        )
    )
    return dataclasses.replace(
        arrays,
        staff_ids=[*arrays.staff_ids, *(f"group-{g}" for g in range(n_groups))],
        staff_active=np.concatenate([arrays.staff_active, np.ones(n_groups, dtype=bool)]),
        staff_fte=np.concatenate([arrays.staff_fte, np.ones(n_groups)]),
        staff_cap=np.concatenate([arrays.staff_cap, np.zeros(n_groups, dtype=np.int64)]),
        staff_limit=np.concatenate([arrays.staff_limit, np.zeros(n_groups, dtype=np.int64)]),
        staff_exception=[*arrays.staff_exception, *([None] * n_groups)],
        pair_family=pair_f[order],
        pair_staff=pair_s[order],
        terms=terms,
    )


def _caps_only(arrays: ProblemArrays) -> IntArray:
    limit: IntArray = np.where(arrays.staff_active, arrays.staff_cap, 0).astype(np.int64)
    return limit


def _exception_carriage(
    scenario: Scenario, arrays: ProblemArrays, full: FlowPlan, clock: _Clock
) -> list[ExceptionCarriage]:
    in_force = sorted(scenario.exceptions_in_force(), key=lambda e: e.exception_id)
    if not in_force:
        return []
    placed = full.staff_of >= 0
    counts = np.bincount(full.staff_of[placed], minlength=arrays.n_staff)
    carried: Counter[str] = Counter()
    for j in np.flatnonzero(counts > arrays.staff_cap):
        exc = scenario.cited_exception(scenario.staff[j], int(counts[j]))
        if exc is not None:
            carried[exc.exception_id] += int(counts[j] - arrays.staff_cap[j])
    answer = []
    for n, exc in enumerate(in_force):
        needed_by: int | None = None
        if not clock.out():
            others = [e for e in in_force if e is not exc]
            needed_by = full.placed - max_placed(arrays, limit=_limit(scenario, arrays, others))
        clock.report("exceptions", n + 1, len(in_force))
        answer.append(
            ExceptionCarriage(
                exception_id=exc.exception_id,
                kind=exc.kind.value,
                staff_id=exc.staff_id,
                max_families=exc.max_families,
                places_above_cap=carried[exc.exception_id],
                needed_by=needed_by,
            )
        )
    return answer


def _limit(scenario: Scenario, arrays: ProblemArrays, exceptions: list[CapException]) -> IntArray:
    """Most families per staff member with only `exceptions` in force."""
    limit = np.array(
        [most_allowed(s, scenario.policy, exceptions) for s in scenario.staff], dtype=np.int64
    )
    result: IntArray = np.where(arrays.staff_active, limit, 0).astype(np.int64)
    return result


class StaffingError(FamassignError, ValueError):
    """An argument of :func:`staffing` is out of range; the message names it."""


class _Clock:
    """The time limit of a staffing analysis and its progress callback."""

    def __init__(self, time_limit: float | None, progress: Progress | None) -> None:
        self.deadline = None if time_limit is None else time.monotonic() + time_limit
        self._progress = progress

    def out(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def report(self, stage: str, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress(stage, done, total)


def new_staff_cap(scenario: Scenario) -> int:
    """The cap of one new staff member: full-time, no personal cap (the policy cap)."""
    return Staff(staff_id="new", languages=("en",), sites=("*",)).cap(scenario.policy)


def _placed_with_hires(arrays: ProblemArrays, augmented: ProblemArrays, room: IntArray) -> int:
    """Families placed under the policy caps alone (no exception) with `room[g]` places of new
    staff for group g (`augmented` is :func:`_with_group_staff` of `arrays`): a maximum flow."""
    return max_placed(augmented, limit=np.concatenate([_caps_only(arrays), room]))


def places_everyone_with(scenario: Scenario, hires: Sequence[Staff]) -> bool:
    """True when `scenario` with `hires` added to its staff and every exception withdrawn places
    every family under the policy caps alone (a maximum flow)."""
    arrays = build_arrays(scenario.rebuilt(staff=(*scenario.staff, *hires), exceptions=()))
    return max_placed(arrays, limit=_caps_only(arrays)) == arrays.n_families


def staffing(
    scenario: Scenario,
    *,
    time_limit: float | None = None,
    progress: Progress | None = None,
    arrays: ProblemArrays | None = None,
) -> StaffingAnswer:
    """The fewest additional staff by (language, site, option) that place every family with no
    exception, and what each exception in force carries. See the module docstring.

    Parameters
    ----------
    scenario
        A checked scenario.
    time_limit
        Seconds for the search for hires that can be dropped and for withdrawing each exception
        (None: no limit). Four exact flows are always solved; when the limit ends the search,
        the staff named still place every family (:attr:`StaffingAnswer.minimal` is False) and
        unchecked exceptions have ``needed_by`` None.
    progress
        Called as ``progress(stage, done, total)``; stages: flows, hires, exceptions.
    arrays
        ``build_arrays(scenario)`` when the caller has it already.

    Returns
    -------
    StaffingAnswer
        The hires by group, the lower bound and what each exception carries.

    Raises
    ------
    StaffingError
        When `time_limit` is negative or not a number.
    ProblemTooLarge
        When the program is beyond the size famassign plans (see :mod:`solver.arrays`).
    """
    check_argument("staffing", scenario, Scenario)
    if time_limit is not None and (
        isinstance(time_limit, bool)
        or not isinstance(time_limit, int | float)
        or not 0 <= time_limit < float("inf")
    ):
        raise StaffingError(f"time_limit must be a number of seconds >= 0, got {time_limit!r}")
    clock = _Clock(time_limit, progress)
    clock.report("flows", 0, 4)
    arrays = build_arrays(scenario) if arrays is None else arrays
    cap_new = new_staff_cap(scenario)
    keys, group = _groups(scenario)
    n_groups, m0 = len(keys), arrays.n_staff
    caps_only = _caps_only(arrays)
    base = solve_flow(arrays, limit=caps_only)
    clock.report("flows", 1, 4)
    unplaced_by_group = Counter(int(group[i]) for i in np.flatnonzero(base.staff_of < 0))

    augmented = _with_group_staff(arrays, group, n_groups)
    sizes = np.bincount(group, minlength=n_groups).astype(np.int64)
    # Unlimited virtual staff whose every place counts as an exception place: the flow places
    # the most families and then puts the fewest of them on new staff.
    relaxed = solve_flow(augmented, limit=np.concatenate([caps_only, sizes]))
    clock.report("flows", 2, 4)
    target = relaxed.placed
    on_new = np.bincount(relaxed.staff_of[relaxed.staff_of >= m0] - m0, minlength=n_groups).astype(
        np.int64
    )
    counts = np.array([math.ceil(int(x) / cap_new) for x in on_new], dtype=np.int64)

    def places_all(trial: IntArray) -> bool:
        return _placed_with_hires(arrays, augmented, trial * cap_new) >= target

    if counts.any() and not places_all(counts):  # pragma: no cover - the flow says it fits
        raise RuntimeError("staffing: the hired staff do not place the families they should")
    full = solve_flow(arrays)
    clock.report("flows", 3, 4)
    changed, minimal = True, True
    while changed and minimal:
        changed = False
        order = sorted(np.flatnonzero(counts), key=lambda g: (-counts[g], keys[g]))
        for n, g in enumerate(order):
            if clock.out():
                minimal = False
                break
            trial = counts.copy()
            trial[g] -= 1
            if places_all(trial):
                counts = trial
                changed = True
            clock.report("hires", n + 1, len(order))
    clock.report("flows", 4, 4)
    demand = demand_of(scenario, arrays, caps_only)
    people = fewest_people(
        scenario.policy,
        [demand],
        candidate_profiles(scenario.hiring, keys),
        time_limit=None if clock.deadline is None else max(clock.deadline - time.monotonic(), 0),
    )
    not_placeable = tuple(arrays.family_ids[i] for i in np.flatnonzero(relaxed.staff_of < 0))
    needs = tuple(
        StaffNeed(
            language=keys[g][0],
            site=keys[g][1],
            program_option=keys[g][2],
            staff=int(counts[g]),
            unplaced_without_exceptions=unplaced_by_group.get(int(g), 0),
        )
        for g in sorted(np.flatnonzero(counts), key=lambda g: (keys[g][1], keys[g][0], keys[g][2]))
    )
    answer = StaffingAnswer(
        name=scenario.name,
        families=arrays.n_families,
        cap_per_new_staff=cap_new,
        placed_with_exceptions=full.placed,
        unplaced_without_exceptions=arrays.n_families - base.placed,
        needs=needs,
        lower_bound=math.ceil(int(on_new.sum()) / cap_new),
        not_placeable=not_placeable,
        exceptions=tuple(_exception_carriage(scenario, arrays, full, clock)),
        people=people,
        demand=demand,
        minimal=minimal,
    )
    log.info(
        "staffing: %d people to hire, %d by group (lower bound %d), %d exceptions analysed",
        people.people,
        answer.total_staff,
        answer.lower_bound,
        len(answer.exceptions),
    )
    return answer


def with_new_staff(
    scenario: Scenario, answer: StaffingAnswer, *, drop: int | None = None
) -> Scenario:
    """`scenario` with the answer's people to hire added and every exception removed (for
    checking); `drop` leaves out the hire at that index."""
    hires = answer.people.staff()
    if drop is not None:
        hires = hires[:drop] + hires[drop + 1 :]
    return scenario.rebuilt(staff=(*scenario.staff, *hires), exceptions=())


__all__ = [
    "ExceptionCarriage",
    "GroupKey",
    "StaffNeed",
    "StaffingAnswer",
    "StaffingError",
    "new_staff_cap",
    "places_everyone_with",
    "staffing",
    "with_new_staff",
]
