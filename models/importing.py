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

import difflib
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
from famassign.models.domain import ALL_SITES, FAMILY_DISPLAY_FIELDS
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
from famassign.models.mapping import (
    INTENSITY_RULES,
    MAPPING_FILE,
    OTHER_AGENCY,
    FileMapping,
    ImportMapping,
)
from famassign.models.problems import LocatedProblem, Problem, ScenarioError
from famassign.models.scenario import Scenario
from famassign.models.vocabularies import (
    ALL_WORDS,
    CHILD_HEADERS,
    COLUMN_VOCABULARY,
    LIST_SEPARATORS,
    NUMERIC_URGENCY_DIRECTION,
    TO_CONFIRM,
    URGENCY_SCALES,
    date_orders_fitting,
    is_code,
    match_header,
    normalise_label,
    parse_date,
    read_label,
    suggest_codes,
    urgency_scale_of,
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
    readings: tuple[LabelReading, ...] = ()


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


_FOOTER = re.compile(
    r"(grand\s+|sub)?totals?\b|(total\s+)?(records?|rows?|count|families|children)\s*[:=]"
    r"|page\s+\d+(\s+of\s+\d+)?$|(report\s+)?(run|printed|generated|created)\s+(on|by|at)\b"
    r"|end\s+of\s+report|\d+\s+(records?|rows?|families|children)$",
    re.IGNORECASE,
)
"""A footer, total or page line of a report-style export (``Total Records: 1013``, ``Page 3 of
7``, ``Report run on ...``): a row holding at most two cells, one of them such a text."""


def _is_footer(row: list[str]) -> bool:
    filled = [cell for cell in row if cell]
    return len(filled) <= 2 and any(_FOOTER.match(cell) for cell in filled)


def _data_rows(raw: RawTable, header_index: int) -> tuple[list[tuple[int, list[str]]], list[int]]:
    """The data rows below the header as (line, cells), and the lines of footer rows skipped
    (blank rows are skipped silently)."""
    width = len(raw.rows[header_index])
    rows = []
    footers = []
    for row, line in zip(raw.rows[header_index + 1 :], raw.lines[header_index + 1 :], strict=True):
        if _is_footer(row):
            footers.append(line)
        elif any(row):
            rows.append((line, (row + [""] * width)[:width]))
    return rows, footers


def _footer_note(raw: RawTable, footers: list[int]) -> str:
    return (
        f"{raw.label}: {len(footers)} footer, total or page row(s) skipped "
        f"(row {', '.join(str(n) for n in footers[:5])})"
    )


_LIST_COLUMNS = {
    (table, name)
    for table, spec in TABLES.items()
    for name, col in spec.columns.items()
    if col.kind == "list"
}


def _items(table: str, column: str, text: str, separator: str | None) -> list[str]:
    """The labels of one cell: a list column split on its `separator` (None: on any of ``;``,
    ``,``, ``|`` or new lines)."""
    if (table, column) in _LIST_COLUMNS:
        parts = text.split(separator) if separator else _LIST_SPLIT.split(text)
        return [t.strip() for t in parts if t.strip()]
    return [text.strip()] if text.strip() else []


def _separator(cells: list[str]) -> str | None:
    """The separator of :data:`LIST_SEPARATORS` found in the most cells (None: no cell holds
    more than one item)."""
    counts = {sep: sum(sep in cell for cell in cells) for sep in LIST_SEPARATORS}
    best = max(LIST_SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else None


def _means_all(table: str, column: str, item: str) -> bool:
    """Whether `item` in a staff member's sites or program options means every one."""
    return (
        table == "staff"
        and column in ("sites", "program_options")
        and normalise_label(item) in ALL_WORDS
    )


def _name_key(name: str) -> str:
    """A staff name as a key: normalised, its words in any order (``Núñez, José`` = ``Jose
    Nunez``)."""
    return "_".join(sorted(normalise_label(name).split("_")))


@dataclass(frozen=True)
class Roster:
    """The staff ids of the staff table and the ids each name (see :func:`_name_key`) stands for."""

    ids: frozenset[str]
    by_name: dict[str, tuple[str, ...]]

    def read(self, text: str) -> tuple[str | None, tuple[str, ...], str]:
        """(staff id, (), why) for an id or a name standing for one staff member; (None,
        candidates, why) for a name standing for several, or for none (the nearest ids)."""
        if text in self.ids:
            return text, (), ""
        found = self.by_name.get(_name_key(text), ())
        if len(found) == 1:
            return found[0], (), "a name on the roster"
        if found:
            return None, found, f"ambiguous: {len(found)} staff members have this name"
        close = difflib.get_close_matches(_name_key(text), list(self.by_name), n=3, cutoff=0.6)
        return None, tuple(i for key in close for i in self.by_name[key]), "not on the roster"


def _roster(rows: list[dict[str, str]]) -> Roster:
    by_name: dict[str, list[str]] = {}
    for row in rows:
        if row.get("name") and row.get("staff_id"):
            by_name.setdefault(_name_key(row["name"]), []).append(row["staff_id"])
    return Roster(
        frozenset(r["staff_id"] for r in rows if r.get("staff_id")),
        {k: tuple(v) for k, v in by_name.items()},
    )


@dataclass(frozen=True)
class LabelReading:
    """One distinct label of a mapped column: its count, its code and how it was found.

    `how` is ``exact``, ``synonym``, ``near miss``, ``guess`` (see
    :class:`famassign.models.vocabularies.LabelMatch`), ``name`` (a staff member's name matched
    against the roster) or ``unknown`` (no candidate: the import refuses it, naming
    `suggestions`).
    """

    file: str
    header: str
    vocabulary: str
    label: str
    count: int
    code: str | None
    how: str
    reason: str = ""
    suggestions: tuple[str, ...] = ()

    @property
    def to_confirm(self) -> bool:
        """Whether the manager should confirm this reading (a near miss or a guess)."""
        return self.how in TO_CONFIRM

    def __str__(self) -> str:
        where = f"{self.file}:{self.header}: "
        rows = f"{self.count} row{'s' if self.count != 1 else ''}"
        if self.code is None:
            nearest = ", ".join(self.suggestions) or "none"
            return (
                f"{where}{self.label!r} has no {self.vocabulary} code ({rows}); nearest: {nearest}"
            )
        detail = f"{self.how}: {self.reason}" if self.reason else self.how
        confirm = "; a guess: confirm it" if self.to_confirm else ""
        return f"{where}{self.label!r} -> {self.code or '(blank)'} ({detail}; {rows}){confirm}"


_SEPARATOR_NAMES = {";": "';'", ",": "','", "/": "'/'", "|": "'|'", "\n": "new lines"}


def _cell_vocabulary(table: str, column: str, roster: Roster, yes_no: bool) -> str | None:
    """The vocabulary a cell's labels are read through: yes/no for an agency flag, ``staff`` for
    a family's current staff member when the roster names staff, else
    :data:`COLUMN_VOCABULARY`'s."""
    if yes_no:
        return "bool"
    if (table, column) == ("families", "current_staff_id"):
        return "staff" if roster.by_name else None
    return COLUMN_VOCABULARY.get((table, column))


def _located(
    raws: list[RawTable], notes: list[str]
) -> tuple[list[tuple[RawTable, int, str]], list[LocatedProblem]]:
    """Each file with its header row index and table; a file with none is a problem (a sheet
    among others is ignored, with a note)."""
    located = []
    problems = []
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
        located.append((raw, found[0], found[1]))
    return located, problems


def _inferred_roster(located: list[tuple[RawTable, int, str]]) -> Roster:
    rows = []
    for raw, index, table in located:
        if table != "staff":
            continue
        matched = _match_row(raw.rows[index], table)
        for _, cells in _data_rows(raw, index)[0]:
            rows.append({column: cells[pos] for pos, (column, _) in matched.items()})
    return _roster(rows)


def _read_labels(
    raw: RawTable,
    header: str,
    vocabulary: str,
    counts: Counter[str],
    roster: Roster,
) -> list[LabelReading]:
    """The reading of every distinct label of one column."""
    readings = []
    scale = urgency_scale_of(list(counts)) if vocabulary == "urgency" else None
    for label, count in counts.items():
        if vocabulary == "staff":
            code, near, why = roster.read(label)
            how = "exact" if code == label else "name" if code else "unknown"
            readings.append(
                LabelReading(raw.label, header, vocabulary, label, count, code, how, why, near)
            )
            continue
        match = read_label(vocabulary, label, scale)
        if match is None:
            readings.append(
                LabelReading(
                    raw.label,
                    header,
                    vocabulary,
                    label,
                    count,
                    None,
                    "unknown",
                    suggestions=suggest_codes(vocabulary, label),
                )
            )
        else:
            readings.append(
                LabelReading(
                    raw.label, header, vocabulary, label, count, match.code, match.how, match.reason
                )
            )
    return readings


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
        The mapping (apply it with :func:`apply_mapping`), one note per inference made, and the
        reading of every distinct label of every mapped column (known or not; an unknown label
        has no code in the mapping, so applying it refuses the label, naming its suggestions).

    Raises
    ------
    ScenarioError
        A file cannot be read, or no header row naming at least two scenario columns is found.
    """
    raws = read_exports(paths, limits=limits)
    notes: list[str] = []
    located, problems = _located(raws, notes)
    if problems:
        raise ScenarioError(problems)
    roster = _inferred_roster(located)
    files: list[FileMapping] = []
    values: dict[str, dict[str, str]] = {}
    readings: list[LabelReading] = []
    date_texts: list[str] = []
    intensity_rule: Any = None
    for raw, index, table in located:
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
        rows, footers = _data_rows(raw, index)
        if footers:
            notes.append(_footer_note(raw, footers))
        by_column = {column: pos for pos, (column, _) in matched.items()}
        per_child = any(normalise_label(c) in CHILD_HEADERS for c in header if c)
        if table == "families" and "family_id" in by_column:
            ids = [row[by_column["family_id"]] for _, row in rows]
            if len(set(ids)) < len(ids):
                per_child = True
        if per_child and table == "families":
            notes.append(f"{raw.label}: one row per child; rows folded into one per family")
        if table == "families" and "intensity" not in by_column:
            intensity_rule = "needs_and_urgency"
            notes.append(
                f"{raw.label}: no intensity column; intensity inferred by the rule "
                f"needs_and_urgency ({INTENSITY_RULES['needs_and_urgency']}): an inference, "
                "change intensity_rule or map a column"
            )
        separators: dict[str, str] = {}
        yes_no: list[str] = []
        for column, pos in by_column.items():
            head = header[pos]
            cells = [row[pos] for _, row in rows if row[pos]]
            if (table, column) in _DATE_COLUMNS:
                date_texts.extend(cells)
            separator = None
            if (table, column) in _LIST_COLUMNS:
                separator = _separator(cells)
                if separator:
                    separators[head] = separator
                    notes.append(
                        f"{raw.label}: column {head!r} is a list separated by "
                        f"{_SEPARATOR_NAMES[separator]}"
                    )
            counts: Counter[str] = Counter()
            for cell in cells:
                counts.update(_items(table, column, cell, separator))
            for label in [x for x in counts if _means_all(table, column, x)]:
                every = "site" if column == "sites" else "program option"
                count = counts.pop(label)
                notes.append(
                    f"{raw.label}: {label!r} in column {head!r} means every {every} "
                    f"({count} row{'s' if count != 1 else ''})"
                )
            flag = (table, column) == ("families", "external_plan_agency") and all(
                read_label("bool", x) is not None for x in counts
            )
            if flag and counts:
                yes_no.append(head)
                notes.append(
                    f"{raw.label}: column {head!r} is a yes/no flag: yes means a plan with an "
                    f"agency it does not name ({OTHER_AGENCY})"
                )
            vocabulary = _cell_vocabulary(table, column, roster, flag and bool(counts))
            if vocabulary is None:
                continue
            if vocabulary == "urgency" and counts and all(x.isdigit() for x in counts):
                top = max(int(x) for x in counts)
                notes.append(
                    f"{raw.label}: column {head!r} holds numbers (1-{top}): read "
                    f"{NUMERIC_URGENCY_DIRECTION}"
                    + (", binned in pairs" if top > 5 else "")
                    + "; a guess: confirm it, or map the numbers under values.urgency"
                )
            scale = urgency_scale_of(list(counts)) if vocabulary == "urgency" else None
            if scale in URGENCY_SCALES and scale != "famassign":
                steps = " / ".join(URGENCY_SCALES[scale])
                notes.append(
                    f"{raw.label}: column {head!r} read on the {scale} scale ({steps}), most "
                    "urgent first, as urgency 5 down to 1; a guess: confirm it"
                )
            for reading in _read_labels(raw, head, vocabulary, counts, roster):
                readings.append(reading)
                if reading.code is not None and reading.how != "exact":
                    values.setdefault(vocabulary, {}).setdefault(reading.label, reading.code)
                if reading.how != "exact":
                    notes.append(str(reading))
        files.append(
            FileMapping(
                file=raw.path.name,
                sheet=raw.sheet,
                table=table,
                encoding=raw.encoding,
                header_row=line,
                columns=columns,
                per_child=per_child and table == "families",
                separators=separators,
                yes_no=tuple(yes_no),
            )
        )
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
        intensity_rule=intensity_rule,
    )
    logger.debug("inferred a mapping of %d table(s)", len(files))  # no labels: they are family data
    return Inference(mapping, tuple(notes), tuple(readings))


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
    refused: set[tuple[str, int, str]] = set()  # (file, line, header) of a refused label
    roster = _roster([])
    entries = [(raw, mapping.file_mapping(raw.path.name, raw.sheet)) for raw in raws]
    entries.sort(key=lambda item: item[1] is None or item[1].table != "staff")  # roster first
    for raw, entry in entries:
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
        if entry.table == "families" and not roster.ids:
            roster = _roster(tables["staff"].rows)
        target = tables[entry.table]
        headers = {column: h for h, column in entry.columns.items()}
        start = len(target.rows)
        rows, footers = _data_rows(raw, index)
        if footers:
            notes.append(_footer_note(raw, footers))
        for line, row in rows:
            record: dict[str, str] = {}
            for h, column in entry.columns.items():
                text = row[positions[h]]
                vocabulary = _cell_vocabulary(entry.table, column, roster, h in entry.yes_no)
                if vocabulary is not None or (entry.table, column) in _LIST_COLUMNS:
                    codes = []
                    for item in _items(entry.table, column, text, entry.separators.get(h)):
                        if _means_all(entry.table, column, item):
                            codes += [ALL_SITES] if column == "sites" else []
                            continue
                        code = _code(vocabulary, item, mapping, roster)
                        if code is None:
                            assert vocabulary is not None
                            unmapped.setdefault((raw.label, h, vocabulary, item), []).append(line)
                            refused.add((raw.label, line, h))
                        elif code:
                            codes.append(code)
                    text = ";".join(codes)
                    if h in entry.yes_no:
                        text = OTHER_AGENCY if text in ("true", "yes", "1") else ""
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
        nearest = roster.read(item)[1] if vocabulary == "staff" else suggest_codes(vocabulary, item)
        problems.append(
            LocatedProblem(
                label,
                lines[0],
                h,
                f"{show_value(item)} has no {vocabulary} code ({len(lines)} row"
                f"{'s' if len(lines) != 1 else ''}, the first here; nearest: "
                f"{', '.join(nearest) or 'none'}): add it under values.{vocabulary} in the "
                "mapping",
            )
        )
    if mapping.intensity_rule is not None:
        for record in tables["families"].rows:
            if not record.get("intensity"):
                record["intensity"] = _intensity_by_rule(record)
    for required in ("families", "staff"):
        if not tables[required].rows and not any(f.table == required for f in mapping.files):
            problems.append(
                LocatedProblem(required, None, None, f"no input file holds the {required} table")
            )
    if problems and not (tables["families"].rows and tables["staff"].rows):
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
        found = (_relocate(p, tables) for p in exc.problems)
        problems += [p for p in found if (p.file, p.line, p.column) not in refused]
    if problems:
        raise ScenarioError(problems)
    warnings = tuple(_relocate(w, tables) for w in loaded.warnings)
    loaded = LoadedScenario(loaded.scenario, warnings, loaded.notes, None, loaded.config_lines)
    return ImportResult(loaded, mapping, tuple(notes), frames)


def _code(vocabulary: str | None, item: str, mapping: ImportMapping, roster: Roster) -> str | None:
    """The code of one label: the mapping's, else the label itself when it is a code (a staff id
    on the roster); None when it has none. A label mapped to ``""`` stands for nothing."""
    if vocabulary is None:
        return item
    if item in mapping.values.get(vocabulary, {}):
        return mapping.values[vocabulary][item]
    if vocabulary == "staff":
        return item if item in roster.ids else None
    return item.lower() if is_code(vocabulary, item) else None


def _intensity_by_rule(record: dict[str, str]) -> str:
    """Intensity by the rule needs_and_urgency (:data:`INTENSITY_RULES`)."""
    urgency = record.get("urgency", "")
    level = int(urgency) if urgency.isdigit() else 0
    needs = len([n for n in record.get("needs", "").split(";") if n])
    if level >= 4 or needs >= 3:
        return "high"
    if level == 3 or needs == 2:
        return "medium"
    return "low"


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


class ImportRefused(ScenarioError):
    """An import refused: every problem, and the notes of what was read before (said too)."""

    def __init__(self, problems: Sequence[Problem | LocatedProblem], notes: tuple[str, ...]):
        super().__init__(list(problems))
        self.notes = notes


def merge_new_labels(given: ImportMapping, inference: Inference) -> tuple[ImportMapping, list[str]]:
    """`given` with the labels it lacks that `inference` could read (a new language in this
    year's export), and one note per label added; the labels `given` maps are kept as they are.
    """
    values = {vocabulary: dict(labels) for vocabulary, labels in given.values.items()}
    notes = []
    for reading in inference.readings:
        known = values.setdefault(reading.vocabulary, {})
        if reading.code is None or reading.how == "exact" or reading.label in known:
            continue
        known[reading.label] = reading.code
        notes.append(f"not in the mapping: {reading}")
    return given.model_copy(update={"values": values}), notes


def import_exports(
    paths: Sequence[str | Path],
    out: str | Path | None = None,
    mapping: ImportMapping | None = None,
    *,
    name: str | None = None,
    as_of: Any = None,
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
        The mapping to apply; None infers one (see :func:`infer_mapping`). A label the mapping
        lacks but that can be read (a new language) is added, and said
        (:func:`merge_new_labels`).
    name, as_of
        Scenario name and planning date, over the mapping's (None: the mapping's).
    limits
        What one file may hold (see :func:`read_exports`).

    Returns
    -------
    tuple
        The :class:`ImportResult` and the notes of what was inferred.

    Raises
    ------
    ScenarioError
        A file cannot be read (nothing could be inferred).
    ImportRefused
        Every problem found applying the mapping, located in the input files, with the notes of
        what was read (unknown labels with their suggestions among the problems).
    """
    notes: list[str] = []
    if mapping is None:
        inference = infer_mapping(paths, limits=limits)
        mapping, notes = inference.mapping, list(inference.notes)
    else:
        try:
            inference = infer_mapping(paths, limits=limits)
        except ScenarioError:  # the given mapping finds what inference cannot: apply it as is
            pass
        else:
            mapping, notes = merge_new_labels(mapping, inference)
    settings = {"name": name, "as_of": as_of}
    mapping = mapping.model_copy(update={k: v for k, v in settings.items() if v is not None})
    try:
        result = apply_mapping(paths, mapping, limits=limits)
    except ScenarioError as exc:
        raise ImportRefused(exc.problems, tuple(notes)) from None
    if out is not None:
        write_import(result, out)
    return result, tuple(dict.fromkeys([*notes, *result.notes]))


__all__ = [
    "HEADER_SEARCH_ROWS",
    "ImportRefused",
    "ImportResult",
    "Inference",
    "LabelReading",
    "RawTable",
    "Roster",
    "apply_mapping",
    "import_exports",
    "infer_mapping",
    "merge_new_labels",
    "read_exports",
    "write_import",
]
