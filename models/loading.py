"""Load a scenario folder (or pandas DataFrames) into a checked :class:`Scenario`.

The contract is ``shared/scenario-format.md``. Two entry points share every line of parsing:

* :func:`read_scenario` / :func:`load_scenario` read a folder (CSV or XLSX tables, optional
  ``scenario.yaml``);
* :func:`read_frames` / :func:`scenario_from_frames` take DataFrames and a config dict shaped like
  ``scenario.yaml``, and name problems after the logical files (``families.csv``, ...).

``read_*`` return a :class:`LoadedScenario` (the scenario, the warnings about ignored columns and
keys, the notes about exceptions not in force); ``load_scenario`` and ``scenario_from_frames``
return just the :class:`Scenario` (warnings are still logged). On invalid input every function
raises :class:`ScenarioError` whose ``problems`` are :class:`LocatedProblem` s, every problem found
(not just the first), each naming the file, the row (line number in the file, header = 1; for an
XLSX sheet the spreadsheet row; for YAML the line of the key when known), the column (for YAML the
key path, e.g. ``policy.max_families_per_staff``) and the offending value with what would be valid.

Row numbers: a CSV record that spans lines (a quoted cell holding a newline) is located at the
line where it starts. Checks that span records (duplicate ids, references that resolve, pins) run
on the rows that are valid on their own; references to rows that are invalid themselves are not
reported twice.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import math
import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types
import pandas as pd
import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from famassign.models.domain import CapException, Conflict, Family, Policy, Staff, Weights
from famassign.models.problems import LocatedProblem, Problem, ScenarioError
from famassign.models.scenario import Scenario, cross_record_problems

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 200 * 1024 * 1024
"""Larger input files are refused before reading."""
MAX_CELL_CHARS = 10_000
"""A cell longer than this is an error (no field of a scenario needs that much text)."""
MAX_ROWS = 1_000_000
"""Most data rows accepted in one table."""
MAX_COLUMNS = 500
"""Most columns accepted in one table."""
MAX_YAML_BYTES = 5 * 1024 * 1024
"""Larger scenario.yaml files are refused before parsing."""
MAX_YAML_NODES = 200_000
"""Most YAML nodes visited (aliases count each time they are used): stops "billion laughs"."""
MAX_YAML_DEPTH = 64
"""Deepest YAML nesting accepted."""

CONFIG_FILE = "scenario.yaml"
CONFIG_KEYS = ("name", "as_of", "policy", "weights", "exceptions", "variants", "uncertainty")


@dataclass(frozen=True)
class LoadedScenario:
    """A checked scenario with what the loader has to say about it.

    `warnings`: ignored extra columns and keys (never errors). `notes`: exceptions not in force on
    `as_of` (reported and ignored). `source`: the folder it was read from, None for DataFrames.
    """

    scenario: Scenario
    warnings: tuple[LocatedProblem, ...] = ()
    notes: tuple[str, ...] = ()
    source: Path | None = None


# --------------------------------------------------------------------------------------------
# Tables and columns, derived from the domain models


@dataclass(frozen=True)
class _Column:
    name: str
    kind: str  # text, int, float, bool, date, enum, list
    item_kind: str | None
    required: bool
    default: Any
    lower: float | None
    lower_inclusive: bool
    upper: float | None
    upper_inclusive: bool


@dataclass(frozen=True)
class _TableSpec:
    name: str
    model: type[BaseModel]
    id_column: str

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    @property
    def columns(self) -> dict[str, _Column]:
        return _columns_of(self.model)


def _scalar_kind(annotation: Any) -> str:
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int"
    if annotation is float:
        return "float"
    if annotation is date:
        return "date"
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return "enum"
    return "text"


def _column(name: str, info: FieldInfo) -> _Column:
    annotation: Any = info.annotation
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    item_kind = None
    if get_origin(annotation) is tuple:
        kind, item_kind = "list", _scalar_kind(get_args(annotation)[0])
    else:
        kind = _scalar_kind(annotation)
    lower = upper = None
    lower_inclusive = upper_inclusive = True
    for meta in info.metadata:
        if isinstance(meta, annotated_types.Ge):
            lower = float(meta.ge)  # type: ignore[arg-type]
        elif isinstance(meta, annotated_types.Gt):
            lower, lower_inclusive = float(meta.gt), False  # type: ignore[arg-type]
        elif isinstance(meta, annotated_types.Le):
            upper = float(meta.le)  # type: ignore[arg-type]
        elif isinstance(meta, annotated_types.Lt):
            upper, upper_inclusive = float(meta.lt), False  # type: ignore[arg-type]
    required = info.is_required()
    default = None if required else info.get_default(call_default_factory=True)
    return _Column(
        name, kind, item_kind, required, default, lower, lower_inclusive, upper, upper_inclusive
    )


_COLUMN_CACHE: dict[type[BaseModel], dict[str, _Column]] = {}


def _columns_of(model: type[BaseModel]) -> dict[str, _Column]:
    if model not in _COLUMN_CACHE:
        _COLUMN_CACHE[model] = {n: _column(n, f) for n, f in model.model_fields.items()}
    return _COLUMN_CACHE[model]


TABLES: dict[str, _TableSpec] = {
    "families": _TableSpec("families", Family, "family_id"),
    "staff": _TableSpec("staff", Staff, "staff_id"),
    "exceptions": _TableSpec("exceptions", CapException, "exception_id"),
    "conflicts": _TableSpec("conflicts", Conflict, "family_id"),
}
"""The logical tables in the order they are checked and reported."""


# --------------------------------------------------------------------------------------------
# Cell conversion: one function per kind, applied once per distinct value


def _show(value: object, limit: int = 60) -> str:
    """The offending value, quoted and shortened to one line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + "...'"


