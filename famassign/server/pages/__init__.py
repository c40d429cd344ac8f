"""The planner's page: server-rendered steps from the data system's export to a published plan.

1 bring the data, 2 check, 3 plan, 4 read the plan, 5 adjust, 6 what if, 7 publish and hand out,
8 mid-year (this month's export against the plan in force, then the update).
Every page is a Jinja2 template rendered here; the only scripts are two small modules in
``static/`` (file drop, progress poll): no inline script, style or event handler, so the page
lives under the strict Content-Security-Policy of :mod:`famassign.server.headers`. Every asset
is served by famassign itself. The token guards every page: ``/?token=TOKEN`` opens a
server-side session (:mod:`famassign.server.auth`, :mod:`famassign.server.sessions`), the page's
sign-out button ends it, and every form carries the session's CSRF token. Logs carry
identifiers only.

One router per step: :mod:`~.data` (sign-in and out, upload, import mapping), :mod:`~.check`,
:mod:`~.plan` (first plan, job progress, cancel), :mod:`~.read` (the plan page, its families
table, a staff member's view and files), :mod:`~.adjust`, :mod:`~.whatif` (variant, side-by-side
comparison), :mod:`~.publish` and :mod:`~.midyear` (this month's export against the plan, the
update), with :mod:`~.plans` (the program's plans, the audit log, renaming and deleting drafts).
What they share: :mod:`~.frame` (steps, templates, token guard, the store's reading),
:mod:`~.views` (view models), :mod:`~.forms` (form parsing), :mod:`~.replan` (plans started as
jobs) and :mod:`~.refusal` (a request refused on the plan page with why).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from famassign.server.pages import (
    adjust,
    check,
    checkins,
    data,
    midyear,
    mine,
    plan,
    plans,
    publish,
    read,
    whatif,
)
from famassign.server.pages.frame import SERVER_FOLDER, check_form, render
from famassign.server.roles import authorize

ROUTERS = tuple(
    step.router
    for step in (data, check, plan, read, adjust, whatif, publish, midyear, plans, mine, checkins)
)
"""The steps' routers, in the page's order, then the advocate's own page (:mod:`~.mine`)."""


async def _page_error(request: Request, exc: Exception) -> Response:
    """HTTP errors of the page as a page; the API's stay JSON."""
    if request.url.path.startswith("/api/") or not isinstance(exc, HTTPException):
        return await http_exception_handler(request, exc)  # type: ignore[arg-type]
    context = {"step": "", "status": exc.status_code, "detail": exc.detail}
    return render(request, "error.html", context, exc.status_code)


def mount_pages(app: FastAPI) -> None:
    """Add the planner's page and its static assets to `app`.

    Every route of the page depends on :func:`~.frame.check_form`: each form a browser's
    session posts carries the session's CSRF token and comes from this server's page (403
    otherwise); and on :func:`famassign.server.roles.authorize`: the caller's role must be in
    the route's rule (403 otherwise).
    `app.state.settings` (:class:`famassign.server.settings.Settings`) holds the token that
    guards every page (:mod:`famassign.server.auth`); `app.state.service` (set when the app
    starts) is what the page reads and writes through.
    """
    app.mount("/static", StaticFiles(directory=str(SERVER_FOLDER / "static")), name="static")
    for router in ROUTERS:
        app.include_router(router, dependencies=[Depends(check_form), Depends(authorize)])
    app.add_exception_handler(HTTPException, _page_error)


__all__ = ["ROUTERS", "mount_pages"]
