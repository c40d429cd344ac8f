"""`solve(scenario) -> Result`: the library entry point for a complete plan."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from famassign.models import Scenario
from famassign.models.errors import check_argument
from famassign.solver.arrays import LOAD_SCALE, IntArray, ProblemArrays, build_arrays
from famassign.solver.balance import SolverSettings, balance, load_per_fte
from famassign.solver.explain import move_cause, placement_reason, unplaced_reasons
from famassign.solver.flow import solve_flow
from famassign.solver.load_bound import BoundKind
from famassign.solver.options import PlanOptions
from famassign.solver.result import (
    Assignment,
    Caseload,
    ObjectiveTerms,
    Result,
    SolveStatus,
    Unplaced,
)

log = logging.getLogger(__name__)

ASSEMBLY_SECONDS_PER_FAMILY = 40e-6
"""Seconds per family kept back from the balance stage for assembling the result (reasons and
explanations), so that the plan ends within its time limit.

Calibration: the assembly took 15-25 microseconds of CPU per family on the ``large`` preset
(10,000 families; the 2-core AMD EPYC development machine, load 1-5.5, timed with
``time.process_time`` around it); the constant leaves room for a slower or busier machine."""

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)`` while solving; stages: model, flow, balance."""


def package_version() -> str:
    """The installed famassign version."""
    try:
        return version("famassign")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


def solve(
    scenario: Scenario, options: PlanOptions | None = None, *, progress: Progress | None = None
) -> Result:
    """The best plan the rule allows for `scenario`.

    Placement (most families, most urgent first), exception places and match are optimal (an
    exact min-cost flow); workload balance (load levels with HiGHS, CP-SAT) then minimises the
    largest weighted load per FTE within the time limit, giving up at most
    ``weights.balance_match_tolerance`` of the program's best match in all (not per group of
    staff: one may give up more than another). The status is ``optimal`` only when no plan as
    good on placement and exception places, with the match that high, has a smaller largest load.

    Parameters
    ----------
    scenario
        A checked scenario (see :func:`famassign.read_scenario`).
    options
        Time limit, seed, workers, determinism and stop signal; defaults to ``PlanOptions()``.
    progress
        Called as ``progress(stage, done, total)``; stages: model, flow, balance.

    Returns
    -------
    Result
        The plan: assignments, caseloads, unplaced families with reasons, objective terms.

    Raises
    ------
    OptionsError
        When an option is out of range (raised by :class:`PlanOptions`).
    ArgumentTypeError
        When `scenario` is not a Scenario.
    """
    check_argument("solve", scenario, Scenario)
    options = options or PlanOptions()
    start = time.monotonic()
    report = progress or (lambda stage, done, total: None)
    report("model", 0, 1)
    arrays = build_arrays(scenario)
    log.info(
        "model built: %d families, %d staff, %d eligible pairs in %.2fs",
        arrays.n_families,
        arrays.n_staff,
        len(arrays.pair_family),
        time.monotonic() - start,
    )
    report("flow", 0, 1)
    flow = solve_flow(arrays, minimize_moves=options.minimize_moves)
    report("flow", 1, 1)
    log.info("flow optimal: placed %d, match %d", flow.placed, flow.match)
    if flow.placed < arrays.n_families:
        # Known before any search: the flow's placement is exact.
        log.warning(
            "%d of %d families cannot be placed under the hard rules and caps; "
            "the outputs say why and what would place them",
            arrays.n_families - flow.placed,
            arrays.n_families,
        )
    staff_of = flow.staff_of
    per_fte = _load_per_fte(arrays, staff_of)
    # Without the balance stage only the FTE-weighted mean load is known as a bound.
    mean = _mean_load_per_fte(arrays, flow.placed)
    max_load, max_load_bound, proven = per_fte, mean, per_fte <= mean + 1e-9
    bound_kind = str(BoundKind.fte_mean)
    # Deterministic mode budgets deterministic time, so it must not depend on the clock:
    # the whole limit goes to balance (otherwise a slower model build under machine load
    # would shorten the budget and change the plan).
    elapsed = 0.0 if options.deterministic else time.monotonic() - start
    # Keep time for assembling the result (reasons, explanations) inside the limit.
    elapsed += 0.0 if options.deterministic else ASSEMBLY_SECONDS_PER_FAMILY * arrays.n_families
    remaining = max(options.time_limit - elapsed, 0.0)
    if options.balance and options.time_limit > 0:
        settings = SolverSettings(
            time_limit=remaining,
            seed=options.seed,
            workers=options.workers or os.cpu_count() or 1,
            deterministic=options.deterministic,
            relative_gap=scenario.weights.balance_gap,
            stop=options.stop,
        )
        balanced = balance(
            arrays,
            flow,
            settings,
            tolerance=scenario.weights.balance_match_tolerance,
            minimize_moves=options.minimize_moves,
            progress=lambda done, total: report("balance", done, total),
        )
        staff_of = balanced.staff_of
        max_load, max_load_bound, proven = (
            balanced.max_load_per_fte,
            max(balanced.max_load_bound, mean),  # both are bounds; the larger is the better
            balanced.proven or balanced.max_load_per_fte <= mean + 1e-9,
        )
        bound_kind = str(
            balanced.bound_kind if balanced.max_load_bound >= mean else BoundKind.fte_mean
        )
    result = _result(scenario, arrays, staff_of, options, flow.match, max_load, max_load_bound)
    runtime = time.monotonic() - start
    log.info("plan ready in %.2fs: %s", runtime, "optimal" if proven else "feasible")
    return result.model_copy(
        update={
            "status": SolveStatus.optimal if proven else SolveStatus.feasible,
            "runtime_s": round(runtime, 3),
            "max_load_bound_kind": bound_kind,
        }
    )


