"""The view models of the planner's page: what its templates show, made from the scenario, the
plan version and the job."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import HTTPException, Request

from famassign.models import Scenario, ScenarioError, StaffStatus
from famassign.models.domain import ExceptionKind, ProgramOption
from famassign.models.problems import group_problems
from famassign.models.summary import capacity_shortfalls, most_allowed
from famassign.models.words import staff_people
from famassign.outputs import ASSIGNMENTS_IMPORT_CSV, PLAN_XLSX
from famassign.replan_outputs import MOVES_CSV
from famassign.report import caseload_bars, fmt_number, legend_html, plan_facts, svg_bar_chart
from famassign.report.charts import Bar
from famassign.server.adjustments import PlanDiff, plan_diff
from famassign.server.pages.frame import reader, service
from famassign.server.planner import STAFF_LISTS, PlanRecord
from famassign.server.service import InvalidScenario
from famassign.solver.options import PAGE_TIME_LIMIT
from famassign.store import NotFoundError

PAGE_SIZE = 50
DOWNLOADS = (
    (PLAN_XLSX, "Plan workbook (Excel)"),
    (STAFF_LISTS, "Per-staff family lists (Excel, one sheet per staff member)"),
    ("compliance.md", "Compliance statement (compliance.md)"),
    ("report.html", "Report (report.html)"),
    ("assignments.csv", "Assignments (CSV)"),
    ("caseloads.csv", "Caseloads (CSV)"),
    (ASSIGNMENTS_IMPORT_CSV, "Assignments to load back into the data system (CSV)"),
    (MOVES_CSV, "Families moved, with from and to (CSV)"),
    ("handover.csv", "Handover notes (CSV)"),
    ("rosters/all-staff.pdf", "Rosters of every staff member (PDF, for printing)"),
)
"""The plan's files offered for download, in this order, when the plan has them."""
GROUPED_FILES = (("handover/", "Handover note"), ("rosters/", "Roster (PDF)"))
"""Per-staff files among the plan's files: the folder and what each file is."""
WHATIF_KINDS = (
    ("add_staff", "Add a staff member"),
    ("change_staff", "Change a staff member (FTE, status, languages, sites)"),
    ("remove_staff", "Remove a staff member"),
    ("add_exception", "Add a cap exception"),
    ("remove_exception", "Withdraw a cap exception"),
    ("scale_enrollment", "Scale enrollment"),
    ("close_site", "Close a site"),
    ("set_policy", "Lower the cap"),
)


def problem_rows(exc: ScenarioError | InvalidScenario) -> list[tuple[str, object, str, str]]:
    """Every problem of a refused scenario as a row: file, line, column, message."""
    return [
        (
            getattr(p, "file", "") or "",
            getattr(p, "line", "") or "",
            getattr(p, "column", "") or "",
            getattr(p, "message", str(p)),
        )
        for p in exc.problems
    ]


def problem_groups(exc: ScenarioError | InvalidScenario) -> list[dict[str, Any]]:
    """Every problem of a refused scenario grouped by file, column and message (see
    :func:`famassign.models.problems.group_problems`): the first row, the count and the other
    rows (shown behind a disclosure)."""
    return [
        {
            "file": g.file,
            "line": g.lines[0] if g.lines[0] is not None else "",
            "column": g.column or "",
            "message": g.message,
            "count": len(g.lines),
            "rest": list(g.rest),
        }
        for g in group_problems(exc.problems)
    ]


def demand_rows(scenario: Scenario) -> list[dict[str, Any]]:
    """Families against the capacity that could serve them, by language x site x option."""
    groups: Counter[tuple[str, str, ProgramOption]] = Counter(
        (f.language, f.site, f.program_option) for f in scenario.families
    )
    active = [s for s in scenario.staff if s.status is StaffStatus.active]
    allowed = {s.staff_id: most_allowed(s, scenario) for s in active}
    short = {(s.language, s.site, s.program_option) for s in capacity_shortfalls(scenario)}
    rows = []
    for (language, site, option), count in sorted(groups.items(), key=lambda g: str(g[0])):
        able = [
            s
            for s in active
            if language in s.languages and s.serves_site(site) and option in s.program_options
        ]
        rows.append(
            {
                "language": language,
                "site": site,
                "option": option.value,
                "families": count,
                "staff": len(able),
                "capacity": sum(allowed[s.staff_id] for s in able),
                "short": (language, site, option) in short or (None, site, option) in short,
            }
        )
    return rows


def job_view(request: Request, jid: str) -> dict[str, Any]:
    """The job as the page shows it: state, stage, progress, plan, message, seconds so far;
    404 when there is no such job."""
    jobs = service(request)
    try:
        view = jobs.job_view(jobs.get_job(jid))
    except NotFoundError:
        raise HTTPException(404, "No such job.") from None
    started = view["started_at"] or view["created_at"]
    ended = view["finished_at"]
    elapsed = (
        (datetime.fromisoformat(ended) if ended else datetime.now(UTC))
        - datetime.fromisoformat(started)
    ).total_seconds()
    progress = view["progress"]
    return {
        "id": view["id"],
        "state": view["state"],
        "stage": progress["stage"] or view["state"],
        "done": progress["done"],
        "total": max(1, progress["total"]),
        "plan_id": view["plan_id"],
        "message": view["message"],
        "elapsed_s": round(max(0.0, elapsed), 1),
    }


