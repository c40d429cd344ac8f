"""report.html: the plan for a manager, one self-contained page (inline CSS and SVG, no scripts).

Family data other than identifiers never appears here, apart from what the solver wrote in
:attr:`Unplaced.reason`.
"""

from __future__ import annotations

from collections.abc import Sequence

from famassign.models.domain import StaffStatus
from famassign.models.scenario import Scenario
from famassign.report.charts import (
    Bar,
    BarState,
    legend_html,
    scroll_box,
    svg_bar_chart,
    svg_histogram,
)
from famassign.report.facts import (
    EXCEPTION_COLUMNS,
    OVER_CAP_COLUMNS,
    PlanFacts,
    exception_row,
    load_per_fte,
    over_cap_row,
    plan_facts,
)
from famassign.report.page import UNPLACED_ROWS_SHOWN, html_page, html_table
from famassign.report.sections import Section, section_html
from famassign.report.text import esc as _esc
from famassign.report.text import fmt_number
from famassign.solver.result import Result


def caseload_bars(result: Result, scenario: Scenario, facts: PlanFacts | None = None) -> list[Bar]:
    """One :class:`Bar` per caseload, largest first: families vs cap vs exception limit."""
    facts = facts or plan_facts(result, scenario)
    over = {o.staff_id: o for o in facts.over_cap}
    staff_by_id = scenario.staff_by_id
    bars = []
    for load in sorted(result.caseloads, key=lambda c: (-c.families, c.staff_id)):
        staff = staff_by_id.get(load.staff_id)
        state: BarState = "ok"
        if staff is not None and staff.status is not StaffStatus.active:
            state = "inactive"
        if load.staff_id in over:
            state = "breach" if over[load.staff_id].problem else "over"
        limit = facts.exception_limits.get(load.staff_id)
        tip = [f"{facts.staff_label(load.staff_id)}: {load.families} families, cap {load.cap}"]
        if limit is not None:
            tip.append(f"exception limit {limit}")
        if load.exception_id:
            tip.append(f"exception {load.exception_id}")
        tip.append(f"weighted load {fmt_number(load.weighted_load)}")
        if staff is not None and staff.status is not StaffStatus.active:
            tip.append(staff.status.value)
        bars.append(Bar(load.staff_id, load.families, load.cap, limit, state, "; ".join(tip)))
    return bars


def _card(key: str, value: str, cls: str = "") -> str:
    return (
        f'<div class="card"><div class="v {cls}">{_esc(value)}</div>'
        f'<div class="k">{_esc(key)}</div></div>'
    )


def _quality_sentence(result: Result) -> str:
    """The match and workload numbers in words (no raw objective or bound rows)."""
    match = (
        "the best possible for these placements"
        if result.objective >= result.bound
        else f"the best possible is {fmt_number(result.bound)}"
    )
    return (
        f"How well staff strengths fit family needs and interests, weighted by urgency "
        f"(match score): {fmt_number(result.objective)}, {match}. Largest intensity-weighted "
        f"workload per FTE: {fmt_number(result.terms.max_load_per_fte)}; no plan can go below "
        f"{fmt_number(result.max_load_bound)}. Families taken from a current staff member who is "
        f"still active (placed with someone else or left unplaced): "
        f"{fmt_number(result.terms.moves)}."
    )


