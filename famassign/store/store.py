"""The store: scenarios, jobs, plans, the audit log and the page's sessions, in SQLite or
PostgreSQL.

One :class:`Store` wraps a SQLAlchemy engine. ``Store(url)`` opens the database and applies the
Alembic migrations (``famassign/store/migrations``), so a new or older database is brought to the
current schema first. Every method runs in its own transaction and returns plain frozen
dataclasses (:class:`ScenarioInfo`, :class:`JobInfo`, :class:`PlanInfo`, :class:`AuditEntry`,
:class:`SessionInfo`), never live ORM objects, so callers may keep them across threads.

URLs: ``sqlite:///path/to/famassign.db`` (the server's default, inside its workspace) or
``postgresql://user:password@host:port/db`` (the psycopg 3 driver is used; ``postgresql+psycopg://``
is accepted as well).

A plan's output files live on disk in the folder its record names (relative to the workspace
the caller keeps); the store records a plan only after its folder is complete, so a recorded
plan is never half-written. A published plan is a compliance record: it cannot be deleted, and
publishing it twice is refused. Every publish, cancellation and deletion adds an audit entry.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, delete, event, or_, select
from sqlalchemy.orm import Session, sessionmaker

from famassign.models.errors import FamassignError
from famassign.store.records import (
    AuditRecord,
    CheckinRecord,
    JobRecord,
    MappingRecord,
    PlanRecord,
    ScenarioRecord,
    SessionRecord,
    UserRecord,
)

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
"""The Alembic scripts folder (installed as package data)."""

JOB_STATES = ("queued", "running", "done", "failed", "cancelled")
"""Every state a job can be in; the last three are final."""
FINAL_STATES = frozenset({"done", "failed", "cancelled"})
INTERRUPTED = "interrupted: the server stopped while this job was running; start it again"
"""The message of a job found running when the store is opened after a stop or a crash."""


class StoreError(FamassignError):
    """Base of the store's errors."""


class NotFoundError(StoreError, LookupError):
    """No scenario, job or plan with that id."""


class ConflictError(StoreError):
    """The operation does not fit the record's state (publish twice, delete a published plan,
    cancel a finished job)."""


def new_id() -> str:
    """A fresh random identifier (32 hex digits)."""
    return uuid.uuid4().hex


def utc_now() -> datetime:
    """The current time in UTC (timezone-aware)."""
    return datetime.now(UTC)


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they were stored in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def database_url(url: str) -> str:
    """`url` with the psycopg 3 driver named for PostgreSQL (``postgresql://`` -> ``+psycopg``)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def redacted(url: str) -> str:
    """`url` with any password replaced by ``***`` (for logs and messages)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: show only its scheme
        return url.split(":", 1)[0] + "://..."


@dataclass(frozen=True)
class ScenarioInfo:
    """An uploaded scenario: `files` maps each file name to its SHA-256; `content_hash` hashes
    them all; `folder` holds the files (relative to the workspace); `summary` is what the loader
    found (counts, warnings)."""

    id: str
    name: str
    created_at: datetime
    content_hash: str
    files: dict[str, str]
    folder: str
    summary: dict[str, Any]
    derived_from: str | None = None
    """The plan a scenario was derived from by the planner's page (None: uploaded)."""


@dataclass(frozen=True)
class JobInfo:
    """A job and its progress; `plan_id` is set once the plan is recorded, `result` holds a
    comparison's table, `message` says why a job failed or was cancelled."""

    id: str
    scenario_id: str
    kind: str
    options: dict[str, Any]
    state: str
    stage: str | None
    done: int
    total: int
    message: str | None
    plan_id: str | None
    result: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True)
class PlanInfo:
    """A finished plan: its files (names) in `folder`, how it was made, and its publication."""

    id: str
    scenario_id: str | None
    job_id: str | None
    kind: str
    created_at: datetime
    folder: str
    files: list[str]
    options: dict[str, Any]
    solver_version: str
    seed: int
    runtime_s: float
    status: str
    summary: dict[str, Any]
    details: dict[str, Any]
    published_at: datetime | None
    published_by: str | None
    publish_reason: str | None
    parent_id: str | None = None
    """The plan this one was made from (a version or a what-if), else None."""
    label: str | None = None
    """What made this plan, in words (``F-12 moved to S-3``, ``what if: ...``)."""

    @property
    def published(self) -> bool:
        """True once the plan was published."""
        return self.published_at is not None


