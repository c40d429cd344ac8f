"""`famassign serve` as a real process on a free loopback port: upload, plan, poll, fetch,
evaluate; tokens; every defect of the loader's corpus as 422; 413; 429; cancel; reassign;
recommend and staffing; a crashed worker; a small concurrent load.

One server serves the module (starting one costs seconds of imports); the kill-and-restart test
is in test_server_restart.py.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_process import (
    ServerProcess,
    check_plan,
    running_server,
    upload_files,
    upload_folder,
    wait_for_job,
)
from test_validate_cli import DEFECTS

import famassign as fa
from benchmarks.serve_load import run_load
from famassign.models import LocatedProblem
from famassign.outputs import SUMMARY_REQUIRED_KEYS
from famassign.scenarios import GeneratorConfig

MAX_UPLOAD_MB = 1
MAX_QUEUED = 3


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workspace = tmp_path_factory.mktemp("serve") / "workspace"
    with running_server(
        workspace,
        args=(
            "--max-upload-mb",
            str(MAX_UPLOAD_MB),
            "--max-queued-jobs",
            str(MAX_QUEUED),
            "--job-processes",
            "2",
        ),
    ) as running:
        yield running


@pytest.fixture(scope="module")
def slow_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dense program whose balance search runs to its time limit (a long job)."""
    scenario = fa.generate(GeneratorConfig(n_families=1500, n_sites=10, dense=True), seed=3)
    return fa.write_scenario(scenario, tmp_path_factory.mktemp("slow") / "slow")


@pytest.fixture(scope="module")
def slow_id(client: httpx.Client, slow_folder: Path) -> str:
    response = upload_folder(client, slow_folder)
    assert response.status_code == 201, response.text
    scenario_id: str = response.json()["id"]
    return scenario_id


def plan_example(client: httpx.Client, scenario_id: str, **options: Any) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/scenarios/{scenario_id}/plans", json={"time_limit": 5, **options}
    )
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json()["id"])
    assert job["state"] == "done", job
    return job


def test_health_needs_no_token(server: ServerProcess) -> None:
    with server.client(token="") as anonymous:
        response = anonymous.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize("token", ["", "wrong-token-0123456789"])
def test_401_without_or_with_a_wrong_token(server: ServerProcess, token: str) -> None:
    with server.client(token=token) as other:
        for method, path in [
            ("GET", "/api/v1/scenarios"),
            ("POST", "/api/v1/scenarios"),
            ("GET", "/api/v1/jobs/x"),
            ("GET", "/api/v1/plans/x/files/assignments.csv"),
            ("POST", "/api/v1/plans/x/publish"),
        ]:
            response = other.request(method, path)
            assert response.status_code == 401, (method, path, response.text)
            assert response.headers["www-authenticate"] == "Bearer"


