"""Reasons a person can act on: why a family sits where it does, why one moved, why one was not
placed and what would place it.

Every explanation of an unplaced family is computed from the rules that apply to that family
alone: the staff who could serve it (language, site, program option, conflicts, status: its
eligible pairs), each one's caseload against that person's own most allowed, and then the
smallest change that would place it:

- an exception for those staff, with the smallest ``max_families`` whose cap, prorated by FTE as
  the cap rule prorates (:func:`models.domain.prorate`), gives them room for every family of the
  same situation. It is sufficient (those families fit in the new room with the rest of the plan
  unchanged) and the smallest such exception for those staff: each extra place places at most
  one family;
- ``policy.language: preferred`` (work through an interpreter) when nobody who serves the family's
  site and option speaks its language;
- hiring staff who could serve it (``famassign staffing`` names the fewest).

No min-cost flow is solved here: the text costs time linear in the unplaced families' pairs.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from famassign.models import (
    EXCEPTION_CAP_LIMIT,
    POLICY_CAP_LIMIT,
    Family,
    LanguagePolicy,
    Scenario,
    Staff,
    StaffStatus,
    rule_breaks,
)
from famassign.solver.arrays import IntArray, ProblemArrays


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


STAFFING_HINT = "see `famassign staffing`"
"""Where the explanations send a planner for the fewest hires."""

NAMED = 5
"""Staff named in one explanation before "and N more"."""


def _named(ids: list[str]) -> str:
    shown = ", ".join(ids[:NAMED])
    return shown + (f" and {len(ids) - NAMED} more" if len(ids) > NAMED else "")


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def move_cause(scenario: Scenario, family: Family, previous: Staff, *, minimize_moves: bool) -> str:
    """Why `family` no longer sits with `previous`, its current staff member.

    Departed or absent, no longer serving the family's language, site or option, a conflict
    listed with the family; otherwise (the staff member could still serve it) to place another
    family or use fewer exception places when moves are minimised, else for a better match or
    workload balance (continuity is then a weighed preference).
    """
    if previous.status is not StaffStatus.active:
        return f"{previous.staff_id} is {previous.status.value}"
    breaks = rule_breaks(family, previous, scenario.policy)
    if breaks:
        return f"{previous.staff_id} {'; '.join(breaks)}"
    if any(
        c.family_id == family.family_id and c.staff_id == previous.staff_id
        for c in scenario.conflicts
    ):
        return f"{previous.staff_id} is listed in conflicts with this family"
    if minimize_moves:
        return (
            f"{previous.staff_id} is still active; moved to make room: every plan that keeps it "
            "there places fewer families or needs more exception places"
        )
    return (
        f"{previous.staff_id} is still active; moved for a better match or a more even "
        "workload (continuity is weighed, not required)"
    )


@dataclass(frozen=True)
class _Situation:
    """Unplaced families that share their eligible staff (their situation under the rules)."""

    staff: IntArray
    families: list[int]


def _hire_text(scenario: Scenario, families: list[int]) -> str:
    """Hiring full-time staff for these families: one group (language, site, option) each."""
    cap_new = max(scenario.policy.max_families_per_staff, 1)
    groups = Counter(
        (f.language, f.site, f.program_option.value)
        for f in (scenario.families[i] for i in families)
    )
    hires = sum(math.ceil(n / cap_new) for n in groups.values())
    who = _plural(hires, "a staff member", f"{hires} staff members")
    if len(groups) == 1:
        language, site, option = next(iter(groups))
        speaks = (
            f"speaks {language}, " if scenario.policy.language is LanguagePolicy.required else ""
        )
        return f"hiring {who} who {speaks}serves {site} for {option} ({STAFFING_HINT})"
    return f"hiring {who}, each for one language, site and option ({STAFFING_HINT})"


def _exception_size(
    arrays: ProblemArrays, staff: IntArray, counts: IntArray, needed: int, prorate: bool
) -> tuple[int, IntArray] | None:
    """Smallest max_families K (above 40, at most the largest allowed) whose cap, given to
    `staff`, adds room for `needed` families; with each one's new most allowed. None: no K."""
    fte = arrays.staff_fte[staff]
    most = np.maximum(arrays.staff_limit[staff], counts[staff])

    def allowed(k: int) -> IntArray:
        relaxed = np.floor(k * fte + 1e-9).astype(np.int64) if prorate else np.full_like(most, k)
        result: IntArray = np.maximum(relaxed, most)
        return result

    def room(k: int) -> int:
        return int((allowed(k) - most).sum())

    lo, hi = POLICY_CAP_LIMIT + 1, EXCEPTION_CAP_LIMIT
    if room(hi) < needed:
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if room(mid) >= needed:
            hi = mid
        else:
            lo = mid + 1
    return lo, allowed(lo)


