"""The plan for people: compliance.md for a monitoring reviewer, report.html for a manager.

Both are built from :class:`PlanFacts`, the plan checked against 1302.52(d) (caps, exceptions,
ratios), so the two never disagree. Family data other than identifiers never appears here, apart
from what the solver wrote in :attr:`Unplaced.reason`.

The chart and page helpers (:func:`svg_bar_chart`, :func:`svg_histogram`, :func:`html_table`,
:func:`html_page`) are small and independent so that other reports (the what-if comparison) can
draw the same charts side by side. They return strings; every value they are given is escaped.
"""

from __future__ import annotations

import html
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from famassign.models.domain import CapException, StaffStatus
from famassign.models.scenario import Scenario
from famassign.solver.result import Result, Unplaced

BarState = Literal["ok", "over", "breach", "inactive"]

COLOURS: dict[str, str] = {
    "ok": "#4a7ebb",  # within the cap
    "over": "#e39b2d",  # above the cap, allowed by an exception in force
    "breach": "#c0392b",  # above the cap without a valid exception
    "inactive": "#b5b5b5",  # absent or departed
    "hist": "#5b8c5a",
    "axis": "#555555",
    "grid": "#e3e3e3",
}

STATE_WORDS: dict[str, str] = {
    "ok": "within cap",
    "over": "above cap, under an exception",
    "breach": "above cap without a valid exception",
    "inactive": "absent or departed",
}

UNPLACED_ROWS_SHOWN = 2000
"""report.html lists at most this many unplaced families (assignments.csv has them all)."""


# --------------------------------------------------------------------------- plan facts


@dataclass(frozen=True)
class OverCap:
    """A caseload above its policy cap and the exception that allows it (or why none does)."""

    staff_id: str
    families: int
    cap: int
    exception_id: str | None
    exception: CapException | None
    limit: int | None
    problem: str | None


@dataclass(frozen=True)
class ExceptionStatus:
    """One exception of the scenario on the planning date: used, unused, or not in force."""

    exception: CapException
    state: Literal["used", "in force, unused", "expired", "not yet in force"]
    used_by: tuple[str, ...]


@dataclass(frozen=True)
class PlanFacts:
    """The plan checked against 1302.52(d): the numbers both reports print."""

    name: str
    as_of: date
    status: str
    families: int
    placed: int
    unplaced: tuple[Unplaced, ...]
    active_staff: int
    active_fte: float
    inactive_staff: tuple[tuple[str, str, int], ...]
    policy_cap: int
    prorate_by_fte: bool
    over_cap: tuple[OverCap, ...]
    exceptions: tuple[ExceptionStatus, ...]
    problems: tuple[str, ...]
    notes: tuple[str, ...]
    exception_limits: dict[str, int] = field(default_factory=dict)

    @property
    def ratio_per_staff(self) -> float | None:
        """Families placed per active staff member (None without active staff)."""
        return self.placed / self.active_staff if self.active_staff else None

    @property
    def ratio_per_fte(self) -> float | None:
        """Families placed per full-time equivalent of active staff."""
        return self.placed / self.active_fte if self.active_fte > 0 else None

    @property
    def compliant(self) -> bool:
        """True when no caseload breaks 1302.52(d)(2) and no other finding was made."""
        return not self.problems