def staff_rows(record: PlanRecord) -> list[dict[str, Any]]:
    """One row per staff member: families, weighted load, cap, exception, status."""
    by_id = record.scenario.staff_by_id
    rows = []
    for c in record.result.caseloads:
        staff = by_id.get(c.staff_id)
        rows.append(
            {
                "staff_id": c.staff_id,
                "name": (staff.name if staff else None) or "",
                "families": c.families,
                "weighted_load": c.weighted_load,
                "cap": c.cap,
                "exception_id": c.exception_id or "",
                "over": c.families > c.cap,
                "status": staff.status.value if staff else "",
                "languages": ", ".join(staff.languages) if staff else "",
                "sites": ", ".join(staff.sites) if staff else "",
            }
        )
    return rows


def named_bars(bars: list[Bar], people: Mapping[str, str]) -> list[Bar]:
    """The caseload chart's bars labelled with the staff member's name and id."""
    return [dataclasses.replace(b, label=people.get(b.label, b.label)) for b in bars]


def in_force(request: Request) -> PlanRecord | None:
    """The plan in force: the program's plan published last, or None when none is."""
    last = service(request).plan_in_force()
    if last is None:
        return None
    try:
        return reader(request).plan(last.id)
    except NotFoundError:
        return None


def since_in_force(request: Request, record: PlanRecord) -> dict[str, Any]:
    """What changed from the plan in force to `record`: ``in_force`` (a plan record or None
    when nothing is published yet), ``diff`` (:class:`PlanDiff`, None when nothing is
    published or `record` is the plan in force) and ``moved`` (the ids of the families whose
    staff member differs)."""
    current = in_force(request)
    diff: PlanDiff | None = None
    if current is not None and current.id != record.id:
        diff = plan_diff(current.result, record.result)
    moved = {fid for fid, _, _ in diff.moved} if diff else set()
    return {"in_force": current, "since": diff, "moved": moved}


def downloads(record: PlanRecord) -> list[tuple[str, str]]:
    """The plan's files to download, as (file name, what it is): the known files first, then
    the per-staff handover notes and PDF rosters, each named by its staff member."""
    files = record.info.files
    people = staff_people(record.scenario)
    known = [(n, label) for n, label in DOWNLOADS if n == STAFF_LISTS or n in files]
    for folder, what in GROUPED_FILES:
        for name in sorted(f for f in files if f.startswith(folder) and f not in dict(known)):
            sid = name[len(folder) :].rsplit(".", 1)[0]
            known.append((name, f"{what}: {people.get(sid, sid)}"))
    return known


def family_page(record: PlanRecord, query: Mapping[str, str]) -> dict[str, Any]:
    """Filter and page the families on the server.

    Parameters
    ----------
    record
        The plan version.
    query
        ``q`` (family or staff id or name, any part), ``staff`` (an id or ``(unplaced)``), ``site``,
        ``language``, ``urgency``, ``page`` (from 1).

    Returns
    -------
    dict
        ``rows`` (assignment, family) of the page, ``total``, ``page``, ``pages``, ``filters``.
    """
    families = record.scenario.family_by_id
    people = staff_people(record.scenario)
    text = query.get("q", "").strip().lower()
    staff = query.get("staff", "")
    site = query.get("site", "")
    language = query.get("language", "")
    urgency = query.get("urgency", "")
    rows = []
    for a in record.result.assignments:
        fam = families[a.family_id]
        if staff == "(unplaced)" and a.staff_id is not None:
            continue
        if staff and staff != "(unplaced)" and a.staff_id != staff:
            continue
        if site and fam.site != site:
            continue
        if language and fam.language != language:
            continue
        if urgency and str(fam.urgency) != urgency:
            continue
        if text and not any(
            text in (v or "").lower()
            for v in (a.family_id, a.staff_id, people.get(a.staff_id or ""), family_name(fam))
        ):
            continue
        rows.append((a, fam))
    try:
        page = max(1, int(query.get("page", "1")))
    except ValueError:
        page = 1
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    page = min(page, pages)
    shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return {
        "rows": shown,
        "total": len(rows),
        "page": page,
        "pages": pages,
        "filters": {
            "q": query.get("q", ""),
            "staff": staff,
            "site": site,
            "language": language,
            "urgency": urgency,
        },
    }


def family_name(family: object) -> str | None:
    """The family's display name when families.csv gives one (an optional column)."""
    name = getattr(family, "family_name", None)
    return str(name) if name else None