def _full_staff_text(
    scenario: Scenario, arrays: ProblemArrays, situation: _Situation, counts: IntArray
) -> tuple[str, str]:
    """Reason and what would place the families of a situation whose staff are all full."""
    staff, n = situation.staff, len(situation.families)
    loads = [
        f"{arrays.staff_ids[s]} {int(counts[s])}/{int(arrays.staff_limit[s])}"
        + (f" at {arrays.staff_fte[s]:g} FTE" if arrays.staff_fte[s] < 1 else "")
        for s in staff
    ]
    who = _plural(len(staff), "the one staff member", f"all {len(staff)} staff")
    reason = (
        f"{who} who could serve this family {_plural(len(staff), 'is', 'are')} at their cap "
        f"(families/most allowed): {_named(loads)}"
    )
    if n > 1:
        reason += f"; {n} unplaced families have the same staff"
    them = _plural(n, "it", "them")
    options = []
    size = _exception_size(arrays, staff, counts, n, scenario.policy.prorate_by_fte)
    if size is not None:
        k, allowed = size
        gains = [
            (arrays.staff_ids[s], int(a))
            for s, a in zip(staff, allowed, strict=True)
            if a > max(arrays.staff_limit[s], counts[s])
        ]
        prorated = scenario.policy.prorate_by_fte and any(arrays.staff_fte[s] < 1 for s in staff)
        options.append(
            f"a waiver (1302.52(d)(2)(i)) or temporary exception (1302.52(d)(2)(ii)) with "
            f"max_families {k} for {_named([g[0] for g in gains])} would place {them} ("
            + ", ".join(f"{sid} to {a}" for sid, a in gains[:NAMED])
            + (", prorated by FTE" if prorated else "")
            + ")"
        )
    options.append(_hire_text(scenario, situation.families) + f" would place {them}")
    return reason, "; or ".join(options)


def _no_staff_text(
    scenario: Scenario, arrays: ProblemArrays, families: list[int], counts: IntArray
) -> tuple[str, str]:
    """Reason and options for families (of one language, site and option) nobody may serve."""
    fam = scenario.families[families[0]]
    n = len(families)
    them = _plural(n, "it", "them")
    required = scenario.policy.language is LanguagePolicy.required
    active = [(j, s) for j, s in enumerate(scenario.staff) if s.status is StaffStatus.active]
    at_site = [(j, s) for j, s in active if s.serves_site(fam.site)]
    serving = [(j, s) for j, s in at_site if fam.program_option in s.program_options]
    speaking = [(j, s) for j, s in serving if not required or fam.language in s.languages]
    option = fam.program_option.value
    suffix = f"; {n} such families" if n > 1 else ""
    hire = _hire_text(scenario, families) + f" would place {them}"
    if speaking:
        reason = (
            f"the {len(speaking)} active staff who serve {fam.site} for {option}"
            + (f" in {fam.language}" if required else "")
            + " are all listed in conflicts with this family"
        )
        return reason + suffix, hire
    if not at_site:
        return f"no active staff member serves site {fam.site}{suffix}", hire
    if not serving:
        return f"no active staff member at site {fam.site} serves {option}{suffix}", hire
    # Staff serve the site and option, but none of them speaks the family's language.
    room = sum(1 for j, _ in serving if counts[j] < arrays.staff_limit[j])
    reason = (
        f"no active staff member who serves {fam.site} for {option} speaks {fam.language} "
        f"({len(serving)} serve it in other languages){suffix}"
    )
    preferred = (
        f"policy.language: preferred (serve through an interpreter) would make the "
        f"{len(serving)} staff who serve {fam.site} for {option} eligible"
        + (
            f", {room} of them with room"
            if room
            else ", though all are full (an exception would then be needed too)"
        )
    )
    return reason, f"{preferred}; or {hire}"


def unplaced_reasons(
    scenario: Scenario, arrays: ProblemArrays, staff_of: IntArray
) -> dict[int, tuple[str, str | None]]:
    """Reason and what would place it, per unplaced family index (see the module docstring)."""
    unplaced = np.flatnonzero(staff_of < 0)
    if len(unplaced) == 0:
        return {}
    placed = staff_of >= 0
    counts = np.bincount(staff_of[placed], minlength=arrays.n_staff).astype(np.int64)
    starts = np.searchsorted(arrays.pair_family, unplaced, side="left")
    ends = np.searchsorted(arrays.pair_family, unplaced, side="right")
    situations: dict[tuple[int, ...], _Situation] = {}
    nobody: dict[tuple[str, str, str], list[int]] = {}
    for i, a, b in zip(unplaced.tolist(), starts.tolist(), ends.tolist(), strict=True):
        if a == b:
            f = scenario.families[i]
            nobody.setdefault((f.language, f.site, f.program_option.value), []).append(i)
            continue
        key = tuple(arrays.pair_staff[a:b].tolist())
        if key not in situations:
            situations[key] = _Situation(arrays.pair_staff[a:b].copy(), [])
        situations[key].families.append(i)
    out: dict[int, tuple[str, str | None]] = {}
    for situation in situations.values():
        text = _full_staff_text(scenario, arrays, situation, counts)
        out.update((i, text) for i in situation.families)
    for families in nobody.values():
        text = _no_staff_text(scenario, arrays, families, counts)
        out.update((i, text) for i in families)
    return out