def render_report(result: Result, scenario: Scenario, *, sections: Sequence[Section] = ()) -> str:
    """report.html: one self-contained page (inline CSS and SVG, no scripts, no network).

    Headline numbers, a caseload bar per staff member (families vs cap vs exception limit,
    largest first, scrolling when long), the weighted load per FTE and match score histograms,
    the findings, caseloads above cap, exceptions, unplaced families and notes, then `sections`.
    """
    facts = plan_facts(result, scenario)
    title = f"famassign plan: {facts.name}"
    used = [s.exception.exception_id for s in facts.exceptions if s.state == "used"]
    body: list[str] = [
        f"<h1>{_esc(title)}</h1>",
        f'<p class="sub">Planning date {facts.as_of.isoformat()} · '
        f"famassign {_esc(result.version)} · seed {result.seed} · "
        f"planned in {fmt_number(result.runtime_s)} seconds</p>",
        f'<p class="{"good" if result.placement == "placed" else "bad"}">'
        f"{_esc(facts.status_text[:1].upper() + facts.status_text[1:])}.</p>",
        '<div class="cards">',
        _card("families", fmt_number(facts.families)),
        _card("placed", fmt_number(facts.placed)),
        _card("unplaced", fmt_number(len(facts.unplaced)), "bad" if facts.unplaced else "good"),
        _card(
            "families placed",
            "all" if result.placement == "placed" else "not all",
            "good" if result.placement == "placed" else "bad",
        ),
        _card("workload balance", result.proof),
        _card("exceptions used", f"{len(used)}" + (f" ({', '.join(used)})" if used else "")),
        _card("caseloads above cap", fmt_number(len(facts.over_cap))),
        _card("families per staff", fmt_number(facts.ratio_per_staff)),
        _card("families per FTE", fmt_number(facts.ratio_per_fte)),
        _card("largest workload per FTE", fmt_number(result.terms.max_load_per_fte)),
        "</div>",
    ]
    if facts.compliant:
        body.append(
            '<p class="good">Every caseload is within its cap or allowed by an exception in '
            "force (1302.52(d)(2)).</p>"
        )
    else:
        body.append(f'<h2 class="bad">Findings against 1302.52(d)(2) ({len(facts.problems)})</h2>')
        body.append("<ul>" + "".join(f"<li>{_esc(p)}</li>" for p in facts.problems) + "</ul>")

    bars = caseload_bars(result, scenario, facts)
    chart = svg_bar_chart(bars, title="Families per staff member", value_label="families")
    body += [
        f"<h2>Caseload per staff member ({len(bars):,})</h2>",
        legend_html(),
        scroll_box(chart) if len(bars) > 36 else chart,
    ]
    scores = [float(a.score) for a in result.assignments if a.staff_id is not None]
    body += [
        "<h2>Workload and match quality</h2>",
        '<div class="row">',
        svg_histogram(
            load_per_fte(result, scenario),
            title="Weighted load per FTE (active staff)",
            x_label="intensity-weighted load ÷ FTE",
        ),
        svg_histogram(scores, title="Match score of placed families", x_label="match score"),
        "</div>",
        f'<p class="note">{_esc(_quality_sentence(result))}</p>',
    ]

    body.append("<h2>Caseloads above the policy cap</h2>")
    body.append(
        html_table(
            OVER_CAP_COLUMNS,
            (over_cap_row(o, facts) for o in facts.over_cap),
            empty="None: every caseload is within its policy cap.",
        )
    )
    body.append("<h2>Exceptions</h2>")
    body.append(
        html_table(
            [*EXCEPTION_COLUMNS, "state", "caseloads using it"],
            (
                [*exception_row(s.exception), s.state, ", ".join(map(facts.staff_label, s.used_by))]
                for s in facts.exceptions
            ),
            empty="The scenario has no exceptions.",
        )
    )
    body.append(f"<h2>Unplaced families ({len(facts.unplaced):,})</h2>")
    body.append(
        html_table(
            ["family_id", "reason", "what would place it"],
            ([u.family_id, u.reason, u.would_place or ""] for u in facts.unplaced),
            limit=UNPLACED_ROWS_SHOWN,
            empty="None: every family is placed.",
        )
    )
    body.append("<h2>Notes</h2>")
    body.append(
        "<ul>" + "".join(f"<li>{_esc(n)}</li>" for n in facts.notes) + "</ul>"
        if facts.notes
        else "<p>None.</p>"
    )
    body.extend(section_html(s) for s in sections)
    return html_page(title, "\n".join(body))


__all__ = ["caseload_bars", "render_report"]