def choices(scenario: Scenario) -> dict[str, Any]:
    """The values the plan page's filters and forms offer; staff as (id, name and id)."""
    people = staff_people(scenario)
    return {
        "staff": [(s.staff_id, people[s.staff_id]) for s in scenario.staff],
        "active_staff": [
            (s.staff_id, people[s.staff_id])
            for s in scenario.staff
            if s.status is StaffStatus.active
        ],
        "sites": sorted({f.site for f in scenario.families}),
        "languages": sorted({f.language for f in scenario.families}),
        "exception_kinds": [k.value for k in ExceptionKind],
        "exceptions": [e.exception_id for e in scenario.exceptions],
    }


def plan_context(request: Request, record: PlanRecord) -> dict[str, Any]:
    """Everything the plan page shows."""
    plans = reader(request)
    facts = plan_facts(record.result, record.scenario)
    people = staff_people(record.scenario)
    bars = named_bars(caseload_bars(record.result, record.scenario, facts), people)
    chart = svg_bar_chart(
        bars, title="Families per staff member", value_label="families", label_width=180
    )
    parent_id = record.meta.get("parent_plan_id")
    diff = None
    parent = None
    if parent_id:
        parent = plans.plan(parent_id)
        diff = plan_diff(parent.result, record.result)
    query = dict(request.query_params)
    return {
        **since_in_force(request, record),
        "whatif_origin": service(request).whatif_origin(record.id),
        "people": people,
        "record": record,
        "facts": facts,
        "chart": chart,
        "legend": legend_html(),
        "over_marks": [b for b in bars if b.state in ("over", "breach")],
        "staff_rows": staff_rows(record),
        "families": family_page(record, query),
        "choices": choices(record.scenario),
        "parent": parent,
        "diff": diff,
        "lineage": plans.lineage(record.id),
        "children": plans.children(record.id),
        "downloads": downloads(record),
        "whatif_kinds": WHATIF_KINDS,
        "today": record.scenario.as_of.isoformat(),
        "time_limit": fmt_number(record.meta.get("time_limit") or PAGE_TIME_LIMIT).replace(",", ""),
    }


__all__ = [
    "DOWNLOADS",
    "GROUPED_FILES",
    "PAGE_SIZE",
    "WHATIF_KINDS",
    "choices",
    "demand_rows",
    "downloads",
    "family_name",
    "family_page",
    "in_force",
    "job_view",
    "named_bars",
    "plan_context",
    "problem_rows",
    "since_in_force",
    "staff_rows",
    "staff_views",
]


def staff_views(request: Request, record: PlanRecord, staff_ids: list[str]) -> dict[str, Any]:
    """Staff members in the plan, each printable on its own page.

    Returns what all share (``in_force``, ``since``, ``moved`` as :func:`since_in_force`,
    ``people``, the program's ``program_per_fte`` and ``program_load_per_fte``) and
    ``rosters``, one per staff id: ``staff``, their ``families`` (assignment, family: its name,
    children and contact when families.csv gives them, what it needs), ``load`` (their
    caseload or None), ``per_fte`` and ``load_per_fte``, the ``exceptions`` covering them (each
    with whether it is in force on the planning date), the families ``gained`` (id, from) and
    ``lost`` (id, to) since the plan in force, and ``roster``, their PDF roster among the
    plan's files (None without one). 404 when the scenario has no such staff member."""
    scenario = record.scenario
    active = {s.staff_id: s for s in scenario.staff if s.status is StaffStatus.active}
    fte = sum(s.fte for s in active.values())
    loads = {c.staff_id: c for c in record.result.caseloads}
    program_load = sum(c.weighted_load for c in loads.values() if c.staff_id in active)
    placed = sum(1 for a in record.result.assignments if a.staff_id is not None)
    change = since_in_force(request, record)
    families: dict[str, list[tuple[Any, Any]]] = {}
    for a in record.result.assignments:
        if a.staff_id is not None:
            families.setdefault(a.staff_id, []).append((a, scenario.family_by_id[a.family_id]))
    rosters = []
    for staff_id in staff_ids:
        staff = scenario.staff_by_id.get(staff_id)
        if staff is None:
            raise HTTPException(404, "No such staff member in this plan.")
        moved = change["since"].moved if change["since"] is not None else ()
        load = loads.get(staff_id)
        rosters.append(
            {
                "staff": staff,
                "families": families.get(staff_id, []),
                "load": load,
                "per_fte": (load.families / staff.fte) if load else 0.0,
                "load_per_fte": (load.weighted_load / staff.fte) if load else 0.0,
                "exceptions": [
                    (e, e.in_force(scenario.as_of))
                    for e in scenario.exceptions
                    if e.covers(staff_id)
                ],
                "gained": [(fid, old) for fid, old, new in moved if new == staff_id],
                "lost": [(fid, new) for fid, old, new in moved if old == staff_id],
                "roster": next(
                    (n for n in record.info.files if n == f"rosters/{staff_id}.pdf"), None
                ),
            }
        )
    return {
        **change,
        "people": staff_people(scenario),
        "program_per_fte": placed / fte if fte else None,
        "program_load_per_fte": program_load / fte if fte else None,
        "rosters": rosters,
    }