def _formula_hint(value: str) -> str:
    return (
        " (it looks like a spreadsheet formula: save values, not formulas)"
        if (value.startswith("="))
        else ""
    )


def _number_range(col: _Column, whole: bool) -> str:
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


def _in_range(col: _Column, number: float) -> bool:
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


def _convert_scalar(kind: str, col: _Column, value: str) -> Any:
    """Convert one non-blank, stripped cell; raise ValueError with a message naming the value."""
    if kind == "text":
        return value
    if kind == "enum":
        return value.lower()
    if kind == "bool":
        if value.lower() in _BOOLS:
            return _BOOLS[value.lower()]
        raise ValueError(
            f"{_show(value)} is not true or false (use true/false, yes/no or 1/0)"
            + _formula_hint(value)
        )
    if kind == "int":
        if _INT_RE.fullmatch(value):
            number = int(value.split(".")[0])
            if _in_range(col, number):
                return number
        raise ValueError(
            f"{_show(value)} is not a whole number{_number_range(col, True)}" + _formula_hint(value)
        )
    if kind == "float":
        try:
            real = float(value)
        except ValueError:
            real = math.nan
        if math.isfinite(real) and _in_range(col, real):
            return real
        raise ValueError(
            f"{_show(value)} is not a number{_number_range(col, False)}" + _formula_hint(value)
        )
    if kind == "date":
        if _DATE_RE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError(
            f"{_show(value)} is not a date: use YYYY-MM-DD, e.g. 2026-08-17" + _formula_hint(value)
        )
    raise AssertionError(f"unknown column kind {kind}")  # pragma: no cover


_MISSING = object()


def _convert_cell(col: _Column, value: str) -> Any:
    """A cell's value for the model: blank optional cells take the model default."""
    if value == "":
        if col.required:
            raise ValueError("required value is blank")
        return col.default
    if col.kind == "list":
        assert col.item_kind is not None
        items = [v.strip() for v in value.split(";")]
        return tuple(_convert_scalar(col.item_kind, col, v) for v in items if v)
    return _convert_scalar(col.kind, col, value)


# --------------------------------------------------------------------------------------------
# Sources: one table's rows from one file (or DataFrame, or the YAML exceptions list)


Locator = Callable[[int, str | None], tuple[int | None, str | None]]


@dataclass
class _Source:
    """Rows of one logical table from one file: stripped str cells, canonical column names."""

    file: str
    frame: pd.DataFrame
    locate: Locator
    """(row position, column) -> (line, column label) for problems."""


