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

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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
) -> Subscriber:
    """The outbox row for a message sent to one person directly (a nudge, an inquiry reply).

    Found by address, or written with ``status`` (never ``active``, so no notice
    fans out to it) and ``source``. A row this kind of message wrote itself
    follows the latest language and format; a customer's own subscription keeps
    its status and source (one row per address).
    """
    row = subscribers.find(session, kind, address)
    if row is None:
        row = Subscriber(
            kind=kind,
            address=address,
            locale=locale,
            status=status,
            source=source,
            webhook_format=webhook_format,
            secret=secrets.token_urlsafe(32) if kind == SubscriberKind.WEBHOOK else None,
            created_at=now,
        )
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:  # another process wrote the same address just now
            found = subscribers.find(session, kind, address)
            assert found is not None
            return found
        return row
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
