"""Problems found in a scenario, located by table, row and column."""

from __future__ import annotations

from collections.abc import Sequence
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

    def __init__(self, problems: Sequence[Problem | LocatedProblem]) -> None:
        self.problems: list[Problem | LocatedProblem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems[:20]))


GROUP_ROWS_SHOWN = 5
"""How many rows a grouped problem names before saying how many more."""


@dataclass(frozen=True)
class ProblemGroup:
    """Problems with the same file, column and message: one line, with the count and the rows.

    A required column blank in every row is then one line, not one per row.
    """

    file: str
    column: str | None
    message: str
    lines: tuple[int | None, ...]

    @property
    def first(self) -> LocatedProblem:
        """The first problem of the group, located at its first row."""
        return LocatedProblem(self.file, self.lines[0], self.column, self.message)

    @property
    def rest(self) -> tuple[int, ...]:
        """The rows after the first (shown behind a disclosure on the page)."""
        return tuple(n for n in self.lines[1:] if n is not None)

    def __str__(self) -> str:
        if len(self.lines) == 1:
            return str(self.first)
        where = f"{self.file}:{self.column}" if self.column is not None else self.file
        shown = ", ".join(str(n) for n in self.lines[:GROUP_ROWS_SHOWN] if n is not None)
        more = len(self.lines) - GROUP_ROWS_SHOWN
        return (
            f"{where}: {self.message} ({len(self.lines)} rows: {shown}"
            + (f" and {more} more" if more > 0 else "")
            + ")"
        )


def group_problems(problems: Sequence[Problem | LocatedProblem]) -> list[ProblemGroup]:
    """`problems` grouped by file, column and message, in the order each group first appears.

    Parameters
    ----------
    problems
        Located problems (a :class:`Problem` is grouped by its table as the file).

    Returns
    -------
    list of ProblemGroup
        One per distinct (file, column, message), its rows in the order found.
    """
    groups: dict[tuple[str, str | None, str], list[int | None]] = {}
    for problem in problems:
        if isinstance(problem, LocatedProblem):
            key, line = (problem.file, problem.column, problem.message), problem.line
        else:
            key, line = (problem.table, problem.column, problem.message), problem.row
        groups.setdefault(key, []).append(line)
    return [ProblemGroup(f, c, m, tuple(lines)) for (f, c, m), lines in groups.items()]
