"""The DataFrame path: a scenario from pandas DataFrames and a dict shaped like scenario.yaml."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from famassign.models.assembly import LoadedScenario, assemble
from famassign.models.cells import cell_text
from famassign.models.collector import Collector
from famassign.models.columns import TABLES
from famassign.models.config import parse_config
from famassign.models.sources import Source, make_source


def frame_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as the text a CSV cell would hold (str columns are passed through)."""
    columns = {}
    for index in range(frame.shape[1]):
        series = frame.iloc[:, index]
        values = series.tolist()
        if all(type(v) is str for v in values):
            columns[index] = values
        else:
            columns[index] = [cell_text(v) for v in values]
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
    out = Collector()
    sources: dict[str, list[Source]] = {}
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
        text = frame_as_text(frame)
        lines = list(range(2, len(text) + 2))
        source = make_source(spec, spec.file, [str(c) for c in frame.columns], text, lines, out)
        if source is None:
            unreadable.add(name)
        else:
            sources[name] = [source]
    parsed_config = parse_config(config, {}, out)
    if parsed_config.exceptions is not None:
        sources.setdefault("exceptions", []).append(parsed_config.exceptions)
    return assemble(sources, unreadable, parsed_config, out, None)
