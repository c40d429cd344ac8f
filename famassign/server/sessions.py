"""Server-side sessions of the planner's page, kept in the store (table ``sessions``).

A browser signs in once (``/?token=``): :meth:`Sessions.open` makes a session with a random id
(the cookie holds only that id; the store keeps its SHA-256, so a copy of the database signs no
one in) and a random CSRF token for its forms. A session ends when it has not been used for
``idle_s`` seconds, ``max_s`` seconds after its sign-in however busy, or at sign-out. An expired
session is refused and deleted when it is presented; :meth:`Sessions.clean` deletes every
expired one (at start and periodically). Each sign-in makes a new session (the old one of that
browser is closed), so a session id never outlives a sign-in.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from famassign.store import NotFoundError, SessionInfo, Store, utc_now

log = logging.getLogger(__name__)

MAX_COOKIE_CHARS = 100
"""Longer session cookies are refused without asking the store."""
TOUCH_EVERY_S = 60.0
"""A session's last use is written at most this often (and at least 10 times per idle time)."""


def session_key(cookie: str) -> str:
    """The store's key of a session cookie: its SHA-256 (hex)."""
    return hashlib.sha256(cookie.encode("utf-8")).hexdigest()


class Sessions:
    """The page's sessions (see the module docstring).

    Parameters
    ----------
    store
        Where the sessions are kept.
    idle_s
        Seconds a session may stay unused.
    max_s
        Seconds a session lasts after its sign-in at most.
    """

    def __init__(self, store: Store, *, idle_s: float, max_s: float) -> None:
        self.store = store
        self.idle = timedelta(seconds=idle_s)
        self.lifetime = timedelta(seconds=max_s)
        self._touch = timedelta(seconds=min(TOUCH_EVERY_S, idle_s / 10))

    def open(self, subject: str) -> tuple[str, SessionInfo]:
        """A new session for `subject`: the cookie's value (the random id) and the record.

        Expired sessions are cleaned first.
        """
        self.clean()
        cookie = secrets.token_urlsafe(32)
        info = self.store.create_session(
            session_key(cookie), subject=subject, csrf_token=secrets.token_urlsafe(32)
        )
        log.info("session opened")
        return cookie, info

    def expired(self, info: SessionInfo, now: datetime) -> bool:
        """True when `info` is past its idle or absolute expiry at `now`."""
        return now - info.last_seen_at >= self.idle or now - info.created_at >= self.lifetime

    def find(self, cookie: str) -> SessionInfo | None:
        """The live session whose cookie is `cookie`, its use recorded; None when there is none.

        An expired session is deleted and None returned.
        """
        if not cookie or len(cookie) > MAX_COOKIE_CHARS:
            return None
        key = session_key(cookie)
        try:
            info = self.store.get_session(key)
        except NotFoundError:
            return None
        now = utc_now()
        if self.expired(info, now):
            self.store.delete_session(key)
            log.info("expired session refused")
            return None
        if now - info.last_seen_at >= self._touch:
            self.store.touch_session(key)
        return info

    def close(self, cookie: str) -> bool:
        """End the session whose cookie is `cookie` (sign-out); False when there was none."""
        if not cookie or len(cookie) > MAX_COOKIE_CHARS:
            return False
        closed = self.store.delete_session(session_key(cookie))
        if closed:
            log.info("session closed")
        return closed

    def clean(self) -> int:
        """Delete every expired session; return how many."""
        now = utc_now()
        count = self.store.delete_sessions(
            last_seen_before=now - self.idle, created_before=now - self.lifetime
        )
        if count:
            log.info("%d expired session(s) deleted", count)
        return count


__all__ = ["MAX_COOKIE_CHARS", "TOUCH_EVERY_S", "Sessions", "session_key"]
