"""The plan for people: compliance.md for a monitoring reviewer, report.html for a manager.

One concept per module:

- :mod:`~famassign.report.facts`: the plan checked against 1302.52(d) (:class:`PlanFacts`), the
  numbers both reports print, so the two never disagree;
- :mod:`~famassign.report.text`, :mod:`~famassign.report.page`, :mod:`~famassign.report.charts`:
  a small HTML/SVG toolkit (escaped tables, a self-contained page, bar charts, histograms and
  empirical CDFs);
- :mod:`~famassign.report.sections`: extra sections a caller appends to both reports;
- :mod:`~famassign.report.compliance`: compliance.md;
- :mod:`~famassign.report.plan_page`: report.html of one plan;
- :mod:`~famassign.report.comparison`: report.html of a what-if comparison;
- :mod:`~famassign.report.sweep_page`: report.html of a sweep;
- :mod:`~famassign.report.handover_pages`: ``handover/<staff_id>.html``, a page per receiving
  staff member (these carry family data by design).

Family data other than identifiers never appears in a report, apart from what the solver wrote in
:attr:`Unplaced.reason` (the handover pages alone carry it, for the staff member taking over).
"""

from famassign.report.charts import (
    COLOURS,
    STATE_WORDS,
    Bar,
    BarState,
    histogram_counts,
    legend_html,
    scroll_box,
    svg_bar_chart,
    svg_ecdf,
    svg_histogram,
)
from famassign.report.compliance import compliance_markdown
from famassign.report.facts import (
    EXCEPTION_COLUMNS,
    OVER_CAP_COLUMNS,
    ExceptionStatus,
    OverCap,
    PlanFacts,
    load_per_fte,
    plan_facts,
)
from famassign.report.page import (
    PAGE_CSS,
    UNPLACED_ROWS_SHOWN,
    frame_table,
    html_page,
    html_table,
)
from famassign.report.plan_page import caseload_bars, render_report
from famassign.report.sections import ReportSection, Section
from famassign.report.text import fmt_number, md_cell, md_table

__all__ = [
    "COLOURS",
    "EXCEPTION_COLUMNS",
    "OVER_CAP_COLUMNS",
    "PAGE_CSS",
    "STATE_WORDS",
    "UNPLACED_ROWS_SHOWN",
    "Bar",
    "BarState",
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
    "svg_ecdf",
    "svg_histogram",
]
