"""The plan checked against 1302.52(d): caps, exceptions and ratios, the facts every report prints.

compliance.md and report.html are both built from :class:`PlanFacts`, so the two never disagree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from famassign.models.domain import CapException, StaffStatus
from famassign.models.scenario import Scenario
from famassign.solver.result import Result, Unplaced


@dataclass(frozen=True)
class OverCap:
    """A caseload above its policy cap and the exception that allows it (or why none does)."""

    staff_id: str
    families: int
    cap: int
    exception_id: str | None
    exception: CapException | None
    limit: int | None
    problem: str | None


@dataclass(frozen=True)
class ExceptionStatus:
    """One exception of the scenario on the planning date: used, unused, or not in force."""

    exception: CapException
    state: Literal["used", "in force, unused", "expired", "not yet in force"]
    used_by: tuple[str, ...]


@dataclass(frozen=True)
class PlanFacts:
    """The plan checked against 1302.52(d): the numbers both reports print."""

    name: str
    as_of: date
    status: str
    families: int
    placed: int
    unplaced: tuple[Unplaced, ...]
    active_staff: int
    active_fte: float
    inactive_staff: tuple[tuple[str, str, int], ...]
    policy_cap: int
    prorate_by_fte: bool
    over_cap: tuple[OverCap, ...]
    exceptions: tuple[ExceptionStatus, ...]
    problems: tuple[str, ...]
    notes: tuple[str, ...]
    exception_limits: dict[str, int] = field(default_factory=dict)
    status_text: str = ""
    staff_names: dict[str, str] = field(default_factory=dict)

    def staff_label(self, staff_id: str) -> str:
        """The staff id with the person's name beside it when staff.csv gives one."""
        name = self.staff_names.get(staff_id)
        return f"{staff_id} ({name})" if name else staff_id

    @property
    def ratio_per_staff(self) -> float | None:
        """Families placed per active staff member (None without active staff)."""
        return self.placed / self.active_staff if self.active_staff else None

    @property
    def ratio_per_fte(self) -> float | None:
        """Families placed per full-time equivalent of active staff."""
        return self.placed / self.active_fte if self.active_fte > 0 else None

    @property
    def compliant(self) -> bool:
        """True when no caseload breaks 1302.52(d)(2) and no other finding was made."""
        return not self.problems


