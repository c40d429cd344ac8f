"""Roles and the one table of what each role may call (45 CFR 1302.52: each person signs in as
themselves).

Roles:

- ``admin``: everything (the server's ``--token`` is the admin's; users are managed with the
  ``famassign users`` command on the server's machine).
- ``manager``: plans, adjusts, publishes, deletes, reads check-ins: the whole API and page.
- ``client``: an API client (another tool) with a manager's API rights but not the page.
- ``advocate``: reads plans but sees only their own caseload (:func:`scoped_plan`), their own
  hand-out files (:func:`may_read_file`), and files their own workload check-ins.
- ``viewer``: reads published plans, their files and audit entries (compliance records).

:data:`RULES` maps each route (method, path template) to the roles that may call it;
:func:`authorize` is the dependency every API and page route carries: a signed-in caller whose
role is not in the route's rule is answered 403, and a route with no rule at all is refused
for everyone but the admin (tests/test_roles.py checks every route of the app has a rule). A
rule may be narrowed inside its route (an advocate's own staff id, a viewer's published
plans): those checks are here too, so the API enforces them and the page only mirrors them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status

from famassign.server.auth import ADMIN, Caller, caller
from famassign.store import PlanInfo

MANAGER, ADVOCATE, VIEWER, CLIENT = "manager", "advocate", "viewer", "client"
ROLES = (ADMIN, MANAGER, ADVOCATE, VIEWER, CLIENT)
"""Every role, most rights first."""
USER_ROLES = (MANAGER, ADVOCATE, VIEWER, CLIENT)
"""The roles ``famassign users add`` gives (the admin is the server's token)."""

PUBLIC = frozenset(ROLES)
"""Anyone, signed in or not (the route checks nothing more)."""
PLANNERS = frozenset({ADMIN, MANAGER, CLIENT})
"""Plan, adjust, publish, delete through the API."""
PAGE_PLANNERS = frozenset({ADMIN, MANAGER})
"""The planner's page steps (an API client has no page)."""
READERS = frozenset({ADMIN, MANAGER, CLIENT, ADVOCATE, VIEWER})
"""Read plans (an advocate's view is scoped, a viewer's limited to published plans)."""
PUBLISHED_READERS = frozenset({ADMIN, MANAGER, CLIENT, VIEWER})
"""Read scenarios' plan lists and audit entries."""
PAGE_READERS = frozenset({ADMIN, MANAGER, ADVOCATE, VIEWER})
"""Pages every signed-in person may open (each shows only what the role may do)."""

_API = "/api/v1"
RULES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", f"{_API}/openapi.json"): PUBLIC,
    ("GET", f"{_API}/health"): PUBLIC,
    ("POST", f"{_API}/scenarios"): PLANNERS,
    ("GET", f"{_API}/scenarios"): PUBLISHED_READERS,
    ("GET", f"{_API}/scenarios/{{scenario_id}}"): PLANNERS,
    ("POST", f"{_API}/scenarios/{{scenario_id}}/plans"): PLANNERS,
    ("GET", f"{_API}/scenarios/{{scenario_id}}/plans"): PUBLISHED_READERS,
    ("POST", f"{_API}/scenarios/{{scenario_id}}/compare"): PLANNERS,
    ("GET", f"{_API}/scenarios/{{scenario_id}}/staffing"): PLANNERS,
    ("GET", f"{_API}/scenarios/{{scenario_id}}/families/{{family_id}}/recommendation"): PLANNERS,
    ("GET", f"{_API}/jobs"): PLANNERS,
    ("GET", f"{_API}/jobs/{{job_id}}"): PLANNERS,
    ("DELETE", f"{_API}/jobs/{{job_id}}"): PLANNERS,
    ("GET", f"{_API}/plans/{{plan_id}}"): READERS,
    ("GET", f"{_API}/plans/{{plan_id}}/files"): READERS,
    ("GET", f"{_API}/plans/{{plan_id}}/files/{{name:path}}"): READERS,
    ("POST", f"{_API}/plans/{{plan_id}}/update"): PLANNERS,
    ("POST", f"{_API}/plans/{{plan_id}}/reassign"): PLANNERS,
    ("POST", f"{_API}/plans/{{plan_id}}/publish"): PLANNERS,
    ("DELETE", f"{_API}/plans/{{plan_id}}"): PLANNERS,
    ("GET", f"{_API}/plans/{{plan_id}}/audit"): PUBLISHED_READERS,
    ("GET", f"{_API}/audit"): PUBLISHED_READERS,
    ("GET", f"{_API}/me"): READERS,
    ("POST", f"{_API}/staff/{{staff_id}}/checkins"): frozenset({ADVOCATE}),
    ("GET", f"{_API}/checkins"): PLANNERS,
    ("POST", f"{_API}/checkins/{{checkin_id}}/cap"): PLANNERS,
    ("GET", "/"): PUBLIC,
    ("POST", "/signout"): PUBLIC,
    ("GET", "/signed-out"): PUBLIC,
    ("POST", "/upload"): PAGE_PLANNERS,
    ("GET", "/import/{iid}"): PAGE_PLANNERS,
    ("POST", "/import/{iid}"): PAGE_PLANNERS,
    ("GET", "/import/{iid}/mapping.yaml"): PAGE_PLANNERS,
    ("POST", "/import/{iid}/mapping"): PAGE_PLANNERS,
    ("GET", "/s/{sid}"): PAGE_PLANNERS,
    ("POST", "/s/{sid}/plan"): PAGE_PLANNERS,
    ("GET", "/jobs/{jid}"): PAGE_PLANNERS,
    ("GET", "/jobs/{jid}/status"): PAGE_PLANNERS,
    ("POST", "/jobs/{jid}/cancel"): PAGE_PLANNERS,
    ("GET", "/p/{pid}"): PAGE_PLANNERS,
    ("GET", "/p/{pid}/families"): PAGE_PLANNERS,
    ("GET", "/p/{pid}/files/{name:path}"): PAGE_PLANNERS,
    ("GET", "/p/{pid}/staff/{sid}"): PAGE_PLANNERS,
    ("GET", "/p/{pid}/rosters"): PAGE_PLANNERS,
    ("POST", "/p/{pid}/rename"): PAGE_PLANNERS,
    ("POST", "/p/{pid}/delete"): PAGE_PLANNERS,
    ("GET", "/plans"): PAGE_PLANNERS,
    ("POST", "/p/{pid}/move"): PAGE_PLANNERS,
    ("POST", "/p/{pid}/leave"): PAGE_PLANNERS,
    ("POST", "/p/{pid}/exception"): PAGE_PLANNERS,
    ("POST", "/p/{pid}/whatif"): PAGE_PLANNERS,
    ("POST", "/p/{pid}/staffing"): PAGE_PLANNERS,
    ("POST", "/p/{pid}/sweep"): PAGE_PLANNERS,
    ("GET", "/p/{pid}/sweeps/{jid}"): PAGE_PLANNERS,
    ("GET", "/p/{pid}/sweeps/{jid}/files/{name}"): PAGE_PLANNERS,
    ("POST", "/p/{pid}/sweeps/{jid}/cancel"): PAGE_PLANNERS,
    ("GET", "/compare/{left}/{right}"): PAGE_PLANNERS,
    ("POST", "/p/{pid}/publish"): PAGE_PLANNERS,
    ("GET", "/p/{pid}/midyear"): PAGE_PLANNERS,
    ("POST", "/p/{pid}/midyear"): PAGE_PLANNERS,
    ("POST", "/p/{pid}/midyear/{staged}/plan"): PAGE_PLANNERS,
    ("GET", "/mine"): PAGE_READERS,
    ("POST", "/p/{pid}/cap"): PAGE_PLANNERS,
    ("POST", "/mine/checkin"): frozenset({ADVOCATE}),
}
"""Who may call each route: (method, path template) -> roles. ``HEAD`` follows ``GET``."""