def test_browser_signs_in_with_token_in_address(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as browser:
        assert browser.get("/api/v1/scenarios").status_code == 401
        assert browser.get("/", params={"token": "wrong-token-0123456789"}).status_code == 401
        assert browser.get("/api/v1/scenarios").status_code == 401
        signed = browser.get("/", params={"token": server.token}, follow_redirects=False)
        assert signed.status_code == 303 and signed.headers["location"] == "/"
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie and server.token not in cookie
        assert browser.get("/api/v1/scenarios").status_code == 200


def test_openapi_is_served(client: httpx.Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/scenarios",
        "/api/v1/scenarios/{scenario_id}/plans",
        "/api/v1/jobs/{job_id}",
        "/api/v1/plans/{plan_id}/files/{name}",
        "/api/v1/plans/{plan_id}/publish",
    ):
        assert path in schema["paths"]


def test_example_upload_plan_poll_fetch_evaluate_publish(
    client: httpx.Client, example_id: str
) -> None:
    scenario = fa.read_scenario(fa.example_path()).scenario
    info = client.get(f"/api/v1/scenarios/{example_id}").json()
    assert info["summary"]["families"] == len(scenario.families)
    assert set(info["files"]) == {p.name for p in fa.example_path().iterdir() if p.is_file()}
    job = plan_example(client, example_id, seed=1)
    plan_id = job["plan_id"]
    files = check_plan(client, plan_id, scenario)
    plan = client.get(f"/api/v1/plans/{plan_id}").json()
    assert plan["id"] == plan_id and plan["scenario_id"] == example_id
    assert set(SUMMARY_REQUIRED_KEYS) <= set(plan["summary"])
    assert plan["seed"] == 1 and plan["options"]["time_limit"] == 5
    assert len(plan["caseloads"]) == len(scenario.staff)
    assert all("reason" in u for u in plan["unplaced"])
    assert b"Springfield" in files["report.html"]
    # files outside the plan's recorded names are not served
    for name in ("..%2Fscenario.yaml", ".famassign-output", "missing.csv"):
        assert client.get(f"/api/v1/plans/{plan_id}/files/{name}").status_code == 404

    listed = client.get(f"/api/v1/scenarios/{example_id}/plans").json()
    assert [p["published"] for p in listed if p["id"] == plan_id] == [False]
    blank = client.post(f"/api/v1/plans/{plan_id}/publish", json={"by": "x", "reason": " "})
    assert blank.status_code == 422, blank.text
    # a separator Python strips but pydantic does not (Schemathesis found it as a 500)
    blank = client.post(f"/api/v1/plans/{plan_id}/publish", json={"reason": "\u001e"})
    assert blank.status_code == 422
    published = client.post(
        f"/api/v1/plans/{plan_id}/publish",
        json={"by": "J. Rivera, FS manager", "reason": "plan of record for August"},
    )
    assert published.status_code == 200, published.text
    assert published.json()["published"] is True
    again = client.post(f"/api/v1/plans/{plan_id}/publish", json={"by": "x", "reason": "y"})
    assert again.status_code == 409
    assert client.delete(f"/api/v1/plans/{plan_id}", params={"by": "x"}).status_code == 409
    listed = client.get(f"/api/v1/scenarios/{example_id}/plans").json()
    assert [p["published"] for p in listed if p["id"] == plan_id] == [True]
    audit = client.get(f"/api/v1/plans/{plan_id}/audit").json()
    # who acted is the signed-in caller (here the server's admin token), not the body's "by"
    assert [(a["action"], a["by"]) for a in audit] == [("publish", "admin")]


def test_unpublished_plan_is_deleted_only_when_asked(client: httpx.Client, example_id: str) -> None:
    plan_id = plan_example(client, example_id, time_limit=0)["plan_id"]
    assert client.get(f"/api/v1/plans/{plan_id}").status_code == 200
    deleted = client.delete(f"/api/v1/plans/{plan_id}", params={"by": "tester", "reason": "tmp"})
    assert deleted.status_code == 200
    assert client.get(f"/api/v1/plans/{plan_id}").status_code == 404
    assert client.get(f"/api/v1/plans/{plan_id}/files/assignments.csv").status_code == 404
    entries = client.get("/api/v1/audit").json()
    assert any(e["action"] == "delete" and e["plan_id"] == plan_id for e in entries)


def test_reassign_recommend_staffing(client: httpx.Client, example_id: str) -> None:
    scenario = fa.read_scenario(fa.example_path()).scenario
    leaving = next(s.staff_id for s in scenario.staff if s.status is fa.StaffStatus.active)
    job = plan_example(client, example_id, departed=[leaving])
    assert job["kind"] == "reassign"
    plan = client.get(f"/api/v1/plans/{job['plan_id']}").json()
    assert "moves.csv" in plan["files"]
    assert plan["summary"]["reassign_departed"] == [leaving]
    after = scenario.model_copy(
        update={
            "staff": tuple(
                s.model_copy(update={"status": fa.StaffStatus.departed})
                if s.staff_id == leaving
                else s
                for s in scenario.staff
            )
        }
    )
    check_plan(client, job["plan_id"], after)

    bad = client.post(f"/api/v1/scenarios/{example_id}/plans", json={"departed": ["nobody"]})
    assert bad.status_code == 422 and bad.json()["problems"][0]["column"] == "departed"
    bad = client.post(f"/api/v1/scenarios/{example_id}/plans", json={"time_limit": -1})
    assert bad.status_code == 422
    bad = client.post(
        f"/api/v1/scenarios/{example_id}/plans", json={"absent": [leaving], "temporary_cap": 45}
    )
    assert bad.status_code == 422 and "until" in bad.json()["detail"]

    family = scenario.families[0].family_id
    ranked = client.get(
        f"/api/v1/scenarios/{example_id}/families/{family}/recommendation", params={"top": 3}
    )
    assert ranked.status_code == 200, ranked.text
    answer = ranked.json()
    assert answer["family_id"] == family and 1 <= len(answer["candidates"]) <= 3
    unknown = client.get(f"/api/v1/scenarios/{example_id}/families/nobody/recommendation")
    assert unknown.status_code == 404
    staffing = client.get(f"/api/v1/scenarios/{example_id}/staffing")
    assert staffing.status_code == 200, staffing.text
    assert staffing.json()["additional_staff"] >= 0


DEFECT_CASES = {case: (edit, expected) for case, edit, expected in DEFECTS}


@pytest.mark.parametrize("case", list(DEFECT_CASES))
def test_422_for_each_defective_scenario(
    client: httpx.Client, good_files: dict[str, str | bytes], case: str
) -> None:
    edit, expected = DEFECT_CASES[case]
    edit(good_files)
    response = upload_files(client, good_files)
    assert response.status_code == 422, response.text
    problems = response.json()["problems"]
    assert problems
    assert all(set(p) == {"file", "row", "column", "message"} for p in problems)
    text = "\n".join(
        str(LocatedProblem(p["file"], p["row"], p["column"], p["message"])) for p in problems
    )
    for fragment in expected:
        assert fragment in text, text


@pytest.mark.parametrize(
    "name", ["../families.csv", "sub/staff.csv", "..", ".hidden.csv", "notes.txt", "staff.CSV"]
)
def test_path_tricks_and_unknown_names_are_refused(
    client: httpx.Client, good_files: dict[str, str | bytes], name: str
) -> None:
    good_files[name] = "x"
    response = upload_files(client, good_files)
    assert response.status_code == 422
    assert [p["file"] for p in response.json()["problems"]] == [name]
    assert response.json()["problems"][0]["row"] is None


def test_good_upload_of_the_test_scenario(
    client: httpx.Client, good_files: dict[str, str | bytes]
) -> None:
    response = upload_files(client, good_files)
    assert response.status_code == 201, response.text
    assert response.json()["summary"]["families"] == 7


def test_413_for_an_oversized_upload(
    client: httpx.Client, good_files: dict[str, str | bytes]
) -> None:
    good_files["conflicts.csv"] = "family_id,staff_id,reason\n" + "f2,s2,x\n" * 200_000
    response = upload_files(client, good_files)
    assert response.status_code == 413
    # a streamed body without a declared length is cut off as well
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="families.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n"
        + b"f,en,North\n" * (MAX_UPLOAD_MB * 1024 * 1024 // 10)
        + b"\r\n--xyz--\r\n"
    )

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    streamed = client.post(
        "/api/v1/scenarios",
        content=chunks(),
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert streamed.status_code == 413
    assert client.get("/api/v1/health").status_code == 200


def _start(client: httpx.Client, scenario_id: str, time_limit: float = 600) -> httpx.Response:
    return client.post(f"/api/v1/scenarios/{scenario_id}/plans", json={"time_limit": time_limit})


def test_cancel_and_429_and_health_during_solves(client: httpx.Client, slow_id: str) -> None:
    started = [_start(client, slow_id) for _ in range(2 + MAX_QUEUED + 2)]
    codes = [r.status_code for r in started]
    assert codes.count(202) >= 2 + MAX_QUEUED - 1 and 429 in codes, codes
    jobs = [r.json()["id"] for r in started if r.status_code == 202]
    wait_for_job(client, jobs[0], until=("running",))
    for _ in range(10):  # health and status answer at once while both workers solve
        t0 = time.perf_counter()
        assert client.get("/api/v1/health").status_code == 200
        assert time.perf_counter() - t0 < 1.0
        assert client.get(f"/api/v1/jobs/{jobs[0]}").json()["state"] == "running"
    for job_id in reversed(jobs):
        response = client.request(
            "DELETE", f"/api/v1/jobs/{job_id}", json={"by": "tester", "reason": "too slow"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["state"] == "cancelled"
    assert client.delete(f"/api/v1/jobs/{jobs[0]}").status_code == 409
    for job_id in jobs:
        job = wait_for_job(client, job_id)
        assert job["state"] == "cancelled" and job["plan_id"] is None
    audit = client.get("/api/v1/audit").json()
    assert {a["job_id"] for a in audit if a["action"] == "cancel"} >= set(jobs)
    # workers are free again: a new plan completes
    assert plan_example(client, slow_id, time_limit=0)["state"] == "done"


def test_a_killed_worker_fails_its_job_and_the_server_stays_up(
    server: ServerProcess, client: httpx.Client, slow_id: str, example_id: str
) -> None:
    job_id = _start(client, slow_id).json()["id"]
    wait_for_job(client, job_id, until=("running",))
    time.sleep(0.5)
    workers = [
        pid
        for pid in server.children()
        if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    assert workers
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    job = wait_for_job(client, job_id)
    assert job["state"] == "failed" and "worker process ended" in job["message"], job
    assert client.get("/api/v1/health").status_code == 200
    # the short-calls worker died too: its pool is rebuilt for the next upload
    assert upload_folder(client, fa.example_path()).status_code == 201
    job = plan_example(client, example_id, time_limit=1)
    check_plan(client, job["plan_id"], fa.read_scenario(fa.example_path()).scenario)


def test_small_concurrent_load(server: ServerProcess) -> None:
    """The load benchmark with four clients: every plan valid, no 5xx, health under 1 s."""
    figures = run_load(server, clients=4, time_limit=2)
    assert figures.plans_valid == 4 and figures.server_errors == 0, figures
    assert figures.health_s and figures.health_max_s < 1.0, figures.health_s
    assert figures.ok
