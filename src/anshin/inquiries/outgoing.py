"""An inquiry's outgoing message on its way: by the customer's route, recorded in the conversation.

Shared by replies (``inquiries.replies``), one answer to many
(``inquiries.reply_all``) and forwarded incident updates
(``inquiries.forward``), so every message to a customer about their inquiry
travels and is recorded the same way (R20, R21, R26):

* email through the outbox to the customer's contact row (``notify.contacts``),
  threaded: the subject keeps the ``Q-`` reference, the message's ``data``
  carries ``In-Reply-To``/``References`` to the customer's mail, and the
  Message-ID we send is kept so their answer threads back (``inquiries.inbound``);
* chat through the outbox to the chat webhook with the reference in ``data``;
* phone: nothing sent, the call recorded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from anshin.comms.gate import Checked
from anshin.comms.kinds import MessageKind
from anshin.config import Settings
from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.inquiries import rules
from anshin.inquiries.models import Inquiry, InquiryMessage
from anshin.inquiries.service import record, snapshot
from anshin.notify import contacts, wire
from anshin.notify import service as notify
from anshin.notify.models import Delivery

SUBJECT_MAX = 300
# The actions that answer the customer (the first one stops the first-response clock).
RESPONSES = ("inquiry.replied", "inquiry.call_recorded")
CHAT_FORMAT = "anshin"  # the chat backend reads anshin's JSON payload (data.inquiry_reference)


@dataclass(frozen=True)
class Sent:
    """Where one message went: the outbox message and, for mail, the Message-ID we sent."""

    route: str
    outbox_message_id: int | None = None
    mail_message_id: str | None = None


def route(settings: Settings, inquiry: Inquiry, *, written: bool = False) -> str:
    """How an answer reaches this customer: their channel, else their mail address.

    A chat without a configured chat webhook, a form and an email inquiry are
    answered by mail; a call on the phone (nothing sent) — unless the answer
    must be ``written`` (a forwarded update, a reply-all) and the caller left
    a mail address. ``none`` when nothing written can reach them.
    """
    if inquiry.channel == rules.Channel.PHONE and not (written and inquiry.customer_email):
        return "none" if written else "phone"
    if inquiry.channel == rules.Channel.CHAT and settings.chat_webhook_url:
        return "chat"
    return "email" if inquiry.customer_email or not written else "none"


def thread_subject(inquiry: Inquiry, subject: str | None) -> str:
    """The subject, always naming the ``Q-`` reference: mail-in threads by it (R18, R21)."""
    text = " ".join((subject or "").split())
    if not text:
        text = inquiry.subject or ""
        if text and not text.lower().startswith("re:"):
            text = f"Re: {text}"
    if inquiry.reference not in text:
        text = f"{text} [{inquiry.reference}]".strip()
    return text[:SUBJECT_MAX]


def _thread(inquiry: Inquiry) -> dict[str, Any]:
    """The mail thread a reply answers: the customer's latest mail and everything before."""
    chain = [inquiry.mail_message_id] if inquiry.mail_message_id else []
    chain += [m.mail_message_id for m in inquiry.messages if m.mail_message_id]
    seen: list[str] = []
    for item in chain:
        if item and item not in seen:
            seen.append(item)
    inbound = [m.mail_message_id for m in inquiry.messages if m.direction == "in"]
    answer = next((m for m in reversed(inbound) if m), inquiry.mail_message_id)
    return {"in_reply_to": answer, "references": seen} if answer else {}