@dataclass(frozen=True)
class AuditEntry:
    """One audit entry: `action` (publish, cancel, delete) by whom, when and why."""

    id: int
    at: datetime
    action: str
    plan_id: str | None
    job_id: str | None
    by: str
    reason: str


@dataclass(frozen=True)
class SessionInfo:
    """A signed-in browser: `id` is the key the server gave (the SHA-256 of its cookie),
    `subject` who signed in, `csrf_token` the token its forms carry, and when it was made and
    last used."""

    id: str
    subject: str | None
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class UserInfo:
    """A user account: `role` (admin, manager, advocate, viewer, client), an advocate's
    `staff_id`, and `disabled_at` once disabled. The token's hash is never handed out."""

    id: str
    name: str
    role: str
    staff_id: str | None
    created_at: datetime
    disabled_at: datetime | None

    @property
    def active(self) -> bool:
        """True while the account is not disabled."""
        return self.disabled_at is None


@dataclass(frozen=True)
class CheckinInfo:
    """An advocate's workload check-in; `acted_job_id` / `acted_by` say what was done about it
    (the job of the plan version that made it a personal cap, and who started it)."""

    id: int
    at: datetime
    staff_id: str
    user_id: str
    manageable: int
    families_i_can_serve: int | None
    hours_over: float | None
    note: str
    acted_job_id: str | None
    acted_by: str | None


def _user(r: UserRecord) -> UserInfo:
    return UserInfo(
        r.id, r.name, r.role, r.staff_id, _utc(r.created_at) or r.created_at, _utc(r.disabled_at)
    )


def _checkin(r: CheckinRecord) -> CheckinInfo:
    return CheckinInfo(
        r.id, _utc(r.at) or r.at, r.staff_id, r.user_id, r.manageable, r.families_i_can_serve,
        r.hours_over, r.note, r.acted_job_id, r.acted_by,
    )  # fmt: skip


def _session_info(r: SessionRecord) -> SessionInfo:
    return SessionInfo(
        r.id,
        r.subject,
        r.csrf_token,
        _utc(r.created_at) or r.created_at,
        _utc(r.last_seen_at) or r.last_seen_at,
    )


def _scenario(r: ScenarioRecord) -> ScenarioInfo:
    return ScenarioInfo(
        r.id, r.name, _utc(r.created_at) or r.created_at, r.content_hash, dict(r.files), r.folder,
        dict(r.summary), r.derived_from,
    )  # fmt: skip


def _job(r: JobRecord) -> JobInfo:
    return JobInfo(
        id=r.id,
        scenario_id=r.scenario_id,
        kind=r.kind,
        options=dict(r.options),
        state=r.state,
        stage=r.stage,
        done=r.done,
        total=r.total,
        message=r.message,
        plan_id=r.plan_id,
        result=dict(r.result) if r.result is not None else None,
        created_at=_utc(r.created_at) or r.created_at,
        started_at=_utc(r.started_at),
        finished_at=_utc(r.finished_at),
    )


def _plan(r: PlanRecord) -> PlanInfo:
    return PlanInfo(
        id=r.id,
        scenario_id=r.scenario_id,
        job_id=r.job_id,
        kind=r.kind,
        created_at=_utc(r.created_at) or r.created_at,
        folder=r.folder,
        files=list(r.files),
        options=dict(r.options),
        solver_version=r.solver_version,
        seed=r.seed,
        runtime_s=r.runtime_s,
        status=r.status,
        summary=dict(r.summary),
        details=dict(r.details),
        published_at=_utc(r.published_at),
        published_by=r.published_by,
        publish_reason=r.publish_reason,
        parent_id=r.parent_id,
        label=r.label,
    )


