"""The one-screen summary that `famassign validate` prints, and the capacity check behind it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from famassign.models.domain import LanguagePolicy, ProgramOption, Staff, StaffStatus
from famassign.models.scenario import Scenario, rule_breaks

_TOP = 8


@dataclass(frozen=True)
class CapacityShortfall:
    """A language x site x program option group with more families than the staff can take.

    `capacity` sums, over the active staff who could serve the group, the larger of their policy
    cap and the cap of any exception in force that covers them. `language` is None when the
    language policy is `preferred` (language is then not a hard rule).
    """

    language: str | None
    site: str
    program_option: ProgramOption
    families: int
    capacity: int
    staff_ids: tuple[str, ...]

    def __str__(self) -> str:
        group = " x ".join(
            part for part in (self.language, self.site, self.program_option.value) if part
        )
        who = ", ".join(self.staff_ids) if self.staff_ids else "no active staff member"
        return (
            f"{group}: {self.families} families, but the staff who could serve them ({who}) "
            f"can take at most {self.capacity}"
        )


def most_allowed(staff: Staff, scenario: Scenario) -> int:
    """The most families `staff` may carry on `as_of` (see :meth:`Scenario.most_allowed`)."""
    return scenario.most_allowed(staff)


def capacity_shortfalls(scenario: Scenario) -> list[CapacityShortfall]:
    """Every group whose families outnumber all the caps of the active staff who could serve it.

    This is a per-group check: staff shared between groups are counted in full for each, so a
    plan may still leave families unplaced when no group is short.
    """
    by_language = scenario.policy.language is LanguagePolicy.required
    groups: Counter[tuple[str | None, str, ProgramOption]] = Counter(
        (f.language if by_language else None, f.site, f.program_option) for f in scenario.families
    )
    active = [s for s in scenario.staff if s.status is StaffStatus.active]
    allowed = {s.staff_id: most_allowed(s, scenario) for s in active}
    short = []
    for (language, site, option), count in sorted(groups.items(), key=lambda g: str(g[0])):
        able = [
            s
            for s in active
            if (language is None or language in s.languages)
            and s.serves_site(site)
            and option in s.program_options
        ]
        capacity = sum(allowed[s.staff_id] for s in able)
        if count > capacity:
            short.append(
                CapacityShortfall(
                    language, site, option, count, capacity, tuple(s.staff_id for s in able)
                )
            )
    return short


CONFIRM_SHARE = 0.05
"""When this share of the families (or more) has no eligible staff member at all, the planner's
page asks the manager to confirm before planning (command lines and API callers are not asked)."""


@dataclass(frozen=True)
class NoEligibleStaff:
    """Families no active staff member may serve at all, and why (the same cause for each)."""

    cause: str
    family_ids: tuple[str, ...]

    def __str__(self) -> str:
        shown = ", ".join(self.family_ids[:_TOP])
        more = len(self.family_ids) - _TOP
        count = len(self.family_ids)
        return (
            f"{count} famil{'y' if count == 1 else 'ies'}: {self.cause} ({shown}"
            + (f", and {more} more" if more > 0 else "")
            + ")"
        )


def _cause(
    language: str | None, site: str, option: ProgramOption, active: list[Staff]
) -> str | None:
    at_site = [s for s in active if s.serves_site(site)]
    if not at_site:
        return f"no active staff member serves site {site}"
    speaking = [s for s in at_site if language is None or language in s.languages]
    serving = [s for s in at_site if option in s.program_options]
    if not speaking:
        return f"no active staff member at site {site} speaks {language}"
    if not serving:
        return f"no active staff member at site {site} serves option {option.value}"
    if not any(s in serving for s in speaking):
        return (
            f"no active staff member at site {site} both speaks {language} and serves "
            f"{option.value}"
        )
    return None


def families_without_staff(scenario: Scenario) -> list[NoEligibleStaff]:
    """Families no active staff member may serve under the rules of language (when required),
    site and option, grouped by cause, the biggest cause first.

    A plan cannot place these families whatever the caps; conflicts and disability-services
    coordination are not counted here.
    """
    by_language = scenario.policy.language is LanguagePolicy.required
    active = [s for s in scenario.staff if s.status is StaffStatus.active]
    causes: dict[str, list[str]] = {}
    known: dict[tuple[str | None, str, ProgramOption], str | None] = {}
    for fam in scenario.families:
        key = (fam.language if by_language else None, fam.site, fam.program_option)
        if key not in known:
            known[key] = _cause(*key, active)
        cause = known[key]
        if cause is not None:
            causes.setdefault(cause, []).append(fam.family_id)
    found = [NoEligibleStaff(c, tuple(ids)) for c, ids in causes.items()]
    return sorted(found, key=lambda n: -len(n.family_ids))


@dataclass(frozen=True)
class Unplaceable:
    """The families with no eligible staff member at all, by cause, and whether planning on the
    page asks the manager to confirm (their share reaches :data:`CONFIRM_SHARE`)."""

    causes: tuple[NoEligibleStaff, ...]
    families: int
    share: float

    @property
    def confirm(self) -> bool:
        """Whether the page asks the manager to confirm before planning."""
        return self.share >= CONFIRM_SHARE


def unplaceable(scenario: Scenario) -> Unplaceable:
    """The families no staff member may serve (:func:`families_without_staff`) and their share."""
    causes = tuple(families_without_staff(scenario))
    count = sum(len(c.family_ids) for c in causes)
    return Unplaceable(causes, count, count / max(len(scenario.families), 1))


def plausibility_lines(scenario: Scenario) -> list[str]:
    """The plausibility check before any plan, as lines: groups with more families than the caps
    of the staff who could serve them, and the families no staff member may serve at all, by
    cause. Empty when neither is found. Warnings: they change no exit code."""
    lines: list[str] = []
    shortfalls = capacity_shortfalls(scenario)
    if shortfalls:
        lines += [f"warning: {len(shortfalls)} group(s) have more families than staff caps:"]
        lines += [f"  {s}" for s in shortfalls[:_TOP]]
        if len(shortfalls) > _TOP:
            lines.append(f"  and {len(shortfalls) - _TOP} more")
    without = unplaceable(scenario)
    if without.causes:
        lines += [
            f"warning: {without.families} of {len(scenario.families)} families "
            f"({without.share:.0%}) have no eligible staff member at all; a plan leaves them "
            "unplaced:"
        ]
        lines += [f"  {n}" for n in without.causes[:_TOP]]
        if len(without.causes) > _TOP:
            lines.append(f"  and {len(without.causes) - _TOP} more causes")
    return lines


def stranded_families(scenario: Scenario) -> list[str]:
    """family_ids whose current staff member may not serve them now: not active, a rule of
    language, site or option (:func:`models.scenario.rule_breaks`), or a listed conflict."""
    stranded = []
    for fam in scenario.families:
        staff = scenario.staff_by_id.get(fam.current_staff_id or "")
        if staff is None:
            continue
        if (
            staff.status is not StaffStatus.active
            or rule_breaks(fam, staff, scenario.policy)
            or scenario.in_conflict(fam.family_id, staff.staff_id)
        ):
            stranded.append(fam.family_id)
    return stranded


def _counts(counter: Counter[str]) -> str:
    items = counter.most_common()
    shown = ", ".join(f"{k} {n}" for k, n in items[:_TOP])
    if len(items) > _TOP:
        shown += f", and {len(items) - _TOP} more"
    return shown or "none"


def summary_text(scenario: Scenario, warnings: int = 0) -> str:
    """A one-screen description of a valid scenario (no family data beyond counts).

    `warnings` is the number of loader warnings already shown, mentioned at the end.
    """
    fams = scenario.families
    policy = scenario.policy
    lines = [
        f"{scenario.name} (as of {scenario.as_of.isoformat()}): valid",
        f"policy: at most {policy.max_families_per_staff} families per staff member"
        + (", prorated by FTE" if policy.prorate_by_fte else "")
        + f"; language {policy.language.value}",
        "",
        f"families: {len(fams)}",
        f"  by language: {_counts(Counter(f.language for f in fams))}",
        f"  by site: {_counts(Counter(f.site for f in fams))}",
        f"  by program option: {_counts(Counter(f.program_option.value for f in fams))}",
        "  by urgency: "
        + ", ".join(f"{u} {sum(f.urgency == u for f in fams)}" for u in range(5, 0, -1)),
        "  by intensity: " + _counts(Counter(f.intensity.value for f in fams)),
        f"  pinned {sum(f.pinned for f in fams)}, with a current staff member "
        f"{sum(f.current_staff_id is not None for f in fams)}",
    ]
    status = Counter(s.status for s in scenario.staff)
    active = [s for s in scenario.staff if s.status is StaffStatus.active]
    under_cap = sum(s.cap(policy) for s in active)
    with_exceptions = sum(most_allowed(s, scenario) for s in active)
    lines += [
        "",
        f"staff: {len(scenario.staff)} (active {status[StaffStatus.active]}, absent "
        f"{status[StaffStatus.absent]}, departed {status[StaffStatus.departed]})",
        f"  capacity of active staff under the cap: {under_cap} families"
        + (
            f" ({with_exceptions} with exceptions in force)" if with_exceptions != under_cap else ""
        ),
    ]
    in_force = scenario.exceptions_in_force()
    lines += [
        "",
        f"exceptions: {len(in_force)} in force, "
        f"{len(scenario.exceptions) - len(in_force)} not in force",
    ]
    for e in in_force[:_TOP]:
        lines.append(
            f"  {e.exception_id}: {e.kind.value} ({e.kind.paragraph}) for "
            f"{e.staff_id or 'every staff member'}, up to {e.max_families}, "
            f"{e.starts.isoformat()} to {e.ends.isoformat()}"
            + (f", ref {e.reference}" if e.reference else "")
        )
    if len(in_force) > _TOP:
        lines.append(f"  and {len(in_force) - _TOP} more")
    lines += [f"  note: {n}" for n in scenario.exception_notes()[:_TOP]]
    plausibility = plausibility_lines(scenario)
    if plausibility:
        lines += ["", *plausibility]
    stranded = stranded_families(scenario)
    if stranded:
        lines += [
            "",
            f"warning: {len(stranded)} families have a current staff member who may no longer "
            "serve them (inactive, language, site, option or a conflict); a plan moves them: "
            + ", ".join(stranded[:_TOP])
            + (f", and {len(stranded) - _TOP} more" if len(stranded) > _TOP else ""),
        ]
    if scenario.conflicts:
        lines += ["", f"conflicts: {len(scenario.conflicts)} family/staff pairs never assigned"]
    if scenario.variants:
        lines.append(f"variants: {len(scenario.variants)}")
    if scenario.uncertainty:
        lines.append(f"uncertainty: {', '.join(scenario.uncertainty)} (famassign sweep)")
    if warnings:
        lines += ["", f"{warnings} warning(s) about ignored columns or keys (see above)"]
    return "\n".join(lines)


__all__ = [
    "CONFIRM_SHARE",
    "CapacityShortfall",
    "NoEligibleStaff",
    "Unplaceable",
    "capacity_shortfalls",
    "families_without_staff",
    "most_allowed",
    "plausibility_lines",
    "stranded_families",
    "summary_text",
    "unplaceable",
]
