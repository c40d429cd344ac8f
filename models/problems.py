"""Problems found in a scenario, located by table, row and column."""

from __future__ import annotations

from dataclasses import dataclass

from famassign.models.errors import FamassignError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as possible.

    `table` is the logical table (`families`, `staff`, `exceptions`, `conflicts`, `scenario`),
    `row` the 0-based data row within it (None for the table or file as a whole), `column` the
    column or key (None when it concerns the whole row). Loaders translate these into
    `FILE:ROW:COLUMN: message` with ROW as the line number in the file (header = 1).
    """

    table: str
    row: int | None
    column: str | None
    message: str
    other_row: int | None = None
    """Another row of the same table the problem is about (e.g. the first of two duplicates)."""


@dataclass(frozen=True)
class LocatedProblem:
    """A problem pinned to a file: `FILE:ROW:COLUMN: message` (ROW and COLUMN may be absent)."""

    file: str
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
        if self.column is not None:
            if self.line is None:
                parts.append("")
            parts.append(self.column)
        return ":".join(parts) + f": {self.message}"


class ScenarioError(FamassignError):
    """Raised when a scenario is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem] | list[LocatedProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems[:20]))
