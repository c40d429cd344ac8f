"""HTML building blocks: an escaped table (from rows or a DataFrame) and a self-contained page."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import pandas as pd

from famassign.report.text import esc as _esc

UNPLACED_ROWS_SHOWN = 2000
"""report.html lists at most this many unplaced families (assignments.csv has them all)."""


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
.legend .swatch{vertical-align:middle;margin-right:4px}
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


__all__ = ["PAGE_CSS", "UNPLACED_ROWS_SHOWN", "frame_table", "html_page", "html_table"]
