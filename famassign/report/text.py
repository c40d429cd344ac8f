"""Text for people: numbers, markdown tables and HTML escaping shared by every report."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence


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


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


__all__ = ["esc", "fmt_number", "md_cell", "md_table"]
