"""A per-client limit on the public inquiry form, counted in the database (R18).

The form needs no sign-in and each accepted post mails an acknowledgement, so
without a limit one client could fill the queues and make anshin mail strangers.
``ANSHIN_INQUIRY_RATE_PER_HOUR`` accepted posts per client address in the last
hour (0 turns it off), counted in the shared table of ``anshin.ratelimit``
under keys of the form's own (an HMAC of ``inquiry-form:`` and the address),
so it never eats into the subscribe form's count or the sign-in throttle's,
and any number of app processes share it. The row is written in the same
transaction as the inquiry: a refused post leaves none and does not count.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.i18n import N_
from anshin.notify.ratelimit import TooManyRequests
from anshin.ratelimit import WINDOW, admit, client_key

KEY_PREFIX = "inquiry-form:"

__all__ = ["WINDOW", "TooManyRequests", "check_and_count", "form_client"]


def form_client(settings: Settings, address: str | None) -> str:
    """The stored key for a client of the public form (its address is not kept)."""
    return client_key(settings, KEY_PREFIX + (address or "unknown"))


def check_and_count(session: Session, settings: Settings, client: str, now: dt.datetime) -> None:
    """Refuse (HTTP 429) when ``client`` is at the hourly limit; otherwise count this post."""
    if not admit(session, client, now, settings.inquiry_rate_per_hour):
        raise TooManyRequests(
            N_(
                "Many inquiries have come from your network in the last hour. "
                "Please try again later."
            )
        )
