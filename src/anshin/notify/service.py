"""The outbox: publish a notice to every matching subscriber in the caller's transaction.

docs/design.md "outbox": publishing writes ONE message row and ONE delivery row per
recipient in the same transaction as the update itself, so a notice is either
published and queued for everyone, or not at all (R4). The deliveries are
written by a single ``INSERT … SELECT`` from the subscribers table: 100,000
recipients cost one statement, not 100,000 Python objects. Workers are woken
only after the caller commits (the queue only wakes; the database decides).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    Table,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from anshin import events
from anshin.config import Settings
from anshin.db import UTCDateTime, utcnow
from anshin.errors import Conflict, InvalidInput, NotFound
from anshin.i18n import N_
from anshin.notify import queue, rules
from anshin.notify.counts import POLL_SECONDS as POLL_SECONDS
from anshin.notify.counts import DeliveryCounts as DeliveryCounts
from anshin.notify.counts import counts as counts
from anshin.notify.counts import counts_many as counts_many
from anshin.notify.models import Delivery, OutboxMessage, Subscriber, SubscriberComponent

SUBJECT_MAX = 300
BODY_MAX = 100_000


@dataclass(frozen=True)
class MessageTexts:
    """One locale's version of a notice: mail subject and bodies, and a short text for chat."""

    subject: str
    text: str
    html: str | None = None
    short: str | None = None


def _clean_texts(
    texts: Mapping[str, MessageTexts | Mapping[str, Any]], *, require_ja: bool = True
) -> dict[str, Any]:
    """Each locale's texts, checked; a notice to everyone needs Japanese (R26).

    A message to chosen recipients (``queue_to``: the confirmation mail in the
    language the person chose) needs only the locales it is written in.
    """
    cleaned: dict[str, Any] = {}
    for locale, value in texts.items():
        rules.check_locale(locale)
        item = value if isinstance(value, MessageTexts) else MessageTexts(**dict(value))
        subject = " ".join(item.subject.split())
        if not subject or len(subject) > SUBJECT_MAX:
            raise InvalidInput(
                N_("The subject must be 1 to {n} characters."), field="subject", n=SUBJECT_MAX
            )
        if not item.text.strip() or len(item.text) > BODY_MAX:
            raise InvalidInput(
                N_("The message text must be 1 to {n} characters."), field="text", n=BODY_MAX
            )
        cleaned[locale] = {
            "subject": subject,
            "text": item.text,
            "html": item.html or rules.text_to_html(item.text),
            "short": (item.short or subject).strip(),
        }
    if (require_ja and "ja" not in cleaned) or not cleaned:
        raise InvalidInput(N_("A Japanese text is required."), field="texts")
    return cleaned


def fan_out(
    session: Session,
    settings: Settings,
    *,
    kind: str,
    texts: Mapping[str, MessageTexts | Mapping[str, Any]],
    component_ids: Sequence[int] = (),
    incident_id: int | None = None,
    update_id: int | None = None,
    maintenance_id: int | None = None,
    data: Mapping[str, Any] | None = None,
    actor: str = "system",
    now: dt.datetime | None = None,
) -> OutboxMessage:
    """Queue a notice for every active subscriber of any of ``component_ids`` (R4, R26).

    Subscribers who chose no component hear about everything; an empty
    ``component_ids`` reaches every active subscriber. Writes one message, its
    deliveries and an event in the caller's transaction; the caller commits,
    and the workers are woken after that commit.
    """
    if kind not in rules.MESSAGE_KINDS or kind == rules.STAFF_NUDGE or kind in rules.DIRECT_KINDS:
        raise InvalidInput(N_("Unknown message kind: {value}."), field="kind", value=kind)
    now = now or utcnow()
    cleaned = _clean_texts(texts)
    ids = sorted({int(c) for c in component_ids})
    message = OutboxMessage(
        kind=kind,
        incident_id=incident_id,
        update_id=update_id,
        maintenance_id=maintenance_id,
        texts=cleaned,
        data=dict(data or {}),
        component_ids=ids,
        created_by=actor,
        created_at=now,
    )
    session.add(message)
    session.flush()
    sub = cast(Table, Subscriber.__table__)
    choice = cast(Table, SubscriberComponent.__table__)
    if ids:
        chose_nothing = ~exists().where(choice.c.subscriber_id == sub.c.id)
        chose_one = exists().where(
            choice.c.subscriber_id == sub.c.id, choice.c.component_id.in_(ids)
        )
        matches = or_(chose_nothing, chose_one)
    else:
        matches = true()
    recipients = select(
        literal(message.id),
        sub.c.id,
        sub.c.kind,
        literal("pending"),
        literal(0),
        literal(now, UTCDateTime()),
        literal(now, UTCDateTime()),
    ).where(sub.c.status == "active", matches)
    table = cast(Table, Delivery.__table__)
    result = session.execute(
        insert(table).from_select(
            [
                table.c.message_id,
                table.c.subscriber_id,
                table.c.channel,
                table.c.status,
                table.c.attempts,
                table.c.next_attempt_at,
                table.c.created_at,
            ],
            recipients,
        )
    )
    inserted = int(getattr(result, "rowcount", -1))
    if inserted < 0:  # psycopg through SQLAlchemy reports -1 for INSERT … SELECT: count instead
        inserted = int(
            session.scalar(select(func.count()).where(table.c.message_id == message.id)) or 0
        )
    message.recipients = inserted
    if message.recipients == 0:
        # Nobody to reach: the notice has reached everyone it could, now.
        message.last_delivered_at = now
    events.record(
        session,
        actor=actor,
        entity_type="notify_message",
        entity_id=message.id,
        action="notify.message.queued",
        after={
            "kind": kind,
            "incident_id": incident_id,
            "update_id": update_id,
            "maintenance_id": maintenance_id,
            "component_ids": ids,
            "recipients": message.recipients,
        },
    )
    queue.wake_after_commit(session, settings, message.recipients)
    return message


