"""report.html of a sweep: the people to hire and their validated share, then a histogram and
empirical CDF per measure."""

from __future__ import annotations

import pandas as pd

from famassign.report.charts import histogram_counts, svg_ecdf, svg_histogram
from famassign.report.page import frame_table, html_page
from famassign.report.text import esc as _esc
from famassign.sweep_runner import SweepResult

_DISTRIBUTIONS = (
    ("unplaced_without_exceptions", "families unplaced without exceptions"),
    ("exception_places", "exception places used"),
    ("largest_caseload", "largest caseload (families)"),
    ("largest_load_per_fte", "largest weighted load per FTE"),
    ("additional_staff", "people to hire this sample needs"),
)


_STAFF_SHOWN = ["hire", "fte", "languages", "sites", "program_options", "share_without_one"]


def _rows_of(frame: pd.DataFrame, kind: str, columns: list[str]) -> pd.DataFrame:
    return frame.loc[frame["kind"] == kind, columns].reset_index(drop=True)


def render_sweep(result: SweepResult) -> str:
    """report.html of a sweep: the answer, then a histogram and empirical CDF per measure."""
    answer, frame = result.answer, result.samples
    verdict = answer.verdict()
    body = [
        f"<h1>Sweep: {_esc(result.name)}</h1>",
        f'<p class="sub">{len(frame)} samples of the uncertainty block</p>',
        f"<p>{_esc(verdict)}</p>",
        "<h2>People to hire</h2>",
        frame_table(_rows_of(result.robust, "hire", _STAFF_SHOWN)),
        '<p class="note">share_without_one: the share of the training samples placed completely '
        "without that person.</p>",
        "<h2>Exceptions in force: probability each is needed</h2>",
        frame_table(_rows_of(result.robust, "exception", ["exception_id", "probability_needed"])),
        "<h2>Distributions over samples</h2>",
    ]
    for column, label in _DISTRIBUTIONS:
        values = [float(v) for v in frame[column]]
        counts, _ = histogram_counts(values)
        body.append(
            '<div class="row">'
            + svg_histogram(values, title=label, x_label=label, max_count=max(counts, default=1))
            + svg_ecdf(values, title=f"{label}: empirical CDF", x_label=label)
            + "</div>"
        )
    return html_page(f"Sweep: {result.name}", "\n".join(body))


__all__ = ["render_sweep"]
