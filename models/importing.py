"""Import data-system exports (CSV/XLSX as exported) into a scenario, through a mapping.

Two steps, each usable alone (the planner's page shows the first and lets people correct it):

* :func:`infer_mapping` reads the files and infers an :class:`ImportMapping`: the encoding of
  each CSV (UTF-8, UTF-8 with a byte-order mark, Windows-1252), the header row below any title
  rows, the table each file holds, which header feeds which column (by normalised name, synonym,
  or a near miss that is always reported), whether rows are one per child, the code of every
  label found (languages through ``langcodes``, program options, PFCE outcome names, yes/no,
  intensity, urgency, status) and the date order. It returns the notes saying what it inferred.
* :func:`apply_mapping` applies a mapping and infers nothing: it converts every cell, folds
  per-child rows into one row per family (any child with an IEP/IFSP -> the family needs
  disability services; needs and interests merged; other family-level values must agree), and
  checks the result with the scenario loader. Every problem is located in the input file as
  ``FILE:ROW:COLUMN`` with the header as written; a label with no mapping is reported once, with
  the number of rows holding it.

:func:`write_import` writes the scenario folder and its ``mapping.yaml``.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from famassign.models.cells import cell_text, show_value
from famassign.models.columns import TABLES
from famassign.models.domain import FAMILY_DISPLAY_FIELDS
from famassign.models.files import (
    ENCODING_NAMES,
    ReadLimits,
    Tally,
    given_or_env,
    open_workbook,
    read_csv,
    sheet_rows,
)
from famassign.models.loading import LoadedScenario, read_frames
from famassign.models.mapping import MAPPING_FILE, FileMapping, ImportMapping
from famassign.models.problems import LocatedProblem, ScenarioError
from famassign.models.scenario import Scenario
from famassign.models.vocabularies import (
    CHILD_HEADERS,
    COLUMN_VOCABULARY,
    date_orders_fitting,
    is_code,
    match_header,
    normalise_label,
    parse_date,
    translate,
)
from famassign.models.writing import write_scenario

logger = logging.getLogger(__name__)

HEADER_SEARCH_ROWS = 30
"""How many rows from the top are searched for the header (title rows sit above it)."""
_CODED_COLUMNS = {c for (table, c) in COLUMN_VOCABULARY if table == "families"} | {
    "site",
    "current_staff_id",
    "urgency",
}
"""Family columns whose values a conflict message may show (codes, not free text)."""
_LIST_SPLIT = re.compile(r"[;,|\n]")
_DATE_COLUMNS = {("exceptions", "starts"), ("exceptions", "ends")}


@dataclass(frozen=True)
class RawTable:
    """The cells of one input file (one sheet of a workbook) as text, with their line numbers."""

    path: Path
    sheet: str | None
    encoding: str | None
    rows: list[list[str]]
    lines: list[int]

    @property
    def label(self) -> str:
        """The name problems use: the file name, with ``[sheet]`` for a workbook."""
        return self.path.name + (f"[{self.sheet}]" if self.sheet else "")


@dataclass(frozen=True)
class Inference:
    """An inferred mapping and the sentences saying what was inferred."""

    mapping: ImportMapping
    notes: tuple[str, ...]


@dataclass(frozen=True)
class ImportResult:
    """A scenario made from export files, with the loader's warnings and the import's notes."""

    loaded: LoadedScenario
    mapping: ImportMapping
    notes: tuple[str, ...] = ()
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def scenario(self) -> Scenario:
        """The checked scenario."""
        return self.loaded.scenario


# --------------------------------------------------------------------------------------------
# Reading the files as they are


def _read_csv(path: Path, encoding: str | None, limits: ReadLimits) -> RawTable:
    table = read_csv(path, limits, (encoding,) if encoding else ("utf-8", "cp1252"))
    rows = [[cell.strip() for cell in row] for row in table.rows]
    return RawTable(path, None, table.encoding, rows, table.lines)


def _excel_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    return cell_text(value).strip()


def _read_xlsx(path: Path, limits: ReadLimits) -> list[RawTable]:
    tables = []
    with open_workbook(path, limits, data_only=True) as workbook:
        for sheet in workbook.worksheets:
            rows: list[list[str]] = []
            lines: list[int] = []
            tally = Tally(f"{path.name}[{sheet.title}]", limits)
            for number, row in sheet_rows(sheet, tally):
                rows.append([_excel_text(cell.value) for cell in row])
                lines.append(number)
            tables.append(RawTable(path, sheet.title, None, rows, lines))
    return tables


def read_exports(
    paths: Sequence[str | Path],
    mapping: ImportMapping | None = None,
    *,
    limits: ReadLimits | None = None,
) -> list[RawTable]:
    """Every input file (every sheet of a workbook) as text cells.

    Parameters
    ----------
    paths
        CSV and XLSX files.
    mapping
        When given, the encoding it names for a CSV file is used instead of detecting one.
    limits
        What one file may hold (None: the defaults, as the environment sets them); the same as
        the scenario loader's.

    Returns
    -------
    list of RawTable
        One per CSV file and per workbook sheet, in the order given.

    Raises
    ------
    ScenarioError
        A file that is missing, of another kind, cannot be decoded or crosses a limit.
    """
    limits = given_or_env(limits)
    tables: list[RawTable] = []
    problems: list[LocatedProblem] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            problems.append(LocatedProblem(str(path), None, None, "is a directory, not a file"))
            continue
        if not path.is_file():
            problems.append(LocatedProblem(str(path), None, None, "file not found"))
            continue
        suffix = path.suffix.lower()
        try:
            if suffix in (".csv", ".txt"):
                entry = mapping.file_mapping(path.name, None) if mapping else None
                tables.append(_read_csv(path, entry.encoding if entry else None, limits))
            elif suffix in (".xlsx", ".xlsm"):
                tables.extend(_read_xlsx(path, limits))
            else:
                problems.append(LocatedProblem(path.name, None, None, "not a .csv or .xlsx file"))
        except ScenarioError as exc:
            problems.extend(p for p in exc.problems if isinstance(p, LocatedProblem))
    if problems:
        raise ScenarioError(problems)
    return tables


# --------------------------------------------------------------------------------------------
# Inferring a mapping


def _match_row(row: list[str], table: str) -> dict[int, tuple[str, str]]:
    """Position -> (column, how) for the cells of `row` that name a column of `table`."""
    columns = tuple(TABLES[table].columns)
    found: dict[int, tuple[str, str]] = {}
    taken: dict[str, tuple[int, int]] = {}
    rank = {"name": 0, "synonym": 1, "fuzzy": 2}
    for index, cell in enumerate(row):
        if not cell:
            continue
        column, how = match_header(table, cell, columns)
        if column is None:
            continue
        if column in taken and taken[column][0] <= rank[how]:
            continue
        if column in taken:
            del found[taken[column][1]]
        taken[column] = (rank[how], index)
        found[index] = (column, how)
    return found


def _exact_score(row: list[str], table: str) -> int:
    columns = tuple(TABLES[table].columns)
    return sum(
        1 for cell in row if cell and match_header(table, cell, columns, fuzzy=False)[0] is not None
    )


def _find_header(raw: RawTable) -> tuple[int, str] | None:
    """(row index, table) of the header: the first row naming the most columns of one table."""
    best: tuple[int, int, str] | None = None
    hint = raw.path.stem.lower() + " " + (raw.sheet or "").lower()
    for index, row in enumerate(raw.rows[:HEADER_SEARCH_ROWS]):
        for table in TABLES:
            score = _exact_score(row, table)
            bonus = 1 if table.rstrip("s") in hint else 0
            if score >= 2 and (best is None or score + bonus > best[0]):
                best = (score + bonus, index, table)
    return None if best is None else (best[1], best[2])


def _data_rows(raw: RawTable, header_index: int) -> list[tuple[int, list[str]]]:
    width = len(raw.rows[header_index])
    rows = []
    for row, line in zip(raw.rows[header_index + 1 :], raw.lines[header_index + 1 :], strict=True):
        if any(row):
            rows.append((line, (row + [""] * width)[:width]))
    return rows


_LIST_COLUMNS = {
    (table, name)
    for table, spec in TABLES.items()
    for name, col in spec.columns.items()
    if col.kind == "list"
}


def _items(vocabulary: str, table: str, column: str, text: str) -> list[str]:
    """The labels of one cell: list columns split on ``;``, ``,``, ``|`` or new lines."""
    if (table, column) in _LIST_COLUMNS:
        return [t.strip() for t in _LIST_SPLIT.split(text) if t.strip()]
    return [text.strip()] if text.strip() else []


def infer_mapping(
    paths: Sequence[str | Path],
    *,
    name: str | None = None,
    as_of: Any = None,
    limits: ReadLimits | None = None,
) -> Inference:
    """Infer the mapping of export files to a scenario, saying what was inferred.

    Parameters
    ----------
    paths
        The export files (CSV, XLSX).
    name, as_of
        Scenario name and planning date to record in the mapping (optional).
    limits
        What one file may hold (see :func:`read_exports`).

    Returns
    -------
    Inference
        The mapping (apply it with :func:`apply_mapping`) and one note per inference made.

    Raises
    ------
    ScenarioError
        A file cannot be read, or no header row naming at least two scenario columns is found.
    """
    raws = read_exports(paths, limits=limits)
    notes: list[str] = []
    problems: list[LocatedProblem] = []
    files: list[FileMapping] = []
    values: dict[str, dict[str, str]] = {}
    date_texts: list[str] = []
    for raw in raws:
        if raw.encoding:
            notes.append(f"{raw.label}: encoding {ENCODING_NAMES.get(raw.encoding, raw.encoding)}")
        found = _find_header(raw)
        if found is None:
            if raw.sheet is not None and len(raws) > 1:
                notes.append(f"{raw.label}: no header row found; sheet ignored")
                continue
            problems.append(
                LocatedProblem(
                    raw.label,
                    None,
                    None,
                    "no header row naming two scenario columns in the first "
                    f"{HEADER_SEARCH_ROWS} rows (e.g. 'Family ID', 'Primary Language', 'Site')",
                )
            )
            continue
        index, table = found
        header = raw.rows[index]
        line = raw.lines[index]
        notes.append(f"{raw.label}: the {table} table, header on row {line}")
        matched = _match_row(header, table)
        columns: dict[str, str] = {}
        for pos, cell in enumerate(header):
            if not cell:
                continue
            if pos in matched:
                column, how = matched[pos]
                columns[cell] = column
                if how != "name":
                    notes.append(f"{raw.label}: column {cell!r} -> {column} ({how} match)")
            else:
                notes.append(f"{raw.label}: column {cell!r} not used")
        rows = _data_rows(raw, index)
        by_column = {column: pos for pos, (column, _) in matched.items()}
        per_child = any(normalise_label(c) in CHILD_HEADERS for c in header if c)
        if table == "families" and "family_id" in by_column:
            ids = [row[by_column["family_id"]] for _, row in rows]
            if len(set(ids)) < len(ids):
                per_child = True
        if per_child and table == "families":
            notes.append(f"{raw.label}: one row per child; rows folded into one per family")
        for column, pos in by_column.items():
            vocabulary = COLUMN_VOCABULARY.get((table, column))
            if (table, column) in _DATE_COLUMNS:
                date_texts.extend(row[pos] for _, row in rows if row[pos])
            if vocabulary is None:
                continue
            counts: Counter[str] = Counter()
            for _, row in rows:
                counts.update(_items(vocabulary, table, column, row[pos]))
            for label, count in counts.items():
                if is_code(vocabulary, label) or label in values.get(vocabulary, {}):
                    continue
                code = translate(vocabulary, label)
                if code is not None:
                    values.setdefault(vocabulary, {})[label] = code
                    plural = "s" if count != 1 else ""
                    notes.append(f"{vocabulary}: {label!r} -> {code} ({count} row{plural})")
        files.append(
            FileMapping(
                file=raw.path.name,
                sheet=raw.sheet,
                table=table,
                encoding=raw.encoding,
                header_row=line,
                columns=columns,
                per_child=per_child and table == "families",
            )
        )
    if problems:
        raise ScenarioError(problems)
    date_order = "MDY"
    non_iso = [t for t in date_texts if not re.match(r"\d{4}-", t)]
    if non_iso:
        fitting = [o for o in date_orders_fitting(non_iso) if o != "YMD"]
        if fitting == ["DMY"]:
            date_order = "DMY"
        notes.append(
            f"dates read as {date_order}"
            + (
                " (ambiguous: both orders fit; set date_order to change)"
                if len(fitting) > 1
                else ""
            )
        )
    mapping = ImportMapping(
        date_order=date_order,
        name=name,
        as_of=as_of,
        files=tuple(files),
        values=values,
    )
    logger.debug("inferred a mapping of %d table(s)", len(files))  # no labels: they are family data
    return Inference(mapping, tuple(notes))


# --------------------------------------------------------------------------------------------
# Applying a mapping


@dataclass
class _Table:
    """Rows built for one scenario table, each with its origin (file label, line)."""

    rows: list[dict[str, str]] = field(default_factory=list)
    origins: list[tuple[str, int]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)  # column -> header as written


def _fte(text: str) -> str:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*%", text)
    return str(float(match.group(1)) / 100) if match else text


def _fold(
    table: _Table, label: str, start: int, problems: list[LocatedProblem], headers: dict[str, str]
) -> None:
    """Fold the per-child rows from `start` on into one row per family_id, in place."""
    merged: dict[str, int] = {}
    rows, origins = table.rows[start:], table.origins[start:]
    kept_rows: list[dict[str, str]] = []
    kept_origins: list[tuple[str, int]] = []
    for row, origin in zip(rows, origins, strict=True):
        family = row.get("family_id", "")
        if family not in merged:
            merged[family] = len(kept_rows)
            kept_rows.append(dict(row))
            kept_origins.append(origin)
            continue
        target = kept_rows[merged[family]]
        first_line = kept_origins[merged[family]][1]
        for column, value in row.items():
            have = target.get(column, "")
            # the private display data is merged (each distinct value once, a child per row)
            if column in ("needs", "interests", *FAMILY_DISPLAY_FIELDS):
                items = [i.strip() for i in have.split(";") if i.strip()]
                items += [i.strip() for i in value.split(";") if i.strip() not in ("", *items)]
                target[column] = ";".join(items)
            elif column == "disability_services":
                target[column] = "true" if "true" in (have, value) else (have or value)
            elif value and not have:
                target[column] = value
            elif value and have and value != have:
                shown = (
                    f"has {show_value(value)} here but {show_value(have)} on row {first_line}"
                    if column in _CODED_COLUMNS
                    else f"differs here from row {first_line}"  # free text is not echoed
                )
                problems.append(
                    LocatedProblem(
                        label,
                        origin[1],
                        headers.get(column, column),
                        f"family {family!r} {shown}: rows of one family must agree on "
                        "family-level values",
                    )
                )
    table.rows[start:] = kept_rows
    table.origins[start:] = kept_origins
    table.headers[start:] = [headers] * len(kept_rows)


def apply_mapping(
    paths: Sequence[str | Path],
    mapping: ImportMapping,
    *,
    raws: list[RawTable] | None = None,
    limits: ReadLimits | None = None,
) -> ImportResult:
    """Apply `mapping` to the export files and check the scenario they make; infer nothing.

    Parameters
    ----------
    paths
        The export files the mapping describes.
    mapping
        Which file holds which table, header -> column, label -> code, the date order.
    raws
        The files already read (by :func:`read_exports`), to avoid reading them twice.
    limits
        What one file, and each table made, may hold (see :func:`read_exports`).

    Returns
    -------
    ImportResult
        The checked scenario with the loader's warnings (located in the input files).

    Raises
    ------
    ScenarioError
        Every problem, as ``FILE:ROW:COLUMN`` in the input files: a file the mapping does not
        name, a header it names that is missing, a label with no mapping (once per label, with
        its count), conflicting rows of one family, and every problem the scenario loader finds.
    """
    limits = given_or_env(limits)
    raws = raws if raws is not None else read_exports(paths, mapping, limits=limits)
    problems: list[LocatedProblem] = []
    notes: list[str] = []
    tables: dict[str, _Table] = {name: _Table() for name in TABLES}
    unmapped: dict[tuple[str, str, str, str], list[int]] = {}
    for raw in raws:
        entry = mapping.file_mapping(raw.path.name, raw.sheet)
        if entry is None:
            if raw.sheet is None or not any(f.file == raw.path.name for f in mapping.files):
                problems.append(
                    LocatedProblem(raw.label, None, None, "not named in the mapping: add it")
                )
            continue
        index = next((i for i, n in enumerate(raw.lines) if n == entry.header_row), None)
        header = raw.rows[index] if index is not None else []
        positions = {cell: pos for pos, cell in enumerate(header) if cell}
        missing = [h for h in entry.columns if h not in positions]
        if missing:
            for h in missing:
                problems.append(
                    LocatedProblem(
                        raw.label, entry.header_row, h, "the mapping names this header; not found"
                    )
                )
            continue
        assert index is not None
        target = tables[entry.table]
        headers = {column: h for h, column in entry.columns.items()}
        start = len(target.rows)
        for line, row in _data_rows(raw, index):
            record: dict[str, str] = {}
            for h, column in entry.columns.items():
                text = row[positions[h]]
                vocabulary = COLUMN_VOCABULARY.get((entry.table, column))
                if vocabulary is not None:
                    codes = []
                    for item in _items(vocabulary, entry.table, column, text):
                        if is_code(vocabulary, item):
                            codes.append(item.lower())
                        elif item in mapping.values.get(vocabulary, {}):
                            codes.append(mapping.values[vocabulary][item])
                        else:
                            key = (raw.label, h, vocabulary, item)
                            unmapped.setdefault(key, []).append(line)
                    text = ";".join(codes)
                elif (entry.table, column) in _DATE_COLUMNS and text:
                    day = parse_date(text, mapping.date_order)
                    if day is None:
                        problems.append(
                            LocatedProblem(
                                raw.label,
                                line,
                                h,
                                f"{show_value(text)} is not a date in the order "
                                f"{mapping.date_order} (date_order in the mapping)",
                            )
                        )
                    else:
                        text = day.isoformat()
                elif column == "fte":
                    text = _fte(text)
                record[column] = text
            target.rows.append(record)
            target.origins.append((raw.label, line))
            target.headers.append(headers)
        if entry.per_child:
            before = len(target.rows) - start
            _fold(target, raw.label, start, problems, headers)
            notes.append(
                f"{raw.label}: {before} child rows folded into {len(target.rows) - start} families"
            )
    for (label, h, vocabulary, item), lines in unmapped.items():
        problems.append(
            LocatedProblem(
                label,
                lines[0],
                h,
                f"{show_value(item)} has no {vocabulary} code ({len(lines)} row"
                f"{'s' if len(lines) != 1 else ''}, the first here): add it under "
                f"values.{vocabulary} in the mapping",
            )
        )
    for required in ("families", "staff"):
        if not tables[required].rows and not any(f.table == required for f in mapping.files):
            problems.append(
                LocatedProblem(required, None, None, f"no input file holds the {required} table")
            )
    if problems:
        raise ScenarioError(problems)
    frames = {
        name: pd.DataFrame(t.rows, columns=_columns_in(t), dtype=object).fillna("")
        for name, t in tables.items()
        if t.rows or name in ("families", "staff")
    }
    config: dict[str, Any] = {}
    if mapping.name:
        config["name"] = mapping.name
    if mapping.as_of:
        config["as_of"] = mapping.as_of.isoformat()
    try:
        loaded = read_frames(
            frames["families"],
            frames["staff"],
            frames.get("exceptions"),
            frames.get("conflicts"),
            config,
            limits=limits,
        )
    except ScenarioError as exc:
        raise ScenarioError([_relocate(p, tables) for p in exc.problems]) from None
    warnings = tuple(_relocate(w, tables) for w in loaded.warnings)
    loaded = LoadedScenario(loaded.scenario, warnings, loaded.notes, None, loaded.config_lines)
    return ImportResult(loaded, mapping, tuple(notes), frames)


def _columns_in(table: _Table) -> list[str]:
    seen: dict[str, None] = {}
    for row in table.rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def _relocate(problem: Any, tables: dict[str, _Table]) -> LocatedProblem:
    """A loader problem on a built table, located at the input file, row and header."""
    if not isinstance(problem, LocatedProblem):
        return LocatedProblem("scenario", None, None, str(problem))
    stem = Path(problem.file).name.split(".")[0]
    table = tables.get(stem)
    if table is None or problem.line is None or not 2 <= problem.line < len(table.rows) + 2:
        return problem
    position = problem.line - 2
    label, line = table.origins[position]
    column = problem.column
    if column is not None:
        column = table.headers[position].get(column, column)
    message = re.sub(
        r"\brow (\d+)\b",
        lambda m: _origin_text(table, int(m.group(1))),
        problem.message,
    )
    return LocatedProblem(label, line, column, message)


def _origin_text(table: _Table, line: int) -> str:
    if 2 <= line < len(table.origins) + 2:
        label, source_line = table.origins[line - 2]
        return f"{label} row {source_line}"
    return f"row {line}"


# --------------------------------------------------------------------------------------------
# Writing


def write_import(result: ImportResult, out: str | Path) -> list[Path]:
    """Write the scenario folder (see :func:`famassign.models.writing.write_scenario`) and its
    ``mapping.yaml``; return the paths written.

    Raises
    ------
    FileExistsError
        When `out` holds a families.xlsx or staff.xlsx that would shadow the CSV files.
    """
    folder = write_scenario(result.scenario, out)
    mapping_path = folder / MAPPING_FILE
    mapping_path.write_text(result.mapping.to_yaml(), encoding="utf-8")
    names = ["scenario.yaml", "families.csv", "staff.csv", "exceptions.csv", "conflicts.csv"]
    return [folder / n for n in names] + [mapping_path]


def import_exports(
    paths: Sequence[str | Path],
    out: str | Path | None = None,
    mapping: ImportMapping | None = None,
    *,
    limits: ReadLimits | None = None,
) -> tuple[ImportResult, tuple[str, ...]]:
    """Import export files: infer a mapping unless one is given, apply it, write when `out`.

    Parameters
    ----------
    paths
        The export files (CSV, XLSX).
    out
        The scenario folder to write (with ``mapping.yaml``); None writes nothing.
    mapping
        The mapping to apply; None infers one (see :func:`infer_mapping`).
    limits
        What one file may hold (see :func:`read_exports`).

    Returns
    -------
    tuple
        The :class:`ImportResult` and the notes of what was inferred (empty with a mapping).

    Raises
    ------
    ScenarioError
        Every problem found, located in the input files.
    """
    inferred: tuple[str, ...] = ()
    if mapping is None:
        inference = infer_mapping(paths, limits=limits)
        mapping, inferred = inference.mapping, inference.notes
    result = apply_mapping(paths, mapping, limits=limits)
    if out is not None:
        write_import(result, out)
    return result, inferred + result.notes


__all__ = [
    "HEADER_SEARCH_ROWS",
    "ImportResult",
    "Inference",
    "RawTable",
    "apply_mapping",
    "import_exports",
    "infer_mapping",
    "read_exports",
    "write_import",
]
