"""Customers who wrote to us: the outbox rows their inquiry's messages travel to (R18, R21, R26).

An inquiry's acknowledgement, replies and the incident updates its customer
asked for go through the outbox like every notice — retries, dead letters, the
console's delivery pages — to a row found by address or written with status
``contact``: never ``active``, so no broadcast reaches a person only because
they once asked a question; a customer who also subscribed keeps their one row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from anshin.db import utcnow
from anshin.notify import rules
from anshin.notify.models import Subscriber
from anshin.notify.rules import SubscriberKind, SubscriberStatus
from anshin.notify.staff import UNKNOWN, NotLookedUp, direct_row, find_direct

SOURCE = "inquiry"


def email_row(
    session: Session,
    address: str,
    locale: str,
    now: dt.datetime | None = None,
    *,
    found: Subscriber | NotLookedUp | None = UNKNOWN,
) -> Subscriber:
    """The row that reaches a customer's mail address (refused when it is no address).

    ``found``: what :func:`find_email` returned earlier in the same transaction.
    """
    return direct_row(
        session,
        kind=SubscriberKind.EMAIL,
        address=rules.normalise_email(address),
        locale=rules.check_locale(locale),
        webhook_format=None,
        status=SubscriberStatus.CONTACT,
        source=SOURCE,
        now=now or utcnow(),
        found=found,
    )


def find_email(session: Session, address: str) -> Subscriber | None:
    """The row of this mail address, if there is one (a look-up only)."""
    return find_direct(session, SubscriberKind.EMAIL, rules.normalise_email(address))


def find_emails(session: Session, addresses: Iterable[str]) -> dict[str, Subscriber]:
    """The rows of these mail addresses that exist, by normalised address (one SELECT).

    Grouped intake looks up every customer of its group at once.
    """
    wanted = {rules.normalise_email(address) for address in addresses}
    if not wanted:
        return {}
    rows = session.scalars(
        select(Subscriber)
        .where(Subscriber.kind == SubscriberKind.EMAIL, Subscriber.address.in_(sorted(wanted)))
        .options(lazyload(Subscriber.components))
    )
    return {row.address: row for row in rows}


def find_webhook(session: Session, url: str) -> Subscriber | None:
    """The row of this webhook URL, if there is one (a look-up only)."""
    return find_direct(session, SubscriberKind.WEBHOOK, rules.check_webhook_url(url))


def webhook_row(
    session: Session,
    url: str,
    locale: str,
    fmt: str,
    now: dt.datetime | None = None,
    *,
    found: Subscriber | NotLookedUp | None = UNKNOWN,
) -> Subscriber:
    """The row for a chat backend's webhook (``ANSHIN_CHAT_WEBHOOK_URL``): chat replies go there."""
    return direct_row(
        session,
        kind=SubscriberKind.WEBHOOK,
        address=rules.check_webhook_url(url),
        locale=rules.check_locale(locale),
        webhook_format=rules.check_webhook_format(fmt),
        status=SubscriberStatus.CONTACT,
        source=SOURCE,
        now=now or utcnow(),
        found=found,
    )
