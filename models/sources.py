"""Sources: one table's rows from one file (CSV or XLSX) or DataFrame, as stripped text cells.

A :class:`Source` holds the data rows under their canonical column names and a locator that maps
(row position, column) back to the line and column label in the file, for problems.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from famassign.models.cells import cell_text, show_value
from famassign.models.collector import Collector
from famassign.models.columns import TABLES, TableSpec
from famassign.models.vocabularies import normalise_label, suggest_column

logger = logging.getLogger("famassign.models.loading")

MAX_FILE_BYTES = 200 * 1024 * 1024
"""Larger input files are refused before reading."""
MAX_ROWS = 1_000_000
"""Most data rows accepted in one table."""
TABLE_NAMES = frozenset(TABLES)
MAX_COLUMNS = 500
"""Most columns accepted in one table."""

Locator = Callable[[int, str | None], tuple[int | None, str | None]]


@dataclass
class Source:
    """Rows of one logical table from one file: stripped str cells, canonical column names."""

    file: str
    frame: pd.DataFrame
    locate: Locator
    """(row position, column) -> (line, column label) for problems."""


def csv_locator(lines: list[int]) -> Locator:
    def locate(pos: int, column: str | None) -> tuple[int | None, str | None]:
        return lines[pos], column

    return locate


def make_source(
    spec: TableSpec,
    file: str,
    header: list[str],
    frame: pd.DataFrame,
    lines: list[int],
    out: Collector,
) -> Source | None:
    """Check the header and tidy the cells of a table read from a file or a DataFrame.

    `frame` holds the data rows as str cells with positional columns matching `header`; `lines`
    the line of each row. Returns None (with problems) when the table cannot be read further.
    """
    if len(header) > MAX_COLUMNS:
        out.error(file, 1, None, f"{len(header)} columns, more than {MAX_COLUMNS}: wrong file?")
        return None
    if len(frame) > MAX_ROWS:
        out.error(file, None, None, f"{len(frame)} rows, more than {MAX_ROWS}: split the program")
        return None
    names = [str(h).strip().lstrip("\ufeff").lower() for h in header]
    named = [n for n in names if n]
    if len(named) == 1 and any(sep in named[0] for sep in ";\t|"):
        sep = next(s for s in ";\t|" if s in named[0])
        out.error(
            file,
            1,
            None,
            f"the header is a single column {show_value(named[0])} that contains {sep!r}: "
            "separate columns with commas (use commas, not semicolons or tabs)",
        )
        return None
    frame = frame.copy()
    frame.columns = pd.RangeIndex(len(names))
    columns = spec.columns
    keep: dict[str, int] = {}
    ok = True
    unknown: list[str] = []
    for index, written in enumerate(names):
        name = written if written in columns else normalise_label(written) or written
        if not name:
            if (frame[index].astype(str).str.strip() != "").any():
                out.warn(file, 1, None, f"column {index + 1} has no name; ignored")
            continue
        if name in keep:
            out.error(file, 1, name, "the column appears twice in the header")
            ok = False
        elif name in columns:
            keep[name] = index
        else:
            unknown.append(written)
    suggestions = {w: suggest_column(spec.name, w, tuple(columns)) for w in unknown}
    for written in unknown:
        hint = suggestions[written]
        out.warn(
            file,
            1,
            written,
            "unknown column; ignored"
            + (f" (did you mean {hint!r}?)" if hint and hint not in keep else ""),
        )
    for name, col in columns.items():
        if col.required and name not in keep:
            meant = [w for w, s in suggestions.items() if s == name]
            out.error(
                file,
                1,
                name,
                "required column is missing"
                + (f" (is {meant[0]!r} meant to be {name!r}?)" if meant else ""),
            )
            ok = False
    if not ok:
        return None
    tidy = pd.DataFrame(
        {name: frame[index].astype(str).str.strip() for name, index in keep.items()},
        index=frame.index,
    )
    blank_row = (tidy == "").all(axis=1).to_numpy()
    row_lines = [line for line, blank in zip(lines, blank_row, strict=True) if not blank]
    tidy = tidy.loc[~blank_row].reset_index(drop=True)
    return Source(file, tidy, csv_locator(row_lines))


def file_too_big(path: Path, limit: int, out: Collector) -> bool:
    size = path.stat().st_size
    if size > limit:
        out.error(
            path.name,
            None,
            None,
            f"file is {size / 1e6:.0f} MB, more than the {limit / 1e6:.0f} MB accepted",
        )
        return True
    return False


def _decode(path: Path, out: Collector) -> str | None:
    raw = path.read_bytes()
    if raw.startswith(codecs.BOM_UTF16_LE) or raw.startswith(codecs.BOM_UTF16_BE):
        out.error(path.name, None, None, "UTF-16 text, not UTF-8: save it as CSV UTF-8")
        return None
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        out.error(
            path.name,
            line,
            None,
            f"not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start}): "
            "save it as CSV UTF-8",
        )
        return None
    if "\x00" in text:
        out.error(
            path.name, None, None, "contains NUL bytes: not a text file (save it as CSV UTF-8)"
        )
        return None
    return text


_FIELDS_RE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def _record_lines(text: str, n_records: int) -> list[int]:
    """The line where each CSV record starts (records may span lines inside quotes)."""
    if '"' not in text:
        return list(range(1, n_records + 1))
    starts = []
    reader = csv.reader(io.StringIO(text))
    previous_end = 0
    try:
        for _ in reader:
            starts.append(previous_end + 1)
            previous_end = reader.line_num
    except csv.Error:
        pass
    if len(starts) != n_records:
        return list(range(1, n_records + 1))
    return starts


def _read_csv(path: Path, spec: TableSpec, out: Collector) -> Source | None:
    text = _decode(path, out)
    if text is None:
        return None
    if not text.strip():
        out.error(path.name, None, None, "the file is empty: it needs a header row of column names")
        return None
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
    except pd.errors.ParserError as exc:
        match = _FIELDS_RE.search(str(exc))
        if match:
            expected, line, saw = match.groups()
            out.error(
                path.name,
                int(line),
                None,
                f"row has {saw} fields but the header has {expected}: check the commas "
                "and quotes (cells holding commas must be quoted)",
            )
        else:
            out.error(
                path.name,
                None,
                None,
                f"cannot read as CSV ({str(exc).strip()[:200]}): check the quotes",
            )
        return None
    except Exception as exc:  # pandas raises many kinds on hostile input
        out.error(path.name, None, None, f"cannot read as CSV: {str(exc).strip()[:200]}")
        return None
    if frame.empty:
        out.error(path.name, None, None, "the file is empty: it needs a header row of column names")
        return None
    lines = _record_lines(text, len(frame))
    header = [str(h) for h in frame.iloc[0].tolist()]
    return make_source(
        spec, path.name, header, frame.iloc[1:].reset_index(drop=True), lines[1:], out
    )


def _excel_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return cell_text(value).strip()


def _read_xlsx(path: Path, spec: TableSpec, out: Collector) -> Source | None:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:
        out.error(
            path.name,
            None,
            None,
            f"not a readable Excel workbook (.xlsx): {str(exc).strip()[:200]}",
        )
        return None
    try:
        sheets = {s.strip().lower(): s for s in workbook.sheetnames}
        if spec.name not in sheets and len(sheets) == 1 and path.stem.lower() == spec.name:
            only = workbook.sheetnames[0]
            logger.info("%s: the only sheet, %r, read as the %s table", path.name, only, spec.name)
            sheets[spec.name] = only
        if spec.name not in sheets:
            out.error(
                path.name,
                None,
                None,
                f"sheet {spec.name!r} is missing (the workbook has: "
                f"{', '.join(workbook.sheetnames) or 'no sheets'})",
            )
            return None
        sheet = workbook[sheets[spec.name]]
        rows: list[list[str]] = []
        lines: list[int] = []
        formulas = 0
        for number, row in enumerate(sheet.iter_rows(), start=1):
            if number > MAX_ROWS + 1:
                out.error(path.name, None, None, f"more than {MAX_ROWS} rows: split the program")
                return None
            cells = []
            for index, cell in enumerate(row):
                if getattr(cell, "data_type", None) == "f":
                    formulas += 1
                    if formulas <= 20:
                        out.error(
                            path.name,
                            number,
                            f"column {index + 1}",
                            f"{show_value(cell.value)} is a formula: save values, not formulas "
                            "(copy, paste special, values)",
                        )
                    cells.append("")
                else:
                    cells.append(_excel_cell(cell.value))
            rows.append(cells)
            lines.append(number)
        if formulas:
            return None
    except Exception as exc:
        out.error(path.name, None, None, f"cannot read the sheet: {str(exc).strip()[:200]}")
        return None
    finally:
        workbook.close()
    while rows and not any(rows[0]):
        rows.pop(0)
        lines.pop(0)
    if not rows:
        out.error(
            path.name,
            None,
            None,
            f"sheet {spec.name!r} is empty: it needs a header row of column names",
        )
        return None
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    frame = pd.DataFrame(rows[1:], columns=range(width), dtype=object)
    source = make_source(spec, path.name, rows[0], frame, lines[1:], out)
    if source is not None and lines[0] != 1:
        logger.debug("%s: header found on row %d", path.name, lines[0])
    return source


def _sheet_names(path: Path) -> list[str]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True)
    except Exception:
        return []
    try:
        return [s.strip().lower() for s in workbook.sheetnames]
    finally:
        workbook.close()


def program_workbook(folder: Path, table: str) -> Path | None:
    """The one workbook in `folder` (not named after a table) holding a sheet named `table`.

    A program workbook holds several tables as sheets (``program.xlsx`` with ``families`` and
    ``staff``). None when there is no such workbook, or more than one.
    """
    found = [
        path
        for path in sorted(folder.glob("*.xlsx"))
        if path.is_file()
        and not path.name.startswith(("~$", "."))
        and path.stem.lower() not in TABLE_NAMES
        and table in _sheet_names(path)
    ]
    return found[0] if len(found) == 1 else None


def read_table(
    folder: Path, spec: TableSpec, required: bool, out: Collector
) -> tuple[Source | None, bool]:
    """(source, readable). A missing optional table is (None, True)."""
    csv_path, xlsx_path = folder / f"{spec.name}.csv", folder / f"{spec.name}.xlsx"
    for path in (csv_path, xlsx_path):
        if path.is_dir():
            out.error(str(path), None, None, "is a directory, not a file: remove or rename it")
            return None, False
    have_csv, have_xlsx = csv_path.is_file(), xlsx_path.is_file()
    if have_csv and have_xlsx:
        out.error(
            str(folder / spec.file),
            None,
            None,
            f"both {spec.name}.csv and {spec.name}.xlsx exist: keep only one",
        )
        return None, False
    if not have_csv and not have_xlsx:
        workbook = program_workbook(folder, spec.name)
        if workbook is not None:
            if file_too_big(workbook, MAX_FILE_BYTES, out):
                return None, False
            source = _read_xlsx(workbook, spec, out)
            return source, source is not None
        if required:
            out.error(
                str(folder / spec.file),
                None,
                None,
                f"required file is missing ({spec.name}.csv or {spec.name}.xlsx)",
            )
            return None, False
        return None, True
    path = csv_path if have_csv else xlsx_path
    if file_too_big(path, MAX_FILE_BYTES, out):
        return None, False
    source = _read_csv(path, spec, out) if have_csv else _read_xlsx(path, spec, out)
    return source, source is not None
