"""Inline SVG charts: caseload bars against caps and exception limits, histograms, the legend.

Small and independent so that other reports (the what-if comparison) draw the same charts side by
side. They return strings; every value they are given is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from famassign.report.text import esc as _esc
from famassign.report.text import fmt_number

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


def svg_ecdf(values: Sequence[float], *, title: str, x_label: str, width: int = 380) -> str:
    """An empirical CDF as an inline ``<svg>`` step line (share of samples at or below x)."""
    data = np.sort(np.asarray(values, dtype=float))
    height, left, right, top_pad, bottom = 200, 36, 10, 22, 34
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    low, high = (float(data[0]), float(data[-1])) if data.size else (0.0, 1.0)
    if high <= low:
        low, high = low - 0.5, high + 0.5

    def x(v: float) -> float:
        return left + plot_w * (v - low) / (high - low)

    def y(share: float) -> float:
        return top_pad + plot_h * (1 - share)

    points = [f"{x(low):.1f},{y(0):.1f}"]
    n = max(data.size, 1)
    for i, v in enumerate(data):
        points.append(f"{x(float(v)):.1f},{y(i / n):.1f}")
        points.append(f"{x(float(v)):.1f},{y((i + 1) / n):.1f}")
    points.append(f"{x(high):.1f},{y(1.0 if data.size else 0.0):.1f}")
    parts = [
        f'<svg class="chart ecdf" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(title)}" '
        'font-family="sans-serif" font-size="10">',
        f"<title>{_esc(title)}</title>",
        f'<text x="{left}" y="12" font-weight="bold">{_esc(title)}</text>',
    ]
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line x1="{left}" y1="{y(share):.1f}" x2="{width - right}" y2="{y(share):.1f}" '
            f'stroke="#eee"/><text x="{left - 4}" y="{y(share) + 3:.1f}" text-anchor="end" '
            f'fill="#555">{share:.0%}</text>'
        )
    parts.append(
        f'<polyline class="ecdf-line" fill="none" stroke="#1f77b4" stroke-width="1.5" '
        f'points="{" ".join(points)}"/>'
    )
    base = top_pad + plot_h
    for v, anchor in ((low, "start"), (high, "end")):
        parts.append(
            f'<text x="{x(v):.1f}" y="{base + 12}" text-anchor="{anchor}" fill="#555">'
            f"{fmt_number(v)}</text>"
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle">'
        f"{_esc(x_label)}</text></svg>"
    )
    return "".join(parts)


def scroll_box(inner_html: str, *, max_height: int = 560) -> str:
    """Wrap a tall chart in a box that scrolls, so 1,000+ bars stay readable on one page."""
    return f'<div class="scroll" style="max-height:{max_height}px">{inner_html}</div>'


def legend_html(states: Sequence[BarState] = ("ok", "over", "breach", "inactive")) -> str:
    """The colour legend of :func:`svg_bar_chart` bars, plus the cap and limit ticks.

    Each colour is an SVG swatch (a presentation attribute, not a ``style``), so the legend
    shows under a Content-Security-Policy without inline styles (the planner's page).
    """
    items = "".join(
        '<span><svg class="swatch" width="12" height="10" aria-hidden="true" focusable="false">'
        f'<rect x=".5" y=".5" width="11" height="9" fill="{COLOURS[s]}" stroke="#444"/></svg>'
        f"{_esc(STATE_WORDS[s])}</span>"
        for s in states
    )
    return (
        f'<div class="legend">{items}<span>│ solid tick: cap</span>'
        "<span>┆ dashed tick: exception limit</span></div>"
    )


__all__ = [
    "COLOURS",
    "STATE_WORDS",
    "Bar",
    "BarState",
    "histogram_counts",
    "legend_html",
    "scroll_box",
    "svg_bar_chart",
    "svg_ecdf",
    "svg_histogram",
]
