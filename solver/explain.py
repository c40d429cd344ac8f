"""Reasons a person can act on: why a family sits where it does, and why one was not placed."""

from __future__ import annotations

from collections import Counter

import numpy as np

from famassign.models import LanguagePolicy, Scenario, Staff, StaffStatus
from famassign.solver.arrays import IntArray, ProblemArrays
from famassign.solver.balance import components
from famassign.solver.flow import solve_flow


def placement_reason(scenario: Scenario, family_index: int, staff: Staff) -> str:
    """Short text: language, site, option, matching strengths, fit terms, continuity."""
    fam = scenario.families[family_index]
    parts = []
    if fam.language in staff.languages:
        parts.append(f"speaks {fam.language}")
    else:
        parts.append(f"does not speak {fam.language} (language preferred)")
    parts.append(f"serves {fam.site} ({fam.program_option.value})")
    strengths = sorted(set(staff.strengths) & (set(fam.needs) | set(fam.interests)))
    if strengths:
        parts.append("strengths: " + ", ".join(s.value for s in strengths))
    if fam.disability_services and staff.disability_services:
        parts.append("coordinates disability services")
    if fam.external_plan_agency and fam.external_plan_agency in staff.agencies:
        parts.append(f"works with {fam.external_plan_agency}")
    if fam.current_staff_id == staff.staff_id:
        parts.append("pinned" if fam.pinned else "continues with current staff")
    return "; ".join(parts)


def _no_candidate_reason(scenario: Scenario, family_index: int) -> str:
    """Which hard rule leaves this family with no eligible staff member at all."""
    fam = scenario.families[family_index]
    active = [s for s in scenario.staff if s.status is StaffStatus.active]
    if scenario.policy.language is LanguagePolicy.required:
        speak = [s for s in active if fam.language in s.languages]
    else:
        speak = active
    at_site = [s for s in speak if s.serves_site(fam.site)]
    lang = f"speaks {fam.language} " if scenario.policy.language is LanguagePolicy.required else ""
    if not at_site:
        return f"no active staff member {lang}at site {fam.site}"
    with_option = [s for s in at_site if fam.program_option in s.program_options]
    if not with_option:
        return (
            f"no active staff member who {lang}at site {fam.site} serves {fam.program_option.value}"
        )
    return "every staff member who could serve this family is listed in conflicts with it"


def _smallest_cap_placing(
    arrays: ProblemArrays, comp_families: IntArray, high: int, prorate: bool
) -> int | None:
    """Smallest relaxed cap K (>40) that, given to every active staff member (prorated by FTE
    when the policy prorates), places all of `comp_families`; None when even `high` does not."""

    def placed_with(k: int) -> int:
        relaxed = np.floor(k * arrays.staff_fte + 1e-9).astype(np.int64) if prorate else k
        limit = np.where(arrays.staff_active, np.maximum(arrays.staff_limit, relaxed), 0)
        plan = solve_flow(arrays, limit=limit)
        return int((plan.staff_of[comp_families] >= 0).sum())

    target = len(comp_families)
    if placed_with(high) < target:
        return None
    lo, hi = 41, high
    while lo < hi:
        mid = (lo + hi) // 2
        if placed_with(mid) >= target:
            hi = mid
        else:
            lo = mid + 1
    return lo


def unplaced_reasons(
    scenario: Scenario, arrays: ProblemArrays, staff_of: IntArray
) -> dict[int, tuple[str, str | None]]:
    """Reason and what would place it, per unplaced family index."""
    unplaced = np.flatnonzero(staff_of < 0)
    if len(unplaced) == 0:
        return {}
    has_pair = np.zeros(arrays.n_families, dtype=bool)
    has_pair[arrays.pair_family] = True
    out: dict[int, tuple[str, str | None]] = {}
    no_candidate = [int(i) for i in unplaced if not has_pair[i]]
    texts = {i: _no_candidate_reason(scenario, i) for i in no_candidate}
    counts = Counter(texts.values())
    for i, text in texts.items():
        out[i] = (f"{text}; {counts[text]} such famil{'y' if counts[text] == 1 else 'ies'}", None)

    full = [int(i) for i in unplaced if has_pair[i]]
    if not full:
        return out
    fam_label, _ = components(arrays)
    high = 2 * (40 + len(full) + int(arrays.staff_limit.max(initial=0)))
    by_comp: dict[int, list[int]] = {}
    for i in full:
        by_comp.setdefault(int(fam_label[i]), []).append(i)
    for label, fams in by_comp.items():
        members = np.flatnonzero(fam_label == label)
        eligible_staff = np.unique(arrays.pair_staff[np.isin(arrays.pair_family, members)])
        ids = [arrays.staff_ids[s] for s in eligible_staff]
        caps = sorted({int(arrays.staff_limit[s]) for s in eligible_staff})
        cap_text = "/".join(str(c) for c in caps)
        named = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        k = _smallest_cap_placing(arrays, members, high, scenario.policy.prorate_by_fte)
        reason = (
            f"all {len(ids)} staff who could serve this family ({named}) are at their cap of "
            f"{cap_text}; {len(fams)} such famil{'y' if len(fams) == 1 else 'ies'}"
        )
        would = (
            f"a waiver (1302.52(d)(2)(i)) or temporary exception (1302.52(d)(2)(ii)) to {k} "
            f"for {named} would place them"
            if k is not None
            else None
        )
        for i in fams:
            out[i] = (reason, would)
    return out
