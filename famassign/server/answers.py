"""The shapes of the API's answers (``/api/v1``), as pydantic models: the OpenAPI description
lists them, so a client generator gets typed answers, and every error has one shape.

Every 4xx and 5xx answer is an :class:`ErrorAnswer`: ``detail`` (one sentence), ``problems``
(always a list; each :class:`Problem` names the file, row and column where they apply, the
option as ``column`` for a request's fields) and, for a 500, ``error_id`` (quote it: the
server's log has the same id with the traceback).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


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


class PlanAnswer(BaseModel):
    """A plan: its options, solver, summary, files, publication; caseloads and unplaced
    families in ``GET /plans/{id}`` and ``publish``, not in a list."""

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


__all__ = [
    "AuditEntry",
    "Deleted",
    "ErrorAnswer",
    "Health",
    "JobAnswer",
    "PlanAnswer",
    "Problem",
    "Progress",
    "ScenarioAnswer",
    "error_body",
    "problem",
]