@dataclass
class _Collector:
    """Problems and warnings as they are found, in order."""

    problems: list[LocatedProblem] = field(default_factory=list)
    warnings: list[LocatedProblem] = field(default_factory=list)

    def sorted_problems(self) -> list[LocatedProblem]:
        """Problems by file (scenario.yaml, families, staff, exceptions, conflicts), then line."""
        order = [CONFIG_FILE, *TABLES]

        def key(problem: LocatedProblem) -> tuple[int, int]:
            stem = Path(problem.file).name.split(".")[0]
            rank = order.index(stem) if stem in order else 0
            return rank if problem.file != CONFIG_FILE else 0, problem.line or 0

        return sorted(self.problems, key=key)

    def error(self, file: str, line: int | None, column: str | None, message: str) -> None:
        self.problems.append(LocatedProblem(file, line, column, message))

    def warn(self, file: str, line: int | None, column: str | None, message: str) -> None:
        problem = LocatedProblem(file, line, column, message)
        logger.warning("%s", problem)
        self.warnings.append(problem)


def _csv_locator(lines: list[int]) -> Locator:
    def locate(pos: int, column: str | None) -> tuple[int | None, str | None]:
        return lines[pos], column

    return locate


def _make_source(
    spec: _TableSpec,
    file: str,
    header: list[str],
    frame: pd.DataFrame,
    lines: list[int],
    out: _Collector,
) -> _Source | None:
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
            f"the header is a single column {_show(named[0])} that contains {sep!r}: "
            "separate columns with commas (use commas, not semicolons or tabs)",
        )
        return None
    frame = frame.copy()
    frame.columns = pd.RangeIndex(len(names))
    columns = spec.columns
    keep: dict[str, int] = {}
    ok = True
    for index, name in enumerate(names):
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
            out.warn(file, 1, name, "unknown column; ignored")
    for name, col in columns.items():
        if col.required and name not in keep:
            out.error(file, 1, name, "required column is missing")
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
    return _Source(file, tidy, _csv_locator(row_lines))


# --------------------------------------------------------------------------------------------
# Rows -> records


@dataclass
class _Parsed:
    """Valid records of one source, the position of each, and the ids of invalid rows."""

    records: list[Any]
    positions: list[int]
    invalid_ids: set[str]


_WORD = re.compile(r"[a-z_]+")


def _model_error_column(spec: _TableSpec, message: str) -> str | None:
    """The column a record-level message is about: the first column name it mentions."""
    for word in _WORD.findall(message):
        if word in spec.columns:
            return str(word)
    return None


def _pydantic_message(err: Mapping[str, Any]) -> str:
    kind = str(err.get("type", ""))
    message = str(err.get("msg", "invalid value"))
    if kind == "missing":
        return "required value is missing"
    if kind in ("value_error", "assertion_error"):
        return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    message = message[:1].lower() + message[1:]
    return f"{_show(err.get('input'))} is not valid: {message}"


_ADAPTERS: dict[type[BaseModel], TypeAdapter[list[Any]]] = {}


