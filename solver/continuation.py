"""A plan is the next scenario: the families on the plan, the exceptions and absences still
relevant, and the fingerprint of the plan it continues.

Every plan folder (solve, reassign, update, a plan of the page) holds the scenario files of
:func:`next_scenario` beside the plan's own, so the next ``famassign update PLAN`` or
``famassign reassign PLAN`` reads it with nothing copied by hand; a library user calls
:func:`next_scenario` (or ``ReassignResult.next_scenario()``, ``UpdateResult.next_scenario()``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from famassign.models import Family, Scenario, Staff, StaffStatus
from famassign.models.absence import Absence
from famassign.solver.result import Result


def next_families(scenario: Scenario, plan: Mapping[str, str | None]) -> tuple[Family, ...]:
    """The families with ``current_staff_id`` set to `plan` (blank: not placed).

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


def plan_fingerprint(plan: Mapping[str, str | None]) -> str:
    """``sha256:`` and the hex SHA-256 of the plan's assignments: one ``family_id TAB staff_id``
    line per family (blank staff id when unplaced), sorted by family id. The same plan always has
    the same fingerprint, whatever the order of its families."""
    digest = hashlib.sha256()
    for family_id in sorted(plan):
        digest.update(f"{family_id}\t{plan[family_id] or ''}\n".encode())
    return f"sha256:{digest.hexdigest()}"


def away_on_leave(scenario: Scenario) -> Scenario:
    """`scenario` with every active staff member whose absence (absences.csv) runs on `as_of`
    marked absent; itself when there is none."""
    away = {a.staff_id for a in scenario.absences if a.runs_on(scenario.as_of)}
    if not any(s.staff_id in away and s.status is StaffStatus.active for s in scenario.staff):
        return scenario
    return scenario.rebuilt(
        staff=tuple(
            s.model_copy(update={"status": StaffStatus.absent})
            if s.staff_id in away and s.status is StaffStatus.active
            else s
            for s in scenario.staff
        )
    )


def next_scenario(
    scenario: Scenario,
    result: Result,
    *,
    staff: Iterable[Staff] | None = None,
    absences: Iterable[Absence] | None = None,
) -> Scenario:
    """The scenario of the next plan: `scenario` carried forward by `result`.

    Parameters
    ----------
    scenario
        The scenario the plan was made for (with the exceptions a re-plan created).
    result
        The plan.
    staff
        The staff as the next scenario has them (default: `scenario`'s).
    absences
        The absences of the next scenario (default: `scenario`'s). An update passes those not
        yet ended, having brought back the families of the others; every other plan keeps an
        ended absence, so that the next update brings its families back.

    Returns
    -------
    Scenario
        `scenario` on the same `as_of` with ``current_staff_id`` set to the plan (pins kept only
        where the family stays), the exceptions that have not ended by `as_of`, `staff`,
        `absences` (their families still enrolled), and ``continues`` set to
        :func:`plan_fingerprint` of the plan. Name, policy, weights, conflicts, variants and
        uncertainty are kept.
    """
    plan = result.plan()
    enrolled = {f.family_id for f in scenario.families}
    kept = tuple(
        a.model_copy(update={"families": tuple(f for f in a.families if f.family_id in enrolled)})
        for a in (scenario.absences if absences is None else absences)
    )
    return scenario.rebuilt(
        families=next_families(scenario, plan),
        staff=scenario.staff if staff is None else tuple(staff),
        exceptions=tuple(e for e in scenario.exceptions if e.ends >= scenario.as_of),
        absences=kept,
        continues=plan_fingerprint(plan),
    )


__all__ = ["away_on_leave", "next_families", "next_scenario", "plan_fingerprint"]
