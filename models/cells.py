"""Cell conversion: one cell's text to the value a model field takes, with located messages.

One function per column kind, applied once per distinct value of a column.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any

import pandas as pd

from famassign.models.columns import Column


def show_value(value: object, limit: int = 60) -> str:
    """The offending value, quoted and shortened to one line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + "...'"


def formula_hint(value: str) -> str:
    return (
        " (it looks like a spreadsheet formula: save values, not formulas)"
        if (value.startswith("="))
        else ""
    )


def _number_range(col: Column, whole: bool) -> str:
    lo, hi = col.lower, col.upper
    if whole:
        if lo is not None and not col.lower_inclusive:
            lo = math.floor(lo) + 1
        if hi is not None and not col.upper_inclusive:
            hi = math.ceil(hi) - 1
        if lo is not None and hi is not None:
            return f" from {lo:g} to {hi:g}"
        if lo is not None:
            return f" of {lo:g} or more"
        return f" of {hi:g} or less" if hi is not None else ""
    parts = []
    if lo is not None:
        parts.append(f"at least {lo:g}" if col.lower_inclusive else f"above {lo:g}")
    if hi is not None:
        parts.append(f"at most {hi:g}" if col.upper_inclusive else f"below {hi:g}")
    return (" " + " and ".join(parts)) if parts else ""


def _in_range(col: Column, number: float) -> bool:
    if col.lower is not None and (
        number < col.lower or (number == col.lower and not col.lower_inclusive)
    ):
        return False
    return not (
        col.upper is not None
        and (number > col.upper or (number == col.upper and not col.upper_inclusive))
    )


_INT_RE = re.compile(r"[+-]?\d{1,15}(\.0*)?")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_BOOLS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}


def convert_scalar(kind: str, col: Column, value: str) -> Any:
    """Convert one non-blank, stripped cell; raise ValueError with a message naming the value."""
    if kind == "text":
        return value
    if kind == "enum":
        return value.lower()
    if kind == "bool":
        if value.lower() in _BOOLS:
            return _BOOLS[value.lower()]
        raise ValueError(
            f"{show_value(value)} is not true or false (use true/false, yes/no or 1/0)"
            + formula_hint(value)
        )
    if kind == "int":
        if _INT_RE.fullmatch(value):
            number = int(value.split(".")[0])
            if _in_range(col, number):
                return number
        raise ValueError(
            f"{show_value(value)} is not a whole number{_number_range(col, True)}"
            + formula_hint(value)
        )
    if kind == "float":
        try:
            real = float(value)
        except ValueError:
            real = math.nan
        if math.isfinite(real) and _in_range(col, real):
            return real
        raise ValueError(
            f"{show_value(value)} is not a number{_number_range(col, False)}" + formula_hint(value)
        )
    if kind == "date":
        if _DATE_RE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError(
            f"{show_value(value)} is not a date: use YYYY-MM-DD, e.g. 2026-08-17"
            + formula_hint(value)
        )
    raise AssertionError(f"unknown column kind {kind}")  # pragma: no cover


MISSING = object()


def convert_cell(col: Column, value: str) -> Any:
    """A cell's value for the model: blank optional cells take the model default."""
    if value == "":
        if col.required:
            raise ValueError("required value is blank")
        return col.default
    if col.kind == "list":
        assert col.item_kind is not None
        items = [v.strip() for v in value.split(";")]
        return tuple(convert_scalar(col.item_kind, col, v) for v in items if v)
    return convert_scalar(col.kind, col, value)


def cell_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, pd.Timestamp | datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, list | tuple | set | frozenset):
        return ";".join(str(v) for v in value)
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)