def plan_facts(result: Result, scenario: Scenario) -> PlanFacts:
    """Check `result` against the caps and exceptions of `scenario` and gather the numbers.

    A caseload above its cap must name an exception that exists, is in force on `as_of`, covers
    the staff member, and allows that many families; anything else is a finding in `problems`.
    """
    staff_by_id = scenario.staff_by_id
    exc_by_id = {e.exception_id: e for e in scenario.exceptions}
    policy = scenario.policy
    problems: list[str] = []

    over: list[OverCap] = []
    used_by: dict[str, list[str]] = defaultdict(list)
    for load in result.caseloads:
        if load.exception_id:
            used_by[load.exception_id].append(load.staff_id)
        if load.families <= load.cap:
            continue
        exc = exc_by_id.get(load.exception_id) if load.exception_id else None
        staff = staff_by_id.get(load.staff_id)
        limit = exc.cap_for(staff, policy) if exc and staff else (exc.max_families if exc else None)
        problem = None
        if load.exception_id is None:
            problem = "above the cap and names no exception"
        elif exc is None:
            problem = f"names exception {load.exception_id}, which the scenario does not hold"
        elif not exc.in_force(scenario.as_of):
            problem = f"exception {exc.exception_id} is not in force on {scenario.as_of}"
        elif not exc.covers(load.staff_id):
            problem = f"exception {exc.exception_id} covers {exc.staff_id}, not {load.staff_id}"
        elif limit is not None and load.families > limit:
            problem = f"{load.families} families is above the exception's limit of {limit}"
        if problem:
            problems.append(
                f"caseload of {load.staff_id} ({load.families}, cap {load.cap}): {problem}"
            )
        over.append(
            OverCap(load.staff_id, load.families, load.cap, load.exception_id, exc, limit, problem)
        )
    over.sort(key=lambda o: (-o.families + o.cap, o.staff_id))

    for exc_id in result.exceptions_used:
        if exc_id not in exc_by_id:
            problems.append(f"the plan uses exception {exc_id}, which the scenario does not hold")
    used_ids = set(result.exceptions_used) | set(used_by)
    statuses: list[ExceptionStatus] = []
    for exc in scenario.exceptions:
        state: Literal["used", "in force, unused", "expired", "not yet in force"]
        if exc.ends < scenario.as_of:
            state = "expired"
        elif exc.starts > scenario.as_of:
            state = "not yet in force"
        elif exc.exception_id in used_ids:
            state = "used"
        else:
            state = "in force, unused"
        statuses.append(
            ExceptionStatus(exc, state, tuple(sorted(used_by.get(exc.exception_id, []))))
        )

    loads = {c.staff_id: c.families for c in result.caseloads}
    active = [s for s in scenario.staff if s.status is StaffStatus.active]
    inactive = tuple(
        (s.staff_id, s.status.value, loads.get(s.staff_id, 0))
        for s in scenario.staff
        if s.status is not StaffStatus.active
    )
    for staff_id, status, count in inactive:
        if count:
            problems.append(f"{staff_id} is {status} but carries {count} families")

    limits: dict[str, int] = {}
    for s in scenario.staff:
        widest = scenario.widest_exception(s)
        if widest is not None:
            limits[s.staff_id] = widest.cap_for(s, policy)

    placed = sum(1 for a in result.assignments if a.staff_id is not None)
    return PlanFacts(
        name=scenario.name,
        as_of=scenario.as_of,
        status=str(result.status.value),
        families=len(result.assignments),
        placed=placed,
        unplaced=result.unplaced,
        active_staff=len(active),
        active_fte=float(sum(s.fte for s in active)),
        inactive_staff=inactive,
        policy_cap=policy.max_families_per_staff,
        prorate_by_fte=policy.prorate_by_fte,
        over_cap=tuple(over),
        exceptions=tuple(statuses),
        problems=tuple(problems),
        notes=result.notes,
        exception_limits=limits,
        status_text=result.status_text(),
        staff_names={s.staff_id: s.name for s in scenario.staff if s.name},
    )


def exception_row(exc: CapException) -> list[object]:
    return [
        exc.exception_id,
        exc.kind.value,
        exc.kind.paragraph,
        exc.staff_id or "all staff",
        exc.max_families,
        exc.reference or "",
        exc.starts.isoformat(),
        exc.ends.isoformat(),
    ]


OVER_CAP_COLUMNS = [
    "staff_id",
    "name",
    "families",
    "cap",
    "exception_id",
    "kind",
    "paragraph",
    "reference",
    "starts",
    "ends",
    "max_families",
    "limit",
    "finding",
]

EXCEPTION_COLUMNS = [
    "exception_id",
    "kind",
    "paragraph",
    "staff",
    "max_families",
    "reference",
    "starts",
    "ends",
]


def over_cap_row(over: OverCap, facts: PlanFacts) -> list[object]:
    """One row of the caseloads-above-cap table (:data:`OVER_CAP_COLUMNS`)."""
    exc = over.exception
    return [
        over.staff_id,
        facts.staff_names.get(over.staff_id, ""),
        over.families,
        over.cap,
        over.exception_id or "",
        exc.kind.value if exc else "",
        exc.kind.paragraph if exc else "",
        (exc.reference or "") if exc else "",
        exc.starts.isoformat() if exc else "",
        exc.ends.isoformat() if exc else "",
        exc.max_families if exc else "",
        "" if over.limit is None else over.limit,
        f"NOT ALLOWED: {over.problem}" if over.problem else "allowed",
    ]


def load_per_fte(result: Result, scenario: Scenario) -> list[float]:
    """Weighted load divided by FTE for every active staff member."""
    staff_by_id = scenario.staff_by_id
    values = []
    for load in result.caseloads:
        staff = staff_by_id.get(load.staff_id)
        if staff is None or staff.status is not StaffStatus.active:
            continue
        values.append(staff.load_per_fte(load.weighted_load))
    return values


__all__ = [
    "EXCEPTION_COLUMNS",
    "OVER_CAP_COLUMNS",
    "ExceptionStatus",
    "OverCap",
    "PlanFacts",
    "exception_row",
    "load_per_fte",
    "over_cap_row",
    "plan_facts",
]
