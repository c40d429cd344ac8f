"""Plan one sample of an uncertain year: the pure, seeded half of ``famassign sweep``.

A sweep's runner (:mod:`famassign.sweep_runner`) only maps these functions over tasks:

- :func:`plan_sample` draws one sampled scenario (:func:`sample_scenario`) from a
  :class:`SampleTask`, plans it (placement and exceptions by the exact flow; workload balance only
  when the task asks) and analyses its staffing (:func:`staffing`): one row of sweep.csv plus
  the per-group shortfall and the exceptions it needed;
- :func:`check_hires` tells, for one sample, which of several teams of hires (people, as Staff
  records) place every family with no exception.

The hires robust over many samples are chosen in :mod:`famassign.scenarios.robust_staffing`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from famassign.models import Scenario, Staff
from famassign.scenarios.hiring import Demand, GroupKey
from famassign.scenarios.staffing import places_everyone_with, staffing
from famassign.scenarios.uncertainty import Uncertainty, sample_scenario
from famassign.solver import SWEEP_TIME_LIMIT, PlanOptions
from famassign.solver import solve as solve_plan
from famassign.solver.arrays import build_arrays
from famassign.solver.components import load_per_fte
from famassign.solver.flow import solve_flow

Team = Sequence[Staff]
"""People to hire, as Staff records."""

SAMPLE_COLUMNS = [
    "sample",
    "seed",
    "families",
    "active_staff",
    "staff_left",
    "placed",
    "unplaced",
    "unplaced_without_exceptions",
    "exception_places",
    "largest_caseload",
    "largest_load_per_fte",
    "all_placed_without_exceptions",
    "additional_staff",
    "additional_staff_lower_bound",
    "not_placeable",
    "exceptions_needed",
    "shortfall",
]
"""Columns of sweep.csv (one row per sample), in order."""


def sample_seed(seed: int, index: int) -> int:
    """The seed of sample `index` of a sweep seeded `seed` (independent streams per sample)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1, dtype=np.uint32)[0])


def validation_seed(seed: int, index: int) -> int:
    """The seed of validation sample `index` of a sweep seeded `seed`: a stream apart from every
    :func:`sample_seed` (the hires are measured on samples they were not chosen on)."""
    return int(np.random.SeedSequence([seed, index, 1]).generate_state(1, dtype=np.uint32)[0])


@dataclass(frozen=True)
class SampleTask:
    """What one task of a sweep carries: the sample's number and seed, and how to plan it."""

    index: int
    seed: int
    balance: bool = False
    time_limit: float = SWEEP_TIME_LIMIT


@dataclass(frozen=True)
class SampleOutcome:
    """One planned sample: its sweep.csv `row`, its families and existing staff's spare places
    (`demand`), the fewest full-time staff of one group each it needs (`needs`), the proven
    lower bound on the people it needs, and the exceptions it needs."""

    row: dict[str, object]
    demand: Demand
    needs: dict[GroupKey, int]
    lower_bound: int
    placeable: bool
    exceptions_needed: tuple[str, ...]


def group_label(key: GroupKey) -> str:
    """``language/site/option`` of a group, as written in sweep.csv."""
    return f"{key[0]}/{key[1]}/{key[2].value}"


def plan_sample(scenario: Scenario, uncertainty: Uncertainty, task: SampleTask) -> SampleOutcome:
    """Draw sample `task.seed` of `scenario`, plan it and analyse its staffing (pure, seeded).

    The plan is the exact flow (placement, urgency, exception places, match: the first stage of
    :func:`famassign.solver.solve`) or, when ``task.balance``, :func:`famassign.solver.solve`
    with one deterministic worker and ``task.time_limit``. Staffing is :func:`staffing` on the
    sample.
    """
    sample = sample_scenario(scenario, uncertainty, task.seed)
    arrays = build_arrays(sample)
    if task.balance:
        options = PlanOptions(
            time_limit=task.time_limit, seed=task.seed % 2**31, workers=1, deterministic=True
        )
        result = solve_plan(sample, options)
        placed, exception_places = result.placed, result.terms.over_cap
        largest = max((c.families for c in result.caseloads), default=0)
        largest_load = result.terms.max_load_per_fte
    else:  # the flow stage of solve, without the explanations a sweep does not write
        flow = solve_flow(arrays)
        counts = np.bincount(flow.staff_of[flow.staff_of >= 0], minlength=arrays.n_staff)
        placed, exception_places = flow.placed, flow.over_cap
        largest = int(counts.max(initial=0))
        largest_load = float(
            load_per_fte(arrays, flow.staff_of)[arrays.staff_active].max(initial=0.0)
        )
    answer = staffing(sample, arrays=arrays)
    needed = tuple(e.exception_id for e in answer.exceptions if (e.needed_by or 0) > 0)
    needs = {(n.language, n.site, n.program_option): n.staff for n in answer.needs}
    active = sum(1 for s in sample.staff if s.status.value == "active")
    row: dict[str, object] = {
        "sample": task.index,
        "seed": task.seed,
        "families": len(sample.families),
        "active_staff": active,
        "staff_left": sum(
            1
            for before, after in zip(scenario.staff, sample.staff, strict=True)
            if before.status != after.status
        ),
        "placed": placed,
        "unplaced": len(sample.families) - placed,
        "unplaced_without_exceptions": answer.unplaced_without_exceptions,
        "exception_places": exception_places,
        "largest_caseload": largest,
        "largest_load_per_fte": round(largest_load, 4),
        "all_placed_without_exceptions": answer.unplaced_without_exceptions == 0,
        "additional_staff": answer.people.people,
        "additional_staff_lower_bound": answer.people.people_bound,
        "not_placeable": len(answer.not_placeable) + len(answer.people.unplaceable),
        "exceptions_needed": ";".join(needed),
        "shortfall": ";".join(f"{group_label(k)}={v}" for k, v in sorted(needs.items())),
    }
    return SampleOutcome(
        row=row,
        demand=answer.demand,
        needs=needs,
        lower_bound=answer.people.people_bound,
        placeable=answer.places_everyone,
        exceptions_needed=needed,
    )


def check_hires(
    scenario: Scenario, uncertainty: Uncertainty, seed: int, teams: Sequence[Team]
) -> list[bool]:
    """For the sample drawn with `seed`: does each team of hires place every family with no
    exception (:func:`~famassign.scenarios.staffing.places_everyone_with`)?"""
    sample = sample_scenario(scenario, uncertainty, seed)
    return [places_everyone_with(sample, team) for team in teams]


__all__ = [
    "SAMPLE_COLUMNS",
    "SampleOutcome",
    "SampleTask",
    "Team",
    "check_hires",
    "group_label",
    "plan_sample",
    "sample_seed",
    "validation_seed",
]
