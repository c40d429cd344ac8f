"""Who may call the server: a bearer token, or the session cookie a browser gets from ``/?token=``.

Every endpoint except ``GET /api/v1/health`` depends on :func:`require_token`. It accepts
``Authorization: Bearer TOKEN`` or the cookie :data:`SESSION_COOKIE` that :func:`sign_in` sets.
The cookie holds an HMAC of the token (never the token itself), so it is only valid for this
token. Every comparison is constant-time (:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import HTTPException, Request, Response, status

from famassign.server.settings import Settings

SESSION_COOKIE = "famassign_session"
"""Name of the browser's session cookie (HttpOnly, SameSite=Strict)."""
_SESSION_LABEL = b"famassign-session-v1"


def session_value(token: str) -> str:
    """The session cookie's value for `token` (an HMAC, not the token)."""
    return hmac.new(token.encode("utf-8"), _SESSION_LABEL, hashlib.sha256).hexdigest()


def token_matches(given: str, token: str) -> bool:
    """Constant-time check that `given` is `token`."""
    return hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


def settings_of(request: Request) -> Settings:
    """The server's settings (kept on the app's state by :func:`create_app`)."""
    settings: Settings = request.app.state.settings
    return settings


def is_signed_in(request: Request) -> bool:
    """True when the request carries the bearer token or a valid session cookie."""
    token = settings_of(request).token
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() == "bearer" and given and token_matches(given.strip(), token):
        return True
    cookie = request.cookies.get(SESSION_COOKIE)
    return bool(cookie) and token_matches(cookie or "", session_value(token))


def require_token(request: Request) -> None:
    """FastAPI dependency: 401 unless :func:`is_signed_in`.

    Raises
    ------
    fastapi.HTTPException
        401 with ``WWW-Authenticate: Bearer``.
    """
    if not is_signed_in(request):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="missing or wrong token: send 'Authorization: Bearer TOKEN' "
            "(the token printed by famassign serve, or FAMASSIGN_TOKEN)",
            headers={"WWW-Authenticate": "Bearer"},
        )


def sign_in(request: Request, response: Response, given: str) -> bool:
    """Set the session cookie on `response` when `given` is the token; return whether it was.

    The page's ``/?token=TOKEN`` calls this, then redirects to ``/`` so the token leaves the
    address bar and the history.
    """
    if not token_matches(given, settings_of(request).token):
        return False
    response.set_cookie(
        SESSION_COOKIE,
        session_value(settings_of(request).token),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return True


__all__ = [
    "SESSION_COOKIE",
    "is_signed_in",
    "require_token",
    "session_value",
    "settings_of",
    "sign_in",
    "token_matches",
]