def route_keys(app: FastAPI) -> Iterator[tuple[str, str]]:
    """Every (method, path template) the app answers (``HEAD`` left out: it follows ``GET``),
    included routers' routes too; mounts (the static files) have no methods and are left out."""
    for route in app.routes:
        contexts: Any = getattr(route, "effective_route_contexts", None)
        found = list(contexts()) if contexts is not None else [route]
        for each in found:
            path: str = getattr(each, "path", "")
            for method in sorted(getattr(each, "methods", None) or ()):
                if method != "HEAD":
                    yield method, path


def rule(method: str, path: str) -> frozenset[str]:
    """The roles that may call `method` `path` (a route's template); only the admin for a
    route without a rule."""
    return RULES.get(("GET" if method == "HEAD" else method, path), frozenset({ADMIN}))


def forbidden(why: str) -> HTTPException:
    """A 403 saying why."""
    return HTTPException(status.HTTP_403_FORBIDDEN, why)


def authorize(request: Request) -> None:
    """FastAPI dependency of every API and page route: refuse (403) a signed-in caller whose
    role is not in the route's :func:`rule`. A caller who is not signed in passes (the route's
    own guard answers 401, or the route is public). Blocking: the store may be read."""
    who = caller(request)
    path: str | None = getattr(request.scope.get("route"), "path", None)
    if who is None or path is None:
        return
    if who.role not in rule(request.method, path):
        raise forbidden(f"a {who.role} may not do this ({request.method} {path})")


