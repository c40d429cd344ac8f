"""Who may call the server: a bearer token, or a browser's session; and the CSRF checks.

Callers are people (or API clients) with roles (:mod:`famassign.server.roles`): the server's
own token (``famassign serve --token``) is the admin's; every user made with ``famassign users
add`` has a token of their own, kept in the store only as its SHA-256 (:func:`token_hash`: the
tokens are 192-bit random, so a fast hash is enough; there are no passwords). A disabled user's
token is refused, and their sessions too, at once (checked on every request).

Every endpoint except ``GET /api/v1/health`` needs a caller (:func:`caller`): either
``Authorization: Bearer TOKEN`` (scripts and other tools) or the cookie :data:`SESSION_COOKIE`
holding the id of a live server-side session (:mod:`famassign.server.sessions`), which a browser
gets by opening ``/?token=TOKEN`` (:func:`sign_in`) and loses at sign-out (:func:`sign_out`) or
when the session expires. The cookie is HttpOnly, SameSite=Strict, and Secure when the page is
served over https.

A request that changes something (any method but GET, HEAD, OPTIONS) made with a session must
come from this server's own page (its ``Origin``, else its ``Referer``, is this server's
origin) and carry the session's CSRF token: the page's forms send it as the field
:data:`CSRF_FIELD` (checked by :func:`famassign.server.pages.frame.check_form`), an API call
made with the session as the header :data:`CSRF_HEADER` (checked by :func:`require_token`).
Otherwise the answer is 403. Calls with a bearer token are not checked: a browser never sends
one by itself. Every comparison of secrets is constant-time (:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response, status

from famassign.server.sessions import Sessions
from famassign.server.settings import Settings
from famassign.store import NotFoundError, SessionInfo, Store, UserInfo

SESSION_COOKIE = "famassign_session"
"""Name of the browser's session cookie (its value is the session's random id)."""
CSRF_FIELD = "csrf_token"
"""The hidden field holding the session's CSRF token in every form of the page."""
CSRF_HEADER = "X-CSRF-Token"
"""The header holding the session's CSRF token in an API call made with a session."""
ADMIN = "admin"
"""The subject of a session signed in with the server's token (which may do everything)."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that change nothing: not checked for CSRF."""


@dataclass(frozen=True)
class Caller:
    """Who makes a request: `subject` (:data:`ADMIN`, or a user's id), their `name` (what the
    audit log records), `role`, an advocate's `staff_id`, and the `session` it came with (None:
    a bearer token)."""

    subject: str | None
    session: SessionInfo | None
    name: str = ADMIN
    role: str = ADMIN
    staff_id: str | None = None


def new_user_token() -> str:
    """A fresh random API token for a user (48 hex digits)."""
    return secrets.token_hex(24)


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which a user's token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _user_caller(user: UserInfo, session: SessionInfo | None) -> Caller | None:
    if not user.active:
        return None
    return Caller(user.id, session, user.name, user.role, user.staff_id)


def _token_caller(store: Store, given: str, admin_token: str) -> Caller | None:
    if token_matches(given, admin_token):
        return Caller(ADMIN, None)
    user = store.user_by_token_hash(token_hash(given))
    return _user_caller(user, None) if user is not None else None


def _session_caller(store: Store, session: SessionInfo) -> Caller | None:
    if session.subject == ADMIN:
        return Caller(ADMIN, session)
    try:
        user = store.get_user(session.subject or "")
    except NotFoundError:
        return None
    return _user_caller(user, session)


def token_matches(given: str, token: str) -> bool:
    """Constant-time check that `given` is `token`."""
    return hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


def settings_of(request: Request) -> Settings:
    """The server's settings (kept on the app's state by :func:`create_app`)."""
    settings: Settings = request.app.state.settings
    return settings


def sessions_of(request: Request) -> Sessions:
    """The server's sessions (kept on the app's state once it has started)."""
    sessions: Sessions = request.app.state.sessions
    return sessions


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    return given.strip() if scheme.lower() == "bearer" and given.strip() else None


