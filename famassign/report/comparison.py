"""report.html of a what-if comparison: the base and every variant side by side, with staffing."""

from __future__ import annotations

import yaml

from famassign.compare import BASE, COMPARISON_COLUMNS, Comparison
from famassign.report.charts import (
    Bar,
    histogram_counts,
    legend_html,
    scroll_box,
    svg_bar_chart,
    svg_histogram,
)
from famassign.report.facts import load_per_fte
from famassign.report.page import frame_table, html_page, html_table
from famassign.report.plan_page import caseload_bars
from famassign.report.text import esc as _esc
from famassign.report.text import fmt_number
from famassign.scenarios.staffing import StaffingAnswer
from famassign.scenarios.variants import variants_of

CHART_WIDTH = 330
_LEFT_OUT_OF_SUMMARY = (
    "description",
    "status",
    "caseloads_above_cap",
    "over_cap_places",
    "weighted_load_mean",
    "weighted_load_max",
)
SUMMARY_COLUMNS = [c for c in COMPARISON_COLUMNS if c not in _LEFT_OUT_OF_SUMMARY]
"""The columns of comparison.csv that report.html's summary table shows, in their order."""


_EXTRA_CSS = (
    "<style>.plan{flex:0 0 auto;width:" + str(CHART_WIDTH + 8) + "px}"
    ".plan h3{font-size:1em;margin:8px 0 2px}.plan p{margin:0 0 4px;font-size:.85em;color:#555}"
    "</style>"
)


def _staffing_html(answer: StaffingAnswer) -> str:
    parts = ["<h2>Staffing: what would serve every family within 40:1</h2>"]
    if answer.needs:
        proof = answer.proof
        people = answer.people
        parts.append(
            f"<p>Under the policy caps alone (no exception) {answer.unplaced_without_exceptions} "
            f"of {answer.families} families cannot be placed. The fewest people to hire that "
            f"would place every family: <b>{people.people}</b> ({_esc(people.proof)}):</p>"
        )
        parts.append(frame_table(people.frame()))
        parts.append(
            f"<p>Where places lack, as full-time staff of one language, site and option each "
            f"(cap {answer.cap_per_new_staff}): {answer.total_staff} ({_esc(proof)}).</p>"
        )
        parts.append(frame_table(answer.needs_frame()))
    else:
        parts.append(
            '<p class="good">Every family can be placed under the policy caps with the '
            "current staff: no additional staff and no exception are needed.</p>"
        )
    if answer.not_placeable:
        parts.append(
            f"<p>{len(answer.not_placeable)} pinned families cannot be placed by hiring.</p>"
        )
    parts.append("<h3>Exceptions in force and the families they carry</h3>")
    parts.append(
        html_table(
            [
                "exception_id",
                "kind",
                "staff_id",
                "max_families",
                "families above cap",
                "unplaced without it",
            ],
            (
                [
                    e.exception_id,
                    e.kind,
                    e.staff_id or "every staff member",
                    e.max_families,
                    e.places_above_cap,
                    "not checked (time limit)" if e.needed_by is None else e.needed_by,
                ]
                for e in answer.exceptions
            ),
            empty="No exception is in force.",
        )
    )
    return "\n".join(parts)


def _side_by_side(comparison: Comparison) -> str:
    """The comparison table turned: one row per measure, one column per plan."""
    frame = comparison.frame.set_index("variant")[SUMMARY_COLUMNS[1:]]
    rows = (
        [column, *(fmt_number(v) if isinstance(v, int | float) else v for v in frame[column])]
        for column in frame.columns
    )
    return html_table(["measure", *frame.index], rows)


def render_comparison(comparison: Comparison) -> str:
    """report.html of a comparison: one self-contained page (inline CSS and SVG, no scripts)."""
    outcomes = comparison.outcomes
    base = comparison.base
    title = f"famassign what-if comparison: {base.scenario.name}"
    body = [
        _EXTRA_CSS,
        f"<h1>{_esc(title)}</h1>",
        f'<p class="sub">Planning date {base.scenario.as_of.isoformat()} · '
        f"{len(comparison.variants)} variants · {fmt_number(comparison.runtime_s)} s</p>",
        "<h2>Side by side</h2>",
        _side_by_side(comparison),
        '<p class="note">caseloads_above_40: caseloads above 1302.52(d)(2)\'s 40 (each needs an '
        "exception in force); families_moved: families with a current staff member in the base "
        "that the plan puts elsewhere or leaves unplaced; objective: match score (bound: best "
        "possible).</p>",
    ]
    bars = {o.name: caseload_bars(o.result, o.scenario) for o in outcomes}
    order = {b.label: i for i, b in enumerate(bars[BASE])}  # every chart in the base's order
    for plan_bars in bars.values():
        plan_bars.sort(key=lambda b: (order.get(b.label, len(order)), b.label))
    top = max([1.0] + [max(b.value, b.cap or 0, b.limit or 0) for bs in bars.values() for b in bs])
    body += ["<h2>Caseload per staff member</h2>", legend_html()]
    cells = []
    for o in outcomes:
        chart_bars: list[Bar] = bars[o.name]
        chart = svg_bar_chart(
            chart_bars,
            title=f"Families per staff member: {o.name}",
            width=CHART_WIDTH,
            label_width=70,
            max_value=top,
        )
        r = o.result
        cells.append(
            f'<div class="plan"><h3>{_esc(o.name)}</h3><p>{_esc(o.description)}</p>'
            f"<p>{r.placed}/{len(r.assignments)} placed · {len(r.unplaced)} unplaced · "
            f"exceptions: {_esc(', '.join(r.exceptions_used) or 'none')}</p>"
            f"{scroll_box(chart, max_height=420) if len(chart_bars) > 28 else chart}</div>"
        )
    body.append('<div class="row">' + "".join(cells) + "</div>")

    loads = {o.name: load_per_fte(o.result, o.scenario) for o in outcomes}
    every = [v for vs in loads.values() for v in vs]
    low, high = (min(every), max(every)) if every else (0.0, 1.0)
    value_range = (low, high + 1e-9) if high > low else (low - 0.5, high + 0.5)
    top_count = max(
        [1]
        + [max(histogram_counts(v, value_range=value_range)[0], default=0) for v in loads.values()]
    )
    body.append("<h2>Weighted load per FTE (active staff)</h2>")
    body.append(
        '<div class="row">'
        + "".join(
            '<div class="plan">'
            + svg_histogram(
                loads[o.name],
                title=o.name,
                x_label="intensity-weighted load ÷ FTE",
                value_range=value_range,
                max_count=top_count,
                width=CHART_WIDTH,
            )
            + "</div>"
            for o in outcomes
        )
        + "</div>"
    )
    if comparison.staffing is not None:
        body.append(_staffing_html(comparison.staffing))
    body.append("<h2>The variants</h2>")
    variants = {v.name: v for v in variants_of(base.scenario)}
    for o in comparison.variants:
        changes = [c.model_dump(mode="json", exclude_unset=True) for c in variants[o.name].changes]
        text = yaml.safe_dump(
            [{variants[o.name].changes[i].change_kind: c} for i, c in enumerate(changes)],
            sort_keys=False,
            allow_unicode=True,
        )
        body.append(f'<h3>{_esc(o.name)}</h3><pre class="extra">{_esc(text)}</pre>')
    return html_page(title, "\n".join(body))


__all__ = ["CHART_WIDTH", "SUMMARY_COLUMNS", "render_comparison"]