def plan_result(
    scenario: Scenario,
    arrays: ProblemArrays,
    staff_of: IntArray,
    options: PlanOptions,
    match_bound: int,
    *,
    proven: bool,
    runtime_s: float,
    notes: tuple[str, ...] = (),
) -> Result:
    """The Result of a plan made outside :func:`solve` (no balance stage), e.g. under a bound.

    Parameters
    ----------
    scenario, arrays
        The scenario and its arrays (``build_arrays(scenario)``).
    staff_of
        Staff index per family, -1 when unplaced.
    options
        The options it was planned with (the seed is recorded).
    match_bound
        The best match known possible at the plan's higher levels.
    proven, runtime_s
        Whether every stage was proven optimal, and the time taken.
    notes
        Added to the result's notes.

    Returns
    -------
    Result
        As :func:`solve` returns it.
    """
    per_fte = _load_per_fte(arrays, staff_of)
    result = _result(scenario, arrays, staff_of, options, match_bound, per_fte, per_fte)
    return result.model_copy(
        update={
            "status": SolveStatus.optimal if proven else SolveStatus.feasible,
            "runtime_s": round(runtime_s, 3),
            "notes": (*result.notes, *notes),
        }
    )


def _mean_load_per_fte(arrays: ProblemArrays, placed: int) -> float:
    """A bound on the largest weighted load per FTE of any plan placing `placed` families: the
    `placed` lightest families' load spread over the active FTE."""
    fte = float(arrays.staff_fte[arrays.staff_active].sum())
    if fte <= 0 or placed <= 0:
        return 0.0
    lightest = np.sort(arrays.family_load)[:placed].sum()
    return float(lightest) / LOAD_SCALE / fte


def _load_per_fte(arrays: ProblemArrays, staff_of: IntArray) -> float:
    """The largest weighted load per FTE of an active staff member."""
    return float(load_per_fte(arrays, staff_of)[arrays.staff_active].max(initial=0.0))