def _audit(r: AuditRecord) -> AuditEntry:
    return AuditEntry(r.id, _utc(r.at) or r.at, r.action, r.plan_id, r.job_id, r.by, r.reason)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


class Store:
    """The store of scenarios, jobs, plans and the audit log (see the module docstring).

    Parameters
    ----------
    url
        A SQLAlchemy database URL: ``sqlite:///FILE`` or ``postgresql://...``.
    upgrade
        Apply the Alembic migrations at once (default); False only for tests of migrations.

    Raises
    ------
    sqlalchemy.exc.OperationalError
        When the database cannot be reached.
    """

    def __init__(self, url: str, *, upgrade: bool = True) -> None:
        self.url = database_url(url)
        self.engine: Engine = create_engine(self.url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if upgrade:
            self.upgrade()

    # ------------------------------------------------------------------ schema and sessions

    def upgrade(self) -> None:
        """Bring the database to the newest schema (Alembic ``upgrade head``); idempotent."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        log.info("store ready at %s", redacted(self.url))

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    @staticmethod
    def _get(session: Session, record: type[Any], key: str, what: str) -> Any:
        row = session.get(record, key)
        if row is None:
            raise NotFoundError(f"no {what} with id {key!r}")
        return row

    # ------------------------------------------------------------------ scenarios

    def record_scenario(
        self,
        *,
        name: str,
        content_hash: str,
        files: dict[str, str],
        folder: str,
        summary: dict[str, Any],
        scenario_id: str | None = None,
        derived_from: str | None = None,
    ) -> ScenarioInfo:
        """Record an uploaded scenario whose files are already in `folder`.

        Parameters
        ----------
        name
            The scenario's name (from scenario.yaml).
        content_hash
            SHA-256 over the files' names and hashes.
        files
            File name -> SHA-256 of its bytes.
        folder
            Where the files are, relative to the caller's workspace.
        summary
            What the loader found (counts, warnings), as JSON-safe values.
        scenario_id
            The id to use (default: a fresh one).
        derived_from
            The plan the scenario was derived from (by the planner's page), if any.

        Returns
        -------
        ScenarioInfo
            The record as stored.
        """
        row = ScenarioRecord(
            id=scenario_id or new_id(),
            name=name[:300],
            created_at=utc_now(),
            content_hash=content_hash,
            files=dict(files),
            folder=folder,
            summary=summary,
            derived_from=derived_from,
        )
        with self._session() as session:
            session.add(row)
            session.flush()
            return _scenario(row)

    def get_scenario(self, scenario_id: str) -> ScenarioInfo:
        """The scenario with that id; raises :class:`NotFoundError`."""
        with self._session() as session:
            return _scenario(self._get(session, ScenarioRecord, scenario_id, "scenario"))

    def list_scenarios(self, *, uploaded_only: bool = False) -> list[ScenarioInfo]:
        """Every scenario, newest first (only those not derived from a plan when
        `uploaded_only`)."""
        query = select(ScenarioRecord).order_by(ScenarioRecord.created_at.desc())
        if uploaded_only:
            query = query.where(ScenarioRecord.derived_from.is_(None))
        with self._session() as session:
            return [_scenario(r) for r in session.scalars(query)]

    # ------------------------------------------------------------------ jobs

    def create_job(
        self, scenario_id: str, kind: str, options: dict[str, Any], *, job_id: str | None = None
    ) -> JobInfo:
        """A new queued job of `kind` (solve, reassign, compare) on a recorded scenario.

        Raises :class:`NotFoundError` when the scenario does not exist.
        """
        with self._session() as session:
            self._get(session, ScenarioRecord, scenario_id, "scenario")
            row = JobRecord(
                id=job_id or new_id(),
                scenario_id=scenario_id,
                kind=kind,
                options=dict(options),
                state="queued",
                done=0,
                total=0,
                created_at=utc_now(),
            )
            session.add(row)
            session.flush()
            return _job(row)

    def get_job(self, job_id: str) -> JobInfo:
        """The job with that id; raises :class:`NotFoundError`."""
        with self._session() as session:
            return _job(self._get(session, JobRecord, job_id, "job"))

    def list_jobs(
        self, *, scenario_id: str | None = None, states: Sequence[str] | None = None
    ) -> list[JobInfo]:
        """Jobs, oldest first, optionally of one scenario and in the given states."""
        query = select(JobRecord).order_by(JobRecord.created_at)
        if scenario_id is not None:
            query = query.where(JobRecord.scenario_id == scenario_id)
        if states is not None:
            query = query.where(JobRecord.state.in_(list(states)))
        with self._session() as session:
            return [_job(r) for r in session.scalars(query)]

    def start_job(self, job_id: str) -> JobInfo:
        """Mark a queued job running; a job no longer queued (cancelled) is returned unchanged."""
        with self._session() as session:
            row = self._get(session, JobRecord, job_id, "job")
            if row.state == "queued":
                row.state = "running"
                row.started_at = utc_now()
            return _job(row)

    def update_progress(self, job_id: str, stage: str, done: int, total: int) -> None:
        """Record a running job's progress (ignored once the job is final)."""
        with self._session() as session:
            row = self._get(session, JobRecord, job_id, "job")
            if row.state not in FINAL_STATES:
                row.stage, row.done, row.total = stage[:50], int(done), int(total)

    def finish_job(
        self,
        job_id: str,
        state: str,
        *,
        message: str | None = None,
        plan_id: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> JobInfo:
        """End a job in a final `state` (done, failed, cancelled), with its plan or message.

        A job already final keeps its state (a cancellation wins over a late result).
        Raises ValueError for a state that is not final.
        """
        if state not in FINAL_STATES:
            raise ValueError(f"a job ends done, failed or cancelled, not {state!r}")
        with self._session() as session:
            row = self._get(session, JobRecord, job_id, "job")
            if row.state in FINAL_STATES:
                return _job(row)
            row.state = state
            row.message = message
            row.plan_id = plan_id
            row.result = result
            row.finished_at = utc_now()
            return _job(row)

    def cancel_job(self, job_id: str, *, by: str, reason: str) -> JobInfo:
        """Cancel a queued or running job and add an audit entry (who, why).

        Raises :class:`NotFoundError`, or :class:`ConflictError` when the job already ended.
        """
        with self._session() as session:
            row = self._get(session, JobRecord, job_id, "job")
            if row.state in FINAL_STATES:
                raise ConflictError(f"job {job_id} already ended ({row.state}); nothing to cancel")
            row.state = "cancelled"
            row.message = f"cancelled by {by}: {reason}" if reason else f"cancelled by {by}"
            row.finished_at = utc_now()
            session.add(
                AuditRecord(at=utc_now(), action="cancel", job_id=job_id, by=by, reason=reason)
            )
            return _job(row)

    def interrupt_running_jobs(self) -> list[str]:
        """Mark every queued or running job failed with :data:`INTERRUPTED`; return their ids.

        Called when a server starts: no job of an earlier process is still being worked on.
        """
        with self._session() as session:
            rows = list(
                session.scalars(select(JobRecord).where(JobRecord.state.in_(["queued", "running"])))
            )
            for row in rows:
                row.state = "failed"
                row.message = INTERRUPTED
                row.finished_at = utc_now()
            return [r.id for r in rows]

    # ------------------------------------------------------------------ plans

    def record_plan(
        self,
        *,
        folder: str,
        files: Sequence[str],
        options: dict[str, Any],
        solver_version: str,
        seed: int,
        runtime_s: float,
        status: str,
        summary: dict[str, Any],
        details: dict[str, Any] | None = None,
        scenario_id: str | None = None,
        job_id: str | None = None,
        kind: str = "solve",
        plan_id: str | None = None,
        parent_id: str | None = None,
        label: str | None = None,
    ) -> PlanInfo:
        """Record a finished plan whose output files are complete in `folder`.

        Parameters
        ----------
        folder
            Where the plan's files are (relative to the caller's workspace, or absolute for a
            plan written by the command line).
        files
            The names of its files (assignments.csv, caseloads.csv, ...).
        options
            The options it was made with (time limit, seed, reassign's departed, ...).
        solver_version, seed, runtime_s, status
            From the solver's result.
        summary
            summary.json's content.
        details
            Further JSON the caller keeps with the plan (caseloads, unplaced families).
        scenario_id, job_id
            The scenario and job it came from, when known.
        kind
            solve, reassign or update.
        plan_id
            The id to use (default: a fresh one).
        parent_id, label
            The plan it was made from (a version or a what-if) and what made it, in words.

        Returns
        -------
        PlanInfo
            The record as stored (unpublished).

        Raises
        ------
        NotFoundError
            When `scenario_id` is given but not recorded.
        """
        row = PlanRecord(
            id=plan_id or new_id(),
            scenario_id=scenario_id,
            job_id=job_id,
            kind=kind,
            created_at=utc_now(),
            folder=folder,
            files=list(files),
            options=dict(options),
            solver_version=solver_version,
            seed=int(seed),
            runtime_s=float(runtime_s),
            status=status,
            summary=summary,
            details=dict(details or {}),
            parent_id=parent_id,
            label=label[:300] if label else None,
        )
        with self._session() as session:
            if scenario_id is not None:
                self._get(session, ScenarioRecord, scenario_id, "scenario")
            session.add(row)
            session.flush()
            return _plan(row)

    def get_plan(self, plan_id: str) -> PlanInfo:
        """The plan with that id; raises :class:`NotFoundError`."""
        with self._session() as session:
            return _plan(self._get(session, PlanRecord, plan_id, "plan"))

    def list_plans(
        self, scenario_id: str | None = None, *, published: bool | None = None
    ) -> list[PlanInfo]:
        """Plans, newest first: of one scenario when `scenario_id` is given, only published
        (True) or unpublished (False) ones when `published` is given."""
        query = select(PlanRecord).order_by(PlanRecord.created_at.desc())
        if scenario_id is not None:
            query = query.where(PlanRecord.scenario_id == scenario_id)
        if published is True:
            query = query.where(PlanRecord.published_at.is_not(None))
        elif published is False:
            query = query.where(PlanRecord.published_at.is_(None))
        with self._session() as session:
            return [_plan(r) for r in session.scalars(query)]

    def children(self, plan_id: str) -> list[PlanInfo]:
        """The plans made from `plan_id` (versions and what-ifs), oldest first."""
        query = select(PlanRecord).where(PlanRecord.parent_id == plan_id)
        query = query.order_by(PlanRecord.created_at)
        with self._session() as session:
            return [_plan(r) for r in session.scalars(query)]

    def publish(self, plan_id: str, *, by: str, reason: str) -> PlanInfo:
        """Publish a plan as the program's plan of record: who, when, why; add an audit entry.

        Parameters
        ----------
        plan_id
            The plan.
        by
            Who publishes (a name or staff identifier; required).
        reason
            Why (required).

        Returns
        -------
        PlanInfo
            The plan, published.

        Raises
        ------
        ValueError
            When `by` or `reason` is blank.
        NotFoundError
            No plan with that id.
        ConflictError
            The plan is already published (a published record never changes).
        """
        by, reason = by.strip(), reason.strip()
        if not by or not reason:
            raise ValueError("publishing needs who publishes (by) and why (reason)")
        with self._session() as session:
            row = self._get(session, PlanRecord, plan_id, "plan")
            if row.published_at is not None:
                raise ConflictError(
                    f"plan {plan_id} was already published on "
                    f"{_utc(row.published_at).isoformat()} by {row.published_by}"  # type: ignore[union-attr]
                )
            now = utc_now()
            row.published_at, row.published_by, row.publish_reason = now, by[:200], reason
            session.add(
                AuditRecord(at=now, action="publish", plan_id=plan_id, by=by[:200], reason=reason)
            )
            return _plan(row)

    def rename_plan(self, plan_id: str, label: str, *, by: str) -> PlanInfo:
        """Give an unpublished plan a new label (at most 300 characters); audit entry
        ``rename`` with the old label as its reason. Raises ValueError for a blank label,
        :class:`NotFoundError`, or :class:`ConflictError` for a published plan (its record
        never changes)."""
        label = " ".join(label.split())[:300]
        if not label:
            raise ValueError("a plan's name cannot be blank")
        with self._session() as session:
            row = self._get(session, PlanRecord, plan_id, "plan")
            if row.published_at is not None:
                raise ConflictError(f"plan {plan_id} is published; its name is kept")
            old = row.label or "first plan"
            row.label = label
            session.add(
                AuditRecord(at=utc_now(), action="rename", plan_id=plan_id, by=by[:200], reason=old)
            )
            return _plan(row)

    def delete_plan(self, plan_id: str, *, by: str, reason: str = "") -> PlanInfo:
        """Delete an unpublished plan's record (the caller removes its folder); audit entry.

        Returns the deleted record. Raises :class:`NotFoundError`, or :class:`ConflictError`
        for a published plan (a compliance record is never deleted).
        """
        with self._session() as session:
            row = self._get(session, PlanRecord, plan_id, "plan")
            if row.published_at is not None:
                raise ConflictError(f"plan {plan_id} is published; a published plan is kept")
            info = _plan(row)
            session.delete(row)
            session.add(
                AuditRecord(
                    at=utc_now(), action="delete", plan_id=plan_id, by=by[:200], reason=reason
                )
            )
            return info

    # ------------------------------------------------------------------ import mappings

    def save_mapping(self, mapping: str) -> None:
        """Keep an import mapping the planner confirmed (YAML), to propose it next time."""
        with self._session() as session:
            session.add(MappingRecord(created_at=utc_now(), mapping=mapping))

    def last_mapping(self) -> str | None:
        """The import mapping confirmed last (YAML), or None."""
        query = select(MappingRecord).order_by(
            MappingRecord.created_at.desc(), MappingRecord.id.desc()
        )
        with self._session() as session:
            row = session.scalars(query.limit(1)).first()
            return row.mapping if row is not None else None

    # ------------------------------------------------------------------ sessions

    def create_session(
        self, session_id: str, *, subject: str | None, csrf_token: str
    ) -> SessionInfo:
        """Record a new session under the key `session_id` (the caller's digest of its cookie),
        made and last used now."""
        now = utc_now()
        row = SessionRecord(
            id=session_id,
            subject=subject[:200] if subject else None,
            csrf_token=csrf_token,
            created_at=now,
            last_seen_at=now,
        )
        with self._session() as session:
            session.add(row)
            session.flush()
            return _session_info(row)

    def get_session(self, session_id: str) -> SessionInfo:
        """The session with that key; raises :class:`NotFoundError`."""
        with self._session() as session:
            return _session_info(self._get(session, SessionRecord, session_id, "session"))

    def touch_session(self, session_id: str) -> None:
        """Record that the session was used now (a session no longer there is left alone)."""
        with self._session() as session:
            row = session.get(SessionRecord, session_id)
            if row is not None:
                row.last_seen_at = utc_now()

    def delete_session(self, session_id: str) -> bool:
        """Delete the session with that key; False when there was none."""
        with self._session() as session:
            deleted = session.execute(delete(SessionRecord).where(SessionRecord.id == session_id))
            return bool(deleted.rowcount)  # type: ignore[attr-defined]

    def delete_sessions(self, *, last_seen_before: datetime, created_before: datetime) -> int:
        """Delete every session last used before `last_seen_before` or made before
        `created_before` (the expired ones); return how many."""
        query = delete(SessionRecord).where(
            or_(
                SessionRecord.last_seen_at < last_seen_before,
                SessionRecord.created_at < created_before,
            )
        )
        with self._session() as session:
            return int(session.execute(query).rowcount)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ users

    def create_user(
        self, name: str, *, role: str, staff_id: str | None, token_hash: str
    ) -> UserInfo:
        """Record a new user whose API token has the SHA-256 `token_hash` (the caller keeps
        the token). Raises :class:`ConflictError` when the name is taken."""
        with self._session() as session:
            if session.scalars(select(UserRecord).where(UserRecord.name == name)).first():
                raise ConflictError(f"a user named {name!r} exists already")
            row = UserRecord(
                id=new_id(), name=name, role=role, staff_id=staff_id, token_hash=token_hash,
                created_at=utc_now(), disabled_at=None,
            )  # fmt: skip
            session.add(row)
            session.flush()
            return _user(row)

    def list_users(self) -> list[UserInfo]:
        """Every user, by name."""
        with self._session() as session:
            return [_user(r) for r in session.scalars(select(UserRecord).order_by(UserRecord.name))]

    def get_user(self, user_id: str) -> UserInfo:
        """The user with that id; raises :class:`NotFoundError`."""
        with self._session() as session:
            return _user(self._get(session, UserRecord, user_id, "user"))

    def user_by_token_hash(self, token_hash: str) -> UserInfo | None:
        """The user whose token has that SHA-256, or None (disabled users too: the caller
        refuses them)."""
        query = select(UserRecord).where(UserRecord.token_hash == token_hash)
        with self._session() as session:
            row = session.scalars(query).first()
            return _user(row) if row is not None else None

    def disable_user(self, name: str) -> UserInfo:
        """Disable the user named `name` and delete their sessions (their token and sessions
        stop working at once); idempotent. Raises :class:`NotFoundError`."""
        with self._session() as session:
            row = session.scalars(select(UserRecord).where(UserRecord.name == name)).first()
            if row is None:
                raise NotFoundError(f"no user named {name!r}")
            if row.disabled_at is None:
                row.disabled_at = utc_now()
            session.execute(delete(SessionRecord).where(SessionRecord.subject == row.id))
            return _user(row)

    # ------------------------------------------------------------------ check-ins

    def add_checkin(
        self,
        *,
        staff_id: str,
        user_id: str,
        manageable: int,
        families_i_can_serve: int | None,
        hours_over: float | None,
        note: str,
    ) -> CheckinInfo:
        """Record an advocate's workload check-in, made now."""
        row = CheckinRecord(
            at=utc_now(), staff_id=staff_id, user_id=user_id, manageable=manageable,
            families_i_can_serve=families_i_can_serve, hours_over=hours_over, note=note,
        )  # fmt: skip
        with self._session() as session:
            session.add(row)
            session.flush()
            return _checkin(row)

    def list_checkins(self, *, staff_id: str | None = None) -> list[CheckinInfo]:
        """Check-ins, oldest first (of one staff member when `staff_id` is given)."""
        query = select(CheckinRecord).order_by(CheckinRecord.at, CheckinRecord.id)
        if staff_id is not None:
            query = query.where(CheckinRecord.staff_id == staff_id)
        with self._session() as session:
            return [_checkin(r) for r in session.scalars(query)]

    def get_checkin(self, checkin_id: int) -> CheckinInfo:
        """The check-in with that id; raises :class:`NotFoundError`."""
        with self._session() as session:
            row = session.get(CheckinRecord, checkin_id)
            if row is None:
                raise NotFoundError(f"no check-in with id {checkin_id}")
            return _checkin(row)

    def mark_checkin_acted(self, checkin_id: int, *, job_id: str, by: str) -> CheckinInfo:
        """Record that check-in `checkin_id` was turned into a personal cap by the plan job
        `job_id`, started by `by`."""
        with self._session() as session:
            row = session.get(CheckinRecord, checkin_id)
            if row is None:
                raise NotFoundError(f"no check-in with id {checkin_id}")
            row.acted_job_id, row.acted_by = job_id, by[:200]
            return _checkin(row)

    # ------------------------------------------------------------------ audit log

    def audit_log(
        self, *, plan_id: str | None = None, job_id: str | None = None
    ) -> list[AuditEntry]:
        """The audit log, oldest first: every publish, cancellation and deletion, optionally of
        one plan or one job."""
        query = select(AuditRecord).order_by(AuditRecord.at, AuditRecord.id)
        if plan_id is not None:
            query = query.where(AuditRecord.plan_id == plan_id)
        if job_id is not None:
            query = query.where(AuditRecord.job_id == job_id)
        with self._session() as session:
            return [_audit(r) for r in session.scalars(query)]
