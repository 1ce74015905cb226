"""A per-client limit on the public subscribe form (R26 double opt-in, guarded).

Each accepted ``POST /subscribe`` sends a confirmation mail, so without a limit
one client could make anshin mail any number of strangers. The limit is
``ANSHIN_SUBSCRIBE_RATE_PER_HOUR`` accepted requests per client address in the
last hour (0 turns it off).

Nothing may assume one process (docs/design.md), so the count lives in the
database: one :class:`~anshin.ratelimit.SubscribeRequest` row per accepted
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

from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.errors import AnshinError
from anshin.i18n import N_
from anshin.ratelimit import WINDOW, admit, client_key

__all__ = ["WINDOW", "TooManyRequests", "check_and_count", "client_key"]


class TooManyRequests(AnshinError):
    """The client has used up its subscribe requests for the hour (HTTP 429)."""

    status = 429


def check_and_count(session: Session, settings: Settings, client: str, now: dt.datetime) -> None:
    """Refuse when ``client`` is at the hourly limit; otherwise count this request.

    Runs in the caller's transaction: the caller rolls back a refused or failed
    subscription, and with it the row that counted it.
    """
    if not admit(session, client, now, settings.subscribe_rate_per_hour):
        raise TooManyRequests(
            N_(
                "Many subscription requests have come from your network in the last hour. "
                "Please try again later."
            )
        )
