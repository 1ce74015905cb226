"""The acknowledgement intake queues for a new inquiry (R18): composed first, then queued.

``inquiries.intake.take`` composes it (:func:`compose`: reads only, so a
template that fails to render fails before any row is written), finds or
writes the customer's contact row (:func:`contact_row`) and queues it through
the outbox (:func:`queue`) in the same flush as the inquiry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from anshin.comms.rules import Rendered
from anshin.config import Settings
from anshin.incidents import messages, reading
from anshin.inquiries import rules
from anshin.inquiries.models import Inquiry, InquiryMessage
from anshin.notify import contacts
from anshin.notify import rules as notify_rules
from anshin.notify import service as outbox
from anshin.notify.models import Subscriber

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


def compose(
    session: Session, settings: Settings, inquiry: Inquiry, channel: str, now: dt.datetime
) -> tuple[Rendered, Rendered | None]:
    """The ``inquiry_ack`` texts: the active template in the customer's language, the facts.

    Reads only: a template that fails to render fails here, before any of
    the acknowledgement's rows is written.
    """
    # One SELECT, the objects reused while the incident's rows stay the same (R18 in a surge).
    incident = reading.for_messages(session, inquiry.incident_id) if inquiry.incident_id else None
    options: dict[str, Any] = {
        "inquiry_reference": inquiry.reference,
        "received_at": inquiry.received_at,
        "reply_by": inquiry.first_response_due_at,
        "customer_name": inquiry.customer_name or "",
    }
    mail = messages.compose(
        session, settings, incident, ACK_KIND, inquiry.locale, "email", now, options=options
    )
    # The short text only where it is what is sent (a chat webhook): one render less per mail.
    short = (
        messages.compose(
            session, settings, incident, ACK_KIND, inquiry.locale, "short", now, options=options
        )
        if channel == "short"
        else None
    )
    return mail, short


def contact_row(
    session: Session, settings: Settings, inquiry: Inquiry, channel: str, now: dt.datetime
) -> Subscriber:
    """The outbox row that reaches this customer (found, or written as a contact row)."""
    if channel == "email":
        assert inquiry.customer_email is not None
        return contacts.email_row(session, inquiry.customer_email, inquiry.locale, now)
    assert settings.chat_webhook_url is not None
    return contacts.webhook_row(
        session, settings.chat_webhook_url, inquiry.locale, CHAT_WEBHOOK_FORMAT, now
    )


def queue(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    ack: Ack,
    *,
    actor: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """Queue the composed acknowledgement through the outbox; what its event records (R18).

    Sent through the outbox (retries, dead letters, delivery pages); the
    reply-by time is the inquiry's first-response due time. The message is
    kept in the conversation.
    """
    subject = ack.subject or inquiry.reference
    data: dict[str, Any] = {"reference": inquiry.reference, "inquiry_id": inquiry.id}
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
        flush=False,  # the deliveries go with the intake's own last flush
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
            outbox_message_id=sent.id,
            data={"to": ack.row.kind},
        )
    )
    due = inquiry.first_response_due_at
    return {
        "reference": inquiry.reference,
        "outbox_message_id": sent.id,
        "to": ack.row.kind,
        "reply_by": due.isoformat() if due else None,
    }
