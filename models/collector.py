"""What one load finds, in order: the problems (errors) and the warnings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from famassign.models.columns import CONFIG_FILE, TABLES
from famassign.models.problems import LocatedProblem

logger = logging.getLogger("famassign.models.loading")


@dataclass
class Collector:
    """Problems and warnings as they are found, in order."""

    problems: list[LocatedProblem] = field(default_factory=list)
    warnings: list[LocatedProblem] = field(default_factory=list)

    def sorted_problems(self) -> list[LocatedProblem]:
        """Problems by file (scenario.yaml, families, staff, exceptions, conflicts), then line."""
        order = [CONFIG_FILE, *TABLES]

        def key(problem: LocatedProblem) -> tuple[int, int]:
            stem = Path(problem.file).name.split(".")[0]
            rank = order.index(stem) if stem in order else 0
            return rank if problem.file != CONFIG_FILE else 0, problem.line or 0

        return sorted(self.problems, key=key)

    def error(self, file: str, line: int | None, column: str | None, message: str) -> None:
        self.problems.append(LocatedProblem(file, line, column, message))

    def warn(self, file: str, line: int | None, column: str | None, message: str) -> None:
        problem = LocatedProblem(file, line, column, message)
        logger.warning("%s", problem)
        self.warnings.append(problem)
