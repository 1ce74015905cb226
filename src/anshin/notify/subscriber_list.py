"""The staff's list of customer subscribers: search, filters, counts per status (R26).

The console's subscribers page and ``GET /api/subscribers`` read the same page
of rows here; the on-duty staff's rows of the staff channel are never listed.
Apart from ``notify.subscribers`` (how a customer subscribes and leaves) because
the list changes with what staff look for, not with the opt-in rules.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anshin.db import LIKE_ESCAPE, contains_pattern
from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.inputs import check_storable
from anshin.notify import rules
from anshin.notify.models import Subscriber
from anshin.notify.rules import SubscriberStatus

# The longest address search: an email address is at most 320 characters.
QUERY_MAX = 320


def list_subscribers(
    session: Session,
    *,
    kind: str | None = None,
    status: str | None = None,
    locale: str | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Subscriber], int]:
    """A page of customer subscribers (newest first) and the total matching.

    ``q`` finds addresses containing it (case-insensitive). The on-duty staff's
    rows of the staff channel (status ``staff``, ``notify.staff``) are never
    listed: they are no customer's subscription.
    """
    where = [Subscriber.status != SubscriberStatus.STAFF]
    if kind:
        if kind not in rules.SUBSCRIBER_KINDS:
            raise InvalidInput(N_("Unknown subscriber kind: {value}."), field="kind", value=kind)
        where.append(Subscriber.kind == kind)
    if status:
        where.append(Subscriber.status == rules.check_subscriber_status(status))
    if locale:
        where.append(Subscriber.locale == rules.check_locale(locale))
    words = " ".join(check_storable(q or "", field="q").split())
    if len(words) > QUERY_MAX:
        raise InvalidInput(
            N_("The search is too long (at most {n} characters)."), field="q", n=QUERY_MAX
        )
    if words:
        where.append(
            func.lower(Subscriber.address).like(contains_pattern(words.lower()), escape=LIKE_ESCAPE)
        )
    stmt = select(Subscriber).where(*where)
    count = select(func.count()).select_from(Subscriber).where(*where)
    rows = session.scalars(stmt.order_by(Subscriber.id.desc()).limit(limit).offset(offset))
    return list(rows), int(session.scalar(count) or 0)


def status_counts(session: Session) -> dict[str, int]:
    """How many customer subscribers each status has (the subscribers page's tabs)."""
    stmt = (
        select(Subscriber.status, func.count())
        .where(Subscriber.status != SubscriberStatus.STAFF)
        .group_by(Subscriber.status)
    )
    found = {str(status): int(n) for status, n in session.execute(stmt).all()}
    return {status: found.get(status, 0) for status in rules.SUBSCRIBER_STATUSES}