def plan_facts(result: Result, scenario: Scenario) -> PlanFacts:
    """Check `result` against the caps and exceptions of `scenario` and gather the numbers.

    A caseload above its cap must name an exception that exists, is in force on `as_of`, covers
    the staff member, and allows that many families; anything else is a finding in `problems`.
    """
    staff_by_id = scenario.staff_by_id
    exc_by_id = {e.exception_id: e for e in scenario.exceptions}
    policy = scenario.policy
    problems: list[str] = []

    over: list[OverCap] = []
    used_by: dict[str, list[str]] = defaultdict(list)
    for load in result.caseloads:
        if load.exception_id:
            used_by[load.exception_id].append(load.staff_id)
        if load.families <= load.cap:
            continue
        exc = exc_by_id.get(load.exception_id) if load.exception_id else None
        staff = staff_by_id.get(load.staff_id)
        limit = exc.cap_for(staff, policy) if exc and staff else (exc.max_families if exc else None)
        problem = None
        if load.exception_id is None:
            problem = "above the cap and names no exception"
        elif exc is None:
            problem = f"names exception {load.exception_id}, which the scenario does not hold"
        elif not exc.in_force(scenario.as_of):
            problem = f"exception {exc.exception_id} is not in force on {scenario.as_of}"
        elif not exc.covers(load.staff_id):
            problem = f"exception {exc.exception_id} covers {exc.staff_id}, not {load.staff_id}"
        elif limit is not None and load.families > limit:
            problem = f"{load.families} families is above the exception's limit of {limit}"
        if problem:
            problems.append(
                f"caseload of {load.staff_id} ({load.families}, cap {load.cap}): {problem}"
            )
        over.append(
            OverCap(load.staff_id, load.families, load.cap, load.exception_id, exc, limit, problem)
        )
    over.sort(key=lambda o: (-o.families + o.cap, o.staff_id))

    for exc_id in result.exceptions_used:
        if exc_id not in exc_by_id:
            problems.append(f"the plan uses exception {exc_id}, which the scenario does not hold")
    used_ids = set(result.exceptions_used) | set(used_by)
    statuses: list[ExceptionStatus] = []
    for exc in scenario.exceptions:
        state: Literal["used", "in force, unused", "expired", "not yet in force"]
        if exc.ends < scenario.as_of:
            state = "expired"
        elif exc.starts > scenario.as_of:
            state = "not yet in force"
        elif exc.exception_id in used_ids:
            state = "used"
        else:
            state = "in force, unused"
        statuses.append(
            ExceptionStatus(exc, state, tuple(sorted(used_by.get(exc.exception_id, []))))
        )

    loads = {c.staff_id: c.families for c in result.caseloads}
    active = [s for s in scenario.staff if s.status is StaffStatus.active]
    inactive = tuple(
        (s.staff_id, s.status.value, loads.get(s.staff_id, 0))
        for s in scenario.staff
        if s.status is not StaffStatus.active
    )
    for staff_id, status, count in inactive:
        if count:
            problems.append(f"{staff_id} is {status} but carries {count} families")

    in_force = scenario.exceptions_in_force()
    limits: dict[str, int] = {}
    for s in scenario.staff:
        caps = [e.cap_for(s, policy) for e in in_force if e.covers(s.staff_id)]
        if caps:
            limits[s.staff_id] = max(caps)

    placed = sum(1 for a in result.assignments if a.staff_id is not None)
    return PlanFacts(
        name=scenario.name,
        as_of=scenario.as_of,
        status=str(result.status.value),
        families=len(result.assignments),
        placed=placed,
        unplaced=result.unplaced,
        active_staff=len(active),
        active_fte=float(sum(s.fte for s in active)),
        inactive_staff=inactive,
        policy_cap=policy.max_families_per_staff,
        prorate_by_fte=policy.prorate_by_fte,
        over_cap=tuple(over),
        exceptions=tuple(statuses),
        problems=tuple(problems),
        notes=result.notes,
        exception_limits=limits,
    )


# --------------------------------------------------------------------------- formatting


def fmt_number(value: float | int | None, digits: int = 2) -> str:
    """A number for people: integers as is, others rounded; None or NaN as an em dash."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def md_cell(value: object) -> str:
    """Text safe inside a markdown table cell (pipes, markup and line breaks escaped)."""
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    for char in "\\`*[]|":
        text = text.replace(char, "\\" + char)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def md_table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A markdown table with every cell escaped."""
    lines = ["| " + " | ".join(md_cell(c) for c in columns) + " |"]
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    lines.extend("| " + " | ".join(md_cell(v) for v in row) + " |" for row in rows)
    return "\n".join(lines)


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


