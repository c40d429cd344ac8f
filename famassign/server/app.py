"""The FastAPI application of ``famassign serve``: :func:`create_app` builds it from
:class:`~famassign.server.settings.Settings`.

At start (the app's lifespan) the workspace is created, the store opened (Alembic migrations
applied), jobs an earlier server left running marked failed (interrupted), the worker pools
started, and expired page sessions and staged imports deleted (then periodically:
:mod:`famassign.server.housekeeping`). Middleware: the security headers of every answer
(:mod:`famassign.server.headers`), a request-body limit (413), and an access log of method,
path, status and time only (never a query string: ``/?token=`` would otherwise be logged).
"""

from __future__ import annotations

import inspect
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from famassign import __version__
from famassign.server import api
from famassign.server.answers import error_body, problem
from famassign.server.headers import SecurityHeaders
from famassign.server.housekeeping import housekeeping, pause_s
from famassign.server.jobs import JobRunner, QueueFull, WorkerLimit
from famassign.server.pages import mount_pages
from famassign.server.planner import PlanReader
from famassign.server.service import InvalidRequest, InvalidScenario, Service, problem_dict
from famassign.server.sessions import Sessions
from famassign.server.settings import Settings
from famassign.store import ConflictError, NotFoundError, Store, redacted

log = logging.getLogger("famassign.server")
access_log = logging.getLogger("famassign.server.access")


class BodyLimit:
    """ASGI middleware: 413 for a request body above `limit` bytes (declared or streamed)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    def _too_large(self) -> HTTPException:
        return HTTPException(
            413,
            f"the request is larger than this server's upload limit of {self.limit} bytes",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            exc = self._too_large()
            response = _error(exc.status_code, str(exc.detail))
            # the body is not read: ask the client to close the connection
            response.headers["connection"] = "close"
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise self._too_large()
            return message

        await self.app(scope, limited, send)


class AccessLog:
    """ASGI middleware: one log line per request: method, path (no query), status, time."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        code = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                code[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            access_log.info(
                "%s %s %d %.0fms",
                scope.get("method", ""),
                scope.get("path", ""),
                code[0],
                (time.perf_counter() - start) * 1000,
            )


def _error(code: int, detail: str, problems: list[dict[str, Any]] | None = None) -> JSONResponse:
    return JSONResponse(error_body(detail, problems), status_code=code)


def _field_problem(error: Mapping[str, Any]) -> dict[str, Any]:
    """A FastAPI validation error as a problem: the option (``time_limit``, ``files``) as the
    column, without the input sent (a NaN would make the answer invalid JSON)."""
    where = [str(part) for part in error.get("loc", ())]
    if where and where[0] in ("body", "query", "path", "header", "cookie"):
        where = where[1:]
    return problem(str(error.get("msg", "invalid")), option=".".join(where) or None)


def _install_handlers(app: FastAPI) -> None:
    """The error answers: every 4xx and 5xx an :class:`~famassign.server.answers.ErrorAnswer`.

    An HTTPException on an ``/api/`` path gets that shape; on another path it goes to the
    handler the pages installed (their HTML error page), so call this after ``mount_pages``.
    """
    page_handler = app.exception_handlers.get(HTTPException, http_exception_handler)

    async def http_error(request: Request, exc: Exception) -> Response:
        if not request.url.path.startswith("/api/") or not isinstance(exc, StarletteHTTPError):
            answer = page_handler(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        response = _error(exc.status_code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(StarletteHTTPError, http_error)

    @app.exception_handler(NotFoundError)
    async def not_found(_r: Request, exc: NotFoundError) -> Response:
        return _error(404, str(exc))

    @app.exception_handler(ConflictError)
    async def conflict(_r: Request, exc: ConflictError) -> Response:
        return _error(409, str(exc))

    @app.exception_handler(InvalidScenario)
    async def invalid_scenario(_r: Request, exc: InvalidScenario) -> Response:
        return _error(
            422,
            f"{len(exc.problems)} problem(s) found; nothing was kept",
            [problem_dict(p) for p in exc.problems],
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_fields(_r: Request, exc: RequestValidationError) -> Response:
        problems = [_field_problem(e) for e in exc.errors()]
        detail = "; ".join(
            f"{p['column']}: {p['message']}" if p["column"] else p["message"] for p in problems
        )
        return _error(422, f"the request is not valid: {detail}"[:1000], problems)

    @app.exception_handler(InvalidRequest)
    async def invalid_request(_r: Request, exc: InvalidRequest) -> Response:
        return _error(422, exc.message, [problem(exc.message, option=exc.option)])

    @app.exception_handler(WorkerLimit)
    async def over_limit(_r: Request, exc: WorkerLimit) -> Response:
        return _error(422, f"could not be computed within the limits: {exc}")

    @app.exception_handler(QueueFull)
    async def queue_full(_r: Request, exc: QueueFull) -> Response:
        response = _error(429, str(exc))
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(Exception)
    async def server_fault(request: Request, exc: Exception) -> Response:
        error_id = uuid.uuid4().hex[:12]
        log.error(
            "error %s: %s %s failed", error_id, request.method, request.url.path, exc_info=exc
        )
        detail = f"the server failed (its own fault, not the request's); quote error {error_id}"
        return JSONResponse(error_body(detail, error_id=error_id), status_code=500)


BEARER = "bearer"
"""The OpenAPI security scheme: ``Authorization: Bearer TOKEN``."""


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """`app`'s OpenAPI description builder: FastAPI's, with the bearer scheme declared and
    required by every operation but the health check."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                BEARER: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The token famassign serve printed or was given.",
                }
            }
            for path, operations in schema.get("paths", {}).items():
                if path != f"{api.PREFIX}/health":
                    for operation in operations.values():
                        operation["security"] = [{BEARER: []}]
            app.openapi_schema = schema
        return app.openapi_schema

    return build


def create_app(settings: Settings) -> FastAPI:
    """The famassign HTTP application for `settings` (see the module docstring).

    Parameters
    ----------
    settings
        Workspace, database, token and limits.

    Returns
    -------
    fastapi.FastAPI
        The app; ``app.state.service`` is its :class:`~famassign.server.service.Service` once
        started (``app.state.sessions`` its page sessions), ``app.state.settings`` its
        settings.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.workspace.mkdir(parents=True, exist_ok=True)
        store = Store(settings.store_url)
        runner = JobRunner(settings, store)
        await runner.start()
        app.state.store = store
        app.state.runner = runner
        app.state.service = Service(settings, store, runner)
        app.state.plans = PlanReader(app.state.service)
        app.state.sessions = Sessions(
            store, idle_s=settings.session_idle_s, max_s=settings.session_max_s
        )
        log.info(
            "famassign %s serving workspace %s, store %s, %d job process(es)",
            __version__,
            settings.workspace,
            redacted(settings.store_url),
            settings.job_processes,
        )
        chores = (app.state.sessions.clean, app.state.plans.clean_imports)
        try:
            async with housekeeping(chores, pause_s(settings)):
                yield
        finally:
            await runner.stop()
            store.close()

    app = FastAPI(
        title="famassign",
        version=__version__,
        description="Assign Head Start families to family-services staff under 45 CFR 1302.52.",
        # served by api.openapi, with the token; no docs page (it would load a CDN's scripts)
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    app.include_router(api.public)
    app.include_router(api.router)
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes)
    app.add_middleware(AccessLog)
    app.add_middleware(SecurityHeaders)

    # the planner's page at / (it signs a browser in with /?token=TOKEN)
    mount_pages(app)
    _install_handlers(app)
    return app


__all__ = ["AccessLog", "BodyLimit", "create_app"]
