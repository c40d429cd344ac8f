"""Load a scenario folder (or pandas DataFrames) into a checked :class:`Scenario`.

The contract is ``docs/scenario-format.md``. Two entry points share every line of parsing:

* :func:`read_scenario_files` / :func:`load_scenario` read a folder (CSV or XLSX tables, optional
  ``scenario.yaml``, ``absences.csv``);
* :func:`read_frames` takes DataFrames and a config dict shaped like ``scenario.yaml``, and names
  problems after the logical files (``families.csv``, ...).

``read_*`` return a :class:`LoadedScenario` (the scenario, the warnings about ignored columns and
keys, the notes about exceptions not in force); ``load_scenario`` returns just the :class:`Scenario`
(warnings are still logged); the DataFrames' counterpart, with the variants checked, is
:func:`famassign.scenarios.reading.scenario_from_frames`. On invalid input every function raises
:class:`ScenarioError` whose ``problems`` are :class:`LocatedProblem` s, every problem found (not
just the first), each naming the file, the row (line number in the file, header = 1; for an XLSX
sheet the spreadsheet row; for YAML the line of the key when known), the column (for YAML the key
path, e.g. ``policy.max_families_per_staff``) and the offending value with what would be valid.

Row numbers: a CSV record that spans lines (a quoted cell holding a newline) is located at the
line where it starts. Checks that span records (duplicate ids, references that resolve, pins) run
on the rows that are valid on their own; references to rows that are invalid themselves are not
reported twice.

The work is split by concept: :mod:`famassign.models.columns` (column specs from the models),
:mod:`~famassign.models.cells` (cell conversion), :mod:`~famassign.models.sources` (CSV/XLSX
readers), :mod:`~famassign.models.rows` (rows to records), :mod:`~famassign.models.config`
(scenario.yaml), :mod:`~famassign.models.assembly` (the scenario) and
:mod:`~famassign.models.frames` (DataFrames). This module is the entry point and keeps the public
names. Variants are not applied here (see :mod:`famassign.scenarios.reading`).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from famassign.models.absence import read_absences
from famassign.models.assembly import LoadedScenario, assemble
from famassign.models.collector import Collector
from famassign.models.columns import CONFIG_FILE, TABLES
from famassign.models.config import CONFIG_KEYS, ParsedConfig, YamlLines, parse_config, read_yaml
from famassign.models.files import ReadLimits, given_or_env
from famassign.models.frames import read_frames
from famassign.models.problems import LocatedProblem, ScenarioError
from famassign.models.scenario import Scenario
from famassign.models.sources import Source, read_table

logger = logging.getLogger(__name__)


def read_scenario_files(folder: str | Path, limits: ReadLimits | None = None) -> LoadedScenario:
    """Read and check the files of a scenario folder; return the scenario with its warnings and
    notes. Variants are not checked: :func:`famassign.scenarios.reading.read_scenario` (the public
    ``famassign.read_scenario``) is this and their check.

    `folder` may also be the path of its scenario.yaml; `limits` bound every file read (None:
    the defaults, as the environment sets them). A plan folder is a scenario folder (the plan's
    own files, assignments.csv and the rest, are not read). absences.csv, when present, is read
    and checked against the scenario (:func:`famassign.models.absence.read_absences`). Raises
    :class:`ScenarioError` listing every problem found (files missing, unreadable or crossing a
    limit, bad cells, bad keys, cross-record problems, absences.csv).
    """
    limits = given_or_env(limits)
    path = Path(folder)
    if path.is_file() and path.name == CONFIG_FILE:
        path = path.parent
    if not path.exists():
        raise ScenarioError([LocatedProblem(str(path), None, None, "scenario folder not found")])
    if not path.is_dir():
        raise ScenarioError(
            [LocatedProblem(str(path), None, None, "not a folder: give the scenario folder")]
        )
    out = Collector()
    config: Any = {}
    lines: YamlLines = {}
    config_readable = True
    yaml_path = path / CONFIG_FILE
    if yaml_path.is_file():
        loaded = read_yaml(yaml_path, out)
        if loaded is None:
            config_readable = False
        else:
            config, lines = loaded
    sources: dict[str, list[Source]] = {}
    unreadable: set[str] = set()
    for name, spec in TABLES.items():
        source, readable = read_table(path, spec, name in ("families", "staff"), out, limits)
        if source is not None:
            sources[name] = [source]
        if not readable:
            unreadable.add(name)
    parsed_config = (
        parse_config(config, lines, out, limits)
        if config_readable
        else ParsedConfig({}, None, False)
    )
    if parsed_config.exceptions is not None:
        sources.setdefault("exceptions", []).append(parsed_config.exceptions)
    assembled = assemble(sources, unreadable, parsed_config, out, path)
    scenario = assembled.scenario
    absences = read_absences(
        path, scenario.staff_by_id, (f.family_id for f in scenario.families), limits
    )
    if absences.problems:
        raise ScenarioError(list(absences.problems))
    for warning in absences.warnings:
        logger.warning("%s", warning)
    if absences.absences:
        scenario = scenario.rebuilt(absences=absences.absences)
    return dataclasses.replace(
        assembled, scenario=scenario, warnings=assembled.warnings + absences.warnings
    )


def load_scenario(folder: str | Path, limits: ReadLimits | None = None) -> Scenario:
    """The checked :class:`Scenario` in `folder`, variants not checked (warnings are logged; see
    :func:`read_scenario_files`).

    Raises :class:`ScenarioError` listing every problem on invalid input.
    """
    return read_scenario_files(folder, limits).scenario


__all__ = [
    "CONFIG_KEYS",
    "LoadedScenario",
    "ReadLimits",
    "load_scenario",
    "read_frames",
    "read_scenario_files",
]