def deliver(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    *,
    kind: str,
    subject: str,
    text: str,
    actor: str,
    now: dt.datetime,
    extra: dict[str, Any] | None = None,
    written: bool = False,
) -> Sent:
    """Put one message to this customer in the outbox by their route; phone sends nothing.

    Email goes to the customer's contact row (``notify.contacts``), threaded;
    chat to the chat webhook's row with the reference in ``data``. Refused
    when the customer left no way to reach them in writing.
    """
    way = route(settings, inquiry, written=written)
    if way == "phone":
        return Sent("phone")
    data: dict[str, Any] = {"inquiry_reference": inquiry.reference, **(extra or {})}
    if way == "chat":
        assert settings.chat_webhook_url is not None
        row = contacts.webhook_row(
            session, settings.chat_webhook_url, inquiry.locale, CHAT_FORMAT, now
        )
        data["customer_email"] = inquiry.customer_email
    else:
        if not inquiry.customer_email:
            raise InvalidInput(
                N_("The customer left no mail address: answer by phone instead."),
                field="channel",
            )
        row = contacts.email_row(session, inquiry.customer_email, inquiry.locale, now)
        data.update(_thread(inquiry))
    texts = {inquiry.locale: notify.MessageTexts(subject=subject, text=text, short=text)}
    message = notify.queue_to(
        session,
        settings,
        [row],
        kind=kind,
        texts=texts,
        data=data,
        incident_id=inquiry.incident_id,
        actor=actor,
        now=now,
    )
    inquiry.contact_id = inquiry.contact_id or (row.id if way == "email" else None)
    mail_id = None
    if way == "email":
        delivery_id = session.query(Delivery.id).filter(Delivery.message_id == message.id).scalar()
        mail_id = wire.message_id(int(delivery_id), settings.smtp_message_id_domain)
    return Sent(way, message.id, mail_id)


def send_out(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    *,
    kind: str,
    subject: str,
    text: str,
    actor: str,
    now: dt.datetime,
    checked: Checked | None = None,
    outbox_kind: str = MessageKind.INQUIRY_REPLY,
    reports_result: bool = False,
    data: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
    action: str = "inquiry.replied",
    extra: dict[str, Any] | None = None,
    written: bool = False,
) -> InquiryMessage:
    """Send one message to the customer (:func:`deliver`) and keep it (:func:`keep`).

    ``data`` stays on the conversation's message, ``payload`` goes into the
    outbox message's data (the webhook payload), ``extra`` into the event.
    """
    if reports_result and inquiry.incident_id is not None:
        # R30: the reply that reports the result carries the customer's survey link.
        payload = {**(payload or {}), "survey": True}
    sent = deliver(
        session,
        settings,
        inquiry,
        kind=outbox_kind,
        subject=subject,
        text=text,
        actor=actor,
        now=now,
        extra=payload,
        written=written,
    )
    message = InquiryMessage(
        direction="out",
        channel=sent.route,
        kind=kind,
        subject=None if sent.route == "phone" else subject,
        body=text,
        author=actor,
        at=now,
        mail_message_id=sent.mail_message_id,
        outbox_message_id=sent.outbox_message_id,
        reports_result=bool(reports_result),
        data=dict(data or {}),
    )
    keep(session, inquiry, message, actor=actor, checked=checked, action=action, extra=extra)
    return message


def keep(
    session: Session,
    inquiry: Inquiry,
    message: InquiryMessage,
    *,
    actor: str,
    checked: Checked | None,
    action: str = "inquiry.replied",
    extra: dict[str, Any] | None = None,
) -> None:
    """Add our message to the conversation with its event and any override (R20, R21).

    The first reply or call sets ``first_responded_at``; a forwarded update
    is not an agent's response and leaves the first-response clock running.
    The override, if the check needed one, names the message it let through.
    """
    before = snapshot(inquiry)
    inquiry.messages.append(message)
    first = inquiry.first_responded_at is None and action in RESPONSES
    if first:
        inquiry.first_responded_at = message.at
    inquiry.updated_at = message.at
    session.flush()
    if checked is not None:
        checked.record_override(session, inquiry, message, actor=actor, entity_type="inquiry")
    record(
        session,
        inquiry,
        actor=actor,
        action=action,
        before=before,
        after={
            **snapshot(inquiry),
            "message_id": message.id,
            "kind": message.kind,
            "route": message.channel,
            "outbox_message_id": message.outbox_message_id,
            "reports_result": message.reports_result,
            "first_response": first,
            **(extra or {}),
        },
    )
