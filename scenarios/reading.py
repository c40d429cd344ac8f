"""Reading a scenario with its what-if variants checked.

The domain's loader (:mod:`famassign.models.loading`) checks files, rows and settings; it knows
nothing of variants, which live in this layer. These functions load the same way and then parse
and apply every variant of ``scenario.yaml``, reporting their problems located like the others
(``scenario.yaml:LINE:variants[i]...``). The command line and the public API read through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from famassign.models import loading
from famassign.models.files import ReadLimits
from famassign.models.loading import LoadedScenario
from famassign.models.problems import ScenarioError
from famassign.models.scenario import Scenario
from famassign.scenarios.uncertainty import uncertainty_problems
from famassign.scenarios.variants import variant_problems


def check_variants(loaded: LoadedScenario) -> LoadedScenario:
    """`loaded` itself when its variants parse and apply and its ``uncertainty:`` block is valid
    (:func:`famassign.scenarios.uncertainty.uncertainty_problems`); otherwise raise.

    Raises
    ------
    ScenarioError
        Every problem of the variants and the uncertainty block, located in scenario.yaml.
    """
    problems = []
    if loaded.scenario.variants:
        problems.extend(variant_problems(loaded.scenario, loaded.config_lines))
    if loaded.scenario.uncertainty:
        problems.extend(uncertainty_problems(loaded.scenario, loaded.config_lines))
    if problems:
        raise ScenarioError(problems)
    return loaded


def read_scenario(folder: str | Path, limits: ReadLimits | None = None) -> LoadedScenario:
    """Read and check a scenario folder, its variants included.

    Parameters
    ----------
    folder
        The scenario folder (or the path of its scenario.yaml).
    limits
        What one file may hold (None: the defaults, as the environment sets them).

    Returns
    -------
    LoadedScenario
        The scenario with the loader's warnings and notes.

    Raises
    ------
    ScenarioError
        Every problem found, as ``FILE:ROW:COLUMN: message``.
    """
    return check_variants(loading.read_scenario_files(folder, limits))


def scenario_from_frames(
    families: pd.DataFrame,
    staff: pd.DataFrame,
    exceptions: pd.DataFrame | None = None,
    conflicts: pd.DataFrame | None = None,
    config: Mapping[str, Any] | None = None,
    *,
    limits: ReadLimits | None = None,
) -> Scenario:
    """The checked :class:`Scenario` of :func:`famassign.models.loading.read_frames` (warnings
    are logged, not returned), its variants and uncertainty block checked (:func:`check_variants`).

    Raises
    ------
    ScenarioError
        Every problem found.
    """
    return check_variants(
        loading.read_frames(families, staff, exceptions, conflicts, config, limits=limits)
    ).scenario


__all__ = [
    "check_variants",
    "read_scenario",
    "scenario_from_frames",
]