def caller(request: Request) -> Caller | None:
    """Who makes `request`: the bearer token's holder, a live session's, or None.

    A bearer header decides alone (a wrong one is not rescued by a cookie). A disabled user's
    token or session gives None. The answer is kept on the request, so the store is asked once
    per request. Blocking: the store is read.
    """
    if hasattr(request.state, "caller"):
        known: Caller | None = request.state.caller
        return known
    found: Caller | None = None
    store = sessions_of(request).store
    given = _bearer(request)
    if given is not None:
        found = _token_caller(store, given, settings_of(request).token)
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        session = sessions_of(request).find(cookie) if cookie else None
        if session is not None:
            found = _session_caller(store, session)
    request.state.caller = found
    return found


def is_signed_in(request: Request) -> bool:
    """True when the request carries the bearer token or a live session's cookie."""
    return caller(request) is not None


def csrf_token(request: Request) -> str:
    """The CSRF token of the request's session ("" without a session)."""
    who = caller(request)
    return who.session.csrf_token if who is not None and who.session is not None else ""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def same_origin(request: Request) -> bool:
    """True when the request's ``Origin`` (else its ``Referer``) is this server's own origin
    (scheme, host and port the request was addressed to). Neither header: False."""
    own = f"{request.url.scheme}://{request.url.netloc}".lower()
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.strip().lower() == own
    referer = request.headers.get("referer")
    return referer is not None and _origin(referer) == own


def check_csrf(request: Request, given: str | None) -> None:
    """Refuse (403) a change made with a session unless it comes from this server's page and
    `given` is the session's CSRF token; a bearer call or a safe method passes.

    Raises
    ------
    fastapi.HTTPException
        403 saying which check failed.
    """
    who = caller(request)
    if request.method in SAFE_METHODS or who is None or who.session is None:
        return
    if not same_origin(request):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "This form was not sent from this server's page (its Origin or Referer is another "
            "site's, or missing). Open the page from famassign's address and send it again.",
        )
    if not given or not hmac.compare_digest(given.encode(), who.session.csrf_token.encode()):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "This form is out of date or was not made by this server's page (its security "
            "token is missing or wrong). Reload the page and send the form again.",
        )


def require_token(request: Request) -> None:
    """FastAPI dependency of the API: 401 without a caller; a change made with a session
    (not a bearer token) needs the same origin and the :data:`CSRF_HEADER` (403).

    Raises
    ------
    fastapi.HTTPException
        401 with ``WWW-Authenticate: Bearer``, or 403.
    """
    if not is_signed_in(request):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="missing, wrong or disabled token: send 'Authorization: Bearer TOKEN' "
            "(your own token from famassign users add, or the server's admin token)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    check_csrf(request, request.headers.get(CSRF_HEADER))


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def sign_in(request: Request, response: Response, given: str) -> bool:
    """Open a new session and set its cookie on `response` when `given` is the server's token
    or an active user's; return whether it was. Blocking: the store is written.

    The browser's earlier session, if any, is closed: every sign-in has a new session id. The
    page's ``/?token=TOKEN`` (a user's sign-in link) calls this, then redirects to ``/`` so the
    token leaves the address bar and the history.
    """
    sessions = sessions_of(request)
    who = _token_caller(sessions.store, given, settings_of(request).token)
    if who is None:
        return False
    earlier = request.cookies.get(SESSION_COOKIE)
    if earlier:
        sessions.close(earlier)
    cookie, session = sessions.open(who.subject or ADMIN)
    request.state.caller = Caller(who.subject, session, who.name, who.role, who.staff_id)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(settings_of(request).session_max_s),
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )
    return True


def sign_out(request: Request, response: Response) -> None:
    """End the request's session and delete its cookie on `response`. Blocking: the store is
    written."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        sessions_of(request).close(cookie)
    request.state.caller = None
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(request)
    )


__all__ = [
    "ADMIN",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SAFE_METHODS",
    "SESSION_COOKIE",
    "Caller",
    "caller",
    "check_csrf",
    "csrf_token",
    "is_signed_in",
    "new_user_token",
    "require_token",
    "same_origin",
    "sessions_of",
    "settings_of",
    "sign_in",
    "sign_out",
    "token_hash",
    "token_matches",
]