def queue_single(
    session: Session,
    settings: Settings,
    subscriber: Subscriber,
    *,
    kind: str,
    texts: Mapping[str, MessageTexts | Mapping[str, Any]],
    actor: str = "system",
    now: dt.datetime | None = None,
) -> Delivery:
    """A message to one subscriber (the double opt-in confirmation), through the same outbox."""
    message = queue_to(
        session, settings, [subscriber], kind=kind, texts=texts, actor=actor, now=now
    )
    return session.scalars(select(Delivery).where(Delivery.message_id == message.id)).one()


def queue_to(
    session: Session,
    settings: Settings,
    recipients: Sequence[Subscriber],
    *,
    kind: str,
    texts: Mapping[str, MessageTexts | Mapping[str, Any]],
    data: Mapping[str, Any] | None = None,
    incident_id: int | None = None,
    actor: str = "system",
    now: dt.datetime | None = None,
    flush: bool = True,
) -> OutboxMessage:
    """One message to the named recipients only (the staff nudges), through the same outbox.

    Unlike :func:`fan_out` nobody else is matched: the caller chose every row.
    ``flush=False`` leaves the message and its deliveries to the caller's next
    flush, so a group's messages go in one (intake: one INSERT per table for
    every inquiry of a group); the message has no id until then.
    """
    now = now or utcnow()
    message = OutboxMessage(
        kind=kind,
        incident_id=incident_id,
        texts=_clean_texts(texts, require_ja=False),
        data=dict(data or {}),
        component_ids=[],
        recipients=len(recipients),
        created_by=actor,
        created_at=now,
    )
    session.add(message)
    session.add_all(
        Delivery(
            message=message,
            subscriber_id=subscriber.id,
            channel=subscriber.kind,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for subscriber in recipients
    )
    if not recipients:
        message.last_delivered_at = now
    if flush:
        session.flush()
    queue.wake_after_commit(session, settings, len(recipients))
    return message


def get_message(session: Session, message_id: int) -> OutboxMessage:
    """A message by id, or 404."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(N_("No such message: {id}."), id=message_id)
    return message


def list_messages(session: Session, *, limit: int = 50) -> list[OutboxMessage]:
    """Recent messages, newest first."""
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def retry(
    session: Session,
    settings: Settings,
    delivery_id: int,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> Delivery:
    """Put one dead letter back in the queue with a fresh set of attempts."""
    now = now or utcnow()
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(N_("No such delivery: {id}."), id=delivery_id)
    if delivery.status != "dead":
        raise Conflict(
            N_("Only a failed delivery (dead letter) can be retried; this one is {status}."),
            status=delivery.status,
        )
    before = {
        "status": delivery.status,
        "attempts": delivery.attempts,
        "error": delivery.last_error,
    }
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.claimed_by = None
    delivery.claimed_until = None
    session.flush()
    events.record(
        session,
        actor=actor,
        entity_type="notify_delivery",
        entity_id=delivery.id,
        action="notify.delivery.retried",
        before=before,
        after={"status": "pending"},
    )
    queue.wake_after_commit(session, settings, 1)
    return delivery


def retry_dead(
    session: Session,
    settings: Settings,
    *,
    message_id: int | None = None,
    actor: str,
    now: dt.datetime | None = None,
) -> int:
    """Put every dead letter (of one message, or all) back in the queue; returns how many."""
    now = now or utcnow()
    stmt = (
        update(Delivery)
        .where(Delivery.status == "dead")
        .values(
            status="pending", attempts=0, next_attempt_at=now, claimed_by=None, claimed_until=None
        )
        .execution_options(synchronize_session=False)
    )
    if message_id is not None:
        get_message(session, message_id)
        stmt = stmt.where(Delivery.message_id == message_id)
    count = int(getattr(session.execute(stmt), "rowcount", 0) or 0)
    if count:
        events.record(
            session,
            actor=actor,
            entity_type="notify_message",
            entity_id=message_id or 0,
            action="notify.delivery.retried_dead",
            after={"count": count},
        )
        queue.wake_after_commit(session, settings, count)
    return count
