"""Accounts in Debian's Chromium (Playwright), against `famassign serve`: an advocate signs in
with their link, sees only their own families and files a workload check-in; a manager sees it
beside the caseloads and makes the stated number a personal cap with one action, and the new
plan version moves the fewest families. axe-core runs on the new screens; the browser console
must log no error and no request may leave the machine (the fixtures of
tests/test_page_browser.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from browsers import needs_chromium
from playwright.sync_api import Page, expect
from server_process import TOKEN, ServerProcess, running_server, upload_folder, wait_for_job
from test_accounts import MINE, add_user, make_plan
from test_page_browser import Watch, axe, browser, session

import famassign as fa

pytestmark = needs_chromium
__all__ = ["browser", "session"]  # the fixtures this module uses from test_page_browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("accounts-browser")
    with running_server(root / "workspace", args=("--job-processes", "1")) as running:
        yield running


def test_an_advocate_checks_in_and_a_manager_makes_it_a_personal_cap(
    session: tuple[Page, Watch], server: ServerProcess
) -> None:
    page, watch = session
    advocate = add_user(server.workspace, "Ana Advocate", "advocate", "--staff-id", MINE)
    manager = add_user(server.workspace, "Maria Manager", "manager")
    with server.client(token=TOKEN) as admin:
        scenario_id = upload_folder(admin, fa.example_path()).json()["id"]
        plan_id = make_plan(admin, scenario_id)["plan_id"]
        assert admin.post(f"/api/v1/plans/{plan_id}/publish", json={"reason": "r"}).is_success
        whole = admin.get(f"/api/v1/plans/{plan_id}").json()["assignments"]
    mine = sorted(a["family_id"] for a in whole if a["staff_id"] == MINE)

    page.goto(f"{server.url}/?token={advocate}")
    expect(page).to_have_url(f"{server.url}/mine")
    shown = sorted(page.locator("#my-families tbody tr td:first-child").all_inner_texts())
    assert shown == mine
    axe(page, watch, "mine")
    cap = len(mine) - 1
    page.fill("#ci-manageable", "2")
    page.fill("#ci-hours", "5")
    page.fill("#ci-serve", str(cap))
    page.get_by_role("button", name="Send my check-in").click()
    expect(page.locator("#my-checkins")).to_contain_text(f"can serve {cap}")
    page.get_by_role("button", name="Sign out").click()

    page.goto(f"{server.url}/?token={manager}")
    page.goto(f"{server.url}/p/{plan_id}")
    expect(page.locator("#checkins")).to_contain_text(MINE)
    axe(page, watch, "checkins")
    page.get_by_role("button", name=f"Make {cap} the personal cap of {MINE}").click()
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f]{32}"))
    job_id = page.url.rsplit("/", 1)[1]
    with server.client(token=manager) as api:
        job = wait_for_job(api, job_id)
        assert job["state"] == "done", job
        after = api.get(f"/api/v1/plans/{job['plan_id']}").json()["assignments"]
    was = {a["family_id"]: a["staff_id"] for a in whole}
    now = {a["family_id"]: a["staff_id"] for a in after}
    assert sum(1 for s in now.values() if s == MINE) == cap
    assert sum(1 for f in was if now[f] != was[f]) == 1  # the fewest: one family moves
