"""The acknowledgement intake queues for a new inquiry (R18): composed first, then queued.

``inquiries.intake.take`` reads what it needs before its first write
(:func:`prepare`: the active templates, the linked incident, the customer's
contact row if there is one), then, once the inquiry has its reference,
renders it (:func:`render`, no I/O: a template that fails to render fails
before any row is written), writes the contact row where there was none
(:func:`contact_row`) and queues it through the outbox (:func:`queue`) in the
same flush as the inquiry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from anshin.comms import rules as comms_rules
from anshin.comms import service as comms
from anshin.comms.rules import Rendered, Source
from anshin.config import Settings
from anshin.incidents import reading
from anshin.incidents.context_kinds import build_context
from anshin.incidents.models import Incident
from anshin.inquiries import rules
from anshin.inquiries.models import Inquiry, InquiryMessage
from anshin.notify import contacts
from anshin.notify import rules as notify_rules
from anshin.notify import service as outbox
from anshin.notify.models import OutboxMessage, Subscriber

ACK_KIND = "inquiry_ack"
# The webhook body for a chat backend: anshin's JSON carries the reference and conversation.
CHAT_WEBHOOK_FORMAT = "anshin"


@dataclass
class Ack:
    """An acknowledgement composed and ready to queue: its row, its texts."""

    row: Subscriber
    channel: str  # "email" or "short" (a chat webhook)
    mail: Rendered
    short: Rendered | None

    @property
    def subject(self) -> str | None:
        return self.mail.subject


def channel_for(settings: Settings, inquiry: Inquiry) -> str | None:
    """How this customer is reached: "email", "short" (the chat webhook) or None."""
    if inquiry.customer_email:
        return "email"
    if inquiry.channel == rules.Channel.CHAT and settings.chat_webhook_url:
        return "short"
    return None


@dataclass
class Prepared:
    """What the acknowledgement reads, looked up before intake takes its write turn."""

    sources: dict[str, Source]  # the active template per channel rendered
    incident: Incident | None
    row: Subscriber | None  # the customer's contact row, if it exists yet


@dataclass
class Reads:
    """What a group's acknowledgements read once for all of them (``intake.take_many``)."""

    templates: dict[tuple[str, str], Source] = field(default_factory=dict)  # (language, channel)
    emails: dict[str, Subscriber] | None = None  # the contact rows found; None: look each up


def read_for(session: Session, inquiries: Sequence[Inquiry]) -> Reads:
    """The group's customers' contact rows in one SELECT (the templates are read as needed)."""
    addresses = [i.customer_email for i in inquiries if i.customer_email]
    return Reads(emails=contacts.find_emails(session, addresses))


def prepare(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    channel: str,
    reads: Reads | None = None,
) -> Prepared:
    """Read what the acknowledgement needs: templates, the linked incident, the contact row.

    Only reads, before intake's first write: on PostgreSQL the reference
    counter's row lock, and on SQLite the write turn, order intakes from
    their first write to the commit, so every statement kept out of that span
    shortens every other intake's wait. ``reads``: what the group read for all
    its inquiries (:func:`read_for`); the templates are added as they are read.
    """
    reads = reads or Reads()
    wanted = ("email", "short") if channel == "short" else ("email",)
    for c in wanted:
        if (inquiry.locale, c) not in reads.templates:
            source = comms.get_active(session, ACK_KIND, inquiry.locale, c).source
            reads.templates[inquiry.locale, c] = source
    sources = {c: reads.templates[inquiry.locale, c] for c in wanted}
    # One SELECT, the objects reused while the incident's rows stay the same (R18 in a surge).
    incident = reading.for_messages(session, inquiry.incident_id) if inquiry.incident_id else None
    if channel == "email":
        assert inquiry.customer_email is not None
        if reads.emails is None:
            row = contacts.find_email(session, inquiry.customer_email)
        else:
            row = reads.emails.get(notify_rules.normalise_email(inquiry.customer_email))
    else:
        assert settings.chat_webhook_url is not None
        row = contacts.find_webhook(session, settings.chat_webhook_url)
    return Prepared(sources, incident, row)


def render(
    settings: Settings, inquiry: Inquiry, prepared: Prepared, now: dt.datetime
) -> tuple[Rendered, Rendered | None]:
    """The ``inquiry_ack`` texts in the customer's language with the facts (no I/O).

    A template that fails to render fails here, before any of the
    acknowledgement's rows is written. The short text only where it is what is
    sent (a chat webhook): one render less per mail.
    """
    options: dict[str, Any] = {
        "inquiry_reference": inquiry.reference,
        "received_at": inquiry.received_at,
        "reply_by": inquiry.first_response_due_at,
        "customer_name": inquiry.customer_name or "",
    }
    values = build_context(
        settings, ACK_KIND, inquiry.locale, now, incident=prepared.incident, options=options
    )
    texts = {
        channel: comms_rules.render(
            source, values, kind=ACK_KIND, locale=inquiry.locale, channel=channel
        )
        for channel, source in prepared.sources.items()
    }
    return texts["email"], texts.get("short")


def contact_row(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    channel: str,
    now: dt.datetime,
    found: Subscriber | None,
) -> Subscriber:
    """The outbox row that reaches this customer: ``found`` by :func:`prepare`, or written."""
    if channel == "email":
        assert inquiry.customer_email is not None
        return contacts.email_row(session, inquiry.customer_email, inquiry.locale, now, found=found)
    assert settings.chat_webhook_url is not None
    return contacts.webhook_row(
        session, settings.chat_webhook_url, inquiry.locale, CHAT_WEBHOOK_FORMAT, now, found=found
    )


def queue(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    ack: Ack,
    *,
    actor: str,
    now: dt.datetime,
) -> OutboxMessage:
    """Queue the composed acknowledgement through the outbox, unflushed (R18).

    Sent through the outbox (retries, dead letters, delivery pages); the
    message is kept in the conversation. Nothing is flushed: a group's
    messages, deliveries and inquiries go in intake's one flush, after which
    :func:`acknowledged` says what the event records.
    """
    subject = ack.subject or inquiry.reference
    data: dict[str, Any] = {"reference": inquiry.reference}
    conversation = inquiry.messages[0].data.get("conversation") if inquiry.messages else None
    if conversation:
        data["conversation"] = conversation
    short = ack.short.text if ack.short else None
    sent = outbox.queue_to(
        session,
        settings,
        [ack.row],
        kind=notify_rules.MessageKind.INQUIRY_ACK,
        texts={
            inquiry.locale: outbox.MessageTexts(
                subject=subject, text=ack.mail.text, html=ack.mail.html, short=short
            )
        },
        data=data,
        incident_id=inquiry.incident_id,
        actor=actor,
        now=now,
        flush=False,  # the message and its delivery go with the intake's one flush
    )
    inquiry.messages.append(
        InquiryMessage(
            direction="out",
            channel=rules.Channel.EMAIL if ack.channel == "email" else rules.Channel.CHAT,
            kind=ACK_KIND,
            subject=subject,
            body=short if short is not None else ack.mail.text,
            author=actor,
            at=now,
            outbox_message=sent,
            data={"to": ack.row.kind},
        )
    )
    return sent


def acknowledged(inquiry: Inquiry, ack: Ack, sent: OutboxMessage) -> dict[str, Any]:
    """What the ``inquiry.acknowledged`` event records, once the flush gave the rows ids."""
    due = inquiry.first_response_due_at
    return {
        "reference": inquiry.reference,
        "outbox_message_id": sent.id,
        "to": ack.row.kind,
        "reply_by": due.isoformat() if due else None,
    }
