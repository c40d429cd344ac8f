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

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from famassign import __version__
from famassign.server import api
from famassign.server.headers import SecurityHeaders
from famassign.server.housekeeping import housekeeping, pause_s
from famassign.server.jobs import JobRunner, QueueFull
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
            response = JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
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


def _error(code: int, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=code)


def _install_handlers(app: FastAPI) -> None:
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
            problems=[problem_dict(p) for p in exc.problems],
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_fields(_r: Request, exc: RequestValidationError) -> Response:
        # FastAPI's answer without each error's `input`: a NaN or an infinity sent would make
        # it invalid JSON (a 500), and the caller has what it sent
        errors = [{k: v for k, v in e.items() if k != "input"} for e in exc.errors()]
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)

    @app.exception_handler(InvalidRequest)
    async def invalid_request(_r: Request, exc: InvalidRequest) -> Response:
        problem = {"file": None, "row": None, "column": exc.option, "message": exc.message}
        return _error(422, exc.message, problems=[problem])

    @app.exception_handler(QueueFull)
    async def queue_full(_r: Request, exc: QueueFull) -> Response:
        response = _error(429, str(exc))
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(TimeoutError)
    async def timeout(_r: Request, _exc: TimeoutError) -> Response:
        return _error(504, "the answer took longer than this server's request time limit")


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
        openapi_url=f"{api.PREFIX}/openapi.json",
        docs_url=f"{api.PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    _install_handlers(app)
    app.include_router(api.public)
    app.include_router(api.router)
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes)
    app.add_middleware(AccessLog)
    app.add_middleware(SecurityHeaders, docs_prefix=app.docs_url)

    # the planner's page at / (it signs a browser in with /?token=TOKEN)
    mount_pages(app)
    return app


__all__ = ["AccessLog", "BodyLimit", "create_app"]
