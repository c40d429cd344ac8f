"""The security headers of every answer of ``famassign serve`` (one ASGI middleware).

Every answer (pages, API, files, errors, redirects) carries:

- ``Content-Security-Policy``: :data:`PAGE_POLICY` (scripts, styles, images, fetches and form
  targets from this server only, no inline script or style, no plugins, never framed); a
  download (an answer with ``Content-Disposition``: a plan's files) gets :data:`FILE_POLICY`
  (a sandbox: no script at all, the report's own inline styles allowed). An answer that set its
  own policy keeps it. (There is no interactive API page: ``/api/v1/openapi.json`` is the
  description.)
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
STATIC_PREFIX = "/static/"
"""The page's assets: the same for everyone, so caches may keep them."""


def policy_for(headers: MutableHeaders) -> str:
    """The Content-Security-Policy of an answer with `headers` (see the module)."""
    if "content-disposition" in headers:
        return FILE_POLICY
    return PAGE_POLICY


class SecurityHeaders:
    """ASGI middleware: the headers of the module docstring on every HTTP answer.

    Parameters
    ----------
    app
        The application.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = policy_for(headers)
                headers["X-Frame-Options"] = "DENY"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                if not path.startswith(STATIC_PREFIX):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, sending)


__all__ = [
    "FILE_POLICY",
    "PAGE_POLICY",
    "STATIC_PREFIX",
    "SecurityHeaders",
    "policy_for",
]
