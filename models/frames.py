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
from famassign.models.files import ReadLimits, Tally, given_or_env
from famassign.models.problems import LocatedProblem, ScenarioError
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


def _count(file: str, header: list[str], text: pd.DataFrame, limits: ReadLimits) -> None:
    """Hold a frame (its header and text cells) to the limits of a file; raise ScenarioError."""
    tally = Tally(file, limits)
    tally.count(1, header)
    for line, values in enumerate(text.itertuples(index=False, name=None), start=2):
        tally.count(line, values)


def read_frames(
    families: pd.DataFrame,
    staff: pd.DataFrame,
    exceptions: pd.DataFrame | None = None,
    conflicts: pd.DataFrame | None = None,
    config: Mapping[str, Any] | None = None,
    *,
    limits: ReadLimits | None = None,
) -> LoadedScenario:
    """Build a checked scenario from DataFrames, with warnings and notes.

    Each frame has the columns of its CSV file (`families.csv`, ...); cells may be text as in the
    CSV, or Python values (numbers, booleans, dates, lists for `;`-lists; None/NaN for blank).
    `config` is a mapping shaped like scenario.yaml. Each frame is held to `limits` as its file
    would be (None: the defaults, as the environment sets them). Problems are named after the
    logical files (``families.csv:ROW:COLUMN``, row 2 = the first row of the frame;
    ``scenario.yaml::policy.x`` for config keys). Raises :class:`ScenarioError` on invalid input.
    """
    limits = given_or_env(limits)
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
        header = [str(c) for c in frame.columns]
        try:
            _count(spec.file, header, text, limits)
        except ScenarioError as exc:
            out.problems.extend(p for p in exc.problems if isinstance(p, LocatedProblem))
            unreadable.add(name)
            continue
        lines = list(range(2, len(text) + 2))
        source = make_source(spec, spec.file, header, text, lines, out)
        if source is None:
            unreadable.add(name)
        else:
            sources[name] = [source]
    parsed_config = parse_config(config, {}, out, limits)
    if parsed_config.exceptions is not None:
        sources.setdefault("exceptions", []).append(parsed_config.exceptions)
    return assemble(sources, unreadable, parsed_config, out, None)
