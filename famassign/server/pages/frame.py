"""What every step of the planner's page shares: the steps, the templates, the token guard, the
CSRF check of its forms and the page's reading of the server's store."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from famassign.models.words import language_name, option_name, outcome_name, status_name
from famassign.report import fmt_number
from famassign.server.auth import (
    CSRF_FIELD,
    SAFE_METHODS,
    caller,
    check_csrf,
    csrf_token,
    is_signed_in,
    same_origin,
)
from famassign.server.planner import PlanReader, PlanRecord
from famassign.server.service import Service
from famassign.solver.options import PAGE_TIME_LIMIT
from famassign.store import NotFoundError

SERVER_FOLDER = Path(__file__).parent.parent
"""The server package's folder: ``templates/`` and ``static/``."""
STEPS = (
    ("data", "1 Bring the data"),
    ("check", "2 Check"),
    ("plan", "3 Plan"),
    ("read", "4 Read the plan"),
    ("adjust", "5 Adjust"),
    ("whatif", "6 What if"),
    ("publish", "7 Publish"),
    ("midyear", "8 Mid-year"),
)

templates = Jinja2Templates(directory=str(SERVER_FOLDER / "templates"))
templates.env.globals.update(
    steps=STEPS,
    fmt=fmt_number,
    page_time_limit=PAGE_TIME_LIMIT,
    csrf_field=CSRF_FIELD,
    language_name=language_name,
    option_name=option_name,
    outcome_name=outcome_name,
    status_name=status_name,
)


def guard(request: Request) -> None:
    """Refuse (401) a browser that is not signed in."""
    if not is_signed_in(request):
        raise HTTPException(401, "Sign in by opening the address famassign serve printed.")


async def check_form(request: Request) -> None:
    """FastAPI dependency of every page route: a POST made with a browser's session must come
    from this server's page and carry the session's CSRF token in its :data:`CSRF_FIELD`
    (:func:`famassign.server.auth.check_csrf`), else 403. The origin is checked before the
    form is read; the route reads the same parsed form. A request without a session (the route
    answers 401) or with the bearer token passes."""
    if request.method in SAFE_METHODS:
        return
    who = await run_in_threadpool(caller, request)
    if who is None or who.session is None:
        return
    given: object = None
    if same_origin(request):
        given = (await request.form()).get(CSRF_FIELD)
    check_csrf(request, given if isinstance(given, str) else None)


def reader(request: Request) -> PlanReader:
    """The page's reading of the server's store (made once the service has started)."""
    plans: PlanReader | None = getattr(request.app.state, "plans", None)
    if plans is None:
        plans = request.app.state.plans = PlanReader(request.app.state.service)
    return plans


def service(request: Request) -> Service:
    """The server's service, which the page reads and writes through."""
    return reader(request).service


def plan_record(request: Request, pid: str) -> PlanRecord:
    """The plan version `pid`; 404 when there is none."""
    try:
        return reader(request).plan(pid)
    except NotFoundError:
        raise HTTPException(404, "No such plan.") from None


def render(
    request: Request, name: str, context: Mapping[str, Any], status_code: int = 200
) -> HTMLResponse:
    """Render a page. A refused form is answered 200 with the refusal on the page (the
    browser would log a 4xx document as a console error; the API answers 422 instead).

    Every template gets ``csrf_token`` (the session's, for the hidden :data:`CSRF_FIELD` of
    each form; "" without a session), ``session`` (True when a browser's session is signed
    in: the page then offers to sign out), and ``signed_in_name`` and ``role`` (the signed-in
    person's; "" without one).
    """
    who = caller(request)
    page = {
        "csrf_token": csrf_token(request),
        "session": who is not None and who.session is not None,
        "signed_in_name": who.name if who is not None else "",
        "role": who.role if who is not None else "",
        **context,
    }
    return templates.TemplateResponse(request, name, page, status_code=status_code)


__all__ = [
    "SERVER_FOLDER",
    "STEPS",
    "check_form",
    "guard",
    "plan_record",
    "reader",
    "render",
    "service",
    "templates",
]
