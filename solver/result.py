"""What a solve returns: the plan as pydantic objects and pandas DataFrames, with its record."""

from __future__ import annotations

from enum import StrEnum

import pandas as pd
from pydantic import BaseModel, ConfigDict


class SolveStatus(StrEnum):
    """How good the plan is known to be.

    `optimal`: every objective stage was proven optimal. `feasible`: a plan within the hard rules,
    not proven optimal in the time allowed (the gap to `bound` says how close).
    """

    optimal = "optimal"
    feasible = "feasible"


class Assignment(BaseModel):
    """One family's place in the plan (`staff_id` None when it could not be placed)."""

    model_config = ConfigDict(frozen=True)

    family_id: str
    staff_id: str | None
    previous_staff_id: str | None
    changed: bool
    exception_id: str | None
    score: int
    reasons: str


class Caseload(BaseModel):
    """One staff member's caseload. `exception_id` is set when `families > cap`."""

    model_config = ConfigDict(frozen=True)

    staff_id: str
    families: int
    weighted_load: float
    cap: int
    exception_id: str | None


class Unplaced(BaseModel):
    """A family no plan could place under the hard rules, and what would place it."""

    model_config = ConfigDict(frozen=True)

    family_id: str
    reason: str
    would_place: str | None = None


class ObjectiveTerms(BaseModel):
    """Every objective term of a plan, in priority order (the evaluator recomputes each).

    `urgency_unplaced` is the summed urgency of unplaced families; `over_cap` the number of
    places above a policy cap; `moves` families taken from a current staff member who is still
    active; `match` the summed match score; `max_load_per_fte` the largest weighted load divided
    by FTE.
    """

    model_config = ConfigDict(frozen=True)

    placed: int
    urgency_unplaced: int
    over_cap: int
    moves: int
    match: int
    max_load_per_fte: float


class Result(BaseModel):
    """A plan and its record. `objective` is the match score, `bound` the best match possible
    with the same placed count, exception places and moves (equal when the match is optimal)."""

    model_config = ConfigDict(frozen=True)

    status: SolveStatus
    objective: int
    bound: int
    terms: ObjectiveTerms
    max_load_bound: float
    assignments: tuple[Assignment, ...]
    caseloads: tuple[Caseload, ...]
    unplaced: tuple[Unplaced, ...]
    exceptions_used: tuple[str, ...]
    notes: tuple[str, ...]
    runtime_s: float
    seed: int
    version: str
    max_load_bound_kind: str = "none"
    """Which bound `max_load_bound` is (:class:`solver.load_bound.BoundKind`): ``level_lp`` the
    load-level LP of the balance model with the match floor, ``level_lp_moves`` the same with
    the moves fixed at their optimum, ``cp_sat``, ``max_flow`` (no caps or match floor), or
    ``forced`` (caseloads no plan can change), ``forced_face`` (caseloads no plan as good on
    placement, exception places, moves and match can change), ``none`` (balance was not run)."""

    @property
    def placed(self) -> int:
        """Number of families placed."""
        return self.terms.placed

    @property
    def placement(self) -> str:
        """``placed`` when every family is placed, else ``not all placed``."""
        return "placed" if self.placed == len(self.assignments) else "not all placed"

    @property
    def balance_gap(self) -> float:
        """How far the largest weighted load per FTE may be above the best possible (0..1)."""
        top = self.terms.max_load_per_fte
        if top <= 0 or self.max_load_bound >= top:
            return 0.0
        return (top - self.max_load_bound) / top

    @property
    def proof(self) -> str:
        """``proven`` when every stage was proven optimal, else ``within N% of bound``."""
        if self.status is SolveStatus.optimal:
            return "proven"
        return f"within {self.balance_gap:.1%} of bound"

    def status_text(self) -> str:
        """The plan's standing in one line a manager can read (cannot read as "all is well"
        while families are unplaced)."""
        families = len(self.assignments)
        if self.placement == "placed":
            placed = f"all {families:,} families placed"
        else:
            placed = (
                f"not all placed: {families - self.placed:,} of {families:,} families cannot be "
                "placed under the hard rules and caps"
            )
        if self.status is SolveStatus.optimal:
            quality = "placement, match and workload balance proven best"
        else:
            quality = (
                "placement and match proven best; workload balance "
                f"{self.proof} (largest load per FTE {self.terms.max_load_per_fte:g}, "
                f"best possible at least {self.max_load_bound:g})"
            )
        return f"{placed}; {quality}"

    def plan(self) -> dict[str, str | None]:
        """family_id -> staff_id (None when unplaced)."""
        return {a.family_id: a.staff_id for a in self.assignments}

    def exception_of(self) -> dict[str, str | None]:
        """staff_id -> the exception_id its caseload cites (None within the cap)."""
        return {c.staff_id: c.exception_id for c in self.caseloads}

    def assignments_frame(self) -> pd.DataFrame:
        """assignments.csv as a DataFrame, one row per family in input order."""
        return pd.DataFrame([a.model_dump() for a in self.assignments], columns=ASSIGNMENT_COLUMNS)

    def caseloads_frame(self) -> pd.DataFrame:
        """caseloads.csv as a DataFrame, one row per staff member in input order."""
        return pd.DataFrame([c.model_dump() for c in self.caseloads], columns=CASELOAD_COLUMNS)


ASSIGNMENT_COLUMNS = list(Assignment.model_fields)
CASELOAD_COLUMNS = list(Caseload.model_fields)
