"""`recommend(scenario, family) -> Recommendation`: the best staff for one family, with reasons.

For one family of the scenario (by id) or a new family given as a :class:`models.Family` record,
every staff member is either a **candidate** who can take the family now under every hard rule,
or **excluded** with every rule that excludes them ("absent", "does not speak ar", "does not serve
site North", "does not serve option home_based", "in conflict", "family is pinned to S1", "at cap
40/40").

Caseloads are the current ones (each family's ``current_staff_id``, counting only active staff
and leaving the family itself out). A candidate's ``score`` is the solver's match score of the
pair, term by term (:class:`models.Weights`): language, site (a hard rule, 0 points), needs and
interests matched by strengths (each times the family's urgency), disability, agency, continuity.

Candidates are ranked as :func:`solver.solve` would choose for a family placed alone: first those
who take it within their policy cap (an exception place ranks last, as the solver minimises
exception places), then by score (highest first), then by weighted load per FTE after the move
(lowest first, as balancing does), then by staff order in the scenario.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from famassign.models import Family, Scenario, Staff, StaffStatus, rule_breaks
from famassign.models.errors import FamassignError, check_argument
from famassign.solver.arrays import LOAD_SCALE, family_load, match_terms

log = logging.getLogger(__name__)

TERM_NAMES = ("language", "site", "needs", "interests", "disability", "agency", "continuity")
"""The score terms of a candidate, in display order; they sum to the score."""


class RecommendError(FamassignError, ValueError):
    """The family to recommend for is unknown or invalid; the message says which."""


@dataclass(frozen=True)
class Candidate:
    """A staff member who can take the family now, with the score by term and the load after.

    `families_after` / `cap`: caseload after the move and the policy cap; `limit` the most
    allowed (an exception in force may lift it above `cap`); `exception_id` names that exception
    when `families_after > cap`. `load_per_fte_after`: intensity-weighted load per FTE after it.
    """

    rank: int
    staff_id: str
    score: int
    terms: dict[str, int]
    urgency: int
    families_after: int
    cap: int
    limit: int
    exception_id: str | None
    weighted_load_after: float
    load_per_fte_after: float

    @property
    def above_cap(self) -> bool:
        """True when taking the family puts this caseload above the policy cap."""
        return self.families_after > self.cap


@dataclass(frozen=True)
class Exclusion:
    """A staff member who cannot take the family now, and every rule that excludes them."""

    staff_id: str
    rules: tuple[str, ...]

    @property
    def rule(self) -> str:
        """The rules as one text."""
        return "; ".join(self.rules)


@dataclass(frozen=True)
class Recommendation:
    """The `top` best candidates, the other eligible staff (ranked), and every exclusion."""

    family_id: str
    new_family: bool
    candidates: tuple[Candidate, ...]
    also_eligible: tuple[str, ...]
    excluded: tuple[Exclusion, ...]

    @property
    def best(self) -> Candidate | None:
        """The top candidate, or None when nobody can take the family now."""
        return self.candidates[0] if self.candidates else None


def _alone(scenario: Scenario, family: Family) -> Scenario:
    """`scenario` reduced to `family` for the arrays' score and load terms (not re-checked: only
    the family, the staff, the policy and the weights are read)."""
    return Scenario.model_construct(
        name=scenario.name,
        as_of=scenario.as_of,
        policy=scenario.policy,
        weights=scenario.weights,
        families=(family,),
        staff=scenario.staff,
        exceptions=(),
        conflicts=(),
        variants=(),
    )


def _terms_by_staff(scenario: Scenario, family: Family) -> list[dict[str, int]]:
    """The solver's match terms of `family` with every staff member (in staff order), from
    :func:`solver.arrays.match_terms`, plus ``site`` (a hard rule, 0 points)."""
    m = len(scenario.staff)
    index = {s.staff_id: j for j, s in enumerate(scenario.staff)}
    current = np.array([index.get(family.current_staff_id or "", -1)], dtype=np.int64)
    terms = match_terms(
        _alone(scenario, family),
        np.zeros(m, dtype=np.int64),
        np.arange(m, dtype=np.int64),
        current,
    )
    out = []
    for j in range(m):
        by_name = terms.of_pair(j)
        out.append({name: by_name.get(name, 0) for name in TERM_NAMES})
    return out


def exclusion_rules(
    scenario: Scenario, family: Family, staff: Staff, families_now: int
) -> tuple[str, ...]:
    """Every hard rule that keeps `staff` from taking `family` now (empty: eligible)."""
    rules: list[str] = []
    if staff.status is not StaffStatus.active:
        rules.append(staff.status.value)
    rules.extend(rule_breaks(family, staff, scenario.policy))
    if scenario.in_conflict(family.family_id, staff.staff_id):
        rules.append("in conflict")
    pin = scenario.staff_by_id.get(family.current_staff_id or "")
    if (
        family.pinned
        and pin is not None
        and pin.status is StaffStatus.active
        and pin.staff_id != staff.staff_id
    ):
        rules.append(f"family is pinned to {pin.staff_id}")
    if staff.status is StaffStatus.active:
        limit = scenario.most_allowed(staff)
        if families_now >= limit:
            widest = scenario.widest_exception(staff)
            above = widest is not None and limit > staff.cap(scenario.policy)
            under = f" under exception {widest.exception_id}" if above and widest else ""
            rules.append(f"at cap {families_now}/{limit}{under}")
    return tuple(rules)


def recommend(scenario: Scenario, family: str | Family, *, top: int = 5) -> Recommendation:
    """The `top` best staff members who can take `family` now, and why each other one cannot.

    `family` is a family_id of the scenario or a Family record (a new family, or a changed copy
    of one in the scenario). Raises :class:`RecommendError` for an unknown family_id or `top` < 1.
    """
    check_argument("recommend", scenario, Scenario, "scenario")
    check_argument("recommend", family, (str, Family), "family")
    if top < 1:
        raise RecommendError(f"top must be at least 1, got {top}")
    if isinstance(family, str):
        record = scenario.family_by_id.get(family.strip())
        if record is None:
            raise RecommendError(
                f"unknown family_id {family!r}; it must be a family_id in families"
            )
        fam, new = record, False
    else:
        fam, new = family, family.family_id not in scenario.family_by_id
    counts: dict[str, int] = {}
    loads: dict[str, float] = {}
    others_load = family_load(scenario) / LOAD_SCALE
    for other, weight_of_other in zip(scenario.families, others_load, strict=True):
        sid = other.current_staff_id
        if other.family_id == fam.family_id or sid is None:
            continue
        counts[sid] = counts.get(sid, 0) + 1
        loads[sid] = loads.get(sid, 0.0) + float(weight_of_other)
    weight = float(family_load(_alone(scenario, fam))[0]) / LOAD_SCALE
    all_terms = _terms_by_staff(scenario, fam)

    ranked: list[tuple[tuple[int, int, float, int], Candidate]] = []
    excluded: list[Exclusion] = []
    for order, staff in enumerate(scenario.staff):
        now = counts.get(staff.staff_id, 0)
        rules = exclusion_rules(scenario, fam, staff, now)
        if rules:
            excluded.append(Exclusion(staff.staff_id, rules))
            continue
        terms = all_terms[order]
        cap = staff.cap(scenario.policy)
        limit = scenario.most_allowed(staff)
        after = now + 1
        load_after = loads.get(staff.staff_id, 0.0) + weight
        per_fte_after = staff.load_per_fte(load_after)
        cand = Candidate(
            rank=0,
            staff_id=staff.staff_id,
            score=sum(terms.values()),
            terms=terms,
            urgency=fam.urgency,
            families_after=after,
            cap=cap,
            limit=limit,
            exception_id=getattr(scenario.cited_exception(staff, after), "exception_id", None),
            weighted_load_after=round(load_after, 4),
            load_per_fte_after=round(per_fte_after, 4),
        )
        ranked.append(((int(after > cap), -cand.score, per_fte_after, order), cand))
    ranked.sort(key=lambda item: item[0])
    best = tuple(
        Candidate(**{**cand.__dict__, "rank": i + 1}) for i, (_, cand) in enumerate(ranked[:top])
    )
    log.debug("recommend %s: %d eligible, %d excluded", fam.family_id, len(ranked), len(excluded))
    return Recommendation(
        family_id=fam.family_id,
        new_family=new,
        candidates=best,
        also_eligible=tuple(c.staff_id for _, c in ranked[top:]),
        excluded=tuple(excluded),
    )


__all__ = [
    "TERM_NAMES",
    "Candidate",
    "Exclusion",
    "RecommendError",
    "Recommendation",
    "exclusion_rules",
    "recommend",
]
