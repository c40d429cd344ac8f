"""The security headers of every answer of ``famassign serve`` (one ASGI middleware).

Every answer (pages, API, files, errors, redirects) carries:

- ``Content-Security-Policy``: :data:`PAGE_POLICY` (scripts, styles, images, fetches and form
  targets from this server only, no inline script or style, no plugins, never framed); a
  download (an answer with ``Content-Disposition``: a plan's files) gets :data:`FILE_POLICY`
  (a sandbox: no script at all, the report's own inline styles allowed); the interactive API
  description under ``/api/v1/docs`` gets :data:`DOCS_POLICY` (FastAPI's Swagger UI: its
  scripts and styles from cdn.jsdelivr.net, its inline start-up script and inline styles). An
  answer that set its own policy keeps it.
- ``X-Frame-Options: DENY`` (with ``frame-ancestors 'none'``), ``X-Content-Type-Options:
  nosniff`` and ``Referrer-Policy: same-origin`` (the page's forms still send ``Origin``, which
  the CSRF check reads).
- ``Cache-Control: no-store`` on everything but the page's static assets (``/static/``): pages,
  plan files and API answers hold families' data, which no cache may keep.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
"""The policy of the planner's page and of every answer not named below."""
FILE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'; sandbox"
)
"""The policy of a download (a plan's report.html opened in the browser runs no script)."""
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""The policy of the interactive API description (no families' data there)."""
STATIC_PREFIX = "/static/"
"""The page's assets: the same for everyone, so caches may keep them."""


def policy_for(path: str, headers: MutableHeaders, docs_prefix: str | None) -> str:
    """The Content-Security-Policy of an answer to `path` with `headers` (see the module)."""
    if docs_prefix and path.startswith(docs_prefix):
        return DOCS_POLICY
    if "content-disposition" in headers:
        return FILE_POLICY
    return PAGE_POLICY


class SecurityHeaders:
    """ASGI middleware: the headers of the module docstring on every HTTP answer.

    Parameters
    ----------
    app
        The application.
    docs_prefix
        Where the interactive API description is served (None: nowhere).
    """

    def __init__(self, app: ASGIApp, docs_prefix: str | None) -> None:
        self.app, self.docs_prefix = app, docs_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = policy_for(path, headers, self.docs_prefix)
                headers["X-Frame-Options"] = "DENY"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                if not path.startswith(STATIC_PREFIX):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, sending)


__all__ = [
    "DOCS_POLICY",
    "FILE_POLICY",
    "PAGE_POLICY",
    "STATIC_PREFIX",
    "SecurityHeaders",
    "policy_for",
]
