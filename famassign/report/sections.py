"""Extra sections a caller (reassign, compare) appends to compliance.md and report.html."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from famassign.report.page import UNPLACED_ROWS_SHOWN, frame_table
from famassign.report.text import esc as _esc
from famassign.report.text import md_cell, md_table


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


def section_markdown(section: Section) -> str:
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


def section_html(section: Section) -> str:
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


__all__ = ["ReportSection", "Section", "section_html", "section_markdown"]
