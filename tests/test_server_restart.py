"""Kill ``famassign serve`` (SIGKILL) while it solves, start it again on the same workspace: the
job reads failed (interrupted), the store is intact, published plans are unchanged, and the
killed server's workers do not solve on."""

from __future__ import annotations

import os
import time
from pathlib import Path

from server_process import check_plan, start_server, upload_folder, wait_for_job

import famassign as fa
from famassign.scenarios import GeneratorConfig
from famassign.store import INTERRUPTED


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_kill_mid_solve_and_restart(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    slow = fa.write_scenario(
        fa.generate(GeneratorConfig(n_families=1500, n_sites=10, dense=True), seed=3),
        tmp_path / "slow",
    )
    server = start_server(workspace, args=("--job-processes", "1"))
    try:
        with server.client() as client:
            example_id = upload_folder(client, fa.example_path()).json()["id"]
            job = client.post(f"/api/v1/scenarios/{example_id}/plans", json={"time_limit": 2})
            plan_id = wait_for_job(client, job.json()["id"])["plan_id"]
            published = client.post(
                f"/api/v1/plans/{plan_id}/publish", json={"by": "manager", "reason": "of record"}
            ).json()
            before = {
                name: client.get(f"/api/v1/plans/{plan_id}/files/{name}").content
                for name in published["files"]
            }
            slow_id = upload_folder(client, slow).json()["id"]
            job_id = client.post(
                f"/api/v1/scenarios/{slow_id}/plans", json={"time_limit": 600}
            ).json()["id"]
            wait_for_job(client, job_id, until=("running",))
            time.sleep(1.0)
            workers = server.children()
        server.kill()
        assert server.process.returncode == -9
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in workers if _alive(pid)], "workers solve on after the kill"
    finally:
        server.kill()

    restarted = start_server(workspace, log_name="restart.log")
    try:
        with restarted.client() as client:
            job = client.get(f"/api/v1/jobs/{job_id}").json()
            assert job["state"] == "failed" and job["message"] == INTERRUPTED
            assert job["plan_id"] is None
            assert {s["id"] for s in client.get("/api/v1/scenarios").json()} == {
                example_id,
                slow_id,
            }
            again = client.get(f"/api/v1/plans/{plan_id}").json()
            # publish answers without the assignments (null), the plan with them
            assert again.pop("assignments") and published.pop("assignments") is None
            assert again == published
            after = {
                name: client.get(f"/api/v1/plans/{plan_id}/files/{name}").content
                for name in again["files"]
            }
            assert after == before
            assert [p["id"] for p in client.get(f"/api/v1/scenarios/{slow_id}/plans").json()] == []
            # the restarted server plans again
            job = client.post(f"/api/v1/scenarios/{example_id}/plans", json={"time_limit": 1})
            assert wait_for_job(client, job.json()["id"])["state"] == "done"
        assert "interrupted by a server stop" in restarted.log()
    finally:
        restarted.kill()


def test_serve_with_the_store_in_postgresql(tmp_path: Path) -> None:
    """``famassign serve --database postgresql://...``: the same code keeps scenarios, plans and
    the audit log in PostgreSQL (read back here with a Store of its own)."""
    from postgres_cluster import database_on, postgres_server

    from famassign.store import Store

    with postgres_server() as pg, database_on(pg) as url:
        server = start_server(tmp_path / "workspace", args=("--database", url))
        try:
            with server.client() as client:
                scenario_id = upload_folder(client, fa.example_path()).json()["id"]
                job = client.post(f"/api/v1/scenarios/{scenario_id}/plans", json={"time_limit": 0})
                plan_id = wait_for_job(client, job.json()["id"])["plan_id"]
                assert plan_id
                check_plan(client, plan_id, fa.read_scenario(fa.example_path()).scenario)
                client.post(
                    f"/api/v1/plans/{plan_id}/publish", json={"by": "manager", "reason": "record"}
                ).raise_for_status()
        finally:
            server.kill()
        store = Store(url)
        try:
            assert store.engine.dialect.name == "postgresql"
            assert store.get_scenario(scenario_id).name.startswith("Springfield")
            assert store.get_plan(plan_id).published_by == "admin"  # the signed-in caller
            assert [e.action for e in store.audit_log(plan_id=plan_id)] == ["publish"]
        finally:
            store.close()
        assert not (tmp_path / "workspace" / "famassign.db").exists()
