"""The independent evaluator: every hard rule and objective term, from the assignment alone.

It shares no code with the model (no arrays, no flow, no CP-SAT): plain Python over the Scenario
records, written from scenario-format.md, so that a mistake in the model shows as a disagreement.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from famassign.models import Scenario


@dataclass(frozen=True)
class Evaluation:
    """Hard-rule violations (empty for a valid plan) and every objective term."""

    violations: list[str] = field(default_factory=list)
    placed: int = 0
    urgency_unplaced: int = 0
    over_cap: int = 0
    moves: int = 0
    match: int = 0
    max_load_per_fte: float = 0.0
    caseloads: dict[str, int] = field(default_factory=dict)


def _policy_cap(scenario: Scenario, staff_id: str) -> int:
    st = scenario.staff_by_id[staff_id]
    cap = scenario.policy.max_families_per_staff
    if scenario.policy.prorate_by_fte:
        cap = int(cap * st.fte + 1e-9)
    if st.max_families is not None and st.max_families < cap:
        cap = st.max_families
    return cap


def _exception_limit(scenario: Scenario, staff_id: str, exception_id: str | None) -> int | None:
    """The cap the named exception allows this staff member, or None if it does not apply."""
    st = scenario.staff_by_id[staff_id]
    for exc in scenario.exceptions:
        if exc.exception_id != exception_id:
            continue
        if not (exc.starts <= scenario.as_of <= exc.ends):
            return None
        if exc.staff_id not in (None, staff_id):
            return None
        limit = exc.max_families
        return int(limit * st.fte + 1e-9) if scenario.policy.prorate_by_fte else limit
    return None


def _match(scenario: Scenario, family_id: str, staff_id: str) -> int:
    fam = scenario.family_by_id[family_id]
    st = scenario.staff_by_id[staff_id]
    w = scenario.weights
    strengths = set(st.strengths)
    score = fam.urgency * (
        w.need * len(set(fam.needs) & strengths) + w.interest * len(set(fam.interests) & strengths)
    )
    if fam.disability_services and st.disability_services:
        score += w.disability
    if fam.external_plan_agency and fam.external_plan_agency in st.agencies:
        score += w.agency
    if fam.current_staff_id == staff_id:
        score += w.continuity
    if fam.language in st.languages:
        score += w.language
    return score


def evaluate(
    scenario: Scenario,
    plan: dict[str, str | None],
    exception_of: dict[str, str | None] | None = None,
) -> Evaluation:
    """Check `plan` (family_id -> staff_id or None) against every hard rule and score it.

    `exception_of` maps staff_id to the exception_id the plan cites for that caseload; a caseload
    above its policy cap without a citation of an exception in force that covers it is a violation.
    """
    violations: list[str] = []
    exception_of = exception_of or {}
    conflicts = {(c.family_id, c.staff_id) for c in scenario.conflicts}
    required = scenario.policy.language.value == "required"
    caseload: Counter[str] = Counter()
    load: Counter[str] = Counter()
    iw = scenario.policy.intensity_weights
    placed = urgency_unplaced = moves = match = 0
    for fam in scenario.families:
        if fam.family_id not in plan:
            violations.append(f"{fam.family_id}: missing from the plan")
            continue
        staff_id = plan[fam.family_id]
        current = scenario.staff_by_id.get(fam.current_staff_id or "")
        current_active = current is not None and current.status.value == "active"
        if staff_id is None:
            urgency_unplaced += fam.urgency
            moves += 1 if current_active else 0  # taken from an active staff member, unplaced
            if fam.pinned and current_active:
                violations.append(f"{fam.family_id}: pinned but not placed")
            continue
        st = scenario.staff_by_id.get(staff_id)
        if st is None:
            violations.append(f"{fam.family_id}: unknown staff {staff_id}")
            continue
        placed += 1
        caseload[staff_id] += 1
        weight = getattr(iw, fam.intensity.value)
        if fam.external_plan_agency:
            weight *= scenario.weights.external_plan_load_factor
        load[staff_id] += weight
        match += _match(scenario, fam.family_id, staff_id)
        if current_active and fam.current_staff_id != staff_id:
            moves += 1
        if st.status.value != "active":
            violations.append(f"{fam.family_id}: assigned to {st.status.value} staff {staff_id}")
        if required and fam.language not in st.languages:
            violations.append(f"{fam.family_id}: {staff_id} does not speak the family's language")
        if "*" not in st.sites and fam.site not in st.sites:
            violations.append(f"{fam.family_id}: {staff_id} does not serve the family's site")
        if fam.program_option not in st.program_options:
            violations.append(f"{fam.family_id}: {staff_id} does not serve the program option")
        if (fam.family_id, staff_id) in conflicts:
            violations.append(f"{fam.family_id}: conflict with {staff_id}")
        if fam.pinned and current_active and staff_id != fam.current_staff_id:
            violations.append(f"{fam.family_id}: pinned to {fam.current_staff_id}, moved")
    over_cap = 0
    for staff_id, count in caseload.items():
        cap = _policy_cap(scenario, staff_id)
        if count <= cap:
            continue
        over_cap += count - cap
        limit = _exception_limit(scenario, staff_id, exception_of.get(staff_id))
        if limit is None:
            violations.append(f"{staff_id}: {count} families above cap {cap} with no exception")
        elif count > limit:
            violations.append(f"{staff_id}: {count} families above the exception's cap {limit}")
    max_load = max(
        (load[s] / scenario.staff_by_id[s].fte for s in load),
        default=0.0,
    )
    return Evaluation(
        violations=violations,
        placed=placed,
        urgency_unplaced=urgency_unplaced,
        over_cap=over_cap,
        moves=moves,
        match=match,
        max_load_per_fte=max_load,
        caseloads=dict(caseload),
    )