# --------------------------------------------------------------------------- svg charts


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: `value` against an optional `cap` line and `limit` (dashed) line."""

    label: str
    value: float
    cap: float | None = None
    limit: float | None = None
    state: BarState = "ok"
    tooltip: str | None = None


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = max(span, 1e-9) / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    for mult in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= mult * power:
            return mult * power
    return 10.0 * power


def _tick_values(top: float, ticks: int = 5, *, integer: bool = False) -> list[float]:
    step = _nice_step(top, ticks)
    if integer:
        step = float(max(1, math.ceil(step)))
    return [i * step for i in range(int(top / step + 1e-9) + 1)]


def svg_bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    value_label: str = "families",
    width: int = 760,
    row_height: int = 14,
    label_width: int = 140,
    max_value: float | None = None,
) -> str:
    """A horizontal bar chart as an inline ``<svg>``, one ``<g class="bar">`` per bar.

    Bars keep the given order. Each has a solid tick at its `cap` and a dashed tick at its
    `limit`, a colour by `state` and a tooltip. Pass `max_value` to share the scale between
    charts drawn side by side. Wrap many bars in a scrolling container (see :func:`scroll_box`).
    """
    top = max_value or max([1.0] + [max(b.value, b.cap or 0, b.limit or 0) for b in bars])
    ticks = _tick_values(top)
    top = max(top, ticks[-1])
    axis_h, pad_right = 22, 44
    plot_w = width - label_width - pad_right
    height = axis_h + row_height * max(len(bars), 1) + 6

    def x(v: float) -> float:
        return label_width + plot_w * (v / top)

    parts = [
        f'<svg class="chart bar-chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_esc(title)}" font-family="sans-serif" font-size="10">',
        f"<title>{_esc(title)}</title>",
    ]
    for t in ticks:
        parts.append(
            f'<line x1="{x(t):.1f}" y1="{axis_h - 4}" x2="{x(t):.1f}" y2="{height}" '
            f'stroke="{COLOURS["grid"]}"/>'
            f'<text x="{x(t):.1f}" y="{axis_h - 8}" text-anchor="middle" '
            f'fill="{COLOURS["axis"]}">{fmt_number(t)}</text>'
        )
    parts.append(
        f'<text x="{label_width - 16}" y="{axis_h - 8}" text-anchor="end" '
        f'fill="{COLOURS["axis"]}">{_esc(value_label)}</text>'
    )
    bar_h = max(row_height - 4, 2)
    for i, bar in enumerate(bars):
        y = axis_h + i * row_height + 2
        label = bar.label if len(bar.label) <= 22 else bar.label[:21] + "…"
        tip = bar.tooltip or f"{bar.label}: {fmt_number(bar.value)} {value_label}"
        colour = COLOURS.get(bar.state, COLOURS["ok"])
        piece = (
            f'<g class="bar" data-label="{_esc(bar.label)}"><title>{_esc(tip)}</title>'
            f'<text x="{label_width - 6}" y="{y + bar_h - 1}" text-anchor="end">'
            f"{_esc(label)}</text>"
            f'<rect x="{label_width}" y="{y}" width="{max(x(bar.value) - label_width, 0):.1f}" '
            f'height="{bar_h}" fill="{colour}"/>'
        )
        if bar.cap is not None:
            piece += (
                f'<line x1="{x(bar.cap):.1f}" y1="{y - 1}" x2="{x(bar.cap):.1f}" '
                f'y2="{y + bar_h + 1}" stroke="#222" stroke-width="2"/>'
            )
        if bar.limit is not None:
            piece += (
                f'<line x1="{x(bar.limit):.1f}" y1="{y - 1}" x2="{x(bar.limit):.1f}" '
                f'y2="{y + bar_h + 1}" stroke="#222" stroke-width="1.5" stroke-dasharray="2,2"/>'
            )
        piece += (
            f'<text x="{x(bar.value) + 5:.1f}" y="{y + bar_h - 1}">'
            f"{fmt_number(bar.value)}</text></g>"
        )
        parts.append(piece)
    parts.append("</svg>")
    return "".join(parts)


def histogram_counts(
    values: Sequence[float], *, bins: int = 20, value_range: tuple[float, float] | None = None
) -> tuple[list[int], list[float]]:
    """Counts per bin and the bin edges (``bins + 1``); shared ranges make charts comparable."""
    data = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if value_range is None:
        if data.size == 0:
            value_range = (0.0, 1.0)
        else:
            low, high = float(data.min()), float(data.max())
            value_range = (low - 0.5, high + 0.5) if low == high else (low, high)
    counts, edges = np.histogram(data, bins=bins, range=value_range)
    return [int(c) for c in counts], [float(e) for e in edges]


def svg_histogram(
    values: Sequence[float],
    *,
    title: str,
    x_label: str,
    bins: int = 20,
    value_range: tuple[float, float] | None = None,
    max_count: int | None = None,
    width: int = 380,
    height: int = 200,
    colour: str = COLOURS["hist"],
) -> str:
    """A histogram of `values` as an inline ``<svg>``, one ``<rect class="bin">`` per bin.

    Pass the same `value_range` and `max_count` to draw comparable histograms side by side.
    """
    counts, edges = histogram_counts(values, bins=bins, value_range=value_range)
    top = max([max_count or 0, *counts, 1])
    left, right, top_pad, bottom = 36, 10, 22, 34
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    span = edges[-1] - edges[0] or 1.0

    def x(v: float) -> float:
        return left + plot_w * (v - edges[0]) / span

    def y(c: float) -> float:
        return top_pad + plot_h * (1 - c / top)

    parts = [
        f'<svg class="chart histogram" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_esc(title)}" font-family="sans-serif" font-size="10">',
        f"<title>{_esc(title)}</title>",
        f'<text x="{left}" y="12" font-weight="bold">{_esc(title)}</text>',
    ]
    for t in _tick_values(top, 4, integer=True):
        parts.append(
            f'<line x1="{left}" y1="{y(t):.1f}" x2="{width - right}" y2="{y(t):.1f}" '
            f'stroke="{COLOURS["grid"]}"/><text x="{left - 4}" y="{y(t) + 3:.1f}" '
            f'text-anchor="end" fill="{COLOURS["axis"]}">{fmt_number(t)}</text>'
        )
    for i, count in enumerate(counts):
        x0, x1 = x(edges[i]), x(edges[i + 1])
        parts.append(
            f'<rect class="bin" x="{x0 + 0.5:.1f}" y="{y(count):.1f}" '
            f'width="{max(x1 - x0 - 1, 0.5):.1f}" height="{plot_h * count / top:.1f}" '
            f'fill="{colour}"><title>{fmt_number(edges[i])} to {fmt_number(edges[i + 1])}: '
            f"{count}</title></rect>"
        )
    base = top_pad + plot_h
    parts.append(
        f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" '
        f'stroke="{COLOURS["axis"]}"/>'
    )
    for v, anchor in (
        (edges[0], "start"),
        ((edges[0] + edges[-1]) / 2, "middle"),
        (edges[-1], "end"),
    ):
        parts.append(
            f'<text x="{x(v):.1f}" y="{base + 12}" text-anchor="{anchor}" '
            f'fill="{COLOURS["axis"]}">{fmt_number(v)}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle">'
        f"{_esc(x_label)}</text>"
    )
    if not any(counts):
        parts.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top_pad + plot_h / 2:.1f}" '
            'text-anchor="middle" fill="#888">no data</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def scroll_box(inner_html: str, *, max_height: int = 560) -> str:
    """Wrap a tall chart in a box that scrolls, so 1,000+ bars stay readable on one page."""
    return f'<div class="scroll" style="max-height:{max_height}px">{inner_html}</div>'


def html_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    limit: int | None = None,
    empty: str = "None.",
) -> str:
    """An HTML table with every cell escaped; at most `limit` rows, with a note when cut."""
    body: list[str] = []
    total = 0
    for row in rows:
        total += 1
        if limit is None or total <= limit:
            body.append("<tr>" + "".join(f"<td>{_esc(v)}</td>" for v in row) + "</tr>")
    if total == 0:
        return f"<p>{_esc(empty)}</p>"
    head = "<tr>" + "".join(f"<th>{_esc(c)}</th>" for c in columns) + "</tr>"
    note = ""
    if limit is not None and total > limit:
        note = f'<p class="note">Showing {limit:,} of {total:,} rows.</p>'
    return f"<table><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>{note}"


def frame_table(frame: pd.DataFrame, *, limit: int | None = None) -> str:
    """:func:`html_table` of a DataFrame (missing values blank)."""
    rows = (
        ["" if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in row]
        for row in frame.itertuples(index=False, name=None)
    )
    return html_table([str(c) for c in frame.columns], rows, limit=limit)


PAGE_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#222;
max-width:1100px}
h1{font-size:1.5em;margin-bottom:4px}
h2{font-size:1.2em;margin-top:28px;border-bottom:1px solid #ddd}
.sub{color:#666;margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:110px}
.card .v{font-size:1.4em;font-weight:600}.card .k{color:#666;font-size:.85em}
.bad{color:#c0392b}.good{color:#2e7d32}
table{border-collapse:collapse;font-size:.9em;margin:6px 0}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}
.scroll{overflow-y:auto;border:1px solid #eee}
.row{display:flex;flex-wrap:wrap;gap:16px}
.legend span{display:inline-block;margin-right:14px;font-size:.85em}
.legend i{display:inline-block;width:12px;height:10px;margin-right:4px}
.note{color:#666;font-size:.85em}
pre.extra{white-space:pre-wrap;background:#fafafa;border:1px solid #eee;padding:8px}
"""


