"""Sign-in throttle per account and per client address (issue 7).

After ``ANSHIN_LOGIN_FAILURES_PER_ACCOUNT`` failed sign-ins for one email
address, or ``ANSHIN_LOGIN_FAILURES_PER_ADDRESS`` from one client address,
within ``ANSHIN_LOGIN_FAILURE_WINDOW_MINUTES``, further attempts are answered
429 with Retry-After *before* the password is hashed: argon2 costs about 0.2 s
of a CPU, and guessing must not be able to buy it. A successful sign-in clears
the account's count.

The counts are anshin.ratelimit's rows (one table, any number of processes);
the account and the address are kept only as HMACs under the installation's
key, each with a prefix of its own so they never meet the subscribe form's.
"""

from __future__ import annotations

import datetime as dt
import logging
import math

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from anshin import ratelimit
from anshin.config import Settings
from anshin.db import storage_cause
from anshin.errors import AnshinError
from anshin.i18n import N_

log = logging.getLogger("anshin.team")


class TooManySignIns(AnshinError):
    """Too many failed sign-ins for this account or from this address (HTTP 429)."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            N_("Too many failed sign-ins. Please wait {minutes} min and try again."),
            minutes=max(1, math.ceil(retry_after / 60)),
        )
        self.retry_after = retry_after

    def details(self) -> dict[str, object]:
        """The API's error body says when to try again, like the Retry-After header."""
        return {"retry_after": self.retry_after}


def _keys(settings: Settings, email: str, address: str | None) -> list[tuple[str, int]]:
    """(stored key, limit) for the account and the address whose limit is on."""
    keys: list[tuple[str, int]] = []
    if settings.login_failures_per_account:
        account = ratelimit.client_key(settings, "sign-in account:" + email.strip().lower())
        keys.append((account, settings.login_failures_per_account))
    if settings.login_failures_per_address:
        client = ratelimit.client_key(settings, "sign-in address:" + (address or "unknown"))
        keys.append((client, settings.login_failures_per_address))
    return keys


def check(
    session: Session, settings: Settings, email: str, address: str | None, now: dt.datetime
) -> None:
    """Raise :class:`TooManySignIns` when the account or the address is at its limit."""
    window = dt.timedelta(minutes=settings.login_failure_window_minutes)
    for key, limit in _keys(settings, email, address):
        used, oldest = ratelimit.recent(session, key, now - window)
        if used >= limit:
            free_at = (oldest or now) + window
            raise TooManySignIns(max(1, math.ceil((free_at - now).total_seconds())))


def failed(
    session: Session, settings: Settings, email: str, address: str | None, now: dt.datetime
) -> bool:
    """Count a failed sign-in against the account and the address (caller commits).

    False when both limits are off: nothing was written, there is nothing to commit.
    """
    keys = _keys(settings, email, address)
    if not keys:
        return False
    ratelimit.prune(session, now)
    for key, _limit in keys:
        ratelimit.record(session, key, now)
    return True


def succeeded(session: Session, settings: Settings, email: str) -> None:
    """Clear the account's failures after a successful sign-in (caller commits)."""
    if settings.login_failures_per_account:
        ratelimit.forget(
            session, ratelimit.client_key(settings, "sign-in account:" + email.strip().lower())
        )


def count_failure(
    session: Session, settings: Settings, email: str, address: str | None, now: dt.datetime
) -> None:
    """Count a failed password check and commit it, best effort.

    A database that refuses writes still lets the caller answer its 401/422:
    the refusal is logged and rolled back.
    """
    try:
        if failed(session, settings, email, address, now):
            session.commit()
    except SQLAlchemyError as exc:
        session.rollback()
        log.warning("could not count a failed sign-in: %s", storage_cause(exc))