def signed_in(request: Request) -> Caller:
    """The request's caller (the route's dependencies made sure there is one)."""
    who = caller(request)
    if who is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not signed in")
    return who


def may_read_plan(who: Caller, plan: PlanInfo) -> None:
    """Refuse (403) a viewer an unpublished plan."""
    if who.role == VIEWER and not plan.published:
        raise forbidden("a viewer reads published plans only")


def own_files(files: list[str], staff_id: str | None) -> list[str]:
    """The hand-out files of `files` that belong to staff member `staff_id`
    (``handover/<staff_id>.*``, ``handouts/<staff_id>.*``)."""
    if not staff_id:
        return []
    return [
        name
        for name in files
        if name.count("/") == 1
        and name.split("/")[0] in {"handover", "handouts"}
        and name.split("/")[1].rsplit(".", 1)[0] == staff_id
    ]


def visible_files(who: Caller, files: list[str]) -> list[str]:
    """The plan files `who` may read: an advocate's own hand-outs only, every file otherwise."""
    return own_files(files, who.staff_id) if who.role == ADVOCATE else files


def may_read_file(who: Caller, plan: PlanInfo, name: str) -> None:
    """Refuse (403) a whole-plan file (or another staff member's) to an advocate, and an
    unpublished plan's file to a viewer."""
    may_read_plan(who, plan)
    if who.role == ADVOCATE and name not in own_files(plan.files, who.staff_id):
        raise forbidden("an advocate reads their own hand-outs only, not whole-plan files")


def scoped_plan(who: Caller, view: dict[str, Any]) -> dict[str, Any]:
    """The plan JSON `view` as `who` may see it: for an advocate only their own assignments
    and caseload, no unplaced families and only their own files; whole for everyone else."""
    if who.role != ADVOCATE:
        return view
    mine = who.staff_id
    return {
        **view,
        "assignments": [a for a in view.get("assignments", []) if a.get("staff_id") == mine],
        "caseloads": [c for c in view.get("caseloads", []) if c.get("staff_id") == mine],
        "unplaced": [],
        "files": own_files(view.get("files", []), mine),
    }


def may_check_in(who: Caller, staff_id: str) -> None:
    """Refuse (403) a check-in for a staff member who is not the caller's own."""
    if who.role != ADVOCATE or who.staff_id != staff_id:
        raise forbidden("an advocate files check-ins for their own caseload only")


__all__ = [
    "ADVOCATE",
    "CLIENT",
    "MANAGER",
    "PAGE_PLANNERS",
    "PAGE_READERS",
    "ROLES",
    "RULES",
    "USER_ROLES",
    "VIEWER",
    "authorize",
    "forbidden",
    "may_check_in",
    "may_read_file",
    "may_read_plan",
    "route_keys",
    "rule",
    "scoped_plan",
    "signed_in",
    "visible_files",
]
