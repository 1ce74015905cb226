"""A per-client limit on the public subscribe form (R26 double opt-in, guarded).

Each accepted ``POST /subscribe`` sends a confirmation mail, so without a limit
one client could make anshin mail any number of strangers. The limit is
``ANSHIN_SUBSCRIBE_RATE_PER_HOUR`` accepted requests per client address in the
last hour (0 turns it off).

Nothing may assume one process (docs/design.md), so the count lives in the
database: one :class:`~anshin.notify.models.SubscribeRequest` row per accepted
request, written in the same transaction as the subscription — a refused or
failed request leaves no row and does not count. Two requests racing at the
limit may both pass; a limit of requests per hour does not need more.

The address is kept only as an HMAC under ``ANSHIN_SECRET_KEY`` (personal data
is not needed to count), and rows older than the window are deleted as new
ones arrive. Behind a reverse proxy the client address is the proxy's unless
uvicorn trusts it for ``X-Forwarded-For`` (``FORWARDED_ALLOW_IPS``; a proxy
on the same host is trusted by default).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.errors import AnshinError
from anshin.i18n import N_
from anshin.instance.secret import signing_key
from anshin.notify.models import SubscribeRequest

WINDOW = dt.timedelta(hours=1)


class TooManyRequests(AnshinError):
    """The client has used up its subscribe requests for the hour (HTTP 429)."""

    status = 429


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


def check_and_count(session: Session, settings: Settings, client: str, now: dt.datetime) -> None:
    """Refuse when ``client`` is at the hourly limit; otherwise count this request.

    Runs in the caller's transaction: the caller rolls back a refused or failed
    subscription, and with it the row that counted it.
    """
    limit = settings.subscribe_rate_per_hour
    if limit == 0:
        return
    prune(session, now)
    used, _oldest = recent(session, client, now - WINDOW)
    if used >= limit:
        raise TooManyRequests(
            N_(
                "Many subscription requests have come from your network in the last hour. "
                "Please try again later."
            )
        )
    record(session, client, now)
