"""Subscribers and the outbox of deliveries (R4, R26; docs/design.md "outbox").

Publishing a notice writes one :class:`OutboxMessage` and one :class:`Delivery`
per recipient in the publisher's transaction; workers claim deliveries through
the database, send them, and mark each one in its own small commit. The
delivery id is the message's identity on the wire (SMTP ``Message-ID``,
webhook ``Idempotency-Key``), so a resend after a crash is recognisably the
same message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from anshin.db import Base, UTCDateTime, utcnow
from anshin.ratelimit import SubscribeRequest as SubscribeRequest  # the shared counts' table


class Subscriber(Base):
    """Someone who asked to be told (R26): an email address or a webhook URL.

    Email subscribers confirm by double opt-in (``pending`` until the link in
    the confirmation mail is opened). Webhooks are added by staff and start
    ``active``. No chosen component means every component.
    """

    __tablename__ = "notify_subscribers"
    __table_args__ = (
        UniqueConstraint("kind", "address", name="uq_notify_subscribers_kind_address"),
        Index("ix_notify_subscribers_status", "status", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # email | webhook
    address: Mapped[str] = mapped_column(String(2000))  # email address or URL
    locale: Mapped[str] = mapped_column(String(5), default="ja")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    webhook_format: Mapped[str | None] = mapped_column(String(10), nullable=True)
    secret: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source: Mapped[str] = mapped_column(String(20), default="public")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmation_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    components: Mapped[list[SubscriberComponent]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def component_ids(self) -> list[int]:
        """The chosen components; empty means all of them."""
        return sorted(c.component_id for c in self.components)


class SubscriberComponent(Base):
    """One component a subscriber chose to hear about."""

    __tablename__ = "notify_subscriber_components"
    __table_args__ = (UniqueConstraint("subscriber_id", "component_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("notify_subscribers.id", ondelete="CASCADE"), index=True
    )
    component_id: Mapped[int] = mapped_column(
        ForeignKey("components.id", ondelete="CASCADE"), index=True
    )

    subscriber: Mapped[Subscriber] = relationship(back_populates="components")


class OutboxMessage(Base):
    """One notice as published: its texts per locale, written once, never edited.

    ``texts`` maps a locale to ``{"subject", "text", "html", "short"}``;
    ``data`` carries facts for webhook payloads (incident reference, status, URL).
    ``last_delivered_at`` is when the notice reached its last subscriber (R4,
    kept for the review).
    """

    __tablename__ = "notify_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), nullable=True, index=True
    )
    update_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident_updates.id", ondelete="SET NULL"), nullable=True
    )
    maintenance_id: Mapped[int | None] = mapped_column(
        ForeignKey("maintenances.id", ondelete="SET NULL"), nullable=True
    )
    texts: Mapped[dict[str, Any]] = mapped_column(JSON)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    component_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(200), default="system")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Delivery(Base):
    """One message to one recipient, and where it stands.

    status: ``pending`` (waiting), ``sending`` (claimed by a worker until
    ``claimed_until``), ``sent``, ``failed`` (a transient failure; retried at
    ``next_attempt_at``), ``dead`` (permanent failure or retries exhausted; a
    person may retry it), ``cancelled`` (the recipient left before it went out).
    """

    __tablename__ = "notify_deliveries"
    __table_args__ = (
        UniqueConstraint("message_id", "subscriber_id", name="uq_notify_deliveries_msg_sub"),
        Index("ix_notify_deliveries_due", "status", "next_attempt_at", "id"),
        Index("ix_notify_deliveries_claims", "status", "claimed_until"),
        Index("ix_notify_deliveries_message", "message_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("notify_messages.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("notify_subscribers.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # Set instead of ``message_id`` where the message is not flushed yet: many messages then
    # go in one flush, each table in one INSERT (grouped intake, notify.service.queue_to).
    message: Mapped[OutboxMessage] = relationship()
    channel: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # When a worker last took it to send (each claim is an attempt): shown to staff.
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WebhookEndpoint(Base):
    """How one webhook endpoint is doing, shared by every worker through the database.

    One row per webhook subscriber (its URL). ``busy_until`` is the lease of the
    one delivery in flight to it (at most one at a time, so a slow endpoint
    holds one sending thread, not all of them); ``failures`` counts
    consecutive failed attempts and ``next_attempt_at`` is when the endpoint
    may be tried again: while it backs off, its deliveries wait without being
    claimed, so they keep their attempts (docs/delivery.md, issue 7).
    """

    __tablename__ = "notify_webhook_endpoints"

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("notify_subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    busy_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    busy_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
