"""The shapes of the API's answers (``/api/v1``), as pydantic models: the OpenAPI description
lists them, so a client generator gets typed answers, and every error has one shape.

Every 4xx and 5xx answer is an :class:`ErrorAnswer`: ``detail`` (one sentence), ``problems``
(always a list; each :class:`Problem` names the file, row and column where they apply, the
option as ``column`` for a request's fields) and, for a 500, ``error_id`` (quote it: the
server's log has the same id with the traceback).

A recommendation's answer is the solver's (:mod:`famassign.solver.recommend`) made a pydantic
dataclass, with each candidate's ``above_cap`` as a field.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from famassign.solver import recommend as recommended


class Problem(BaseModel):
    """One thing wrong: where (file, row, column, each null when it does not apply) and why."""

    file: str | None = Field(None, description="The uploaded file, as named in the upload.")
    row: int | None = Field(None, description="The row (1 is the header) or line.")
    column: str | None = Field(None, description="The column, or the request's option.")
    message: str


class ErrorAnswer(BaseModel):
    """Every error answer: a sentence, the problems (always there), an id for a 500."""

    detail: str
    problems: list[Problem]
    error_id: str | None = Field(
        None, description="A 500 only: quote it; the server's log has it with the traceback."
    )


def problem(message: str, *, option: str | None = None) -> dict[str, Any]:
    """A problem without a file (a request's `option`, when named) as the API's JSON."""
    return {"file": None, "row": None, "column": option, "message": message}


def error_body(
    detail: str, problems: list[dict[str, Any]] | None = None, *, error_id: str | None = None
) -> dict[str, Any]:
    """An :class:`ErrorAnswer` as JSON; without `problems`, `detail` is the one problem."""
    body: dict[str, Any] = {
        "detail": detail,
        "problems": problems if problems is not None else [problem(detail)],
    }
    if error_id is not None:
        body["error_id"] = error_id
    return body


class Health(BaseModel):
    """The server answers."""

    status: str
    version: str


class ScenarioAnswer(BaseModel):
    """An uploaded scenario: its files with their SHA-256, and the loader's summary."""

    id: str
    name: str
    created_at: str
    content_hash: str
    files: dict[str, str]
    summary: dict[str, Any]
    derived_from: str | None


class Progress(BaseModel):
    """How far a job got: the stage and its steps."""

    stage: str | None
    done: int
    total: int


class JobAnswer(BaseModel):
    """A job (plan or comparison): state, progress, its plan when done, why when it failed."""

    id: str
    scenario_id: str
    kind: str
    state: str
    progress: Progress
    plan_id: str | None
    message: str | None
    options: dict[str, Any]
    created_at: str
    started_at: str | None
    finished_at: str | None
    result: dict[str, Any] | None = None


class PlanAssignment(BaseModel):
    """One family of a plan as its assignments.csv has it (``staff_id`` None when unplaced)."""

    model_config = ConfigDict(extra="allow")

    family_id: str
    staff_id: str | None


class PlanAnswer(BaseModel):
    """A plan: its options, solver, summary, files, publication; caseloads and unplaced
    families in ``GET /plans/{id}`` and ``publish``, not in a list; ``assignments`` (every
    family, or an advocate's own) in ``GET /plans/{id}``."""

    id: str
    scenario_id: str | None
    job_id: str | None
    kind: str
    created_at: str
    status: str
    options: dict[str, Any]
    solver_version: str
    seed: int | None
    runtime_s: float | None
    published: bool
    published_at: str | None
    published_by: str | None
    publish_reason: str | None
    parent_id: str | None
    label: str | None
    files: list[str]
    summary: dict[str, Any]
    caseloads: list[dict[str, Any]] | None = None
    unplaced: list[dict[str, Any]] | None = None
    assignments: list[PlanAssignment] | None = None


@pydantic_dataclass(frozen=True)
class Candidate(recommended.Candidate):
    """A staff member who could take the family: rank, score by term, load after."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def above_cap(self) -> bool:
        """True when taking the family puts this caseload above the policy cap."""
        return super().above_cap


@pydantic_dataclass(frozen=True)
class Exclusion(recommended.Exclusion):
    """A staff member who cannot take the family, and every rule that excludes them."""


@pydantic_dataclass(frozen=True)
class Recommendation(recommended.Recommendation):
    """Staff ranked for one family, and those excluded with their rules."""

    candidates: tuple[Candidate, ...]
    excluded: tuple[Exclusion, ...]


class Staffing(BaseModel):
    """The fewest additional staff that would place every family within the caps: the people
    to hire (``people``, proven fewest when ``people_proven``; ``hires``: one record per person,
    with hire, profile, fte, languages, sites, program_options, cost), totals, the needs per
    group (``needs``: where places lack) and what each exception carries; ``text`` says it in
    words."""

    families: int
    proven_fewest: bool
    lower_bound: int
    cap_per_new_staff: int
    placed_with_exceptions: int
    unplaced_without_exceptions: int
    additional_staff: int
    needs: list[dict[str, Any]]
    exceptions: list[dict[str, Any]]
    not_placeable: list[str]
    people: int
    people_proven: bool
    hires: list[dict[str, Any]]
    text: str


class Deleted(BaseModel):
    """A plan deleted."""

    id: str
    deleted: bool


class AuditEntry(BaseModel):
    """One entry of the audit log: who did what to which plan or job, when and why."""

    id: int
    at: str
    action: str
    plan_id: str | None
    job_id: str | None
    by: str
    reason: str


class Caller(BaseModel):
    """Who a token or session belongs to."""

    name: str
    role: str
    staff_id: str | None


class Checkin(BaseModel):
    """A workload check-in (45 CFR 1302.52(d)(3)) and what was done about it."""

    id: int
    at: str
    staff_id: str
    manageable: int
    families_i_can_serve: int | None
    hours_over: float | None
    note: str | None
    acted_job_id: str | None
    acted_by: str | None


__all__ = [
    "AuditEntry",
    "Caller",
    "Candidate",
    "Checkin",
    "Deleted",
    "ErrorAnswer",
    "Exclusion",
    "Health",
    "JobAnswer",
    "PlanAnswer",
    "Problem",
    "Progress",
    "Recommendation",
    "ScenarioAnswer",
    "Staffing",
    "error_body",
    "problem",
]
