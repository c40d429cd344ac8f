"""Adjusting a plan from the page: moves checked by the evaluator, versions, what-ifs, diffs.

A plan version is planned from the scenario *following* the plan before it (every family's
current staff member is the one the plan gave it), so that re-planning moves as few families as
possible. Every check of a move is the independent evaluator's
(:func:`famassign.solver.evaluate`); every new plan is a job of the server's process pool
(:meth:`famassign.server.service.Service.start_plan`: a solve, or a reassign when someone
leaves), and every what-if from the variant kinds of docs/variants.md
(:func:`famassign.scenarios.variants.apply_variant`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from famassign.models import CapException, Scenario, ScenarioError
from famassign.models.errors import FamassignError
from famassign.models.problems import Problem
from famassign.scenarios.variants import apply_variant, parse_variants
from famassign.server.job_options import PlanRequest, PlanVersion
from famassign.server.planner import PlanRecord
from famassign.solver import evaluate

RULES: tuple[tuple[str, str], ...] = (
    ("does not speak", "language: the staff member speaks the family's language"),
    ("does not serve the family's site", "site: the staff member serves the family's site"),
    ("does not serve the program option", "program option: the staff member serves it"),
    ("conflict with", "conflict: a pair in conflicts.csv is never assigned"),
    ("pinned to", "pin: a pinned family stays with its current staff member"),
    ("assigned to absent", "status: absent staff carry no families"),
    ("assigned to departed", "status: departed staff carry no families"),
    ("with no exception", "cap: 1302.52(d)(2), at most the cap without an exception in force"),
    ("above the exception's cap", "cap: above what the exception in force allows"),
    ("unknown staff", "staff: the staff member is not in staff.csv"),
)
"""Evaluator message fragment -> the hard rule it names, as the page shows it."""


class AdjustmentError(FamassignError, ValueError):
    """A request the page refuses; the message says why and what would fix it."""


def rule_of(violation: str) -> str:
    """The hard rule an evaluator violation breaks, in words a planner reads."""
    for fragment, rule in RULES:
        if fragment in violation:
            return rule
    return "hard rule"


def following(scenario: Scenario, result: Any) -> Scenario:
    """`scenario` with every family's current staff member set to where `result` placed it.

    A pin stays only where the plan kept the family with its pinned staff member.

    Parameters
    ----------
    scenario
        The scenario the plan was made for.
    result
        The plan (a :class:`famassign.Result`).

    Returns
    -------
    Scenario
        The re-checked scenario from which the next version moves the fewest families.
    """
    plan = result.plan()
    families = []
    for fam in scenario.families:
        staff_id = plan.get(fam.family_id)
        update: dict[str, Any] = {"current_staff_id": staff_id}
        if fam.pinned and staff_id != fam.current_staff_id:
            update["pinned"] = False
        if staff_id is None:
            update["pinned"] = False
        families.append(fam.model_copy(update=update))
    return scenario.rebuilt(families=tuple(families))


@dataclass(frozen=True)
class MoveCheck:
    """The evaluator's verdict on moving one family: the rules broken, the exception cited."""

    family_id: str
    staff_id: str
    broken: tuple[tuple[str, str], ...]
    exception_id: str | None

    @property
    def allowed(self) -> bool:
        """True when the move breaks no hard rule."""
        return not self.broken


def _covering_exception(scenario: Scenario, staff_id: str, families: int) -> CapException | None:
    """The in-force exception covering `staff_id` with the smallest limit that allows `families`."""
    staff = scenario.staff_by_id[staff_id]
    able = [
        e
        for e in scenario.exceptions_in_force()
        if e.covers(staff_id) and e.cap_for(staff, scenario.policy) >= families
    ]
    return min(able, key=lambda e: e.cap_for(staff, scenario.policy), default=None)


