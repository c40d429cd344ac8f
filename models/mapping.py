"""The import mapping: how a data system's export files become a scenario (``mapping.yaml``).

An :class:`ImportMapping` says, for each input file (and sheet), which scenario table it holds,
its encoding, the row of its header, which header feeds which column, and whether its rows are one
per child (folded into one per family); and, for each vocabulary (language, program_option,
outcome, bool, intensity, urgency, status, exception_kind), which label as written stands for
which code; and the order dates are written in. :func:`famassign.models.importing.infer_mapping`
infers one; people correct it; :func:`famassign.models.importing.apply_mapping` applies one and
infers nothing. It round-trips through YAML: ``ImportMapping.from_yaml(m.to_yaml()) == m``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from famassign.models.problems import LocatedProblem, ScenarioError

MAPPING_FILE = "mapping.yaml"
"""The name the importer writes the mapping under, in the scenario folder."""

TableName = Literal["families", "staff", "exceptions", "conflicts"]
DateOrder = Literal["YMD", "MDY", "DMY"]
IntensityRule = Literal["needs_and_urgency"]

OTHER_AGENCY = "other_agency"
"""The agency a family's yes/no "plan with another agency" flag names when the export names none."""

INTENSITY_RULES: dict[str, str] = {
    "needs_and_urgency": "high when urgency is 4 or 5 or the family has 3 or more needs; medium "
    "when urgency is 3 or it has 2 needs; otherwise low",
}
"""The documented rules for an export with no intensity column, and what each says."""


class FileMapping(BaseModel):
    """How one input file (one sheet of a workbook) maps to one scenario table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str = Field(min_length=1, description="the file name (without folders) as given")
    sheet: str | None = Field(default=None, description="the sheet of a workbook; None for CSV")
    table: TableName
    encoding: str | None = Field(
        default=None, description="CSV text encoding: utf-8, utf-8-sig or cp1252"
    )
    header_row: int = Field(default=1, ge=1, description="line or sheet row of the header")
    columns: dict[str, str] = Field(
        default_factory=dict, description="header as written -> scenario column"
    )
    per_child: bool = Field(
        default=False, description="one row per child: rows are folded into one per family"
    )
    separators: dict[str, str] = Field(
        default_factory=dict,
        description="header as written -> the separator of its list (; , / | or a new line); "
        "a list header not named here is split on any of ; , | and new lines",
    )
    yes_no: tuple[str, ...] = Field(
        default=(),
        description="headers of external_plan_agency holding a yes/no flag: yes stands for "
        "an unnamed other agency (OTHER_AGENCY)",
    )


class ImportMapping(BaseModel):
    """Everything the importer needs to turn export files into a scenario, nothing inferred."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    date_order: DateOrder = "MDY"
    name: str | None = None
    as_of: date | None = None
    files: tuple[FileMapping, ...] = ()
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="vocabulary -> label as written -> code"
    )
    intensity_rule: IntensityRule | None = Field(
        default=None,
        description="when the export has no intensity: the rule inferring it (see "
        "INTENSITY_RULES); None: intensity comes from a column",
    )

    def file_mapping(self, file: str, sheet: str | None) -> FileMapping | None:
        """The mapping of `file` (matched by name, case-insensitively) and `sheet`, if any."""
        for entry in self.files:
            if (
                entry.file.lower() == Path(file).name.lower()
                and (entry.sheet or "").lower() == (sheet or "").lower()
            ):
                return entry
        return None

    def to_yaml(self) -> str:
        """The mapping as YAML text (what ``mapping.yaml`` holds)."""
        data = self.model_dump(mode="json", exclude_defaults=False)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

    @classmethod
    def from_yaml(cls, text: str, file: str = MAPPING_FILE) -> ImportMapping:
        """Parse mapping YAML.

        Parameters
        ----------
        text
            The YAML text.
        file
            The file name used in problems.

        Returns
        -------
        ImportMapping
            The mapping.

        Raises
        ------
        ScenarioError
            When the text is not YAML or not a valid mapping (each problem names the key path).
        """
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            raise ScenarioError([LocatedProblem(file, line, None, "not valid YAML")]) from None
        if isinstance(data, dict) and isinstance(data.get("as_of"), date):
            data["as_of"] = data["as_of"].isoformat()
        try:
            return cls.model_validate(data if data is not None else {})
        except ValidationError as exc:
            problems = [
                LocatedProblem(
                    file,
                    None,
                    ".".join(str(p) for p in err["loc"]) or None,
                    str(err["msg"]),
                )
                for err in exc.errors()
            ]
            raise ScenarioError(problems) from None

    @classmethod
    def read(cls, path: str | Path) -> ImportMapping:
        """Read a mapping file.

        Raises
        ------
        ScenarioError
            When the file cannot be read or is not a valid mapping.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(
                [LocatedProblem(str(path), None, None, f"cannot read the mapping: {exc}")]
            ) from None
        return cls.from_yaml(text, str(path))


__all__ = [
    "INTENSITY_RULES",
    "MAPPING_FILE",
    "OTHER_AGENCY",
    "DateOrder",
    "FileMapping",
    "ImportMapping",
    "IntensityRule",
    "TableName",
]
