"""The store's tables as SQLAlchemy 2 ORM classes (the schema Alembic migrations create).

Eight tables: ``scenarios`` (uploaded scenario folders, content-hashed, or derived from a plan by
the planner's page), ``jobs`` (a plan or a comparison being computed), ``plans`` (a finished
plan's record: options, solver version, seed, runtime, the folder of its output files, and its
publication), ``audit_log`` (every publish, cancellation and deletion: who, when, why),
``import_mappings`` (the column and value mappings the planner confirmed, the last one proposed
again), ``sessions`` (the signed-in browsers of the planner's page), ``users`` (accounts with
roles, tokens kept only as hashes) and ``checkins`` (advocates' workload check-ins). A plan
made from another plan (a version or a what-if) names its parent. Times are stored in UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""


class ScenarioRecord(Base):
    """An uploaded scenario: its files (name -> SHA-256) live in `folder` (workspace-relative)."""

    __tablename__ = "scenarios"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    files: Mapped[dict[str, Any]] = mapped_column(JSON)
    folder: Mapped[str] = mapped_column(String(500))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    derived_from: Mapped[str | None] = mapped_column(String(32), nullable=True)


class JobRecord(Base):
    """A job: `kind` is solve, reassign or compare; `state` queued/running/done/failed/cancelled."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scenario_id: Mapped[str] = mapped_column(ForeignKey("scenarios.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20), index=True)
    stage: Mapped[str | None] = mapped_column(String(50), nullable=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    plan_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PlanRecord(Base):
    """A finished plan: its output files in `folder` (workspace-relative), and its publication."""

    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scenario_id: Mapped[str | None] = mapped_column(
        ForeignKey("scenarios.id"), nullable=True, index=True
    )
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    folder: Mapped[str] = mapped_column(String(500))
    files: Mapped[list[str]] = mapped_column(JSON)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    solver_version: Mapped[str] = mapped_column(String(50))
    seed: Mapped[int] = mapped_column(Integer)
    runtime_s: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    published_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    publish_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    parent_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    label: Mapped[str | None] = mapped_column(String(300), nullable=True)


class AuditRecord(Base):
    """One entry of the audit log: `action` publish, cancel or delete, on a plan or a job."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    action: Mapped[str] = mapped_column(String(20))
    plan_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)


class MappingRecord(Base):
    """An import mapping the planner confirmed (YAML, as ``mapping.yaml``)."""

    __tablename__ = "import_mappings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    mapping: Mapped[str] = mapped_column(Text)


class SessionRecord(Base):
    """A signed-in browser: `id` is the SHA-256 of its session cookie (never the cookie itself).

    `subject` says who signed in: ``admin`` for the holder of the server's token (a user's id
    once the server has user accounts; None is allowed for that change). `csrf_token` is the
    token every form of the session carries. The server's idle and absolute expiry are counted
    from `last_seen_at` and `created_at`.
    """

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class UserRecord(Base):
    """A person (or an API client) who signs in as themselves.

    `role` is admin, manager, advocate, viewer or client; `staff_id` ties an advocate to the
    staff member whose caseload is theirs. `token_hash` is the SHA-256 (hex) of the user's API
    token: the token itself is shown once and never stored. A disabled user's token and sessions
    stop working at once (`disabled_at` is set).
    """

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    staff_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CheckinRecord(Base):
    """An advocate's workload check-in (45 CFR 1302.52(d)(3)): how manageable the caseload is
    (1-5), hours over in the last weeks, how many families they feel they can serve well, and a
    private note (never written to the compliance record); `acted_job_id` and `acted_by` say
    what was done about it (the job of the plan version that made it a personal cap, and who
    started it)."""

    __tablename__ = "checkins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    staff_id: Mapped[str] = mapped_column(String(200), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    manageable: Mapped[int] = mapped_column(Integer)
    families_i_can_serve: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hours_over: Mapped[float | None] = mapped_column(Float, nullable=True)
    note: Mapped[str] = mapped_column(Text)
    acted_job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    acted_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


__all__ = [
    "AuditRecord",
    "Base",
    "CheckinRecord",
    "JobRecord",
    "MappingRecord",
    "PlanRecord",
    "ScenarioRecord",
    "SessionRecord",
    "UserRecord",
]
