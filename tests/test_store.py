"""The store (famassign.store) on SQLite and on PostgreSQL: migrations, scenarios, the life of a
job, plans, publication, deletion and the audit log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from postgres_cluster import database_on, postgres_server
from sqlalchemy import inspect

from famassign.store import (
    INTERRUPTED,
    ConflictError,
    NotFoundError,
    Store,
    database_url,
    redacted,
)


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = Store(f"sqlite:///{tmp_path / 'famassign.db'}")
        yield opened
        opened.close()
        return
    with database_on(request.getfixturevalue("postgres")) as url:
        opened = Store(url)
        assert opened.engine.dialect.name == "postgresql"
        assert opened.engine.dialect.driver == "psycopg"
        yield opened
        opened.close()


def _scenario(store: Store, name: str = "Springfield") -> str:
    return store.record_scenario(
        name=name,
        content_hash="ab" * 32,
        files={"families.csv": "cd" * 32, "staff.csv": "ef" * 32},
        folder="scenarios/x",
        summary={"families": 3},
    ).id


def _plan(store: Store, scenario_id: str | None, job_id: str | None = None) -> str:
    return store.record_plan(
        scenario_id=scenario_id,
        job_id=job_id,
        folder="plans/p",
        files=["assignments.csv", "summary.json"],
        options={"time_limit": 5.0, "seed": 2},
        solver_version="0.1.0",
        seed=2,
        runtime_s=1.25,
        status="optimal",
        summary={"status": "optimal", "assigned": 3},
        details={"unplaced": [{"family_id": "f9", "reason": "no staff speaks zh"}]},
    ).id


def test_migrations_create_the_schema_and_are_idempotent(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {"scenarios", "jobs", "plans", "audit_log", "alembic_version"} <= tables
    store.upgrade()  # again: nothing to do, nothing lost
    scenario_id = _scenario(store)
    store.upgrade()
    assert store.get_scenario(scenario_id).name == "Springfield"


def _database_url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def test_migration_0002_adds_plan_versions_and_mappings_keeping_older_records(
    store: Store,
) -> None:
    from alembic import command
    from alembic.config import Config

    from famassign.store.store import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    columns = {c["name"] for c in inspect(store.engine).get_columns("plans")}
    assert "parent_id" not in columns
    assert "import_mappings" not in set(inspect(store.engine).get_table_names())
    store.close()
    # a store written by the first schema: its records survive the upgrade to 0002
    old = Store(_database_url(store), upgrade=False)
    with old.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO scenarios (id, name, created_at, content_hash, files, folder, summary) "
            "VALUES ('s1', 'old', '2026-01-01 00:00:00+00', 'ab', '{}', 'scenarios/s1', '{}')"
        )
    old.close()
    upgraded = Store(_database_url(store))
    assert "import_mappings" in set(inspect(upgraded.engine).get_table_names())
    info = upgraded.get_scenario("s1")
    assert info.name == "old" and info.derived_from is None
    upgraded.close()


def test_plan_versions_derived_scenarios_and_the_last_mapping(store: Store) -> None:
    uploaded = _scenario(store, "uploaded")
    first = _plan(store, uploaded)
    derived = store.record_scenario(
        name="uploaded",
        content_hash="12" * 32,
        files={},
        folder="scenarios/d",
        summary={},
        derived_from=first,
    ).id
    version = store.record_plan(
        scenario_id=derived,
        folder="plans/v",
        files=[],
        options={},
        solver_version="0.1.0",
        seed=0,
        runtime_s=0.5,
        status="feasible",
        summary={},
        parent_id=first,
        label="F1 moved to S2",
    )
    assert (version.parent_id, version.label) == (first, "F1 moved to S2")
    assert [p.id for p in store.children(first)] == [version.id]
    assert store.children(version.id) == []
    assert store.get_plan(first).parent_id is None
    assert store.get_scenario(derived).derived_from == first
    assert [s.id for s in store.list_scenarios(uploaded_only=True)] == [uploaded]
    assert {s.id for s in store.list_scenarios()} == {uploaded, derived}
    assert store.last_mapping() is None
    store.save_mapping("files: []\n")
    store.save_mapping("files: [second]\n")
    assert store.last_mapping() == "files: [second]\n"


def test_sessions_are_kept_touched_and_deleted_when_expired(store: Store) -> None:
    assert "sessions" in set(inspect(store.engine).get_table_names())
    made = store.create_session("a" * 64, subject="admin", csrf_token="c1")
    assert made.subject == "admin" and made.created_at.tzinfo is not None
    assert store.get_session("a" * 64) == made
    other = store.create_session("b" * 64, subject=None, csrf_token="c2")
    assert store.get_session("b" * 64).subject is None
    time.sleep(0.01)
    store.touch_session("a" * 64)
    store.touch_session("z" * 64)  # gone meanwhile: nothing to do
    touched = store.get_session("a" * 64)
    assert touched.last_seen_at > made.last_seen_at and touched.created_at == made.created_at
    cutoff = other.last_seen_at + timedelta(microseconds=1)
    assert store.delete_sessions(last_seen_before=cutoff, created_before=made.created_at) == 1
    with pytest.raises(NotFoundError):
        store.get_session("b" * 64)
    assert store.delete_sessions(last_seen_before=cutoff, created_before=cutoff) == 1
    assert not store.delete_session("a" * 64)
    again = store.create_session("c" * 64, subject="admin", csrf_token="c3")
    assert store.delete_session(again.id) and not store.delete_session(again.id)


def test_scenarios_are_kept_with_their_hashes(store: Store) -> None:
    first = _scenario(store, "one")
    second = _scenario(store, "two")
    info = store.get_scenario(first)
    assert info.files == {"families.csv": "cd" * 32, "staff.csv": "ef" * 32}
    assert info.content_hash == "ab" * 32 and info.summary == {"families": 3}
    assert info.created_at.tzinfo is not None
    assert [s.id for s in store.list_scenarios()] == [second, first]
    with pytest.raises(NotFoundError):
        store.get_scenario("nope")


def test_job_life_and_cancellation_audit(store: Store) -> None:
    scenario_id = _scenario(store)
    job = store.create_job(scenario_id, "solve", {"time_limit": 5})
    assert job.state == "queued" and job.plan_id is None
    assert store.start_job(job.id).state == "running"
    store.update_progress(job.id, "balance", 3, 10)
    running = store.get_job(job.id)
    assert (running.stage, running.done, running.total) == ("balance", 3, 10)
    plan_id = _plan(store, scenario_id, job.id)
    done = store.finish_job(job.id, "done", plan_id=plan_id)
    assert done.state == "done" and done.plan_id == plan_id and done.finished_at is not None
    # a final job keeps its state
    assert store.finish_job(job.id, "failed", message="late").state == "done"
    with pytest.raises(ConflictError):
        store.cancel_job(job.id, by="ana", reason="x")
    with pytest.raises(ValueError):
        store.finish_job(job.id, "running")

    other = store.create_job(scenario_id, "reassign", {"departed": ["s1"]})
    cancelled = store.cancel_job(other.id, by="ana", reason="wrong staff member")
    assert cancelled.state == "cancelled" and "ana" in (cancelled.message or "")
    assert store.start_job(other.id).state == "cancelled"  # a cancelled job never starts
    entries = store.audit_log(job_id=other.id)
    assert [(e.action, e.by, e.reason) for e in entries] == [
        ("cancel", "ana", "wrong staff member")
    ]
    assert [j.id for j in store.list_jobs(states=["cancelled"])] == [other.id]
    with pytest.raises(NotFoundError):
        store.create_job("nope", "solve", {})


def test_running_jobs_are_interrupted_at_restart(store: Store) -> None:
    scenario_id = _scenario(store)
    queued = store.create_job(scenario_id, "solve", {})
    running = store.start_job(store.create_job(scenario_id, "solve", {}).id)
    finished = store.create_job(scenario_id, "solve", {})
    store.finish_job(finished.id, "done")
    assert sorted(store.interrupt_running_jobs()) == sorted([queued.id, running.id])
    for job_id in (queued.id, running.id):
        job = store.get_job(job_id)
        assert job.state == "failed" and job.message == INTERRUPTED
    assert store.get_job(finished.id).state == "done"
    assert store.interrupt_running_jobs() == []


def test_plans_publish_delete_and_audit(store: Store) -> None:
    scenario_id = _scenario(store)
    kept, dropped = _plan(store, scenario_id), _plan(store, scenario_id)
    cli_plan = _plan(store, None)  # a plan written by the command line has no scenario record
    plan = store.get_plan(kept)
    assert plan.options == {"time_limit": 5.0, "seed": 2} and plan.runtime_s == 1.25
    assert plan.details["unplaced"][0]["family_id"] == "f9" and not plan.published
    assert {p.id for p in store.list_plans(scenario_id)} == {kept, dropped}
    assert {p.id for p in store.list_plans()} == {kept, dropped, cli_plan}

    with pytest.raises(ValueError):
        store.publish(kept, by=" ", reason="x")
    published = store.publish(kept, by="J. Rivera", reason="plan of record")
    assert published.published and published.published_by == "J. Rivera"
    assert published.published_at is not None and published.publish_reason == "plan of record"
    with pytest.raises(ConflictError):
        store.publish(kept, by="someone", reason="again")
    with pytest.raises(ConflictError):
        store.delete_plan(kept, by="someone")
    assert store.get_plan(kept) == published  # unchanged by the refused operations

    assert [p.id for p in store.list_plans(scenario_id, published=True)] == [kept]
    assert [p.id for p in store.list_plans(scenario_id, published=False)] == [dropped]
    store.delete_plan(dropped, by="ana", reason="draft")
    with pytest.raises(NotFoundError):
        store.get_plan(dropped)
    with pytest.raises(NotFoundError):
        store.delete_plan(dropped, by="ana")
    log = store.audit_log()
    assert [(e.action, e.plan_id, e.by) for e in log] == [
        ("publish", kept, "J. Rivera"),
        ("delete", dropped, "ana"),
    ]
    assert [e.action for e in store.audit_log(plan_id=kept)] == ["publish"]
    with pytest.raises(NotFoundError):
        _plan(store, "no-such-scenario")


def test_store_survives_reopening(store: Store) -> None:
    scenario_id = _scenario(store)
    plan_id = _plan(store, scenario_id)
    store.publish(plan_id, by="ana", reason="of record")
    store.close()
    again = Store(store.url)
    try:
        assert again.get_plan(plan_id).published_by == "ana"
        assert [e.action for e in again.audit_log()] == ["publish"]
    finally:
        again.close()


def test_urls() -> None:
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"
    assert "secret" not in redacted("postgresql://u:secret@h/db")