def check_move(record: PlanRecord, family_id: str, staff_id: str) -> MoveCheck:
    """Check moving `family_id` to `staff_id` in the plan of `record` with the evaluator.

    A caseload that goes above its cap cites the exception in force that allows it, if any.
    Only the violations the move adds, about that family or that staff member, count.

    Parameters
    ----------
    record
        The plan version and its scenario.
    family_id, staff_id
        The family and the staff member it would move to.

    Returns
    -------
    MoveCheck
        The rules broken (each with the evaluator's words) and the exception cited.

    Raises
    ------
    AdjustmentError
        For a family or staff member the plan does not hold.
    """
    scenario, result = record.scenario, record.result
    if family_id not in scenario.family_by_id:
        raise AdjustmentError(f"family {family_id!r} is not in this plan")
    if staff_id not in scenario.staff_by_id:
        raise AdjustmentError(f"staff member {staff_id!r} is not in this plan")
    plan = result.plan()
    plan[family_id] = staff_id
    exception_of = result.exception_of()
    count = sum(1 for s in plan.values() if s == staff_id)
    staff = scenario.staff_by_id[staff_id]
    cited: str | None = exception_of.get(staff_id)
    if count > staff.cap(scenario.policy):
        exc = _covering_exception(scenario, staff_id, count)
        cited = exc.exception_id if exc else None
        exception_of[staff_id] = cited
    # a moved family's own pin is the planner's to override: it is re-pinned to the target
    family = scenario.family_by_id[family_id]
    checked = scenario
    if family.pinned:
        families = tuple(
            f.model_copy(update={"pinned": False}) if f.family_id == family_id else f
            for f in scenario.families
        )
        checked = scenario.rebuilt(families=families)
    before = set(evaluate(checked, result.plan(), result.exception_of()).violations)
    after = evaluate(checked, plan, exception_of).violations
    broken = tuple(
        (rule_of(v), v)
        for v in after
        if v not in before and (v.startswith(f"{family_id}:") or v.startswith(f"{staff_id}:"))
    )
    return MoveCheck(family_id, staff_id, broken, cited)


def _moved(scenario: Scenario, family_id: str, staff_id: str, pinned: bool) -> Scenario:
    families = tuple(
        f.model_copy(update={"current_staff_id": staff_id, "pinned": pinned})
        if f.family_id == family_id
        else f
        for f in scenario.families
    )
    return scenario.rebuilt(families=families)


@dataclass(frozen=True)
class Replan:
    """A plan the page asks the server for: the scenario to plan (recorded as derived from the
    plan), the request (options; departed/absent for a reassign) and how it relates to the plan
    it came from."""

    scenario: Scenario
    request: PlanRequest
    version: PlanVersion


def _request(options: PlanRequest, **changes: Any) -> PlanRequest:
    return options.model_copy(update=changes)


def move_replan(record: PlanRecord, check: MoveCheck, *, pin: bool, options: PlanRequest) -> Replan:
    """Re-plan `record` with the family moved (and pinned when `pin`), fewest other moves.

    The family is pinned to its new staff member for the solve, which puts the fewest other
    moves first; it stays pinned in the new version only when `pin`.

    Parameters
    ----------
    record
        The plan version to adjust.
    check
        The evaluator's verdict from :func:`check_move`.
    pin
        Keep the family there in later versions.
    options
        Time limit and seed of the re-plan.

    Returns
    -------
    Replan
        What to plan.

    Raises
    ------
    AdjustmentError
        When `check` broke a hard rule.
    """
    if not check.allowed:
        raise AdjustmentError("; ".join(v for _, v in check.broken))
    base = following(record.scenario, record.result)
    kept = _moved(base, check.family_id, check.staff_id, pin)
    verb = "pinned" if pin else "moved"
    version = PlanVersion(
        f"{check.family_id} {verb} to {check.staff_id}",
        parent_plan_id=record.id,
        minimize_moves=True,
        pin_for_solve=(check.family_id,),
    )
    return Replan(kept, options, version)


def leave_replan(
    record: PlanRecord,
    staff_id: str,
    *,
    status: str,
    until: date | None,
    temporary_cap: int | None,
    options: PlanRequest,
) -> Replan:
    """Re-plan with fewest moves after `staff_id` departs or goes absent (a reassign).

    Parameters
    ----------
    record
        The plan version to adjust.
    staff_id
        The staff member leaving.
    status
        ``departed`` or ``absent``.
    until, temporary_cap
        As for :func:`famassign.reassign` (end of absence; a temporary exception's cap).
    options
        Time limit and seed of the re-plan.

    Returns
    -------
    Replan
        What to plan (the service checks the request as for the API).

    Raises
    ------
    AdjustmentError
        For a status other than departed or absent.
    """
    if status not in ("departed", "absent"):
        raise AdjustmentError("status must be departed or absent")
    base = following(record.scenario, record.result)
    request = _request(options, **{status: [staff_id]}, until=until, temporary_cap=temporary_cap)
    label = f"{staff_id} {status}" + (f" until {until.isoformat()}" if until else "")
    return Replan(base, request, PlanVersion(label, parent_plan_id=record.id))


def cap_replan(
    record: PlanRecord, staff_id: str, max_families: int, options: PlanRequest
) -> Replan:
    """Re-plan `record` with a personal cap (``max_families``) for `staff_id`, as the staff
    member stated in a workload check-in (45 CFR 1302.52(d)(3)), moving the fewest families.

    Raises
    ------
    AdjustmentError
        When `staff_id` is not a staff member of the plan.
    famassign.models.ScenarioError
        When the scenario with that cap is not valid.
    """
    base = following(record.scenario, record.result)
    if staff_id not in {s.staff_id for s in base.staff}:
        raise AdjustmentError(f"{staff_id} is not a staff member of plan {record.id}")
    staff = tuple(
        s.model_copy(update={"max_families": max_families}) if s.staff_id == staff_id else s
        for s in base.staff
    )
    version = PlanVersion(
        f"{staff_id} personal cap {max_families} (workload check-in)",
        parent_plan_id=record.id,
        minimize_moves=True,
    )
    return Replan(base.rebuilt(staff=staff), options, version)


