"""The month's changes from the data system: the plan's scenario against this month's export.

:func:`read_families_export` reads the month's family export, through the importer and its saved
mapping (:func:`famassign.models.importing.apply_mapping`) or as a families.csv in the scenario
format. :func:`month_changes` compares it with the plan's scenario (a plan folder read as a
scenario) and returns the next scenario with the list of changes:

- ``enrolled``: in the export, not in the plan (placed by the next update);
- ``withdrawn``: in the plan, not in the export (gone, with its conflicts.csv and absences.csv
  rows);
- ``reassessed``: urgency, intensity or needs changed (the export's values are taken);
- ``details``: another family field changed (interests, language, site, program option,
  disability services, other agency; the export's values are taken);
- ``advocate_differs``: the export names a current advocate other than the plan's; the plan's is
  kept unless ``advocate_from="export"``.

Nothing here logs family details.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pandas as pd

from famassign.models.domain import Family
from famassign.models.files import ReadLimits, given_or_env, read_csv
from famassign.models.frames import read_frames
from famassign.models.importing import apply_mapping
from famassign.models.mapping import ImportMapping
from famassign.models.problems import LocatedProblem, ScenarioError
from famassign.models.scenario import Scenario
from famassign.models.writing import staff_frame

CHANGES_CSV = "changes.csv"
CHANGE_COLUMNS = ["family_id", "change", "field", "plan_value", "export_value", "kept"]
"""Columns of changes.csv: ``kept`` names the value the next plan uses (``plan``/``export``)."""

_REASSESSED = ("urgency", "intensity", "needs")
_DETAILS = (
    "interests",
    "language",
    "site",
    "program_option",
    "disability_services",
    "external_plan_agency",
)


class ChangeKind(StrEnum):
    """What changed for a family between the plan and the export."""

    enrolled = "enrolled"
    withdrawn = "withdrawn"
    reassessed = "reassessed"
    details = "details"
    advocate_differs = "advocate_differs"


class AdvocateSource(StrEnum):
    """Whose current advocate the next scenario keeps where plan and export disagree."""

    plan = "plan"
    export = "export"


@dataclass(frozen=True)
class FamilyChange:
    """One change of one family (one row of changes.csv)."""

    family_id: str
    kind: ChangeKind
    field: str = ""
    plan_value: str = ""
    export_value: str = ""
    kept: str = ""


@dataclass(frozen=True)
class MonthChanges:
    """The next scenario (the plan's, brought to the export) and the changes listed."""

    scenario: Scenario
    changes: tuple[FamilyChange, ...]

    def count(self, kind: ChangeKind) -> int:
        """How many families have a change of `kind`."""
        return len({c.family_id for c in self.changes if c.kind is kind})

    def frame(self) -> pd.DataFrame:
        """The changes as changes.csv (:data:`CHANGE_COLUMNS`)."""
        return changes_frame(self.changes)


def changes_frame(changes: Iterable[FamilyChange]) -> pd.DataFrame:
    """`changes` as the rows of changes.csv (:data:`CHANGE_COLUMNS`)."""
    return pd.DataFrame(
        [
            [c.family_id, c.kind.value, c.field, c.plan_value, c.export_value, c.kept]
            for c in changes
        ],
        columns=CHANGE_COLUMNS,
    )


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ";".join(_text(v) for v in value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def month_changes(
    scenario: Scenario,
    families: Sequence[Family],
    *,
    advocate_from: AdvocateSource | str = AdvocateSource.plan,
) -> MonthChanges:
    """The plan's scenario brought to this month's export, and the list of changes.

    Parameters
    ----------
    scenario
        The plan's scenario (a plan folder read as a scenario: ``current_staff_id`` is the plan).
    families
        This month's families as the data system exports them (:func:`read_families_export`).
    advocate_from
        ``plan`` (default): a family keeps the plan's current advocate where the export names
        another; ``export``: it takes the export's (a staff member of the scenario; one it does
        not hold is listed and the plan's kept). An enrolled family's advocate named in the
        export is taken only with ``export``.

    Returns
    -------
    MonthChanges
        The next scenario (families in the export's order, the export's values, the plan's
        current advocate and pin unless the export's advocate is taken; a withdrawn family's
        conflicts and absence rows removed) and every change, in the export's order, then the
        withdrawals.
    """
    source = AdvocateSource(advocate_from)
    plan = scenario.family_by_id
    changes: list[FamilyChange] = []
    out: list[Family] = []
    for fam in families:
        before = plan.get(fam.family_id)
        named = fam.current_staff_id
        takes_export = (
            source is AdvocateSource.export and named is not None and named in scenario.staff_by_id
        )
        if before is None:
            changes.append(FamilyChange(fam.family_id, ChangeKind.enrolled))
            staff_id = named if takes_export else None
            out.append(fam.model_copy(update={"current_staff_id": staff_id, "pinned": False}))
            continue
        for field in _REASSESSED + _DETAILS:
            old, new = _text(getattr(before, field)), _text(getattr(fam, field))
            if old != new:
                kind = ChangeKind.reassessed if field in _REASSESSED else ChangeKind.details
                changes.append(FamilyChange(fam.family_id, kind, field, old, new, "export"))
        staff_id, pinned = before.current_staff_id, before.pinned
        if named is not None and named != before.current_staff_id:
            changes.append(
                FamilyChange(
                    fam.family_id,
                    ChangeKind.advocate_differs,
                    "current_staff_id",
                    before.current_staff_id or "",
                    named,
                    "export" if takes_export else "plan",
                )
            )
            if takes_export:
                staff_id, pinned = named, False
        out.append(fam.model_copy(update={"current_staff_id": staff_id, "pinned": pinned}))
    enrolled = {f.family_id for f in out}
    withdrawn = [f.family_id for f in scenario.families if f.family_id not in enrolled]
    changes.extend(FamilyChange(fid, ChangeKind.withdrawn) for fid in withdrawn)
    absences = tuple(
        a.model_copy(update={"families": tuple(f for f in a.families if f.family_id in enrolled)})
        for a in scenario.absences
    )
    next_scenario = scenario.rebuilt(
        families=tuple(out),
        conflicts=tuple(c for c in scenario.conflicts if c.family_id in enrolled),
        absences=absences,
    )
    return MonthChanges(next_scenario, tuple(changes))


def _in_export(problem: object, name: str, lines: Sequence[int]) -> LocatedProblem:
    """A problem of the loader's families.csv located in the export file `name` (its line)."""
    if not isinstance(problem, LocatedProblem):
        return LocatedProblem(name, None, None, str(problem))
    line = problem.line
    if line is not None and 1 <= line <= len(lines):
        line = lines[line - 1]
    file = name if problem.file == "families.csv" else problem.file
    return LocatedProblem(file, line, problem.column, problem.message)


def read_families_export(
    paths: Sequence[str | Path],
    scenario: Scenario,
    mapping: ImportMapping | None = None,
    *,
    limits: ReadLimits | None = None,
) -> tuple[Family, ...]:
    """This month's families from the data system's export.

    Parameters
    ----------
    paths
        The export files: with `mapping`, every file the mapping names (its families table is
        used); without, one families.csv in the scenario format (docs/scenario-format.md).
    scenario
        The plan's scenario: without a mapping, the export's ``current_staff_id`` is checked
        against its staff.
    mapping
        The importer's saved mapping (mapping.yaml), applied as :func:`apply_mapping` does.
    limits
        What one file may hold (None: the defaults, as the environment sets them).

    Returns
    -------
    tuple of Family
        The export's families, checked as the scenario loader checks them.

    Raises
    ------
    ScenarioError
        Every problem, as ``FILE:ROW:COLUMN`` in the export files.
    """
    if mapping is not None:
        return apply_mapping(paths, mapping, limits=limits).scenario.families
    if len(paths) != 1:
        raise ScenarioError(
            [LocatedProblem("families export", None, None, "give one families.csv, or a mapping")]
        )
    path = Path(paths[0])
    limits = given_or_env(limits)
    if not path.is_file():
        raise ScenarioError([LocatedProblem(str(path), None, None, "file not found")])
    text = read_csv(path, limits, ("utf-8",))
    if not text.rows:
        raise ScenarioError([LocatedProblem(path.name, None, None, "the file is empty")])
    header, rows = text.rows[0], text.rows[1:]
    frame = pd.DataFrame(
        [r + [""] * (len(header) - len(r)) for r in rows], columns=header, dtype=object
    )
    try:
        loaded = read_frames(
            frame,
            staff_frame(scenario.staff),
            config={"as_of": scenario.as_of.isoformat()},
            limits=limits,
        )
    except ScenarioError as exc:
        raise ScenarioError([_in_export(p, path.name, text.lines) for p in exc.problems]) from None
    return loaded.scenario.families


__all__ = [
    "CHANGES_CSV",
    "CHANGE_COLUMNS",
    "AdvocateSource",
    "ChangeKind",
    "FamilyChange",
    "MonthChanges",
    "changes_frame",
    "month_changes",
    "read_families_export",
]
