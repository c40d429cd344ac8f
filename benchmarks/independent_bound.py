"""A lower bound on the best largest weighted load per FTE, computed from the scenario alone.

It shares no code with famassign's solver (no arrays, no flows, no levels): a check on the bounds
the balance stage prints. A family can only go to an active staff member who speaks its language,
so when every family is placed, the staff speaking a language carry at least the load of its
families. Each staff member's part of that load is a sum of whole families' loads, so a multiple
of their greatest common divisor, and at most the largest such multiple under T x FTE. The bound
is the largest, over the languages (and the program as a whole), of the smallest T at which those
parts can hold the language's load. Sites, program options, conflicts, caps on the number of
families and the match floor are left out, so it is weaker than famassign's where they bind; it
holds only for plans that place every family.
"""

from __future__ import annotations

import math
from collections import defaultdict
from fractions import Fraction

from famassign.models import Scenario, StaffStatus

SCALE = 100
"""Loads in hundredths (whole numbers)."""


def family_loads(scenario: Scenario) -> dict[str, int]:
    """Each family's weighted load in hundredths: its intensity's weight, times the program's
    factor when another agency holds its plan."""
    weights = scenario.policy.intensity_weights
    factor = scenario.weights.external_plan_load_factor
    return {
        f.family_id: round(
            weights.of(f.intensity) * (factor if f.external_plan_agency else 1.0) * SCALE
        )
        for f in scenario.families
    }


def smallest_level(loads: list[int], ftes: list[Fraction]) -> Fraction:
    """The smallest T with sum over staff of the largest multiple of gcd(loads) at most T x FTE
    at least sum(loads): one of the values k x gcd / FTE at which a staff member's part grows."""
    total, step = sum(loads), math.gcd(*loads)
    if total == 0:
        return Fraction(0)

    def holds(level: Fraction) -> bool:
        return sum(math.floor(level * fte / step) * step for fte in ftes) >= total

    # Candidates: for each FTE, the levels k x step / fte from the mean up to where it alone holds.
    mean = Fraction(total, 1) / sum(ftes)
    candidates: set[Fraction] = set()
    for fte in set(ftes):
        first = math.floor(mean * fte / step)
        last = math.ceil((mean + Fraction(step) / min(ftes)) * fte / step) + 1
        candidates.update(Fraction(k * step) / fte for k in range(first, last + 1))
    found = [c for c in sorted(candidates) if c >= mean and holds(c)]
    return found[0] if found else mean


def language_bound(scenario: Scenario) -> float:
    """The bound of the module, in weighted load per FTE (families placed must be all)."""
    loads = family_loads(scenario)
    active = [s for s in scenario.staff if s.status is StaffStatus.active]
    by_language: dict[str, list[int]] = defaultdict(list)
    for family in scenario.families:
        by_language[family.language].append(loads[family.family_id])
    groups = [(list(loads.values()), [Fraction(str(s.fte)) for s in active])]
    for language, group in by_language.items():
        speakers = [Fraction(str(s.fte)) for s in active if language in s.languages]
        if not speakers:
            return math.inf  # a family nobody may serve: no plan places everyone
        groups.append((group, speakers))
    best = max(smallest_level(group, ftes) for group, ftes in groups)
    return float(best) / SCALE
