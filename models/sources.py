"""Sources: one table's rows from one file (CSV or XLSX) or DataFrame, as stripped text cells.

A :class:`Source` holds the data rows under their canonical column names and a locator that maps
(row position, column) back to the line and column label in the file, for problems.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from famassign.models.cells import cell_text, show_value
from famassign.models.collector import Collector
from famassign.models.columns import TABLES, TableSpec
from famassign.models.files import (
    LimitCrossed,
    ReadLimits,
    Tally,
    open_workbook,
    read_csv,
    sheet_rows,
)
from famassign.models.problems import LocatedProblem, ScenarioError
from famassign.models.vocabularies import normalise_label, suggest_column

logger = logging.getLogger("famassign.models.loading")

TABLE_NAMES = frozenset(TABLES)

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


def _header_index(rows: list[list[str]]) -> int | None:
    """The position of the header: the first row that is not blank (None: all are blank)."""
    return next((i for i, row in enumerate(rows) if any(cell.strip() for cell in row)), None)


def _rows_source(
    spec: TableSpec, file: str, rows: list[list[str]], lines: list[int], out: Collector
) -> Source | None:
    """The source of a table read as rows of text cells, not all blank: the first row that is
    not blank is the header; short rows are padded."""
    start = _header_index(rows) or 0
    rows, lines = rows[start:], lines[start:]
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    frame = pd.DataFrame(rows[1:], columns=range(width), dtype=object)
    source = make_source(spec, file, rows[0], frame, lines[1:], out)
    if source is not None and lines[0] != 1:
        logger.debug("%s: header found on row %d", file, lines[0])
    return source


def _read_csv(path: Path, spec: TableSpec, out: Collector, limits: ReadLimits) -> Source | None:
    table = read_csv(path, limits)
    header = _header_index(table.rows)
    if header is None:
        out.error(path.name, None, None, "the file is empty: it needs a header row of column names")
        return None
    width = len(table.rows[header])
    for row, line in zip(table.rows[header:], table.lines[header:], strict=True):
        if len(row) > width:
            out.error(
                path.name,
                line,
                None,
                f"row has {len(row)} fields but the header has {width}: check the commas "
                "and quotes (cells holding commas must be quoted)",
            )
            return None
    return _rows_source(spec, path.name, table.rows, table.lines, out)


def _excel_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return cell_text(value).strip()


def _read_xlsx(path: Path, spec: TableSpec, out: Collector, limits: ReadLimits) -> Source | None:
    with open_workbook(path, limits, data_only=False) as workbook:
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
        rows: list[list[str]] = []
        lines: list[int] = []
        formulas = 0
        try:
            tally = Tally(path.name, limits)
            for number, row in sheet_rows(workbook[sheets[spec.name]], tally):
                cells = []
                for index, cell in enumerate(row):
                    if getattr(cell, "data_type", None) == "f":
                        formulas += 1
                        if formulas <= 20:
                            out.error(
                                path.name,
                                number,
                                f"column {index + 1}",
                                f"{show_value(cell.value)} is a formula: save values, not "
                                "formulas (copy, paste special, values)",
                            )
                        cells.append("")
                    else:
                        cells.append(_excel_cell(cell.value))
                rows.append(cells)
                lines.append(number)
        except ScenarioError:
            raise
        except Exception as exc:  # openpyxl raises many kinds on a damaged sheet
            out.error(path.name, None, None, f"cannot read the sheet: {str(exc).strip()[:200]}")
            return None
    if formulas:
        return None
    if _header_index(rows) is None:
        out.error(
            path.name,
            None,
            None,
            f"sheet {spec.name!r} is empty: it needs a header row of column names",
        )
        return None
    return _rows_source(spec, path.name, rows, lines, out)


def _sheet_names(path: Path, limits: ReadLimits) -> list[str]:
    """The sheet names of the workbook at `path` ([] when it is not a readable workbook).

    Raises ScenarioError when the workbook crosses a limit.
    """
    try:
        with open_workbook(path, limits, data_only=False) as workbook:
            return [s.strip().lower() for s in workbook.sheetnames]
    except LimitCrossed:
        raise
    except ScenarioError:
        return []


def program_workbook(folder: Path, table: str, limits: ReadLimits) -> Path | None:
    """The one workbook in `folder` (not named after a table) holding a sheet named `table`.

    A program workbook holds several tables as sheets (``program.xlsx`` with ``families`` and
    ``staff``). None when there is no such workbook, or more than one. Raises ScenarioError when
    a workbook in `folder` crosses a limit.
    """
    found = [
        path
        for path in sorted(folder.glob("*.xlsx"))
        if path.is_file()
        and not path.name.startswith(("~$", "."))
        and path.stem.lower() not in TABLE_NAMES
        and table in _sheet_names(path, limits)
    ]
    return found[0] if len(found) == 1 else None


def read_table(
    folder: Path, spec: TableSpec, required: bool, out: Collector, limits: ReadLimits
) -> tuple[Source | None, bool]:
    """(source, readable). A missing optional table is (None, True); a file that cannot be read
    or crosses a limit of `limits` is (None, False) with its problem in `out`."""
    try:
        return _read_table(folder, spec, required, out, limits)
    except ScenarioError as exc:
        out.problems.extend(p for p in exc.problems if isinstance(p, LocatedProblem))
        return None, False


def _read_table(
    folder: Path, spec: TableSpec, required: bool, out: Collector, limits: ReadLimits
) -> tuple[Source | None, bool]:
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
        workbook = program_workbook(folder, spec.name, limits)
        if workbook is not None:
            source = _read_xlsx(workbook, spec, out, limits)
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
    if have_csv:
        source = _read_csv(csv_path, spec, out, limits)
    else:
        source = _read_xlsx(xlsx_path, spec, out, limits)
    return source, source is not None
