"""The scenario-level settings: scenario.yaml (or a dict shaped like it), checked and located.

:func:`read_yaml` parses the file safely (size, node and depth limits; dates kept as text) with a
map of key paths to lines; :func:`parse_config` checks name, as_of, policy, weights and variants'
form, and turns the ``exceptions:`` list into a :class:`Source` like exceptions.csv.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ValidationError

from famassign.models.cells import convert_scalar, show_value
from famassign.models.collector import Collector
from famassign.models.columns import CONFIG_FILE, TABLES, columns_of
from famassign.models.domain import CapException, Policy, Weights
from famassign.models.files import ReadLimits, long_cell
from famassign.models.rows import pydantic_message
from famassign.models.sources import Source

MAX_YAML_BYTES = 5 * 1024 * 1024
"""Larger scenario.yaml files are refused before parsing."""
MAX_YAML_NODES = 200_000
"""Most YAML nodes visited (aliases count each time they are used): stops "billion laughs"."""
MAX_YAML_DEPTH = 64
"""Deepest YAML nesting accepted."""

CONTINUES_PATTERN = re.compile(r"sha256:[0-9a-f]{64}")
"""A plan fingerprint (``continues:``), as
:func:`famassign.solver.continuation.plan_fingerprint` makes it."""

CONFIG_KEYS = (
    "name",
    "as_of",
    "continues",
    "policy",
    "weights",
    "exceptions",
    "variants",
    "uncertainty",
    "hiring",
)

YamlLines = dict[tuple[str | int, ...], int]
"""Key path -> 1-based line in scenario.yaml."""


def _path_label(path: tuple[str | int, ...]) -> str:
    label = ""
    for part in path:
        label += f"[{part}]" if isinstance(part, int) else (f".{part}" if label else str(part))
    return label


@dataclass
class ParsedConfig:
    fields: dict[str, Any]
    exceptions: Source | None
    ok: bool
    lines: YamlLines = field(default_factory=dict)


def _strip_unknown_keys(
    model: type[BaseModel],
    data: Mapping[str, Any],
    path: tuple[str | int, ...],
    lines: YamlLines,
    out: Collector,
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
    model: type[BaseModel], data: Any, key: str, lines: YamlLines, out: Collector
) -> BaseModel | None:
    if not isinstance(data, Mapping):
        out.error(
            CONFIG_FILE,
            lines.get((key,)),
            key,
            f"{show_value(data)} is not valid: {key} must be a mapping of keys to values",
        )
        return None
    data = _strip_unknown_keys(model, data, (key,), lines, out)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            path = (key, *(str(p) if not isinstance(p, int) else p for p in err["loc"]))
            out.error(CONFIG_FILE, lines.get(path), _path_label(path), pydantic_message(err))
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


def _exceptions_source(
    entries: Any, lines: YamlLines, out: Collector, limits: ReadLimits
) -> Source | None:
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
                f"{show_value(entry)} is not valid: each exception must be a mapping of fields",
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
                    f"{show_value(value)} is not valid: expected a single value",
                )
                cell = ""
            elif len(cell) > limits.max_cell_chars:
                out.error(
                    CONFIG_FILE,
                    lines.get(("exceptions", i, key)),
                    f"exceptions[{i}].{key}",
                    long_cell(limits),
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
    return Source(CONFIG_FILE, frame, locate)


def parse_config(config: Any, lines: YamlLines, out: Collector, limits: ReadLimits) -> ParsedConfig:
    """Check the scenario-level settings and collect the YAML exceptions as rows (no cell longer
    than ``limits.max_cell_chars``)."""
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
        return ParsedConfig({}, None, False)
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
                f"{show_value(name)} is not valid: name must be text",
            )
    as_of = config.get("as_of")
    if as_of is not None:
        text = _yaml_cell(as_of)
        try:
            if text is None:
                raise ValueError(
                    f"{show_value(as_of)} is not a date: use YYYY-MM-DD, e.g. 2026-08-17"
                )
            col = columns_of(CapException)["starts"]
            fields["as_of"] = convert_scalar("date", col, text)
        except ValueError as exc:
            out.error(CONFIG_FILE, lines.get(("as_of",)), "as_of", str(exc))
    continues = config.get("continues")
    if continues is not None:
        if isinstance(continues, str) and CONTINUES_PATTERN.fullmatch(continues.strip()):
            fields["continues"] = continues.strip()
        else:
            out.error(
                CONFIG_FILE,
                lines.get(("continues",)),
                "continues",
                f"{show_value(continues)} is not a plan fingerprint (sha256: and 64 hex digits, "
                "as a plan folder's scenario.yaml has it)",
            )
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
    hiring = config.get("hiring")
    if hiring is not None:
        if isinstance(hiring, dict) and all(isinstance(k, str) for k in hiring):
            fields["hiring"] = hiring
        else:
            out.error(
                CONFIG_FILE,
                lines.get(("hiring",)),
                "hiring",
                "hiring must be a mapping with text keys (see docs/variants.md)",
            )
    exceptions = _exceptions_source(config.get("exceptions"), lines, out, limits)
    return ParsedConfig(fields, exceptions, len(out.problems) == before, lines)


def _yaml_line_map(node: yaml.Node, out: Collector) -> YamlLines | None:
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


_FLOW = re.compile(r"[\[\]{}]")


def _flow_depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` outside quotes, found before parsing (the parser
    itself takes seconds to give up on thousands of levels)."""
    if len(_FLOW.findall(text)) <= 2 * MAX_YAML_DEPTH:
        return 0
    depth = deepest = 0
    quote = ""
    for char in text:
        if quote:
            if char == quote or char == "\n":
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def _too_big(path: Path, limit: int, out: Collector) -> bool:
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


def read_yaml(path: Path, out: Collector) -> tuple[Any, YamlLines] | None:
    """The parsed scenario.yaml and its line map, or None (with problems) when unreadable."""
    if _too_big(path, MAX_YAML_BYTES, out):
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
    if _flow_depth(text) > MAX_YAML_DEPTH:
        out.error(CONFIG_FILE, None, None, f"nested more than {MAX_YAML_DEPTH} levels deep")
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
