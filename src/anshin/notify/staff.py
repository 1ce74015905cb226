"""The staff channel: on-duty team members' mail and the team's chat webhook as outbox rows.

Staff nudges (``incidents.nudges``) travel through the outbox like every other
message — retries, dead letters, the console's delivery pages — but to rows no
customer notice can reach: their status is ``staff``, never ``active``, so
:func:`anshin.notify.service.fan_out` never selects them, and the subscriber
lists and the CSV export leave them out. A team member whose address is also a
customer subscription gets the nudge at that row (one row per address); the
worker sends a ``staff_nudge`` whatever the row's customer status, because the
on-duty flag is the consent (``outbox._left``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, lazyload

from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import InvalidInput
from anshin.notify import rules, subscribers
from anshin.notify.models import Subscriber
from anshin.notify.rules import SubscriberKind, SubscriberStatus

# ``source`` of the rows this module writes (a customer row keeps its own source).
SOURCE = "staff_channel"


def _row(
    session: Session,
    *,
    kind: SubscriberKind,
    address: str,
    locale: str,
    webhook_format: str | None,
    now: dt.datetime,
) -> Subscriber:
    """The row that reaches ``address``: found, or written as a staff row."""
    return direct_row(
        session,
        kind=kind,
        address=address,
        locale=locale,
        webhook_format=webhook_format,
        status=SubscriberStatus.STAFF,
        source=SOURCE,
        now=now,
    )


class NotLookedUp:
    """``direct_row``'s ``found`` when the caller has not looked the row up."""


UNKNOWN = NotLookedUp()


def find_direct(session: Session, kind: str, address: str) -> Subscriber | None:
    """The row with this address, if any, without its components (a direct message reads none)."""
    return session.scalar(
        select(Subscriber)
        .where(Subscriber.kind == kind, Subscriber.address == address)
        .options(lazyload(Subscriber.components))
    )


def direct_row(
    session: Session,
    *,
    kind: SubscriberKind,
    address: str,
    locale: str,
    webhook_format: str | None,
    status: SubscriberStatus,
    source: str,
    now: dt.datetime,
    found: Subscriber | NotLookedUp | None = UNKNOWN,
) -> Subscriber:
    """The outbox row for a message sent to one person directly (a nudge, an inquiry reply).

    Found by address, or written with ``status`` (never ``active``, so no notice
    fans out to it) and ``source``. A row this kind of message wrote itself
    follows the latest language and format; a customer's own subscription keeps
    its status and source (one row per address). ``found``: what
    :func:`find_direct` returned earlier in the caller's transaction (intake
    looks up before it takes its write turn), so it is not looked up again.
    """
    row = find_direct(session, kind, address) if isinstance(found, NotLookedUp) else found
    if row is None:
        # One statement, no savepoint: a row another process wrote just now is kept
        # (nothing returned) and read back.
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        written = session.scalar(
            insert(Subscriber)
            .values(
                kind=kind,
                address=address,
                locale=locale,
                status=status,
                source=source,
                webhook_format=webhook_format,
                secret=secrets.token_urlsafe(32) if kind == SubscriberKind.WEBHOOK else None,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["kind", "address"])
            .returning(Subscriber)
            .options(lazyload(Subscriber.components)),
        )
        if written is not None:
            return written
        found = subscribers.find(session, kind, address)
        assert found is not None
        return found
    if row.source == source:
        # A row of this source follows the person's language and the configured format; a
        # List-Unsubscribe click on a direct message must not turn it into a customer row.
        row.locale = locale
        row.status = status
        if kind == SubscriberKind.WEBHOOK:
            row.webhook_format = webhook_format
    return row


def recipients(
    session: Session,
    settings: Settings,
    staff: Sequence[tuple[str, str]],
    now: dt.datetime | None = None,
) -> list[Subscriber]:
    """The outbox rows for ``staff`` (email, locale) and the staff webhook, if one is set."""
    now = now or utcnow()
    rows: list[Subscriber] = []
    for email, locale in staff:
        try:
            address = rules.normalise_email(email)
        except InvalidInput:  # a sign-in name that is no mail address cannot be mailed
            continue
        rows.append(
            _row(
                session,
                kind=SubscriberKind.EMAIL,
                address=address,
                locale=rules.check_locale(locale),
                webhook_format=None,
                now=now,
            )
        )
    if settings.staff_webhook_url:
        rows.append(
            _row(
                session,
                kind=SubscriberKind.WEBHOOK,
                address=settings.staff_webhook_url,
                locale=settings.default_locale,
                webhook_format=settings.staff_webhook_format,
                now=now,
            )
        )
    unique = {row.id: row for row in rows}
    return list(unique.values())
