"""Assembling the scenario from parsed sources and settings (shared by folders and DataFrames).

Cross-record checks (duplicate ids, references, pins) run on the rows valid on their own and are
located back in their files. The variants of scenario.yaml are not applied here (the domain knows
nothing of them): :func:`famassign.scenarios.reading.read_scenario` checks them, using
:attr:`LoadedScenario.config_lines` to locate their problems.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from famassign.models.collector import Collector
from famassign.models.columns import CONFIG_FILE, TABLES
from famassign.models.config import ParsedConfig, YamlLines
from famassign.models.plausibility import plausibility_warnings
from famassign.models.problems import LocatedProblem, Problem, ScenarioError
from famassign.models.rows import ParsedRows, parse_rows
from famassign.models.scenario import Scenario, cross_record_problems
from famassign.models.sources import Source

logger = logging.getLogger("famassign.models.loading")


@dataclass(frozen=True)
class LoadedScenario:
    """A checked scenario with what the loader has to say about it.

    `warnings`: ignored extra columns and keys (never errors). `notes`: exceptions not in force on
    `as_of` (reported and ignored). `source`: the folder it was read from, None for DataFrames.
    `config_lines`: key path -> line in scenario.yaml (to locate problems of the variants).
    """

    scenario: Scenario
    warnings: tuple[LocatedProblem, ...] = ()
    notes: tuple[str, ...] = ()
    source: Path | None = None
    config_lines: YamlLines = field(default_factory=dict, compare=False)


def assemble(
    sources: dict[str, list[Source]],
    unreadable: set[str],
    config: ParsedConfig,
    out: Collector,
    folder: Path | None,
) -> LoadedScenario:
    parsed: dict[str, list[tuple[Source, ParsedRows]]] = {}
    for name, spec in TABLES.items():
        parsed[name] = [(src, parse_rows(spec, src, out)) for src in sources.get(name, [])]
    records: dict[str, list[Any]] = {}
    origins: dict[str, list[tuple[Source, int]]] = {}
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
    if out.problems or scenario is None:
        raise ScenarioError(out.sorted_problems())
    for warning in plausibility_warnings(
        scenario, as_of_given="as_of" in config.fields, today=date.today()
    ):
        located = _locate(warning, origins)
        out.warn(located.file, located.line, located.column, located.message)
    notes = tuple(scenario.exception_notes())
    for note in notes:
        logger.info("%s", note)
    return LoadedScenario(scenario, tuple(out.warnings), notes, folder, dict(config.lines))


def _without_echoes(
    problems: list[Problem], partial: Scenario, parsed: dict[str, list[tuple[Source, ParsedRows]]]
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


def _locate(problem: Problem, origins: dict[str, list[tuple[Source, int]]]) -> LocatedProblem:
    table_origins = origins.get(problem.table, [])
    message = problem.message
    if problem.other_row is not None and problem.other_row < len(table_origins):
        other_source, other_pos = table_origins[problem.other_row]
        other_line, other_label = other_source.locate(other_pos, problem.column)
        where = f"row {other_line}" if other_line is not None else (other_label or "")
        if other_source.file != (table_origins[problem.row or 0][0].file):
            where += f" of {other_source.file}"
        message += f" (also on {where})"
    if problem.row is not None and problem.row < len(table_origins):
        source, pos = table_origins[problem.row]
        line, label = source.locate(pos, problem.column)
        return LocatedProblem(source.file, line, label, message)
    file = TABLES[problem.table].file if problem.table in TABLES else CONFIG_FILE
    return LocatedProblem(file, None, problem.column, message)