def variant_scenario(scenario: Scenario, name: str, change: Mapping[str, Any]) -> Scenario:
    """`scenario` with one change of docs/variants.md applied.

    Parameters
    ----------
    scenario
        The scenario to change.
    name
        The variant's name (shown in problems).
    change
        ``{kind: {field: value}}``, one change kind of docs/variants.md.

    Returns
    -------
    Scenario
        The changed, re-checked scenario.

    Raises
    ------
    ScenarioError
        Every problem, located at the change's fields.
    """
    variants, problems = parse_variants([{"name": name, "changes": [dict(change)]}])
    if problems:
        raise ScenarioError(problems)
    return apply_variant(scenario, variants[0], index=0)


def with_weights(scenario: Scenario, weights: Mapping[str, Any]) -> Scenario:
    """`scenario` with objective weights changed (checked as the ``set_weights`` what-if).

    Parameters
    ----------
    scenario
        The scenario.
    weights
        Weight key -> new value (text or number).

    Returns
    -------
    Scenario
        The scenario with those weights, name and variants kept.

    Raises
    ------
    ScenarioError
        Naming each weight that is not valid.
    """
    changed = variant_scenario(scenario, "weights", {"set_weights": dict(weights)})
    return changed.rebuilt(name=scenario.name, variants=scenario.variants)


def exception_replan(record: PlanRecord, fields: Mapping[str, Any], options: PlanRequest) -> Replan:
    """Re-plan with fewest moves under one more cap exception (checked as the
    ``add_exception`` what-if). Raises ScenarioError naming each field that is not valid."""
    base = following(record.scenario, record.result)
    scenario = variant_scenario(base, "exception", {"add_exception": dict(fields)})
    scenario = scenario.rebuilt(name=record.scenario.name, variants=record.scenario.variants)
    label = f"exception {fields.get('exception_id')} added"
    version = PlanVersion(label, parent_plan_id=record.id, minimize_moves=True)
    return Replan(scenario, options, version)


def whatif_replan(
    record: PlanRecord, name: str, change: Mapping[str, Any], options: PlanRequest
) -> Replan:
    """A what-if variant of the plan's scenario, planned from the same starting point.
    Raises ScenarioError naming each field of the change that is not valid."""
    base = following(record.scenario, record.result)
    scenario = variant_scenario(base, name, change)
    version = PlanVersion(f"what if: {name}", parent_plan_id=record.id, whatif=True)
    return Replan(scenario, options, version)


@dataclass(frozen=True)
class PlanDiff:
    """What changed between two plans: families moved and caseloads changed."""

    moved: tuple[tuple[str, str | None, str | None], ...]
    caseloads: tuple[tuple[str, int, int], ...]


def plan_diff(before: Any, after: Any) -> PlanDiff:
    """What changed from `before` to `after`.

    Parameters
    ----------
    before, after
        Two plans (:class:`famassign.Result`).

    Returns
    -------
    PlanDiff
        Families whose staff member differs (from, to), staff whose caseload count differs.
    """
    old, new = before.plan(), after.plan()
    moved = tuple((fid, old.get(fid), staff) for fid, staff in new.items() if old.get(fid) != staff)
    old_counts = {c.staff_id: c.families for c in before.caseloads}
    new_counts = {c.staff_id: c.families for c in after.caseloads}
    changed = tuple(
        (sid, old_counts.get(sid, 0), new_counts.get(sid, 0))
        for sid in sorted(set(old_counts) | set(new_counts))
        if old_counts.get(sid, 0) != new_counts.get(sid, 0)
    )
    return PlanDiff(moved, changed)


def problems_text(exc: ScenarioError) -> list[str]:
    """Every problem of a ScenarioError as a line ``FILE:ROW:COLUMN: message`` or its text."""
    lines = []
    for p in exc.problems:
        if isinstance(p, Problem):
            row = f" row {p.row + 2}" if p.row is not None else ""
            column = f" {p.column}" if p.column else ""
            lines.append(f"{p.table}{row}{column}: {p.message}")
        else:
            lines.append(str(p))
    return lines


__all__ = [
    "RULES",
    "AdjustmentError",
    "MoveCheck",
    "PlanDiff",
    "Replan",
    "cap_replan",
    "check_move",
    "exception_replan",
    "following",
    "leave_replan",
    "move_replan",
    "plan_diff",
    "problems_text",
    "rule_of",
    "variant_scenario",
    "whatif_replan",
    "with_weights",
]
