"""Console sessions kept on the server, so that ending one really ends it (issue 7).

The signed cookie (Starlette's SessionMiddleware) carries a random session id,
the CSRF token and flash messages; who is signed in is decided here, from a
:class:`~anshin.team.models.ConsoleSession` row found by the id's SHA-256. A
copied cookie stops working when:

- its user signs out (:func:`end`);
- no request came for ``ANSHIN_SESSION_IDLE_MINUTES``, or
  ``ANSHIN_SESSION_MAX_HOURS`` have passed since sign-in (:func:`expired`);
- an administrator changes the user's role or password, or deactivates them
  (:func:`end_all_for`, called by team.users).

A cookie signed with the key alone (no row behind it) signs nobody in.

The time of the last request is written at most once a minute, best effort:
a read must not fail because the database refuses writes (read-only, full).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anshin.config import Settings
from anshin.db import storage_cause, transaction, utcnow
from anshin.team.models import ConsoleSession, User

COOKIE = "anshin_session"
SID = "sid"  # the key of the session id in the signed cookie
TOUCH_GRANULARITY = dt.timedelta(minutes=1)
log = logging.getLogger("anshin.team")


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def limits(settings: Settings) -> tuple[dt.timedelta, dt.timedelta]:
    """(idle, absolute) lifetime of a console session, from the settings."""
    return (
        dt.timedelta(minutes=settings.session_idle_minutes),
        dt.timedelta(hours=settings.session_max_hours),
    )


def expired(settings: Settings, row: ConsoleSession, now: dt.datetime) -> bool:
    """True when the session went idle too long or is past its absolute lifetime."""
    idle, lifetime = limits(settings)
    return now - row.last_seen_at > idle or now - row.created_at > lifetime


def start(session: Session, settings: Settings, user: User, now: dt.datetime | None = None) -> str:
    """A new session for ``user``; returns the id for the cookie (only its hash is stored).

    Sessions that have expired, anyone's, are deleted on the way so the table
    stays as small as the number of people signed in.
    """
    now = now or utcnow()
    idle, lifetime = limits(settings)
    stale = or_(
        ConsoleSession.last_seen_at < now - idle, ConsoleSession.created_at < now - lifetime
    )
    session.execute(delete(ConsoleSession).where(stale))
    raw = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(sid_hash=_digest(raw), user_id=user.id, created_at=now, last_seen_at=now)
    )
    session.flush()
    return raw


def lookup(
    session: Session, settings: Settings, raw: str, now: dt.datetime | None = None
) -> ConsoleSession | None:
    """The live session behind a cookie's id (not ended, not expired, user active), or None.

    Only reads; :func:`touch` keeps the time of use apart.
    """
    if not raw or len(raw) > 100:
        return None
    row = session.scalar(select(ConsoleSession).where(ConsoleSession.sid_hash == _digest(raw)))
    if row is None or not row.user.active or expired(settings, row, now or utcnow()):
        return None
    return row


def end(session: Session, raw: str) -> None:
    """End the session behind a cookie's id (sign-out); the caller commits."""
    if raw:
        session.execute(delete(ConsoleSession).where(ConsoleSession.sid_hash == _digest(raw)))


def end_all_for(session: Session, user_id: int) -> int:
    """End every session of one user (role or password changed, deactivated); caller commits."""
    result = session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


def touch(
    factory: sessionmaker[Session],
    row: ConsoleSession,
    now: dt.datetime | None = None,
    *,
    session: Session | None = None,
) -> None:
    """Keep the time of the session's last request, at most once a minute.

    Like team.service.record_token_use: in a transaction of its own for a read,
    best effort (a database that refuses writes is logged, the read goes on);
    ``session``: a request that writes anyway keeps it in its own transaction —
    on SQLite that request holds the write lock, and a second connection would
    wait for it in vain.
    """
    now = now or utcnow()
    if now - row.last_seen_at < TOUCH_GRANULARITY:
        return
    if session is not None:
        row.last_seen_at = now
        return
    try:
        with transaction(factory) as own:
            own.execute(
                update(ConsoleSession).where(ConsoleSession.id == row.id).values(last_seen_at=now)
            )
    except SQLAlchemyError as exc:
        log.warning("could not record the last use of a console session: %s", storage_cause(exc))
        return
    row.last_seen_at = now


class SecureCookieOnHttps:
    """Mark the session cookie ``Secure`` on requests that came over HTTPS.

    Starlette's SessionMiddleware decides ``Secure`` once, at start-up
    (``ANSHIN_SESSION_COOKIE_SECURE``); a site reached over HTTPS should get it
    without a setting. The cookie is HttpOnly and SameSite=Lax either way.
    """

    def __init__(self, app: ASGIApp, cookie: str = COOKIE) -> None:
        self.app = app
        self.prefix = (cookie + "=").encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                raw = headers.raw
                for index, (name, value) in enumerate(raw):
                    if (
                        name == b"set-cookie"
                        and value.startswith(self.prefix)
                        and b"; secure" not in value.lower()
                    ):
                        raw[index] = (name, value + b"; secure")
            await send(message)

        await self.app(scope, receive, send_secure)
