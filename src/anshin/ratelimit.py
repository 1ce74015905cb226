"""Per-client request counts in the database, shared by every limit (docs/design.md).

One row per counted request, keyed by an HMAC of the client under the
installation's key (personal data is not needed to count). The public
subscribe form's hourly limit (``notify.ratelimit``, R26) and the sign-in
throttle (``team.throttle``) both count here, each under keys of its own, so
any number of app processes share one count. It lives at the bottom of the
package graph (docs/design.md "Dependency direction") because both ``team``
and ``notify`` use it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from sqlalchemy import Index, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from anshin.config import Settings
from anshin.db import Base, UTCDateTime, utcnow
from anshin.instance.secret import signing_key

WINDOW = dt.timedelta(hours=1)
"""The longest window any limit counts over; older rows are pruned."""


class SubscribeRequest(Base):
    """One counted request of a client, kept for the limits' windows.

    A row per request rather than a counter in memory: any number of app
    processes share the limit through the database (docs/design.md). ``client`` is
    an HMAC of the client's address (or of a sign-in key), enough to count by,
    not to recover it; rows older than the window are deleted as new ones
    arrive. The table keeps its first user's name (the subscribe form's).
    """

    __tablename__ = "notify_subscribe_requests"
    __table_args__ = (Index("ix_notify_subscribe_requests_client", "client", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


def client_key(settings: Settings, address: str | None) -> str:
    """The stored form of a client address: an HMAC, so the address itself is not kept."""
    key = signing_key(settings).encode()
    return hmac.new(key, (address or "unknown").encode(), hashlib.sha256).hexdigest()


def prune(session: Session, now: dt.datetime) -> None:
    """Delete the rows older than the longest window any limit uses (an hour)."""
    session.execute(delete(SubscribeRequest).where(SubscribeRequest.created_at < now - WINDOW))


def recent(session: Session, client: str, since: dt.datetime) -> tuple[int, dt.datetime | None]:
    """How many rows ``client`` has since ``since``, and the oldest one's time.

    Shared with the sign-in throttle (team.throttle), whose keys are HMACs of
    their own: one table counts any per-client limit across processes.
    """
    used, oldest = session.execute(
        select(func.count(), func.min(SubscribeRequest.created_at)).where(
            SubscribeRequest.client == client, SubscribeRequest.created_at >= since
        )
    ).one()
    if isinstance(oldest, str):  # SQLite's min() of a timestamp column comes back as text
        oldest = dt.datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    return int(used or 0), oldest


def record(session: Session, client: str, now: dt.datetime) -> None:
    """Count one request of ``client`` (in the caller's transaction)."""
    session.add(SubscribeRequest(client=client, created_at=now))


def forget(session: Session, client: str) -> None:
    """Start ``client``'s count afresh (a successful sign-in clears its failures)."""
    session.execute(delete(SubscribeRequest).where(SubscribeRequest.client == client))


def admit(session: Session, client: str, now: dt.datetime, limit: int) -> bool:
    """Count one request of ``client`` unless it is at ``limit`` in the last hour (0: no limit).

    False when refused (nothing is written). The public forms' limits (the
    subscribe form's, the inquiry form's) each call it with keys of their own,
    in the caller's transaction, so a request the caller rolls back does not count.
    """
    if limit == 0:
        return True
    prune(session, now)
    used, _oldest = recent(session, client, now - WINDOW)
    if used >= limit:
        return False
    record(session, client, now)
    return True
