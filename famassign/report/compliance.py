"""compliance.md: the plan against 1302.52(d), for a monitoring reviewer (identifiers only)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from famassign.models.scenario import Scenario
from famassign.report.facts import (
    EXCEPTION_COLUMNS,
    OVER_CAP_COLUMNS,
    ExceptionStatus,
    exception_row,
    over_cap_row,
    plan_facts,
)
from famassign.report.sections import Section, section_markdown
from famassign.report.text import fmt_number, md_cell, md_table
from famassign.solver.result import Result


def compliance_markdown(
    result: Result, scenario: Scenario, *, sections: Sequence[Section] = ()
) -> str:
    """compliance.md: the plan against 1302.52(d), for a monitoring reviewer.

    Program-wide ratio (per active staff member and per FTE), the policy cap and proration,
    every caseload above its cap with the exception that allows it (kind, paragraph, reference,
    dates, limit), exceptions in force but unused, exceptions not in force, unplaced families
    with the reason, notes (pins released), and `sections` appended. Identifiers only.
    """
    facts = plan_facts(result, scenario)
    lines: list[str] = [
        f"# Caseloads under 45 CFR 1302.52(d): {md_cell(facts.name)}",
        "",
        f"Planning date (as of): {facts.as_of.isoformat()}. Plan: {md_cell(facts.status_text)}. "
        f"Written by famassign {md_cell(result.version)}.",
        "",
        "## Finding",
        "",
    ]
    if facts.compliant:
        lines.append(
            "Every caseload is within its policy cap, or above it only under an exception in "
            "force that covers the staff member and allows that many families "
            "(1302.52(d)(2)(i) or (ii))."
        )
    else:
        lines.append(f"**{len(facts.problems)} finding(s) against 1302.52(d)(2):**")
        lines.append("")
        lines.extend(f"- {md_cell(p)}" for p in facts.problems)

    cap_rule = f"{facts.policy_cap} families per staff member (1302.52(d)(2): no more than 40)"
    prorate = (
        f"prorated by FTE: cap = floor({facts.policy_cap} × FTE), and lower where a staff "
        "member has a personal max_families"
        if facts.prorate_by_fte
        else "not prorated by FTE; lower where a staff member has a personal max_families"
    )
    lines += [
        "",
        "## Program-wide ratio",
        "",
        f"- Families: {facts.families:,}; placed: {facts.placed:,}; "
        f"unplaced: {len(facts.unplaced):,}.",
        f"- Active staff carrying caseloads: {facts.active_staff:,} "
        f"({fmt_number(facts.active_fte)} FTE).",
        f"- Families placed per active staff member: {fmt_number(facts.ratio_per_staff)}; "
        f"per FTE: {fmt_number(facts.ratio_per_fte)}.",
        f"- Policy cap: {cap_rule}, {prorate}.",
        f"- Caseloads above their cap: {len(facts.over_cap):,}.",
    ]
    if facts.inactive_staff:
        lines.append(
            "- Staff carrying no caseload (absent or departed): "
            + ", ".join(
                f"{md_cell(facts.staff_label(s))}: {status}"
                for s, status, _ in facts.inactive_staff
            )
            + "."
        )

    lines += ["", "## Caseloads above the policy cap", ""]
    if facts.over_cap:
        rows = [over_cap_row(o, facts) for o in facts.over_cap]
        lines.append(md_table(OVER_CAP_COLUMNS, rows))
        lines.append("")
        lines.append(
            "cap: the policy cap for that staff member; max_families: the exception's relaxed cap; "
            "limit: what it allows that staff member"
            + (" (max_families prorated by FTE)." if facts.prorate_by_fte else ".")
        )
    else:
        lines.append("None: every caseload is within its policy cap.")

    by_state: dict[str, list[ExceptionStatus]] = defaultdict(list)
    for st in facts.exceptions:
        by_state[st.state].append(st)
    lines += ["", "## Exceptions used by this plan", ""]
    used = by_state["used"]
    if used:
        lines.append(
            md_table(
                [*EXCEPTION_COLUMNS, "caseloads using it"],
                [
                    [*exception_row(s.exception), ", ".join(map(facts.staff_label, s.used_by))]
                    for s in used
                ],
            )
        )
    else:
        lines.append("None.")
    lines += ["", "## Exceptions in force but not used", ""]
    unused = by_state["in force, unused"]
    lines.append(
        md_table(EXCEPTION_COLUMNS, [exception_row(s.exception) for s in unused])
        if unused
        else "None."
    )
    lines += ["", "## Exceptions not in force on the planning date (reported, ignored)", ""]
    stale = by_state["expired"] + by_state["not yet in force"]
    lines.append(
        md_table(
            [*EXCEPTION_COLUMNS, "state"],
            [[*exception_row(s.exception), s.state] for s in stale],
        )
        if stale
        else "None."
    )

    lines += ["", "## Unplaced families", ""]
    if facts.unplaced:
        lines.append(
            md_table(
                ["family_id", "reason", "what would place it"],
                [[u.family_id, u.reason, u.would_place or ""] for u in facts.unplaced],
            )
        )
    else:
        lines.append("None: every family is placed.")

    lines += ["", "## Notes (pins released and other notes from the solve)", ""]
    if facts.notes:
        lines.extend(f"- {md_cell(n)}" for n in facts.notes)
    else:
        lines.append("None.")

    for section in sections:
        lines += ["", section_markdown(section)]
    return "\n".join(lines).rstrip() + "\n"


__all__ = ["compliance_markdown"]
