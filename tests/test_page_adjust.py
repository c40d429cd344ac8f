"""The page's adjustments without a browser: moves checked by the evaluator, versions, diffs,
the families table filtered and paged on the server, and the page's token guard."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

import famassign as fa
from famassign.server.adjustments import (
    AdjustmentError,
    check_move,
    following,
    move_work,
    plan_diff,
    rule_of,
    with_weights,
)
from famassign.server.pages import PAGE_SIZE, create_page_app, demand_rows, family_page
from famassign.server.planner import PlanRecord, Workspace, solve_work


def _wait(ws: Workspace, job_id: str) -> str:
    deadline = time.monotonic() + 120
    job = ws.job(job_id)
    while job.state in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert job.state == "done", job.message
    assert job.plan_id is not None
    return job.plan_id


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, PlanRecord]:
    ws = Workspace(tmp_path_factory.mktemp("ws"))
    files = [(p.name, p.read_bytes()) for p in fa.example_path().iterdir() if p.is_file()]
    sid, loaded = ws.add_uploaded(files)
    options = fa.PlanOptions(time_limit=0)
    job = ws.submit("plan", solve_work(loaded.scenario, options, "first", scenario_id=sid))
    record = ws.plan(_wait(ws, job.id))
    evaluation = fa.evaluate(record.scenario, record.result.plan(), record.result.exception_of())
    assert evaluation.violations == []
    return ws, record


def test_every_move_the_evaluator_refuses_names_its_rule(
    planned: tuple[Workspace, PlanRecord],
) -> None:
    _, record = planned
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


def test_a_move_above_the_cap_is_refused_unless_an_exception_allows_it(
    planned: tuple[Workspace, PlanRecord],
) -> None:
    _, record = planned
    scenario, result = record.scenario, record.result
    plan = result.plan()
    full = [c for c in result.caseloads if c.families >= c.cap and c.families > 0]
    assert full, "the example has caseloads at their cap"
    found = False
    for load in full:
        staff = scenario.staff_by_id[load.staff_id]
        for family in scenario.families:
            fits = (
                plan[family.family_id] not in (None, load.staff_id)
                and family.language in staff.languages
                and staff.serves_site(family.site)
                and family.program_option in staff.program_options
                and not family.pinned
                and (family.family_id, staff.staff_id)
                not in {(c.family_id, c.staff_id) for c in scenario.conflicts}
            )
            if not fits:
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


def test_unknown_ids_are_refused(planned: tuple[Workspace, PlanRecord]) -> None:
    _, record = planned
    with pytest.raises(AdjustmentError, match="not in this plan"):
        check_move(record, "NO-SUCH-FAMILY", record.scenario.staff[0].staff_id)
    with pytest.raises(AdjustmentError, match="not in this plan"):
        check_move(record, record.scenario.families[0].family_id, "NO-SUCH-STAFF")
    assert rule_of("F1: S2 does not speak the family's language").startswith("language")


def test_a_move_makes_a_version_with_exactly_that_family_moved(
    planned: tuple[Workspace, PlanRecord],
) -> None:
    ws, record = planned
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
    verdict = check_move(record, family.family_id, targets[0])
    work = move_work(record, verdict, pin=True, options=fa.PlanOptions(time_limit=0))
    version = ws.plan(_wait(ws, ws.submit("move", work).id))
    evaluation = fa.evaluate(version.scenario, version.result.plan(), version.result.exception_of())
    assert evaluation.violations == []
    diff = plan_diff(result, version.result)
    assert diff.moved == ((family.family_id, plan[family.family_id], targets[0]),)
    assert {sid for sid, _, _ in diff.caseloads} == {plan[family.family_id], targets[0]}
    assert version.scenario.family_by_id[family.family_id].pinned
    assert version.meta["parent_plan_id"] == record.id
    assert [r.id for r in ws.lineage(version.id)] == [record.id, version.id]


def test_following_sets_current_staff_to_the_plan(planned: tuple[Workspace, PlanRecord]) -> None:
    _, record = planned
    after = following(record.scenario, record.result)
    plan = record.result.plan()
    assert all(f.current_staff_id == plan[f.family_id] for f in after.families)
    assert all(not f.pinned or f.current_staff_id is not None for f in after.families)


def test_families_are_filtered_and_paged_on_the_server(
    planned: tuple[Workspace, PlanRecord],
) -> None:
    _, record = planned
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


def test_demand_rows_count_every_family(planned: tuple[Workspace, PlanRecord]) -> None:
    _, record = planned
    rows = demand_rows(record.scenario)
    assert sum(r["families"] for r in rows) == len(record.scenario.families)
    assert all(r["capacity"] >= 0 and r["short"] == (r["families"] > r["capacity"]) for r in rows)


def test_every_page_needs_the_token(tmp_path: Path) -> None:
    client = TestClient(create_page_app(tmp_path, "secret-token"))
    assert client.get("/").status_code == 401
    assert client.get("/?token=wrong").status_code == 401
    assert client.get("/p/p123/files/plan.xlsx").status_code == 401
    signed = client.get("/?token=secret-token", follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    assert client.get("/").status_code == 200
    assert client.get("/p/p123").status_code == 404
    assert client.get("/p/..%2F..%2Fetc/files/passwd").status_code == 404
    bearer = TestClient(create_page_app(tmp_path, "secret-token"))
    assert bearer.get("/", headers={"Authorization": "Bearer secret-token"}).status_code == 200


def test_cancel_stops_a_running_job_keeps_nothing_and_is_audited(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    started = []

    def work(progress: object, stop: fa.StopSignal) -> object:
        started.append(True)
        deadline = time.monotonic() + 30
        while not stop.stopped and time.monotonic() < deadline:
            time.sleep(0.01)
        raise RuntimeError("interrupted")  # a job stopped mid-way may end in an error

    job = ws.submit("long", work)  # type: ignore[arg-type]
    while not started:
        time.sleep(0.01)
    ws.cancel(job.id)
    time.sleep(0.2)
    assert ws.job(job.id).state == "cancelled" and ws.job(job.id).plan_id is None
    assert not any((tmp_path / "plans").iterdir())
    assert ws.audit_entries()[-1]["action"] == "cancel"


def test_a_failed_job_says_why_on_the_page_not_in_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    app = create_page_app(tmp_path, "secret-token")
    ws: Workspace = app.state.workspace

    def work(progress: object, stop: object) -> object:
        raise ValueError("no staff at all")

    job = ws.submit("broken", work)  # type: ignore[arg-type]
    while ws.job(job.id).state in ("queued", "running"):
        time.sleep(0.01)
    assert ws.job(job.id).state == "failed"
    client = TestClient(app)
    client.get("/?token=secret-token")
    page = client.get(f"/jobs/{job.id}")
    assert page.status_code == 200 and "no staff at all" in page.text
    assert client.get(f"/jobs/{job.id}/status").json()["state"] == "failed"
    assert f"job {job.id} failed" in caplog.text and "no staff at all" not in caplog.text


def test_advanced_weights_are_checked_as_the_set_weights_what_if(
    planned: tuple[Workspace, PlanRecord],
) -> None:
    _, record = planned
    changed = with_weights(record.scenario, {"continuity": "45"})
    assert changed.weights.continuity == 45 and changed.name == record.scenario.name
    assert changed.families == record.scenario.families
    with pytest.raises(fa.ScenarioError, match="continuity"):
        with_weights(record.scenario, {"continuity": "-3"})