def _cited_exceptions(
    scenario: Scenario, counts: IntArray, arrays: ProblemArrays
) -> list[str | None]:
    """Per staff member above cap: the in-force exception with the smallest cap that allows it."""
    cited: list[str | None] = [None] * arrays.n_staff
    for s in np.flatnonzero(counts > arrays.staff_cap):
        exc = scenario.cited_exception(scenario.staff[s], int(counts[s]))
        cited[s] = exc.exception_id if exc else None
    return cited


def _result(
    scenario: Scenario,
    arrays: ProblemArrays,
    staff_of: IntArray,
    options: PlanOptions,
    match_bound: int,
    max_load: float,
    max_load_bound: float,
) -> Result:
    """Assemble the Result (assignments, caseloads, unplaced reasons, terms) from a plan."""
    n, m = arrays.n_families, arrays.n_staff
    placed = staff_of >= 0
    counts = np.bincount(staff_of[placed], minlength=m)
    load = np.bincount(staff_of[placed], weights=arrays.family_load[placed], minlength=m)
    cited = _cited_exceptions(scenario, counts, arrays)
    # Score of each family's pair: pairs are sorted by family, then staff.
    pair_key = arrays.pair_family * m + arrays.pair_staff
    fam_idx = np.flatnonzero(placed)
    pos = np.searchsorted(pair_key, fam_idx * m + staff_of[placed])
    score = np.zeros(n, dtype=np.int64)
    score[fam_idx] = arrays.pair_match[pos]
    reasons = unplaced_reasons(scenario, arrays, staff_of)
    assignments = []
    for i, fam in enumerate(scenario.families):
        s = int(staff_of[i])
        staff = scenario.staff[s] if s >= 0 else None
        text = placement_reason(scenario, i, staff) if staff else reasons[i][0]
        previous = scenario.staff_by_id.get(fam.current_staff_id or "")
        if previous is not None and (staff is None or staff.staff_id != previous.staff_id):
            cause = move_cause(scenario, fam, previous, minimize_moves=options.minimize_moves)
            text = f"{text}; left {previous.staff_id}: {cause}"
        # Built from checked data with exact types: no validation per row.
        assignments.append(
            Assignment.model_construct(
                family_id=fam.family_id,
                staff_id=staff.staff_id if staff else None,
                previous_staff_id=fam.current_staff_id,
                changed=(staff.staff_id if staff else None) != fam.current_staff_id,
                exception_id=cited[s] if s >= 0 else None,
                score=int(score[i]),
                reasons=text,
            )
        )
    caseloads = tuple(
        Caseload.model_construct(
            staff_id=st.staff_id,
            families=int(counts[j]),
            weighted_load=round(float(load[j]) / LOAD_SCALE, 2),
            cap=int(arrays.staff_cap[j]),
            exception_id=cited[j],
        )
        for j, st in enumerate(scenario.staff)
    )
    unplaced = tuple(
        Unplaced.model_construct(family_id=arrays.family_ids[i], reason=text, would_place=would)
        for i, (text, would) in sorted(reasons.items())
    )
    notes = [
        f"pin of {fid} released: its staff member is not active" for fid in arrays.released_pins
    ]
    notes += scenario.exception_notes()
    match = int(score.sum())
    terms = ObjectiveTerms(
        placed=int(placed.sum()),
        urgency_unplaced=int(arrays.family_urgency[~placed].sum()),
        over_cap=int(np.maximum(counts - arrays.staff_cap, 0).sum()),
        moves=arrays.moves_of(staff_of),
        match=match,
        max_load_per_fte=round(max_load, 4),
    )
    return Result(
        status=SolveStatus.feasible,
        objective=match,
        bound=max(match_bound, match),
        terms=terms,
        max_load_bound=round(max_load_bound, 4),
        assignments=tuple(assignments),
        caseloads=caseloads,
        unplaced=unplaced,
        exceptions_used=tuple(sorted({c for c in cited if c})),
        notes=tuple(notes),
        runtime_s=0.0,
        seed=options.seed,
        version=package_version(),
    )
