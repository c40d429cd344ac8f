"""Rows to records: convert every cell of a source, validate the rows with the model.

Every problem of every row is reported (not just the first); rows valid on their own become
records, and the ids of invalid rows are kept so that cross-record checks do not echo them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import BaseModel, TypeAdapter, ValidationError

from famassign.models.cells import MISSING, convert_cell, show_value
from famassign.models.collector import Collector
from famassign.models.columns import TableSpec
from famassign.models.domain import FAMILY_DISPLAY_FIELDS
from famassign.models.sources import Source
from famassign.models.vocabularies import COLUMN_VOCABULARY, language_code


@dataclass
class ParsedRows:
    """Valid records of one source, the position of each, and the ids of invalid rows."""

    records: list[Any]
    positions: list[int]
    invalid_ids: set[str]


_WORD = re.compile(r"[a-z_]+")


def _model_error_column(spec: TableSpec, message: str) -> str | None:
    """The column a record-level message is about: the first column name it mentions."""
    for word in _WORD.findall(message):
        if word in spec.columns:
            return str(word)
    return None


def pydantic_message(err: Mapping[str, Any]) -> str:
    kind = str(err.get("type", ""))
    message = str(err.get("msg", "invalid value"))
    if kind == "missing":
        return "required value is missing"
    if kind in ("value_error", "assertion_error"):
        return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    message = message[:1].lower() + message[1:]
    if any(part in FAMILY_DISPLAY_FIELDS for part in err.get("loc", ())):
        return f"the value is not valid: {message}"  # private display data is not echoed
    return f"{show_value(err.get('input'))} is not valid: {message}"


_ADAPTERS: dict[type[BaseModel], TypeAdapter[list[Any]]] = {}


def _adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    if model not in _ADAPTERS:
        _ADAPTERS[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    return _ADAPTERS[model]


def _language_cell(text: str) -> str:
    """Language names in a cell as codes (``Spanish;en`` -> ``es;en``); codes (two or three
    letters) and what is not a known language name are kept as written."""
    if ";" in text:
        return ";".join(_language_cell(item) for item in text.split(";"))
    if len(text.strip()) <= 3:
        return text
    return language_code(text) or text


def parse_rows(spec: TableSpec, source: Source, out: Collector) -> ParsedRows:
    """Convert and validate every row of `source`; every problem goes to `out`."""
    frame = source.frame
    n_rows = len(frame)
    flagged: dict[int, set[str]] = {}
    row_errors: list[tuple[int, str, str]] = []
    converted: dict[str, list[Any]] = {}
    for name, col in spec.columns.items():
        if name not in frame.columns:
            continue
        cells = frame[name]
        if COLUMN_VOCABULARY.get((spec.name, name)) == "language":
            cells = cells.map({v: _language_cell(v) for v in pd.unique(cells)})
        mapping: dict[str, Any] = {}
        failures: dict[str, str] = {}
        for value in pd.unique(cells):
            try:
                mapping[value] = convert_cell(col, value)
            except ValueError as exc:
                failures[value] = str(exc)
        values = cells.tolist()
        if failures:
            for pos, value in enumerate(values):
                if value in failures:
                    row_errors.append((pos, name, failures[value]))
                    flagged.setdefault(pos, set()).add(name)
        converted[name] = [mapping.get(v, MISSING) for v in values]
    names = list(converted)
    rows: list[dict[str, Any]] = [
        {k: v for k, v in zip(names, vals, strict=True) if v is not MISSING}
        for vals in zip(*(converted[n] for n in names), strict=True)
    ]
    adapter = _adapter(spec.model)
    bad_rows = set(flagged)
    try:
        records = list(adapter.validate_python(rows))
    except ValidationError as exc:
        for err in exc.errors():
            loc = err["loc"]
            pos = int(loc[0])
            column = str(loc[1]) if len(loc) > 1 else None
            message = pydantic_message(err)
            if column is None:
                column = _model_error_column(spec, message)
            bad_rows.add(pos)
            if column is not None and column in flagged.get(pos, set()):
                continue
            row_errors.append((pos, column or "", message))
        records = []
    positions = [pos for pos in range(n_rows) if pos not in bad_rows]
    if bad_rows:
        records = list(adapter.validate_python([rows[pos] for pos in positions]))
    for pos, column, message in sorted(row_errors, key=lambda e: e[0]):
        line, label = source.locate(pos, column or None)
        out.error(source.file, line, label, message)
    invalid_ids: set[str] = set()
    if bad_rows and spec.id_column in frame.columns:
        ids = frame[spec.id_column]
        invalid_ids = {str(ids.iat[pos]) for pos in bad_rows}
    return ParsedRows(records, positions, invalid_ids)
