"""Write a :class:`Scenario` as a scenario folder that loads back into an equal Scenario.

The folder gets ``scenario.yaml`` (name, as_of, continues, policy, weights, variants,
uncertainty), ``families.csv``, ``staff.csv``, ``exceptions.csv``, ``conflicts.csv`` and
``absences.csv`` (the last three with a header only when empty, so that stale files never
survive). Every file is written to a temporary name first and
renamed into place once all are written.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel

from famassign.models.absence import ABSENCE_COLUMNS, ABSENCES_CSV, absence_rows
from famassign.models.domain import CapException, Conflict, Family, Staff
from famassign.models.errors import FamassignError
from famassign.models.scenario import Scenario


class ScenarioWriteError(FamassignError, ValueError):
    """A value the scenario format cannot hold (a `;` inside a list item); the message names the
    file, row and column."""


SCENARIO_FILES = (
    "scenario.yaml",
    "families.csv",
    "staff.csv",
    "exceptions.csv",
    "conflicts.csv",
    ABSENCES_CSV,
)
"""The files :func:`write_scenario` writes."""

_TABLES: tuple[tuple[str, type[BaseModel], str], ...] = (
    ("families.csv", Family, "families"),
    ("staff.csv", Staff, "staff"),
    ("exceptions.csv", CapException, "exceptions"),
    ("conflicts.csv", Conflict, "conflicts"),
)


def _cell(value: Any, where: tuple[str, int, str]) -> str:
    """One value as CSV text in the scenario format (`;`-lists, true/false, ISO dates); `where`
    (file, row, column) names the cell in an error."""
    if value is None:
        return ""
    if type(value) is str:  # the usual case first: most cells are plain text
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, tuple | list):
        items = [_cell(v, where) for v in value]
        for item in items:
            if ";" in item or not item.strip():
                file, row, column = where
                raise ScenarioWriteError(
                    f"{file}:{row}:{column}: list item {item!r} cannot be written in a ;-list"
                )
        return ";".join(items)
    return str(value)


def _table_text(records: Sequence[BaseModel], model: type[BaseModel], file: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = list(model.model_fields)
    writer.writerow(columns)
    for row, record in enumerate(records, start=2):
        writer.writerow([_cell(getattr(record, c), (file, row, c)) for c in columns])
    return buffer.getvalue()


def records_frame(records: Sequence[BaseModel], model: type[BaseModel], file: str) -> pd.DataFrame:
    """`records` as the scenario file `file` holds them: its columns, in order, as text.

    Raises ScenarioWriteError (a ValueError) when a value cannot be written in the format (a `;`
    inside a list item).
    """
    columns = list(model.model_fields)
    rows = [
        [_cell(getattr(r, c), (file, row, c)) for c in columns]
        for row, r in enumerate(records, start=2)
    ]
    return pd.DataFrame(rows, columns=columns)


def families_frame(families: Sequence[Family]) -> pd.DataFrame:
    """`families` with the columns of families.csv (see :func:`records_frame`)."""
    return records_frame(families, Family, "families.csv")


def staff_frame(staff: Sequence[Staff]) -> pd.DataFrame:
    """`staff` with the columns of staff.csv (see :func:`records_frame`)."""
    return records_frame(staff, Staff, "staff.csv")


def _config(scenario: Scenario) -> dict[str, Any]:
    config: dict[str, Any] = {
        "name": scenario.name,
        "as_of": scenario.as_of.isoformat(),
        **({"continues": scenario.continues} if scenario.continues else {}),
        "policy": scenario.policy.model_dump(mode="json"),
        "weights": scenario.weights.model_dump(mode="json"),
        "variants": [dict(v) for v in scenario.variants],
    }
    if scenario.uncertainty:
        config["uncertainty"] = dict(scenario.uncertainty)
    if scenario.hiring:
        config["hiring"] = dict(scenario.hiring)
    return config


def write_scenario(scenario: Scenario, folder: str | Path) -> Path:
    """Write `scenario` into `folder` (created if needed) and return the folder.

    Loading the folder with :func:`models.loading.load_scenario` gives a Scenario equal to
    `scenario`, except that blank free text (e.g. a note of only spaces) reads back as not given.
    Overwrites the six files it writes and nothing else. Raises :class:`ScenarioWriteError` (a
    ValueError) when a value cannot be written in the format (a `;` inside a list item) and
    FileExistsError when the folder holds a ``families.xlsx`` or ``staff.xlsx`` that would shadow
    the CSV files.
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    for stem in ("families", "staff", "exceptions", "conflicts"):
        if (target / f"{stem}.xlsx").exists():
            raise FileExistsError(f"{target / (stem + '.xlsx')} exists and would shadow {stem}.csv")
    texts: dict[str, str] = {
        "scenario.yaml": yaml.safe_dump(_config(scenario), sort_keys=False, allow_unicode=True),
    }
    for file, model, attribute in _TABLES:
        texts[file] = _table_text(getattr(scenario, attribute), model, file)
    absences = io.StringIO()
    writer = csv.writer(absences, lineterminator="\n")
    writer.writerows([ABSENCE_COLUMNS, *absence_rows(scenario.absences)])
    texts[ABSENCES_CSV] = absences.getvalue()
    temporary: list[tuple[Path, Path]] = []
    try:
        for file, text in texts.items():
            tmp = target / f".{file}.tmp-{os.getpid()}"
            tmp.write_text(text, encoding="utf-8", newline="")
            temporary.append((tmp, target / file))
        for tmp, final in temporary:
            os.replace(tmp, final)
    finally:
        for tmp, _ in temporary:
            tmp.unlink(missing_ok=True)
    return target


__all__ = [
    "SCENARIO_FILES",
    "ScenarioWriteError",
    "families_frame",
    "records_frame",
    "staff_frame",
    "write_scenario",
]
