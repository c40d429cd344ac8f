"""The server's hand-outs compare with the plan in force, the plan published last, never a
draft: before any publication with the uploaded scenario's current staff (as the command line
does); once a plan is published, a version moving one family says "new to you" for that family
alone, in its staff_lists.xlsx (written on download, kept per plan in force: a publication gives
new lists) and in its plan.xlsx (written by the worker)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from test_page_adjust import Page, signed_in_page

import famassign as fa
from famassign.server.adjustments import check_move, plan_diff
from famassign.server.planner import PlanRecord


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    with signed_in_page(tmp_path_factory.mktemp("handouts")) as signed:
        yield signed


def _new_to_you(book_path: Path) -> dict[str, set[str]]:
    """Per staff sheet of a workbook of hand-outs: the families "new to you" and the families
    that continue; (staff sheets start with the staff id)."""
    book = openpyxl.load_workbook(book_path, read_only=True)
    new: set[str] = set()
    continues: set[str] = set()
    for title in book.sheetnames:
        rows = list(book[title].iter_rows(values_only=True))
        if not rows or "handout" not in rows[0]:
            continue
        for row in rows[1:]:
            line = dict(zip(rows[0], row, strict=True))
            handout = str(line["handout"])
            if handout.startswith("new to you"):
                new.add(str(line["family_id"]))
            elif handout.startswith("continues with you"):
                continues.add(str(line["family_id"]))
    return {"new": new, "continues": continues}


def _staff_lists(page: Page, plan_id: str, tmp_path: Path) -> dict[str, set[str]]:
    answer = page.client.get(f"/p/{plan_id}/files/staff_lists.xlsx")
    assert answer.status_code == 200, answer.text[:500]
    path = tmp_path / f"{plan_id}-{len(list(tmp_path.iterdir()))}.xlsx"
    path.write_bytes(answer.content)
    return _new_to_you(path)


def _a_move(record: PlanRecord) -> tuple[str, str]:
    """A family and a staff member it may move to (below their cap, allowed by the rules)."""
    plan = record.result.plan()
    loads = {c.staff_id: c.families for c in record.result.caseloads}
    for family in record.scenario.families:
        if plan[family.family_id] is None or family.pinned:
            continue
        for s in record.scenario.staff:
            if (
                s.staff_id != plan[family.family_id]
                and loads.get(s.staff_id, 0) < s.cap(record.scenario.policy)
                and check_move(record, family.family_id, s.staff_id).allowed
            ):
                return family.family_id, s.staff_id
    raise AssertionError("no family of the example may move")


def test_handouts_compare_with_the_plan_published_last(page: Page, tmp_path: Path) -> None:
    sid = page.upload(fa.example_path())
    draft = page.wait(page.post(f"/s/{sid}/plan", {"time_limit": "0"}))
    current = {f.family_id: f.current_staff_id for f in draft.scenario.families}
    placed = {a.family_id: a.staff_id for a in draft.result.assignments if a.staff_id}
    differ = {fid for fid, staff_id in placed.items() if current.get(fid) != staff_id}
    assert differ, "the example's first plan moves no family: nothing to tell apart"

    family_id, staff_id = _a_move(draft)
    version = page.wait(
        page.post(
            f"/p/{draft.id}/move",
            {"family_id": family_id, "staff_id": staff_id, "pin": "1", "time_limit": "0"},
        )
    )
    moved = {fid for fid, _, _ in plan_diff(draft.result, version.result).moved}
    assert moved == {family_id}

    # Nothing published: each plan's lists compare with its own scenario's current staff (the
    # version's scenario continues the draft, the family pinned to its new staff member).
    before = _staff_lists(page, draft.id, tmp_path)
    assert before["new"] == differ
    assert before["continues"] == set(placed) - differ
    unpublished_version = _staff_lists(page, version.id, tmp_path)
    version_placed = {a.family_id for a in version.result.assignments if a.staff_id}
    version_plan = version.result.plan()
    continued = {f.family_id: f.current_staff_id for f in version.scenario.families}
    assert unpublished_version["new"] == {
        fid for fid in version_placed if continued[fid] != version_plan[fid]
    }

    # The draft published: the version (made before) now says new to you for the move alone.
    assert page.post(f"/p/{draft.id}/publish", {"by": "Ana", "reason": "the year"})
    after = _staff_lists(page, version.id, tmp_path)
    assert after["new"] == {family_id} != unpublished_version["new"]
    assert after["continues"] == version_placed - {family_id}
    # The published plan's own lists still compare with what was in force before it.
    assert _staff_lists(page, draft.id, tmp_path) == before

    # A version made after the publication: its plan.xlsx (the worker's) agrees.
    other, to = _a_move(version)
    newer = page.wait(
        page.post(
            f"/p/{draft.id}/move",
            {"family_id": other, "staff_id": to, "pin": "1", "time_limit": "0"},
        )
    )
    assert {fid for fid, _, _ in plan_diff(draft.result, newer.result).moved} == {other}
    written = _new_to_you(newer.folder / "plan.xlsx")
    assert written["new"] == {other}
    assert _staff_lists(page, newer.id, tmp_path)["new"] == {other}