def _adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    if model not in _ADAPTERS:
        _ADAPTERS[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    return _ADAPTERS[model]


def _parse_rows(spec: _TableSpec, source: _Source, out: _Collector) -> _Parsed:
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
        too_long = (cells.str.len() > MAX_CELL_CHARS).to_numpy()
        if too_long.any():
            for pos in too_long.nonzero()[0].tolist():
                row_errors.append(
                    (
                        pos,
                        name,
                        f"cell has {len(str(cells.iat[pos]))} characters, more than "
                        f"{MAX_CELL_CHARS}: is this the right file?",
                    )
                )
                flagged.setdefault(pos, set()).add(name)
            cells = cells.where(~too_long, "")
        mapping: dict[str, Any] = {}
        failures: dict[str, str] = {}
        for value in pd.unique(cells):
            try:
                mapping[value] = _convert_cell(col, value)
            except ValueError as exc:
                failures[value] = str(exc)
        values = cells.tolist()
        if failures:
            for pos, value in enumerate(values):
                if value in failures and not too_long[pos]:
                    row_errors.append((pos, name, failures[value]))
                    flagged.setdefault(pos, set()).add(name)
        converted[name] = [mapping.get(v, _MISSING) for v in values]
    names = list(converted)
    rows: list[dict[str, Any]] = [
        {k: v for k, v in zip(names, vals, strict=True) if v is not _MISSING}
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
            message = _pydantic_message(err)
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
    return _Parsed(records, positions, invalid_ids)


# --------------------------------------------------------------------------------------------
# Config (scenario.yaml or a dict shaped like it)


YamlLines = dict[tuple[str | int, ...], int]
"""Key path -> 1-based line in scenario.yaml."""


def _path_label(path: tuple[str | int, ...]) -> str:
    label = ""
    for part in path:
        label += f"[{part}]" if isinstance(part, int) else (f".{part}" if label else str(part))
    return label


@dataclass
class _Config:
    fields: dict[str, Any]
    exceptions: _Source | None
    ok: bool
    lines: YamlLines = field(default_factory=dict)


def _strip_unknown_keys(
    model: type[BaseModel],
    data: Mapping[str, Any],
    path: tuple[str | int, ...],
    lines: YamlLines,
    out: _Collector,
) -> dict[str, Any]:
    """`data` without keys the model does not know (each one a warning), recursively."""
    kept: dict[str, Any] = {}
    for key, value in data.items():
        info = model.model_fields.get(str(key))
        if info is None:
            out.warn(
                CONFIG_FILE,
                lines.get((*path, key)),
                _path_label((*path, key)),
                "unknown key; ignored",
            )
            continue
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel) and isinstance(value, Mapping):
            value = _strip_unknown_keys(sub, value, (*path, str(key)), lines, out)
        kept[str(key)] = value
    return kept


def _validate_section(
    model: type[BaseModel], data: Any, key: str, lines: YamlLines, out: _Collector
) -> BaseModel | None:
    if not isinstance(data, Mapping):
        out.error(
            CONFIG_FILE,
            lines.get((key,)),
            key,
            f"{_show(data)} is not valid: {key} must be a mapping of keys to values",
        )
        return None
    data = _strip_unknown_keys(model, data, (key,), lines, out)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            path = (key, *(str(p) if not isinstance(p, int) else p for p in err["loc"]))
            out.error(CONFIG_FILE, lines.get(path), _path_label(path), _pydantic_message(err))
        return None


def _yaml_cell(value: Any) -> str | None:
    """A YAML scalar as the text a CSV cell would hold; None for a list or mapping."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str | int | float):
        return str(value).strip()
    if isinstance(value, list | tuple) and all(isinstance(v, str | int) for v in value):
        return ";".join(str(v) for v in value)
    return None


def _exceptions_source(entries: Any, lines: YamlLines, out: _Collector) -> _Source | None:
    if entries is None:
        return None
    if not isinstance(entries, list):
        out.error(
            CONFIG_FILE,
            lines.get(("exceptions",)),
            "exceptions",
            "exceptions must be a list of entries (each with the fields of exceptions.csv)",
        )
        return None
    spec = TABLES["exceptions"]
    columns = spec.columns
    rows: list[dict[str, str]] = []
    index: list[int] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            out.error(
                CONFIG_FILE,
                lines.get(("exceptions", i)),
                f"exceptions[{i}]",
                f"{_show(entry)} is not valid: each exception must be a mapping of fields",
            )
            continue
        row = {name: "" for name in columns}
        for key, value in entry.items():
            key_text = str(key).strip().lower()
            if key_text not in columns:
                out.warn(
                    CONFIG_FILE,
                    lines.get(("exceptions", i, key)),
                    f"exceptions[{i}].{key}",
                    "unknown key; ignored",
                )
                continue
            cell = _yaml_cell(value)
            if cell is None:
                out.error(
                    CONFIG_FILE,
                    lines.get(("exceptions", i, key)),
                    f"exceptions[{i}].{key}",
                    f"{_show(value)} is not valid: expected a single value",
                )
                cell = ""
            row[key_text] = cell
        rows.append(row)
        index.append(i)

    def locate(pos: int, column: str | None) -> tuple[int | None, str | None]:
        i = index[pos]
        line = lines.get(("exceptions", i, column)) if column else None
        label = f"exceptions[{i}]" + (f".{column}" if column else "")
        return line or lines.get(("exceptions", i)), label

    frame = pd.DataFrame(rows, columns=list(columns), dtype=object).fillna("")
    return _Source(CONFIG_FILE, frame, locate)


def _parse_config(config: Any, lines: YamlLines, out: _Collector) -> _Config:
    """Check the scenario-level settings and collect the YAML exceptions as rows."""
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        out.error(
            CONFIG_FILE,
            None,
            None,
            "the top level must be a mapping with keys such as name, as_of, policy, "
            f"weights, exceptions, variants; found {type(config).__name__}",
        )
        return _Config({}, None, False)
    before = len(out.problems)
    fields: dict[str, Any] = {}
    for key in config:
        if key not in CONFIG_KEYS:
            out.warn(CONFIG_FILE, lines.get((key,)), str(key), "unknown key; ignored")
    name = config.get("name")
    if name is not None:
        if isinstance(name, str | int | float) and not isinstance(name, bool):
            fields["name"] = str(name)
        else:
            out.error(
                CONFIG_FILE,
                lines.get(("name",)),
                "name",
                f"{_show(name)} is not valid: name must be text",
            )
    as_of = config.get("as_of")
    if as_of is not None:
        text = _yaml_cell(as_of)
        try:
            if text is None:
                raise ValueError(f"{_show(as_of)} is not a date: use YYYY-MM-DD, e.g. 2026-08-17")
            col = _columns_of(CapException)["starts"]
            fields["as_of"] = _convert_scalar("date", col, text)
        except ValueError as exc:
            out.error(CONFIG_FILE, lines.get(("as_of",)), "as_of", str(exc))
    for key, model in (("policy", Policy), ("weights", Weights)):
        if config.get(key) is not None:
            section = _validate_section(model, config[key], key, lines, out)
            if section is not None:
                fields[key] = section
    variants = config.get("variants")
    if variants is not None:
        if isinstance(variants, list) and all(
            isinstance(v, dict) and all(isinstance(k, str) for k in v) for v in variants
        ):
            fields["variants"] = tuple(variants)
        else:
            out.error(
                CONFIG_FILE,
                lines.get(("variants",)),
                "variants",
                "variants must be a list of mappings with text keys",
            )
    uncertainty = config.get("uncertainty")
    if uncertainty is not None:
        if isinstance(uncertainty, dict) and all(isinstance(k, str) for k in uncertainty):
            fields["uncertainty"] = uncertainty
        else:
            out.error(
                CONFIG_FILE,
                lines.get(("uncertainty",)),
                "uncertainty",
                "uncertainty must be a mapping with text keys (see docs/sweep.md)",
            )
    exceptions = _exceptions_source(config.get("exceptions"), lines, out)
    return _Config(fields, exceptions, len(out.problems) == before, lines)


# --------------------------------------------------------------------------------------------
# Assembling the scenario (shared by the folder and DataFrame paths)


def _assemble(
    sources: dict[str, list[_Source]],
    unreadable: set[str],
    config: _Config,
    out: _Collector,
    folder: Path | None,
) -> LoadedScenario:
    parsed: dict[str, list[tuple[_Source, _Parsed]]] = {}
    for name, spec in TABLES.items():
        parsed[name] = [(src, _parse_rows(spec, src, out)) for src in sources.get(name, [])]
    records: dict[str, list[Any]] = {}
    origins: dict[str, list[tuple[_Source, int]]] = {}
    for name, parts in parsed.items():
        records[name] = [r for _, p in parts for r in p.records]
        origins[name] = [(src, pos) for src, p in parts for pos in p.positions]
    if unreadable:
        raise ScenarioError(out.sorted_problems())
    fields = dict(
        config.fields,
        families=tuple(records["families"]),
        staff=tuple(records["staff"]),
        exceptions=tuple(records["exceptions"]),
        conflicts=tuple(records["conflicts"]),
    )
    scenario: Scenario | None = None
    if out.problems:
        partial = Scenario.model_construct(**fields)
        cross = _without_echoes(cross_record_problems(partial), partial, parsed)
        if not config.ok:  # pins are judged under a policy and date that may be wrong
            cross = [p for p in cross if p.column != "pinned" and "pinned" not in p.message]
    else:
        try:
            scenario = Scenario(**fields)
            cross = []
        except ScenarioError as exc:
            cross = [p for p in exc.problems if isinstance(p, Problem)]
    for problem in cross:
        out.problems.append(_locate(problem, origins))
    if scenario is not None and scenario.variants:
        out.problems.extend(_variant_problems(scenario, config.lines))
    if scenario is not None and scenario.uncertainty:
        out.problems.extend(_uncertainty_problems(scenario, config.lines))
    if out.problems or scenario is None:
        raise ScenarioError(out.sorted_problems())
    notes = tuple(scenario.exception_notes())
    for note in notes:
        logger.info("%s", note)
    return LoadedScenario(scenario, tuple(out.warnings), notes, folder)


def _variant_problems(scenario: Scenario, lines: YamlLines) -> list[LocatedProblem]:
    """Problems of the `variants:` of scenario.yaml, each variant parsed and applied."""
    from famassign.scenarios.variants import (
        variant_problems,  # scenarios builds on models: import late
    )

    return variant_problems(scenario, lines)


def _uncertainty_problems(scenario: Scenario, lines: YamlLines) -> list[LocatedProblem]:
    """Problems of the `uncertainty:` block of scenario.yaml (its form and what it names)."""
    from famassign.scenarios.uncertainty import (
        uncertainty_problems,  # scenarios builds on models: import late
    )

    return uncertainty_problems(scenario, lines)


def _without_echoes(
    problems: list[Problem], partial: Scenario, parsed: dict[str, list[tuple[_Source, _Parsed]]]
) -> list[Problem]:
    """Drop cross-record problems that only repeat a row-level problem already reported."""
    invalid = {
        name: set().union(*(p.invalid_ids for _, p in parts)) if parts else set()
        for name, parts in parsed.items()
    }
    had_rows = {name: any(len(src.frame) for src, _ in parts) for name, parts in parsed.items()}
    tables: dict[str, tuple[Any, ...]] = {
        "families": partial.families,
        "staff": partial.staff,
        "exceptions": partial.exceptions,
        "conflicts": partial.conflicts,
    }
    kept = []
    for problem in problems:
        if problem.row is None:
            if had_rows.get(problem.table):
                continue
        elif problem.column in ("current_staff_id", "staff_id", "family_id") and (
            problem.table != "staff"
        ):
            record = tables[problem.table][problem.row]
            value = getattr(record, problem.column)
            target = "families" if problem.column == "family_id" else "staff"
            if value in invalid[target]:
                continue
        kept.append(problem)
    return kept


def _locate(problem: Problem, origins: dict[str, list[tuple[_Source, int]]]) -> LocatedProblem:
    table_origins = origins.get(problem.table, [])
    if problem.row is not None and problem.row < len(table_origins):
        source, pos = table_origins[problem.row]
        line, label = source.locate(pos, problem.column)
        return LocatedProblem(source.file, line, label, problem.message)
    file = TABLES[problem.table].file if problem.table in TABLES else CONFIG_FILE
    return LocatedProblem(file, None, problem.column, problem.message)


# --------------------------------------------------------------------------------------------
# DataFrames


def _frame_cell(value: Any) -> str:
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


def _frame_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as the text a CSV cell would hold (str columns are passed through)."""
    columns = {}
    for index in range(frame.shape[1]):
        series = frame.iloc[:, index]
        values = series.tolist()
        if all(type(v) is str for v in values):
            columns[index] = values
        else:
            columns[index] = [_frame_cell(v) for v in values]
    return pd.DataFrame(columns, index=pd.RangeIndex(len(frame)), dtype=object)


def read_frames(
    families: pd.DataFrame,
    staff: pd.DataFrame,
    exceptions: pd.DataFrame | None = None,
    conflicts: pd.DataFrame | None = None,
    config: Mapping[str, Any] | None = None,
) -> LoadedScenario:
    """Build a checked scenario from DataFrames, with warnings and notes.

    Each frame has the columns of its CSV file (`families.csv`, ...); cells may be text as in the
    CSV, or Python values (numbers, booleans, dates, lists for `;`-lists; None/NaN for blank).
    `config` is a mapping shaped like scenario.yaml. Problems are named after the logical files
    (``families.csv:ROW:COLUMN``, row 2 = the first row of the frame; ``scenario.yaml::policy.x``
    for config keys). Raises :class:`ScenarioError` on invalid input.
    """
    out = _Collector()
    sources: dict[str, list[_Source]] = {}
    unreadable: set[str] = set()
    for name, frame in (
        ("families", families),
        ("staff", staff),
        ("exceptions", exceptions),
        ("conflicts", conflicts),
    ):
        if frame is None:
            continue
        spec = TABLES[name]
        if not isinstance(frame, pd.DataFrame):
            out.error(spec.file, None, None, f"expected a pandas DataFrame, got {type(frame)}")
            unreadable.add(name)
            continue
        text = _frame_as_text(frame)
        lines = list(range(2, len(text) + 2))
        source = _make_source(spec, spec.file, [str(c) for c in frame.columns], text, lines, out)
        if source is None:
            unreadable.add(name)
        else:
            sources[name] = [source]
    parsed_config = _parse_config(config, {}, out)
    if parsed_config.exceptions is not None:
        sources.setdefault("exceptions", []).append(parsed_config.exceptions)
    return _assemble(sources, unreadable, parsed_config, out, None)


def scenario_from_frames(
    families: pd.DataFrame,
    staff: pd.DataFrame,
    exceptions: pd.DataFrame | None = None,
    conflicts: pd.DataFrame | None = None,
    config: Mapping[str, Any] | None = None,
) -> Scenario:
    """The checked :class:`Scenario` of :func:`read_frames` (warnings are logged, not returned).

    Raises :class:`ScenarioError` listing every problem on invalid input.
    """
    return read_frames(families, staff, exceptions, conflicts, config).scenario


# --------------------------------------------------------------------------------------------
# Files


def _file_too_big(path: Path, limit: int, out: _Collector) -> bool:
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


def _decode(path: Path, out: _Collector) -> str | None:
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


def _read_csv(path: Path, spec: _TableSpec, out: _Collector) -> _Source | None:
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
    return _make_source(
        spec, path.name, header, frame.iloc[1:].reset_index(drop=True), lines[1:], out
    )


def _excel_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return _frame_cell(value).strip()


def _read_xlsx(path: Path, spec: _TableSpec, out: _Collector) -> _Source | None:
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
                            f"{_show(cell.value)} is a formula: save values, not formulas "
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
    source = _make_source(spec, path.name, rows[0], frame, lines[1:], out)
    if source is not None and lines[0] != 1:
        logger.debug("%s: header found on row %d", path.name, lines[0])
    return source


def _read_table(
    folder: Path, spec: _TableSpec, required: bool, out: _Collector
) -> tuple[_Source | None, bool]:
    """(source, readable). A missing optional table is (None, True)."""
    csv_path, xlsx_path = folder / f"{spec.name}.csv", folder / f"{spec.name}.xlsx"
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
    if _file_too_big(path, MAX_FILE_BYTES, out):
        return None, False
    source = _read_csv(path, spec, out) if have_csv else _read_xlsx(path, spec, out)
    return source, source is not None


def _yaml_line_map(node: yaml.Node, out: _Collector) -> YamlLines | None:
    """Key path -> line for every mapping key and sequence item; None when the YAML is hostile."""
    lines: YamlLines = {}
    budget = MAX_YAML_NODES

    def walk(current: yaml.Node, path: tuple[str | int, ...], depth: int) -> None:
        nonlocal budget
        budget -= 1
        if budget < 0 or depth > MAX_YAML_DEPTH:
            raise _HostileYaml(depth > MAX_YAML_DEPTH)
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                key_id: str | int = key.value if isinstance(key, yaml.ScalarNode) else "?"
                lines.setdefault((*path, key_id), key.start_mark.line + 1)
                walk(value, (*path, key_id), depth + 1)
        elif isinstance(current, yaml.SequenceNode):
            for i, item in enumerate(current.value):
                lines.setdefault((*path, i), item.start_mark.line + 1)
                walk(item, (*path, i), depth + 1)

    try:
        walk(node, (), 0)
    except _HostileYaml as exc:
        out.error(
            CONFIG_FILE,
            None,
            None,
            f"nested more than {MAX_YAML_DEPTH} levels deep"
            if exc.deep
            else f"too many nodes (more than {MAX_YAML_NODES}, counting each use of an alias): "
            "write the scenario out plainly",
        )
        return None
    return lines


class _YamlLoader(yaml.SafeLoader):
    """yaml.SafeLoader that keeps dates as text, so they are checked like CSV cells."""

    yaml_implicit_resolvers = {  # noqa: RUF012 (a class attribute, as in yaml.SafeLoader)
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


class _HostileYaml(Exception):
    def __init__(self, deep: bool) -> None:
        super().__init__()
        self.deep = deep


def _read_yaml(path: Path, out: _Collector) -> tuple[Any, YamlLines] | None:
    """The parsed scenario.yaml and its line map, or None (with problems) when unreadable."""
    if _file_too_big(path, MAX_YAML_BYTES, out):
        return None
    raw = path.read_bytes()
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        out.error(
            CONFIG_FILE, raw[: exc.start].count(b"\n") + 1, None, "not UTF-8 text: save it as UTF-8"
        )
        return None
    loader = _YamlLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, {}
        lines = _yaml_line_map(node, out)
        if lines is None:
            return None
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        out.error(CONFIG_FILE, line, None, f"not valid YAML: {what}")
        return None
    except yaml.YAMLError as exc:
        out.error(CONFIG_FILE, None, None, f"not valid YAML: {str(exc).strip()[:200]}")
        return None
    except RecursionError:
        out.error(CONFIG_FILE, None, None, "nested too deeply")
        return None
    except (ValueError, TypeError, OverflowError) as exc:
        out.error(CONFIG_FILE, None, None, f"not valid YAML: {str(exc).strip()[:200]}")
        return None
    finally:
        loader.dispose()
    return data, lines


def read_scenario(folder: str | Path) -> LoadedScenario:
    """Read and check a scenario folder; return the scenario with its warnings and notes.

    `folder` may also be the path of its scenario.yaml. Raises :class:`ScenarioError` listing
    every problem found (files missing or unreadable, bad cells, bad keys, cross-record problems).
    """
    path = Path(folder)
    if path.is_file() and path.name == CONFIG_FILE:
        path = path.parent
    if not path.exists():
        raise ScenarioError([LocatedProblem(str(path), None, None, "scenario folder not found")])
    if not path.is_dir():
        raise ScenarioError(
            [LocatedProblem(str(path), None, None, "not a folder: give the scenario folder")]
        )
    out = _Collector()
    config: Any = {}
    lines: YamlLines = {}
    config_readable = True
    yaml_path = path / CONFIG_FILE
    if yaml_path.is_file():
        loaded = _read_yaml(yaml_path, out)
        if loaded is None:
            config_readable = False
        else:
            config, lines = loaded
    sources: dict[str, list[_Source]] = {}
    unreadable: set[str] = set()
    for name, spec in TABLES.items():
        source, readable = _read_table(path, spec, name in ("families", "staff"), out)
        if source is not None:
            sources[name] = [source]
        if not readable:
            unreadable.add(name)
    parsed_config = (
        _parse_config(config, lines, out) if config_readable else _Config({}, None, False)
    )
    if parsed_config.exceptions is not None:
        sources.setdefault("exceptions", []).append(parsed_config.exceptions)
    return _assemble(sources, unreadable, parsed_config, out, path)


def load_scenario(folder: str | Path) -> Scenario:
    """The checked :class:`Scenario` in `folder` (warnings are logged; see :func:`read_scenario`).

    Raises :class:`ScenarioError` listing every problem on invalid input.
    """
    return read_scenario(folder).scenario


__all__ = [
    "MAX_CELL_CHARS",
    "MAX_FILE_BYTES",
    "LoadedScenario",
    "load_scenario",
    "read_frames",
    "read_scenario",
    "scenario_from_frames",
]
