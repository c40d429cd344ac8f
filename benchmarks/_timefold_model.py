"""The Timefold Solver model of a famassign program (imported only by
`benchmarks.timefold_baseline`, after it has checked that timefold and Java are there).

One planning entity per family, its staff member the planning variable (``allows_unassigned``:
a family may stay unplaced), the family's eligible staff its value range (entity-level
``ValueRangeProvider``: language, site, program option, conflicts and pins already applied, as in
famassign's eligible pairs). The score is a ``BendableDecimalScore`` with one hard and five soft
levels, famassign's lexicographic objective level by level:

- hard 0: families above a staff member's limit (the policy cap, or the cap of the exception in
  force for that staff member);
- soft 0: unplaced families; soft 1: their urgency (urgent first); soft 2: exception places
  (families above the policy cap); soft 3: match score (reward);
- soft 4: workload balance, Timefold's ``load_balance`` collector over every active staff member's
  weighted load per FTE (staff with no family included by ``complement``), penalised by its
  unfairness, with a ``BigDecimal``-based score as Timefold's documentation on load balancing and
  fairness recommends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any

from timefold.solver.domain import (
    PlanningEntityCollectionProperty,
    PlanningId,
    PlanningPin,
    PlanningScore,
    PlanningVariable,
    ProblemFactCollectionProperty,
    ValueRangeProvider,
    planning_entity,
    planning_solution,
)
from timefold.solver.score import (
    BendableDecimalScore,
    ConstraintCollectors,
    constraint_provider,
)

HARD_LEVELS = 1
SOFT_LEVELS = 5
LOAD_PER_FTE_SCALE = 100
"""The balanced load is the weighted load (hundredths) x this / FTE (hundredths), an integer."""


@dataclass
class StaffFact:
    """A staff member: `cap` the policy cap, `limit` the most families (exception included),
    `fte` in hundredths."""

    id: Annotated[int, PlanningId]
    cap: int
    limit: int
    fte: int


@planning_entity
@dataclass
class FamilyEntity:
    """A family: its urgency, weighted load (hundredths), eligible staff and their match."""

    id: Annotated[int, PlanningId]
    urgency: int
    load: int
    eligible: Annotated[list[StaffFact], ValueRangeProvider(id="eligible")]
    match: dict[int, int]
    pinned: Annotated[bool, PlanningPin] = field(default=False)
    staff: Annotated[
        StaffFact | None,
        PlanningVariable(value_range_provider_refs=["eligible"], allows_unassigned=True),
    ] = field(default=None)


@planning_solution
@dataclass
class Program:
    """The staff (problem facts), the families (planning entities) and the score."""

    staff: Annotated[list[StaffFact], ProblemFactCollectionProperty]
    families: Annotated[list[FamilyEntity], PlanningEntityCollectionProperty]
    score: Annotated[
        BendableDecimalScore | None,
        PlanningScore(bendable_hard_levels_size=HARD_LEVELS, bendable_soft_levels_size=SOFT_LEVELS),
    ] = field(default=None)


# The constraint factory, its streams and the collectors are typed Any: the streams' generic types
# do not follow the lambdas (mypy checks them only where timefold is installed, which CI's type
# check is not; typed Any, the module is clean in both).
Collectors: Any = ConstraintCollectors


def _hard(level: int) -> Any:
    return BendableDecimalScore.of_hard(HARD_LEVELS, SOFT_LEVELS, level, Decimal(1))


def _soft(level: int) -> Any:
    return BendableDecimalScore.of_soft(HARD_LEVELS, SOFT_LEVELS, level, Decimal(1))


def above_limit(factory: Any) -> Any:
    return (
        factory.for_each(FamilyEntity)
        .group_by(lambda f: f.staff, Collectors.count())
        .filter(lambda s, n: n > s.limit)
        .penalize(_hard(0), lambda s, n: n - s.limit)
        .as_constraint("families above the staff member's limit")
    )


def unplaced(factory: Any) -> Any:
    return (
        factory.for_each_including_unassigned(FamilyEntity)
        .filter(lambda f: f.staff is None)
        .penalize(_soft(0))
        .as_constraint("unplaced family")
    )


def urgency_unplaced(factory: Any) -> Any:
    return (
        factory.for_each_including_unassigned(FamilyEntity)
        .filter(lambda f: f.staff is None)
        .penalize(_soft(1), lambda f: f.urgency)
        .as_constraint("urgency of the unplaced")
    )


def exception_places(factory: Any) -> Any:
    return (
        factory.for_each(FamilyEntity)
        .group_by(lambda f: f.staff, Collectors.count())
        .filter(lambda s, n: n > s.cap)
        .penalize(_soft(2), lambda s, n: n - s.cap)
        .as_constraint("exception places")
    )


def match(factory: Any) -> Any:
    return (
        factory.for_each(FamilyEntity)
        .reward(_soft(3), lambda f: f.match[f.staff.id])
        .as_constraint("match")
    )


def balance(factory: Any) -> Any:
    return (
        factory.for_each(FamilyEntity)
        .group_by(lambda f: f.staff, Collectors.sum(lambda f: f.load))
        .complement(StaffFact, lambda s: 0)
        .group_by(
            Collectors.load_balance(
                lambda s, load: s, lambda s, load: load * LOAD_PER_FTE_SCALE // s.fte
            )
        )
        .penalize_decimal(_soft(4), lambda balanced: balanced.unfairness())
        .as_constraint("workload balance (load per FTE)")
    )


def _constraints(factory: Any) -> list[Any]:
    return [
        above_limit(factory),
        unplaced(factory),
        urgency_unplaced(factory),
        exception_places(factory),
        match(factory),
        balance(factory),
    ]


constraints: Any = constraint_provider(_constraints)
"""The constraint provider (decorated by a call: the decorator is untyped where timefold is not
installed, as in CI's type check)."""
