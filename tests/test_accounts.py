"""Accounts and roles (issue 27), on a real ``famassign serve`` with users made by the real
``famassign users`` command: every route x every role answers as the one rules table says
(the table of routes is the application's own, so a new route without a rule fails here);
tokens are kept only as hashes; a disabled user is refused at once; an advocate sees only
their own families and files check-ins for their own caseload only; who acted is the
signed-in person."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from server_process import TOKEN, ServerProcess, running_server, upload_folder, wait_for_job

import famassign as fa
from famassign.server.app import create_app
from famassign.server.roles import ADVOCATE, PUBLIC, ROLES, RULES, VIEWER, route_keys, rule
from famassign.server.settings import Settings
from famassign.store import Store

SCENARIO = fa.read_scenario(fa.example_path()).scenario
MINE = SCENARIO.staff[0].staff_id
"""The staff member the advocate is tied to."""
OTHER = SCENARIO.staff[1].staff_id
"""Another staff member (whose advocate is someone else)."""


def users(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``famassign users ARGS --workspace WORKSPACE``."""
    return subprocess.run(
        [sys.executable, "-m", "famassign", "users", *args, "--workspace", str(workspace)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def add_user(workspace: Path, name: str, role: str, *extra: str) -> str:
    """Add a user with the CLI; their token (the output's last line)."""
    done = users(workspace, "add", name, "--role", role, *extra)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"[0-9a-f]{48}", token), done.stdout
    return token


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("accounts")
    with running_server(root / "workspace", args=("--job-processes", "1")) as running:
        yield running


@pytest.fixture(scope="module")
def tokens(server: ServerProcess) -> dict[str, str]:
    """One token per role (the admin's is the server's), plus a second advocate's."""
    ws = server.workspace
    return {
        "admin": TOKEN,
        "manager": add_user(ws, "Maria Manager", "manager"),
        "advocate": add_user(ws, "Ana Advocate", "advocate", "--staff-id", MINE),
        "other_advocate": add_user(ws, "Otto Advocate", "advocate", "--staff-id", OTHER),
        "viewer": add_user(ws, "Vic Viewer", "viewer"),
        "client": add_user(ws, "Data system", "client"),
    }


def as_(server: ServerProcess, token: str) -> httpx.Client:
    return server.client(token=token)


def make_plan(client: httpx.Client, scenario_id: str) -> dict[str, Any]:
    started = client.post(f"/api/v1/scenarios/{scenario_id}/plans", json={"time_limit": 1})
    assert started.status_code == 202, started.text
    job = wait_for_job(client, started.json()["id"])
    assert job["state"] == "done", job
    return job


@pytest.fixture(scope="module")
def ids(server: ServerProcess, tokens: dict[str, str]) -> dict[str, str]:
    """A scenario, a published plan and its job, made by the admin."""
    with as_(server, TOKEN) as admin:
        uploaded = upload_folder(admin, fa.example_path())
        assert uploaded.status_code == 201, uploaded.text
        scenario_id = uploaded.json()["id"]
        job = make_plan(admin, scenario_id)
        published = admin.post(
            f"/api/v1/plans/{job['plan_id']}/publish", json={"reason": "plan of record"}
        )
        assert published.status_code == 200, published.text
    return {"scenario_id": scenario_id, "plan_id": job["plan_id"], "job_id": job["id"]}


def test_manager_sees_every_family_an_advocate_only_their_own(
    server: ServerProcess, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    plan_id = ids["plan_id"]
    with as_(server, tokens["manager"]) as manager:
        whole = manager.get(f"/api/v1/plans/{plan_id}").json()
    assert {a["family_id"] for a in whole["assignments"]} == {
        f.family_id for f in SCENARIO.families
    }
    with as_(server, tokens["advocate"]) as advocate:
        answer = advocate.get(f"/api/v1/plans/{plan_id}")
        assert answer.status_code == 200, answer.text
        mine = answer.json()
        assert mine["assignments"], "the advocate's caseload is not empty in the example"
        assert {a["staff_id"] for a in mine["assignments"]} == {MINE}
        assert mine["unplaced"] == []
        assert {c["staff_id"] for c in mine["caseloads"]} == {MINE}
        expected = {a["family_id"] for a in whole["assignments"] if a["staff_id"] == MINE}
        assert {a["family_id"] for a in mine["assignments"]} == expected
        whole_file = advocate.get(f"/api/v1/plans/{plan_id}/files/assignments.csv")
        assert whole_file.status_code == 403
        assert advocate.post("/api/v1/scenarios", files={"files": ("x.csv", b"a")}).status_code == (
            403
        )
        assert advocate.get("/api/v1/jobs").status_code == 403
        assert advocate.get("/api/v1/me").json() == {
            "name": "Ana Advocate",
            "role": "advocate",
            "staff_id": MINE,
        }


def test_checkins_only_for_ones_own_caseload(
    server: ServerProcess, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    body = {"manageable": 2, "families_i_can_serve": 9, "hours_over": 6, "note": "private"}
    with as_(server, tokens["advocate"]) as advocate:
        filed = advocate.post(f"/api/v1/staff/{MINE}/checkins", json=body)
        assert filed.status_code == 201, filed.text
        assert (
            advocate.post(f"/api/v1/staff/{MINE}/checkins", json={"manageable": 4}).status_code
            == 201
        )
        assert (
            advocate.post(f"/api/v1/staff/{MINE}/checkins", json={"manageable": 6}).status_code
            == 422
        )
    with as_(server, tokens["other_advocate"]) as other:
        assert other.post(f"/api/v1/staff/{MINE}/checkins", json=body).status_code == 403
    with as_(server, tokens["manager"]) as manager:
        assert manager.post(f"/api/v1/staff/{MINE}/checkins", json=body).status_code == 403
        seen = manager.get("/api/v1/checkins", params={"staff_id": MINE}).json()
    assert [c["manageable"] for c in seen][:2] == [2, 4]
    assert seen[0]["families_i_can_serve"] == 9 and seen[0]["hours_over"] == 6


def test_checkins_reach_the_workbook_and_the_compliance_record(
    server: ServerProcess, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    with as_(server, tokens["advocate"]) as advocate:
        body = {"manageable": 1, "families_i_can_serve": 8, "note": "secret-note-text"}
        assert advocate.post(f"/api/v1/staff/{MINE}/checkins", json=body).status_code == 201
    with as_(server, tokens["manager"]) as manager:
        plan_id = make_plan(manager, ids["scenario_id"])["plan_id"]
        files = manager.get(f"/api/v1/plans/{plan_id}/files").json()
        assert "checkins.csv" in files
        compliance = manager.get(f"/api/v1/plans/{plan_id}/files/compliance.md").text
        workbook = manager.get(f"/api/v1/plans/{plan_id}/files/plan.xlsx").content
    assert "1302.52(d)(3)" in compliance
    assert "secret-note-text" not in compliance
    book = openpyxl.load_workbook(io.BytesIO(workbook), read_only=True)
    sheet = next(book[name] for name in book.sheetnames if "checkins" in name)
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert {"staff_id", "manageable", "families_i_can_serve", "families_in_plan"} <= set(header)
    mine = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    assert any(r["staff_id"] == MINE and r["families_i_can_serve"] == 8 for r in mine)
    assert all("secret-note-text" not in str(v) for row in rows for v in row)


def test_a_stated_number_becomes_a_personal_cap_moving_the_fewest_families(
    server: ServerProcess, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    with as_(server, tokens["manager"]) as manager:
        before = manager.get(f"/api/v1/plans/{ids['plan_id']}").json()
        mine = [a["family_id"] for a in before["assignments"] if a["staff_id"] == MINE]
        cap = len(mine) - 2
        with as_(server, tokens["advocate"]) as advocate:
            body = {"manageable": 2, "families_i_can_serve": cap}
            checkin = advocate.post(f"/api/v1/staff/{MINE}/checkins", json=body).json()
            refused = advocate.post(
                f"/api/v1/checkins/{checkin['id']}/cap", json={"plan_id": ids["plan_id"]}
            )
            assert refused.status_code == 403
        started = manager.post(
            f"/api/v1/checkins/{checkin['id']}/cap", json={"plan_id": ids["plan_id"]}
        )
        assert started.status_code == 202, started.text
        job = wait_for_job(manager, started.json()["id"])
        assert job["state"] == "done", job
        after = manager.get(f"/api/v1/plans/{job['plan_id']}").json()
        seen = manager.get("/api/v1/checkins", params={"staff_id": MINE}).json()
    assert after["parent_id"] == ids["plan_id"] and "personal cap" in after["label"]
    was = {a["family_id"]: a["staff_id"] for a in before["assignments"]}
    now = {a["family_id"]: a["staff_id"] for a in after["assignments"]}
    assert sum(1 for a in now.values() if a == MINE) == cap
    assert sum(1 for f in was if now.get(f) != was[f]) == 2  # the fewest: only the two over
    acted = next(c for c in seen if c["id"] == checkin["id"])
    assert acted["acted_by"] == "Maria Manager" and acted["acted_job_id"] == job["id"]


def test_who_acted_is_the_signed_in_person(
    server: ServerProcess, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    with as_(server, tokens["manager"]) as manager:
        plan_id = make_plan(manager, ids["scenario_id"])["plan_id"]
        published = manager.post(
            f"/api/v1/plans/{plan_id}/publish",
            json={"by": "Somebody Else", "reason": "of record"},
        )
        assert published.status_code == 200, published.text
        assert published.json()["published_by"] == "Maria Manager"
        audit = manager.get(f"/api/v1/plans/{plan_id}/audit").json()
        assert [(a["action"], a["by"]) for a in audit] == [("publish", "Maria Manager")]
        draft = make_plan(manager, ids["scenario_id"])["plan_id"]
        deleted = manager.delete(f"/api/v1/plans/{draft}", params={"by": "claimed"})
        assert deleted.status_code == 200, deleted.text
        entries = manager.get("/api/v1/audit").json()
    assert [e["by"] for e in entries if e["plan_id"] == draft] == ["Maria Manager"]


def test_the_advocates_page_shows_their_own_families_and_takes_a_checkin(
    server: ServerProcess, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    with as_(server, tokens["manager"]) as manager:
        whole = manager.get(f"/api/v1/plans/{ids['plan_id']}").json()["assignments"]
    mine = {a["family_id"] for a in whole if a["staff_id"] == MINE}
    others = {a["family_id"] for a in whole if a["staff_id"] not in (MINE, None)}
    with httpx.Client(base_url=server.url, timeout=60, headers={"Origin": server.url}) as page:
        signed = page.get("/", params={"token": tokens["advocate"]}, follow_redirects=False)
        assert signed.status_code == 303
        home = page.get("/", follow_redirects=False)
        assert home.status_code == 303 and home.headers["location"] == "/mine"
        shown = page.get("/mine")
        assert shown.status_code == 200, shown.text
        rows = set(re.findall(r"<tr><td>([^<]+)</td>", shown.text))
        assert rows == mine and not rows & others
        assert "per FTE" in shown.text
        assert page.get(f"/p/{ids['plan_id']}").status_code == 403  # the planner's steps
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', shown.text)
        assert csrf is not None
        form = {"csrf_token": csrf.group(1), "manageable": "3", "families_i_can_serve": "30"}
        sent = page.post("/mine/checkin", data=form, follow_redirects=False)
        assert sent.status_code == 303, sent.text
    with as_(server, tokens["manager"]) as manager:
        seen = manager.get("/api/v1/checkins", params={"staff_id": MINE}).json()
    assert any(c["families_i_can_serve"] == 30 for c in seen)
    # the manager sees it beside the caseloads and makes it a personal cap with one action
    with httpx.Client(base_url=server.url, timeout=60, headers={"Origin": server.url}) as page:
        page.get("/", params={"token": tokens["manager"]})
        plan_page = page.get(f"/p/{ids['plan_id']}").text
        assert 'id="checkins"' in plan_page and "Make 30 a personal cap" in plan_page
        latest = max(c["id"] for c in seen)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', plan_page)
        assert csrf is not None
        form = {"csrf_token": csrf.group(1), "checkin_id": str(latest), "time_limit": "2"}
        started = page.post(f"/p/{ids['plan_id']}/cap", data=form, follow_redirects=False)
        assert started.status_code == 303, started.text
        assert started.headers["location"].startswith("/jobs/")
    with as_(server, tokens["manager"]) as manager:
        job = wait_for_job(manager, started.headers["location"].rsplit("/", 1)[1])
        assert job["state"] == "done", job
        after = manager.get(f"/api/v1/plans/{job['plan_id']}").json()
    assert "personal cap 30" in after["label"]


def test_tokens_are_stored_only_as_hashes(server: ServerProcess, tokens: dict[str, str]) -> None:
    database = server.workspace / "famassign.db"
    raw = database.read_bytes() + b"".join(
        p.read_bytes() for p in server.workspace.glob("famassign.db-*")
    )
    store = Store(f"sqlite:///{database}", upgrade=False)
    try:
        with store.engine.connect() as connection:
            hashes = set(connection.exec_driver_sql("SELECT token_hash FROM users").scalars())
    finally:
        store.close()
    for role, token in tokens.items():
        assert token.encode() not in raw, role
        if role != "admin":
            assert hashlib.sha256(token.encode()).hexdigest() in hashes


def test_a_disabled_user_is_refused_at_once(server: ServerProcess) -> None:
    ws = server.workspace
    token = add_user(ws, "Short Stay", "manager")
    with httpx.Client(base_url=server.url, timeout=60, headers={"Origin": server.url}) as page:
        signed = page.get("/", params={"token": token}, follow_redirects=False)
        assert signed.status_code == 303
        assert page.get("/api/v1/me").status_code == 200  # with the session
        with as_(server, token) as api:
            assert api.get("/api/v1/me").status_code == 200
            done = users(ws, "disable", "Short Stay")
            assert done.returncode == 0, done.stderr
            assert api.get("/api/v1/me").status_code == 401
        assert page.get("/api/v1/me").status_code == 401
    listed = users(ws, "list").stdout
    assert re.search(r"Short Stay\tmanager\t-\tdisabled", listed), listed


# ---------------------------------------------------------------------- route x role

SCOPED: dict[tuple[str, str, str], int] = {
    # a rule narrowed inside its route: an advocate's whole-plan file
    ("GET", "/api/v1/plans/{plan_id}/files/{name:path}", ADVOCATE): 403,
}
"""(method, path, role) -> the answer expected where a route narrows its rule."""


def _path(template: str, method: str, ids: dict[str, str]) -> str:
    """`template` filled in: real ids for reading, ids that do not exist for changing (so an
    allowed change answers 404 or 422 and changes nothing), the advocate's own staff id."""
    reading = method == "GET"
    values = {
        "scenario_id": ids["scenario_id"] if reading else "nosuchscenario",
        "plan_id": ids["plan_id"] if reading else "nosuchplan",
        "job_id": ids["job_id"] if reading else "nosuchjob",
        "family_id": SCENARIO.families[0].family_id,
        "staff_id": MINE,
        "name": "assignments.csv",
        "sid": ids["scenario_id"] if reading else "nosuchscenario",
        "pid": ids["plan_id"] if reading else "nosuchplan",
        "jid": ids["job_id"] if reading else "nosuchjob",
        "iid": "nosuchimport",
        "staged": "nosuchexport",
        "checkin_id": "999999",
        "left": ids["plan_id"],
        "right": ids["plan_id"],
    }
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values[m.group(1)], template)


def _expected(method: str, path: str, role: str | None) -> str:
    allowed = rule(method, path)
    if role is None:
        return "any" if allowed == PUBLIC else "401"
    if (method, path, role) in SCOPED:
        return str(SCOPED[(method, path, role)])
    return "ok" if role in allowed else "403"


def test_every_route_answers_every_role_as_the_rules_table_says(
    server: ServerProcess, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    app = create_app(Settings(workspace=server.workspace, token=TOKEN))
    keys = sorted(set(route_keys(app)))
    assert ("POST", "/api/v1/staff/{staff_id}/checkins") in keys
    missing = [key for key in keys if key not in RULES]
    assert missing == [], f"routes without a rule: {missing}"
    wrong = []
    for method, template in keys:
        if template in {"/api/v1/docs", "/docs/oauth2-redirect", "/api/v1/openapi.json"}:
            continue  # FastAPI's own pages: public, no dependencies of ours
        for role in (None, *ROLES):
            token = tokens.get(role or "", "")
            url = _path(template, method, ids)
            body: dict[str, Any] = {"json": {"manageable": 3}} if "checkins" in url else {}
            with httpx.Client(base_url=server.url, timeout=120) as client:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                answer = client.request(method, url, headers=headers, **body)
            code, want = answer.status_code, _expected(method, template, role)
            ok = (
                code < 500
                if want == "any"
                else code == int(want)
                if want.isdigit()
                else code < 500 and code not in (401, 403)
            )
            if not ok:
                wrong.append((method, template, role, want, code))
    assert wrong == []


def test_a_viewer_reads_published_plans_only(
    server: ServerProcess, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    with as_(server, tokens["manager"]) as manager:
        draft = make_plan(manager, ids["scenario_id"])["plan_id"]
    with as_(server, tokens[VIEWER]) as viewer:
        assert viewer.get(f"/api/v1/plans/{ids['plan_id']}").status_code == 200
        assert viewer.get(f"/api/v1/plans/{draft}").status_code == 403
        assert viewer.get(f"/api/v1/plans/{draft}/files/assignments.csv").status_code == 403


def test_users_command_refuses_what_it_cannot_do(server: ServerProcess) -> None:
    ws = server.workspace
    assert users(ws, "add", "X", "--role", "admin").returncode == 2
    assert users(ws, "add", "Y", "--role", "advocate").returncode == 2  # no --staff-id
    assert users(ws, "add", "Maria Manager", "--role", "manager").returncode in (0, 2)
    assert users(ws, "disable", "nobody").returncode == 2