def html_page(title: str, body_html: str) -> str:
    """A complete self-contained HTML page: inline CSS, no scripts, fonts or network loads."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title)}</title>\n<style>{PAGE_CSS}</style>\n</head>\n<body>\n"
        f"{body_html}\n</body>\n</html>\n"
    )


def legend_html(states: Sequence[BarState] = ("ok", "over", "breach", "inactive")) -> str:
    """The colour legend of :func:`svg_bar_chart` bars, plus the cap and limit ticks."""
    items = "".join(
        f'<span><i style="background:{COLOURS[s]}"></i>{_esc(STATE_WORDS[s])}</span>'
        for s in states
    )
    return (
        f'<div class="legend">{items}<span>│ solid tick: cap</span>'
        "<span>┆ dashed tick: exception limit</span></div>"
    )


# --------------------------------------------------------------------------- report sections


@dataclass(frozen=True)
class ReportSection:
    """An extra section a caller (reassign, compare) adds to compliance.md and report.html.

    `text` is plain text (markdown in compliance.md, escaped in report.html); `table` is
    rendered escaped in both; `html` is trusted markup (e.g. an svg chart) for report.html only.
    """

    title: str
    text: str = ""
    table: pd.DataFrame | None = None
    html: str | None = None


Section = str | ReportSection
"""An extra section: a plain markdown string, or a :class:`ReportSection`."""


def _section_markdown(section: Section) -> str:
    if isinstance(section, str):
        return section.strip()
    parts = [f"## {md_cell(section.title)}"]
    if section.text:
        parts.append(section.text.strip())
    if section.table is not None:
        frame = section.table
        rows = (
            ["" if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in row]
            for row in frame.itertuples(index=False, name=None)
        )
        parts.append(md_table([str(c) for c in frame.columns], rows))
    return "\n\n".join(parts)


def _section_html(section: Section) -> str:
    if isinstance(section, str):
        return f'<pre class="extra">{_esc(section.strip())}</pre>'
    parts = [f"<h2>{_esc(section.title)}</h2>"]
    if section.text:
        parts.append(f'<pre class="extra">{_esc(section.text.strip())}</pre>')
    if section.table is not None:
        parts.append(frame_table(section.table, limit=UNPLACED_ROWS_SHOWN))
    if section.html:
        parts.append(section.html)
    return "\n".join(parts)


# --------------------------------------------------------------------------- compliance.md


def _exception_row(exc: CapException) -> list[object]:
    return [
        exc.exception_id,
        exc.kind.value,
        exc.kind.paragraph,
        exc.staff_id or "all staff",
        exc.max_families,
        exc.reference or "",
        exc.starts.isoformat(),
        exc.ends.isoformat(),
    ]


OVER_CAP_COLUMNS = [
    "staff_id",
    "families",
    "cap",
    "exception_id",
    "kind",
    "paragraph",
    "reference",
    "starts",
    "ends",
    "max_families",
    "limit",
    "finding",
]

EXCEPTION_COLUMNS = [
    "exception_id",
    "kind",
    "paragraph",
    "staff",
    "max_families",
    "reference",
    "starts",
    "ends",
]


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
        f"Planning date (as of): {facts.as_of.isoformat()}. Plan status: {facts.status}. "
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
            + ", ".join(f"{md_cell(s)} ({status})" for s, status, _ in facts.inactive_staff)
            + "."
        )

    lines += ["", "## Caseloads above the policy cap", ""]
    if facts.over_cap:
        rows = []
        for o in facts.over_cap:
            exc = o.exception
            rows.append(
                [
                    o.staff_id,
                    o.families,
                    o.cap,
                    o.exception_id or "",
                    exc.kind.value if exc else "",
                    exc.kind.paragraph if exc else "",
                    (exc.reference or "") if exc else "",
                    exc.starts.isoformat() if exc else "",
                    exc.ends.isoformat() if exc else "",
                    exc.max_families if exc else "",
                    o.limit if o.limit is not None else "",
                    f"NOT ALLOWED: {o.problem}" if o.problem else "allowed",
                ]
            )
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
                [[*_exception_row(s.exception), ", ".join(s.used_by)] for s in used],
            )
        )
    else:
        lines.append("None.")
    lines += ["", "## Exceptions in force but not used", ""]
    unused = by_state["in force, unused"]
    lines.append(
        md_table(EXCEPTION_COLUMNS, [_exception_row(s.exception) for s in unused])
        if unused
        else "None."
    )
    lines += ["", "## Exceptions not in force on the planning date (reported, ignored)", ""]
    stale = by_state["expired"] + by_state["not yet in force"]
    lines.append(
        md_table(
            [*EXCEPTION_COLUMNS, "state"],
            [[*_exception_row(s.exception), s.state] for s in stale],
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
        lines += ["", _section_markdown(section)]
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- report.html


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
        tip = [f"{load.staff_id}: {load.families} families, cap {load.cap}"]
        if limit is not None:
            tip.append(f"exception limit {limit}")
        if load.exception_id:
            tip.append(f"exception {load.exception_id}")
        tip.append(f"weighted load {fmt_number(load.weighted_load)}")
        if staff is not None and staff.status is not StaffStatus.active:
            tip.append(staff.status.value)
        bars.append(Bar(load.staff_id, load.families, load.cap, limit, state, "; ".join(tip)))
    return bars


def load_per_fte(result: Result, scenario: Scenario) -> list[float]:
    """Weighted load divided by FTE for every active staff member."""
    staff_by_id = scenario.staff_by_id
    values = []
    for load in result.caseloads:
        staff = staff_by_id.get(load.staff_id)
        if staff is None or staff.status is not StaffStatus.active:
            continue
        values.append(load.weighted_load / staff.fte)
    return values


def _card(key: str, value: str, cls: str = "") -> str:
    return (
        f'<div class="card"><div class="v {cls}">{_esc(value)}</div>'
        f'<div class="k">{_esc(key)}</div></div>'
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
        f'<p class="sub">Planning date {facts.as_of.isoformat()} · status {_esc(facts.status)} · '
        f"famassign {_esc(result.version)} · seed {result.seed} · "
        f"{fmt_number(result.runtime_s)} s</p>",
        '<div class="cards">',
        _card("families", fmt_number(facts.families)),
        _card("placed", fmt_number(facts.placed)),
        _card("unplaced", fmt_number(len(facts.unplaced)), "bad" if facts.unplaced else "good"),
        _card("status", facts.status),
        _card("exceptions used", f"{len(used)}" + (f" ({', '.join(used)})" if used else "")),
        _card("caseloads above cap", fmt_number(len(facts.over_cap))),
        _card("families per staff", fmt_number(facts.ratio_per_staff)),
        _card("families per FTE", fmt_number(facts.ratio_per_fte)),
        _card("max load per FTE", fmt_number(result.terms.max_load_per_fte)),
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
        f'<p class="note">Match score total {fmt_number(result.objective)}, bound '
        f"{fmt_number(result.bound)}; largest weighted load per FTE "
        f"{fmt_number(result.terms.max_load_per_fte)} (bound {fmt_number(result.max_load_bound)})"
        f"; moves {fmt_number(result.terms.moves)}.</p>",
    ]

    body.append("<h2>Caseloads above the policy cap</h2>")
    body.append(
        html_table(
            OVER_CAP_COLUMNS,
            (
                [
                    o.staff_id,
                    o.families,
                    o.cap,
                    o.exception_id or "",
                    o.exception.kind.value if o.exception else "",
                    o.exception.kind.paragraph if o.exception else "",
                    (o.exception.reference or "") if o.exception else "",
                    o.exception.starts.isoformat() if o.exception else "",
                    o.exception.ends.isoformat() if o.exception else "",
                    o.exception.max_families if o.exception else "",
                    "" if o.limit is None else o.limit,
                    f"NOT ALLOWED: {o.problem}" if o.problem else "allowed",
                ]
                for o in facts.over_cap
            ),
            empty="None: every caseload is within its policy cap.",
        )
    )
    body.append("<h2>Exceptions</h2>")
    body.append(
        html_table(
            [*EXCEPTION_COLUMNS, "state", "caseloads using it"],
            (
                [*_exception_row(s.exception), s.state, ", ".join(s.used_by)]
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
    body.extend(_section_html(s) for s in sections)
    return html_page(title, "\n".join(body))


__all__ = [
    "COLOURS",
    "Bar",
    "ExceptionStatus",
    "OverCap",
    "PlanFacts",
    "ReportSection",
    "Section",
    "caseload_bars",
    "compliance_markdown",
    "fmt_number",
    "frame_table",
    "histogram_counts",
    "html_page",
    "html_table",
    "legend_html",
    "load_per_fte",
    "md_cell",
    "md_table",
    "plan_facts",
    "render_report",
    "scroll_box",
    "svg_bar_chart",
    "svg_histogram",
]
