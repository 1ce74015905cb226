"""Inquiries, their conversation, requests and commitments; agents' skills (R18–R28).

The history of every action lives in the shared event log (``anshin.events``,
entity type ``inquiry``), written in the same transaction as the change (R20).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from anshin.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from anshin.notify.models import OutboxMessage

ENTITY = "inquiry"  # entity_type of the inquiry's events


class Inquiry(Base):
    """One customer's inquiry, from receipt to the note shared with the team (R19, R20).

    ``original_text`` is the customer's words as received and is never changed
    (R25: kept unaltered as evidence); everything later is a message or an event.
    ``claimed_by_id`` is the lock: set by one conditional UPDATE, so two agents
    can never both hold it (R23).
    """

    __tablename__ = "inquiries"
    __table_args__ = (
        Index("ix_inquiries_queue", "closed_at", "level", "first_response_due_at"),
        Index("ix_inquiries_incident", "incident_id", "closed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    channel: Mapped[str] = mapped_column(String(10))  # rules.Channel
    locale: Mapped[str] = mapped_column(String(5), default="ja")
    customer_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    customer_email: Mapped[str | None] = mapped_column(String(254), nullable=True, index=True)
    customer_phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    customer_org: Mapped[str | None] = mapped_column(String(200), nullable=True)
    customer_tier: Mapped[str] = mapped_column(String(10), default="standard")  # rules.Tier
    subject: Mapped[str | None] = mapped_column(String(300), nullable=True)
    original_text: Mapped[str] = mapped_column(Text)
    # Asked to be kept informed: each public update of the linked incident reaches them (R26).
    keep_informed: Mapped[bool] = mapped_column(Boolean, default=True)

    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), nullable=True
    )
    # Triage (inquiries.triage): on intake, corrected by agents (each change an event).
    intent: Mapped[str] = mapped_column(String(30), default="unrelated")  # rules.Intent
    level: Mapped[int] = mapped_column(Integer, default=1)
    temperature: Mapped[int] = mapped_column(Integer, default=0)
    harassment: Mapped[bool] = mapped_column(Boolean, default=False)
    triage_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    suggested_template: Mapped[str | None] = mapped_column(String(40), nullable=True)

    stage: Mapped[str] = mapped_column(String(20), default="received")  # rules.Stage
    claimed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    next_action: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_action_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    first_response_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    first_responded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Mail threading: the Message-ID of the customer's first mail (replies answer it).
    mail_message_id: Mapped[str | None] = mapped_column(String(300), nullable=True, index=True)
    # The outbox row that reaches this customer (notify.contacts), once one is known.
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("notify_subscribers.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    messages: Mapped[list[InquiryMessage]] = relationship(
        back_populates="inquiry",
        cascade="all, delete-orphan",
        order_by="InquiryMessage.id",
        lazy="selectin",
    )
    commitments: Mapped[list[Commitment]] = relationship(
        back_populates="inquiry",
        cascade="all, delete-orphan",
        order_by="Commitment.id",
        lazy="selectin",
    )
    requests: Mapped[list[CustomerRequest]] = relationship(
        back_populates="inquiry",
        cascade="all, delete-orphan",
        order_by="CustomerRequest.id",
        lazy="selectin",
    )

    @property
    def is_open(self) -> bool:
        """Still in the queues (not resolved or shared)."""
        return self.closed_at is None


class InquiryMessage(Base):
    """One turn of the conversation: the customer's (``in``), ours (``out``), a call or a note.

    ``direction``: ``in`` (the customer wrote or said it), ``out`` (a reply sent
    through the outbox, a phone script read out, an incident update forwarded),
    ``note`` (internal). Never edited: a correction is a new message.
    """

    __tablename__ = "inquiry_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(
        ForeignKey("inquiries.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(5))  # in | out | note
    channel: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str | None] = mapped_column(String(30), nullable=True)  # template kind if any
    subject: Mapped[str | None] = mapped_column(String(300), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Mail threading: this mail's Message-ID (inbound) or the one we sent (outbound).
    mail_message_id: Mapped[str | None] = mapped_column(String(300), nullable=True, index=True)
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("notify_messages.id", ondelete="SET NULL"), nullable=True
    )
    # The acknowledgement's message, set before it has an id: one flush for a group's rows.
    outbox_message: Mapped[OutboxMessage | None] = relationship()
    # A reply that reported the result (R19: ``resolved`` needs one).
    reports_result: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    inquiry: Mapped[Inquiry] = relationship(back_populates="messages")


class CustomerRequest(Base):
    """Something the customer asked for (お願い) and our decision on it (R24)."""

    __tablename__ = "inquiry_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(
        ForeignKey("inquiries.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(15), default="pending")  # RequestDecision
    alternative: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    inquiry: Mapped[Inquiry] = relationship(back_populates="requests")


class Commitment(Base):
    """Something we promised the customer (お約束): owner, due time, state (R24, R27)."""

    __tablename__ = "inquiry_commitments"
    __table_args__ = (Index("ix_inquiry_commitments_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(
        ForeignKey("inquiries.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))  # rules.CommitmentKind
    description: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    owner_name: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(10), default="open")  # rules.CommitmentState
    kept_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    inquiry: Mapped[Inquiry] = relationship(back_populates="commitments")


class Department(Base):
    """Another department an inquiry may concern, and which inquiries it receives (R21).

    Data, managed by administrators (console ``/console/departments``, ``anshin
    department``): a label in both languages, the internal mail address that
    receives a shared inquiry in ``locale``, optionally a webhook (the outbox's
    webhook lane), and the routing: the intents, the components of the linked
    incident and the customer tiers it is suggested for (``rules.suggest_departments``).
    A disabled department keeps its history but is neither suggested nor reachable.
    """

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)  # development, billing, …
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(5), default="ja")
    webhook_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    intents: Mapped[list[str]] = mapped_column(JSON, default=list)
    component_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    tiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def name(self, locale: str) -> str:
        """The label in ``locale`` (English for en, Japanese otherwise)."""
        return self.name_en if locale == "en" else self.name_ja
