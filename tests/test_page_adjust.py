"""The page's adjustments without a browser, against the real server app (its store and its
process pool): moves checked by the evaluator, versions, diffs, the families table filtered and
paged on the server, cancelling and failing jobs, and the page's token guard."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from server_process import csrf_of
from starlette.testclient import TestClient

import famassign as fa
from famassign.server.adjustments import (
    AdjustmentError,
    check_move,
    following,
    plan_diff,
    rule_of,
    with_weights,
)
from famassign.server.app import create_app
from famassign.server.pages.views import PAGE_SIZE, demand_rows, family_page
from famassign.server.planner import PlanReader, PlanRecord
from famassign.server.settings import Settings

TOKEN = "adjust-test-token-0123456789"


@dataclass
class Page:
    """A signed-in client of a running server app, and the page's reading of its store."""

    client: TestClient
    reader: PlanReader
    csrf: str
    """The session's CSRF token (the client sends the page's Origin with every request)."""

    def post(self, path: str, data: dict[str, Any]) -> str:
        """POST a form; the address the page sends the browser to."""
        answer = self.client.post(
            path, data={**data, "csrf_token": self.csrf}, follow_redirects=False
        )
        assert answer.status_code == 303, answer.text[:2000]
        return str(answer.headers["location"])

    def job(self, job_id: str) -> dict[str, Any]:
        status: dict[str, Any] = self.client.get(f"/jobs/{job_id}/status").json()
        return status

    def wait(self, location: str) -> PlanRecord:
        """Follow a job's page until its plan is done; the plan, re-checked by the evaluator."""
        job_id = location.rsplit("/", 1)[-1]
        deadline = time.monotonic() + 120
        job = self.job(job_id)
        while job["state"] in ("queued", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
            job = self.job(job_id)
        assert job["state"] == "done", job["message"]
        record = self.reader.plan(job["plan_id"])
        evaluation = fa.evaluate(
            record.scenario, record.result.plan(), record.result.exception_of()
        )
        assert evaluation.violations == []
        return record

    def upload(self, folder: Path) -> str:
        files = [
            ("files", (p.name, p.read_bytes())) for p in sorted(folder.iterdir()) if p.is_file()
        ]
        answer = self.client.post(
            "/upload", files=files, data={"csrf_token": self.csrf}, follow_redirects=False
        )
        assert answer.status_code == 303, answer.text[:2000]
        return str(answer.headers["location"]).rsplit("/", 1)[-1]


@contextmanager
def signed_in_page(workspace: Path) -> Iterator[Page]:
    """The page of a new server app on `workspace` (one job process), signed in with TOKEN."""
    app = create_app(Settings(workspace=workspace, token=TOKEN, job_processes=1))
    with TestClient(app, headers={"Origin": "http://testserver"}) as client:
        signed = client.get(f"/?token={TOKEN}")
        assert signed.status_code == 200
        yield Page(client, app.state.plans, csrf_of(signed.text))


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    with signed_in_page(tmp_path_factory.mktemp("server")) as signed:
        yield signed


@pytest.fixture(scope="module")
def planned(page: Page) -> PlanRecord:
    sid = page.upload(fa.example_path())
    return page.wait(page.post(f"/s/{sid}/plan", {"time_limit": "0"}))


def test_every_move_the_evaluator_refuses_names_its_rule(planned: PlanRecord) -> None:
    record = planned
    scenario, plan = record.scenario, record.result.plan()
    family = next(f for f in scenario.families if plan[f.family_id])
    seen_rules = set()
    for staff in scenario.staff:
        verdict = check_move(record, family.family_id, staff.staff_id)
        expected = []
        if staff.status.value != "active":
            expected.append("status")
        if family.language not in staff.languages:
            expected.append("language")
        if not staff.serves_site(family.site):
            expected.append("site")
        if family.program_option not in staff.program_options:
            expected.append("program option")
        rules = {rule.split(":")[0] for rule, _ in verdict.broken}
        seen_rules |= rules
        for rule in expected:
            assert rule in rules, (staff.staff_id, verdict.broken)
        if staff.staff_id == plan[family.family_id]:
            assert verdict.allowed
    assert {"language", "site"} <= seen_rules


def _could_take(scenario: fa.Scenario, family: fa.Family, staff: fa.Staff) -> bool:
    """The family fits the staff member on every rule but the cap."""
    return (
        family.language in staff.languages
        and staff.serves_site(family.site)
        and family.program_option in staff.program_options
        and not family.pinned
        and (family.family_id, staff.staff_id)
        not in {(c.family_id, c.staff_id) for c in scenario.conflicts}
    )


def test_a_move_above_the_cap_is_refused_unless_an_exception_allows_it(
    planned: PlanRecord,
) -> None:
    record = planned
    scenario, result = record.scenario, record.result
    plan = result.plan()
    full = [c for c in result.caseloads if c.families >= c.cap and c.families > 0]
    assert full, "the example has caseloads at their cap"
    found = False
    for load in full:
        staff = scenario.staff_by_id[load.staff_id]
        for family in scenario.families:
            if plan[family.family_id] in (None, load.staff_id) or not _could_take(
                scenario, family, staff
            ):
                continue
            verdict = check_move(record, family.family_id, load.staff_id)
            covering = [
                e
                for e in scenario.exceptions_in_force()
                if e.covers(load.staff_id)
                and e.cap_for(staff, scenario.policy) >= load.families + 1
            ]
            if covering:
                assert verdict.allowed and verdict.exception_id in {
                    e.exception_id for e in covering
                }
            else:
                assert [rule.split(":")[0] for rule, _ in verdict.broken] == ["cap"]
                found = True
            break
    assert found


def test_unknown_ids_are_refused(planned: PlanRecord) -> None:
    record = planned
    with pytest.raises(AdjustmentError, match="not in this plan"):
        check_move(record, "NO-SUCH-FAMILY", record.scenario.staff[0].staff_id)
    with pytest.raises(AdjustmentError, match="not in this plan"):
        check_move(record, record.scenario.families[0].family_id, "NO-SUCH-STAFF")
    assert rule_of("F1: S2 does not speak the family's language").startswith("language")


def test_a_move_makes_a_version_in_the_store_with_exactly_that_family_moved(
    page: Page, planned: PlanRecord
) -> None:
    record = planned
    scenario, result = record.scenario, record.result
    plan = result.plan()
    loads = {c.staff_id: c.families for c in result.caseloads}
    for family in scenario.families:
        if plan[family.family_id] is None or family.pinned:
            continue
        targets = [
            s.staff_id
            for s in scenario.staff
            if s.staff_id != plan[family.family_id]
            and loads.get(s.staff_id, 0) < s.cap(scenario.policy)
            and check_move(record, family.family_id, s.staff_id).allowed
        ]
        if targets:
            break
    location = page.post(
        f"/p/{record.id}/move",
        {"family_id": family.family_id, "staff_id": targets[0], "pin": "1", "time_limit": "0"},
    )
    version = page.wait(location)
    diff = plan_diff(result, version.result)
    assert diff.moved == ((family.family_id, plan[family.family_id], targets[0]),)
    assert {sid for sid, _, _ in diff.caseloads} == {plan[family.family_id], targets[0]}
    assert version.scenario.family_by_id[family.family_id].pinned
    assert version.meta["parent_plan_id"] == record.id
    assert [r.id for r in page.reader.lineage(version.id)] == [record.id, version.id]
    # the version is the API's: a job of the pool and a plan with its parent and label
    api = {"Authorization": f"Bearer {TOKEN}"}
    job = page.client.get(f"/api/v1/jobs/{version.info.job_id}", headers=api).json()
    assert job["state"] == "done" and job["plan_id"] == version.id
    stored = page.client.get(f"/api/v1/plans/{version.id}", headers=api).json()
    assert stored["parent_id"] == record.id
    assert stored["label"] == f"{family.family_id} pinned to {targets[0]}"
    derived = page.reader.service.get_scenario(version.scenario_id or "")
    assert derived.derived_from == record.id
    assert derived.id not in {s.id for s in page.reader.uploaded()}


def test_a_refused_move_starts_no_job(page: Page, planned: PlanRecord) -> None:
    scenario, plan = planned.scenario, planned.result.plan()
    family = next(f for f in scenario.families if plan[f.family_id])
    other = next(s for s in scenario.staff if family.language not in s.languages)
    jobs = len(page.reader.service.list_jobs())
    answer = page.client.post(
        f"/p/{planned.id}/move",
        data={"family_id": family.family_id, "staff_id": other.staff_id, "csrf_token": page.csrf},
    )
    assert answer.status_code == 200 and "Refused" in answer.text and "language" in answer.text
    assert len(page.reader.service.list_jobs()) == jobs


def test_following_sets_current_staff_to_the_plan(planned: PlanRecord) -> None:
    after = following(planned.scenario, planned.result)
    plan = planned.result.plan()
    assert all(f.current_staff_id == plan[f.family_id] for f in after.families)
    assert all(not f.pinned or f.current_staff_id is not None for f in after.families)


def test_families_are_filtered_and_paged_on_the_server(planned: PlanRecord) -> None:
    record = planned
    scenario = record.scenario
    everyone = family_page(record, {})
    assert everyone["total"] == len(scenario.families)
    assert len(everyone["rows"]) == PAGE_SIZE
    site = scenario.families[0].site
    page = family_page(record, {"site": site, "urgency": "5", "page": "1"})
    expected = [f for f in scenario.families if f.site == site and f.urgency == 5]
    assert page["total"] == len(expected)
    assert all(fam.site == site and fam.urgency == 5 for _, fam in page["rows"])
    last = family_page(record, {"page": "999"})
    assert last["page"] == last["pages"]
    one = family_page(record, {"q": scenario.families[5].family_id.lower()})
    assert [a.family_id for a, _ in one["rows"]] == [scenario.families[5].family_id]


def test_demand_rows_count_every_family(planned: PlanRecord) -> None:
    rows = demand_rows(planned.scenario)
    assert sum(r["families"] for r in rows) == len(planned.scenario.families)
    assert all(r["capacity"] >= 0 and r["short"] == (r["families"] > r["capacity"]) for r in rows)


def test_every_page_needs_the_token(page: Page) -> None:
    client = TestClient(page.client.app)  # the same running app, a browser not signed in
    assert client.get("/").status_code == 401
    assert client.get("/?token=wrong").status_code == 401
    assert client.get("/p/p123/files/plan.xlsx").status_code == 401
    signed = client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    assert client.get("/").status_code == 200
    assert client.get("/p/p123").status_code == 404
    assert client.get("/p/..%2F..%2Fetc/files/passwd").status_code == 404
    bearer = TestClient(page.client.app)
    assert bearer.get("/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_uploads_are_checked_as_the_api_checks_them(page: Page, tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "families.csv").write_text("family_id\nF1\n", encoding="utf-8")
    (folder / "staff.csv").write_text("staff_id\nS1\n", encoding="utf-8")
    parts = [("files", (p.name, p.read_bytes())) for p in sorted(folder.iterdir())]
    shown = page.client.post("/upload", files=parts, data={"csrf_token": page.csrf})
    api = page.client.post(
        "/api/v1/scenarios", files=parts, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert shown.status_code == 200 and api.status_code == 422
    for problem in api.json()["problems"]:
        assert problem["message"].replace("'", "&#39;") in shown.text, problem


def test_cancel_from_the_page_stops_the_pool_job_keeps_nothing_and_is_audited(
    page: Page, tmp_path: Path
) -> None:
    sid = page.upload(fa.write_scenario(fa.generate("small", 3), tmp_path / "small"))
    location = page.post(f"/s/{sid}/plan", {"time_limit": "60"})
    job_id = location.rsplit("/", 1)[-1]
    deadline = time.monotonic() + 60
    while page.job(job_id)["state"] == "queued":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    after = page.post(f"/jobs/{job_id}/cancel", {})
    assert after == f"/jobs/{job_id}"
    shown = page.client.get(after)
    assert "Cancelled" in shown.text
    service = page.reader.service
    assert service.get_job(job_id).state == "cancelled"
    assert service.get_job(job_id).plan_id is None
    entry = service.store.audit_log(job_id=job_id)[-1]
    assert (entry.action, entry.by) == ("cancel", "admin")  # who signed in
    while service.runner.running:  # the worker stops at once, writing nothing
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert service.get_job(job_id).state == "cancelled"
    assert not (page.reader.service.workspace / "page").exists()


def test_a_failed_job_says_why_on_the_page_not_in_the_log(
    page: Page, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sid = page.upload(fa.example_path())
    folder = page.reader.service.scenario_dir(page.reader.service.get_scenario(sid))
    page.reader.scenario(sid)  # the page has read it; the files break before the worker reads
    (folder / "families.csv").write_text("family_id,secret_column\nF-SECRET,x\n")
    job_id = page.post(f"/s/{sid}/plan", {"time_limit": "0"}).rsplit("/", 1)[-1]
    deadline = time.monotonic() + 60
    while page.job(job_id)["state"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    job = page.job(job_id)
    assert job["state"] == "failed" and job["plan_id"] is None
    shown = page.client.get(f"/jobs/{job_id}")
    assert shown.status_code == 200 and "The plan failed" in shown.text
    assert job["message"] and job["message"] in shown.text
    assert f"job {job_id} failed" in caplog.text and "F-SECRET" not in caplog.text


def test_advanced_weights_make_a_derived_scenario_planned_in_the_pool(
    page: Page, planned: PlanRecord
) -> None:
    changed = with_weights(planned.scenario, {"continuity": "45"})
    assert changed.weights.continuity == 45 and changed.name == planned.scenario.name
    assert changed.families == planned.scenario.families
    with pytest.raises(fa.ScenarioError, match="continuity"):
        with_weights(planned.scenario, {"continuity": "-3"})
    sid = planned.scenario_id or ""
    record = page.wait(page.post(f"/s/{sid}/plan", {"time_limit": "0", "w_continuity": "45"}))
    assert record.scenario.weights.continuity == 45
    assert page.reader.service.get_scenario(record.scenario_id or "").derived_from == sid
    assert record.id in {p["id"] for p in page.reader.plans_of(sid)}


def test_the_page_and_the_api_share_the_upload_limit_and_its_message(tmp_path: Path) -> None:
    # the limit is the server's middleware: it answers before any route (no app start needed)
    app = create_app(Settings(workspace=tmp_path, token=TOKEN, max_upload_bytes=1000))
    client = TestClient(app)
    parts = [("files", ("families.csv", b"x" * 2000))]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    page = client.post("/upload", files=parts, headers=headers)
    api = client.post("/api/v1/scenarios", files=parts, headers=headers)
    assert page.status_code == api.status_code == 413
    assert page.json() == api.json() and "1000 bytes" in api.json()["detail"]


def test_names_and_words_and_no_family_moved_before_anything_is_published(
    page: Page, planned: PlanRecord
) -> None:
    html = page.client.get(f"/p/{planned.id}").text
    assert "Nothing published yet" in html
    assert '<span class="tag">moved</span>' not in html
    staff = next(s for s in planned.scenario.staff if s.name)
    assert f'<option value="{staff.staff_id}">{staff.name} ({staff.staff_id})</option>' in html
    assert 'Spanish <span class="code">(es)</span>' in html
    assert (
        f"{staff.name} ({staff.staff_id})"
        in page.client.get(f"/compare/{planned.id}/{planned.id}").text
    )


def test_a_staff_members_view_shows_their_families_load_and_exceptions(
    page: Page, planned: PlanRecord
) -> None:
    load = max(planned.result.caseloads, key=lambda c: c.families)
    answer = page.client.get(f"/p/{planned.id}/staff/{load.staff_id}")
    assert answer.status_code == 200
    mine = [a.family_id for a in planned.result.assignments if a.staff_id == load.staff_id]
    assert all(fid in answer.text for fid in mine)
    name = planned.scenario.staff_by_id[load.staff_id].name
    assert f"Families of {name} ({len(mine)})" in answer.text
    every = page.client.get(f"/p/{planned.id}/rosters").text
    assert every.count('<article class="roster"') == len(
        {c.staff_id for c in planned.result.caseloads if c.families}
        | {s.staff_id for s in planned.scenario.staff if s.status.value == "active"}
    )
    plan_page = page.client.get(f"/p/{planned.id}").text
    assert "/files/assignments_import.csv" in plan_page
    assert "families per FTE (program:" in answer.text
    assert "Nothing published yet" in answer.text
    assert page.client.get(f"/p/{planned.id}/staff/NOBODY").status_code == 404


def test_a_draft_is_renamed_and_deleted_with_audit_entries(page: Page, planned: PlanRecord) -> None:
    staff = planned.scenario.staff[0]
    draft = page.wait(
        page.post(
            f"/p/{planned.id}/leave",
            {"staff_id": staff.staff_id, "status": "departed", "time_limit": "0"},
        )
    )
    assert page.post(f"/p/{draft.id}/rename", {"label": "  plan  B "}) == f"/p/{draft.id}#plan-name"
    assert page.reader.service.get_plan(draft.id).label == "plan B"
    assert page.post(f"/p/{draft.id}/delete", {}) == "/plans"
    assert page.client.get(f"/p/{draft.id}").status_code == 404
    log = page.reader.service.store.audit_log(plan_id=draft.id)
    assert [(e.action, e.by) for e in log] == [
        ("rename", "planner page"),
        ("delete", "planner page"),
    ]
    listed = page.client.get("/plans").text
    assert f"plan {draft.id} (deleted)" in listed and "was “" in listed


def test_a_whatif_is_never_published_and_a_published_plan_is_kept(
    page: Page, planned: PlanRecord
) -> None:
    whatif = page.wait(
        page.post(
            f"/p/{planned.id}/whatif",
            {
                "change": "add_staff",
                "name": "a hire",
                "staff_id": "NEW1",
                "languages": "en;es",
                "sites": "*",
                "fte": "1",
                "time_limit": "0",
            },
        )
    )
    html = page.client.get(f"/p/{whatif.id}").text
    assert 'id="whatif-note"' in html and 'id="publish-form"' not in html
    refused = page.client.post(
        f"/p/{whatif.id}/publish",
        data={"by": "Ana", "reason": "try", "csrf_token": page.csrf},
        follow_redirects=False,
    )
    assert refused.status_code == 200 and "is a what-if" in refused.text
    api = {"Authorization": f"Bearer {TOKEN}"}
    body = {"by": "Ana", "reason": "try"}
    answer = page.client.post(f"/api/v1/plans/{whatif.id}/publish", json=body, headers=api)
    assert answer.status_code == 409
    assert not page.reader.service.get_plan(whatif.id).published
    assert "what-if (not publishable)" in page.client.get("/plans").text
    # the first plan published: kept as it is, and the plan in force the pages compare with
    assert page.post(f"/p/{planned.id}/publish", {"by": "Ana", "reason": "the year"})
    for action, data in (("delete", {}), ("rename", {"label": "other"})):
        kept = page.client.post(
            f"/p/{planned.id}/{action}",
            data={**data, "csrf_token": page.csrf},
            follow_redirects=False,
        )
        assert kept.status_code == 200 and "published" in kept.text
    assert page.reader.service.get_plan(planned.id).label == "first plan"
    assert "This is the plan in force" in page.client.get(f"/p/{planned.id}").text
    moved = {fid for fid, _, _ in plan_diff(planned.result, whatif.result).moved}
    table = page.client.get(f"/p/{whatif.id}/families?staff=NEW1").text
    assert table.count('<span class="tag">moved</span>') == len(
        [a for a in whatif.result.assignments if a.staff_id == "NEW1" and a.family_id in moved]
    )


def test_a_sweep_from_the_whatif_step_shows_its_progress_then_the_hires_as_people(
    page: Page, planned: PlanRecord
) -> None:
    from famassign.sweep_runner import sweep

    shown = page.client.get(f"/p/{planned.id}")
    assert 'id="sweep-form"' in shown.text and 'name="validation_samples"' in shown.text
    form = {"samples": "6", "validation_samples": "4", "target": "90", "seed": "1"}
    location = page.post(f"/p/{planned.id}/sweep", form)
    assert location.startswith(f"/p/{planned.id}/sweeps/")
    job_id = location.rsplit("/", 1)[-1]
    first = page.client.get(location)
    assert first.status_code == 200
    assert page.job(job_id)["state"] != "running" or f'data-job="{job_id}"' in first.text
    deadline = time.monotonic() + 120
    while page.job(job_id)["state"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    job = page.job(job_id)
    assert job["state"] == "done", job["message"]
    assert job["stage"] == "validation" and job["done"] == job["total"] == 4
    # the worker ran the library's sweep: the same answer as sweeping here
    expected = sweep(
        planned.scenario,
        samples=6,
        validation_samples=4,
        confidence=0.9,
        seed=1,
        scheduler="inline",
    )
    check = expected.answer.validation
    assert expected.answer.hires and check is not None
    result = page.client.get(location).text
    assert 'id="hires"' in result and "data-job" not in result
    for hire in expected.hires_frame().itertuples():
        assert f'<th scope="row">{hire.hire}</th><td class="num">{hire.fte}</td>' in result
        assert str(hire.languages).replace(";", ", ") in result
    low, high = (f"{100 * x:.1f}%" for x in check.interval)
    assert f"{100 * check.share:.1f}% ({check.placed} of {check.samples})" in result
    assert f"95% interval {low} to {high}" in result
    assert f"{100 * expected.answer.share:.1f}% of 6 samples (target 90%)" in result
    assert ("Not met" in result) == (not expected.answer.target_met)
    # its files: what sweep_outputs writes, sweep.csv one row per training sample
    names = ("sweep.csv", "hires.csv", "robust_staffing.csv", "report.html")
    for name in names:
        assert f'/sweeps/{job_id}/files/{name}"' in result
        answer = page.client.get(f"{location}/files/{name}")
        assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    rows = page.client.get(f"{location}/files/sweep.csv").text.strip().splitlines()
    assert len(rows) == 1 + 6
    assert page.client.get(f"{location}/files/..%2Fscenario.yaml").status_code == 404
    plan_job = next(j for j in page.reader.service.list_jobs() if j.kind == "solve")
    assert page.client.get(f"/p/{planned.id}/sweeps/{plan_job.id}").status_code == 404


def test_without_an_uncertainty_block_the_whatif_step_says_what_to_add(
    page: Page, planned: PlanRecord, tmp_path: Path
) -> None:
    plain = tmp_path / "plain"
    fa.write_scenario(planned.scenario.model_copy(update={"uncertainty": {}}), plain)
    sid = page.upload(plain)
    record = page.wait(page.post(f"/s/{sid}/plan", {"time_limit": "0"}))
    shown = page.client.get(f"/p/{record.id}").text
    assert 'id="sweep-form"' not in shown and "needs an <code>uncertainty:</code> block" in shown
    answer = page.client.post(
        f"/p/{record.id}/sweep",
        data={"samples": "6", "csrf_token": page.csrf},
        follow_redirects=False,
    )
    assert answer.status_code == 200 and "has no uncertainty: block" in answer.text
    assert "docs/sweep.md" in answer.text


def test_a_running_sweep_is_cancelled_between_two_samples_and_keeps_nothing(
    page: Page, planned: PlanRecord
) -> None:
    form = {"samples": "1000", "validation_samples": "0", "target": "95", "seed": "2"}
    location = page.post(f"/p/{planned.id}/sweep", form)
    job_id = location.rsplit("/", 1)[-1]
    deadline = time.monotonic() + 60
    while page.job(job_id)["done"] < 1:
        assert time.monotonic() < deadline and page.job(job_id)["state"] in ("queued", "running")
        time.sleep(0.05)
    shown = page.client.get(location).text
    assert f'data-job="{job_id}"' in shown and "Samples done in this stage" in shown
    assert page.post(f"{location}/cancel", {}) == location
    while page.job(job_id)["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert page.job(job_id)["state"] == "cancelled"
    assert "Cancelled. Nothing was kept." in page.client.get(location).text
    assert page.client.get(f"{location}/files/sweep.csv").status_code == 404
    entry = page.reader.service.store.audit_log(job_id=job_id)[-1]
    assert (entry.action, entry.by) == ("cancel", "planner page")
    assert not (page.reader.service.workspace / "sweeps" / job_id).exists()
    # the worker stopped at its next sample: the only job worker plans again at once
    started = time.monotonic()
    page.wait(page.post(f"/s/{planned.scenario_id}/plan", {"time_limit": "0"}))
    assert time.monotonic() - started < 60
