"""Taking an inquiry in, from any channel: store it, triage it, acknowledge it (R18, R20).

Every front door (the status page's form, ``POST /api/inquiries``, the console's
phone form, inbound mail) calls :func:`take`. The order is the requirement's:

1. the inquiry is stored first (``service.receive``: reference, unaltered
   words, first-response due time) — nothing after this step can lose it;
2. triage (``inquiries.triage.for_intake``, named in :data:`TRIAGE_HOOK`)
   sets the incident, intent, level and temperature; when triage is missing
   or fails, the inquiry stays at level 1 for a person to read (logged);
3. where an address is known, the ``inquiry_ack`` template in the customer's
   language is queued through the outbox to the customer's contact row
   (mail; a chat inquiry without one goes to the chat backend's webhook).

All in the caller's transaction, the caller commits. Triage and the
acknowledgement each run in a savepoint, so their failure rolls back only
their own writes, never the stored inquiry. The acknowledgement is not the
first response: ``first_responded_at`` waits for a person's reply.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.hooks import resolve
from anshin.incidents import messages
from anshin.incidents.models import Incident
from anshin.inquiries import rules, service
from anshin.inquiries.models import Inquiry, InquiryMessage
from anshin.inquiries.policy import policy
from anshin.notify import contacts
from anshin.notify import rules as notify_rules
from anshin.notify import service as outbox
from anshin.notify.models import Subscriber

log = logging.getLogger("anshin.inquiries")

# ``for_intake(session, settings, text, tier, received_at) -> service.TriageValues``.
# Named, not imported, so intake runs (at level 1) while triage is not installed.
TRIAGE_HOOK = "anshin.inquiries.triage:for_intake"
ACK_KIND = "inquiry_ack"
# The webhook body for a chat backend: anshin's JSON carries the reference and conversation.
CHAT_WEBHOOK_FORMAT = "anshin"


def triage_function(name: str) -> Callable[..., service.TriageValues] | None:
    """The triage function the hook names, or None while its module is not installed.

    Only the named module missing means "no triage yet"; a module that exists
    but fails to import (a missing dependency of its own) is an error, raised.
    """
    module_name = name.partition(":")[0]
    try:
        found: Callable[..., service.TriageValues] = resolve(name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise
    return found


def _apply_triage(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    values: service.TriageValues,
    *,
    actor: str,
    incident_id: int | None,
) -> None:
    """Store what triage found; an incident the agent chose wins over triage's guess."""
    before = service.snapshot(inquiry)
    level = rules.check_level(values.level)
    inquiry.incident_id = incident_id if incident_id is not None else values.incident_id
    inquiry.intent = values.intent
    inquiry.level = level
    inquiry.temperature = values.temperature
    inquiry.harassment = values.harassment
    inquiry.triage_reasons = list(values.reasons)
    inquiry.suggested_template = values.suggested_template
    # R18: the due time follows the level triage found (L2/L3 get their own).
    inquiry.first_response_due_at = rules.first_response_due(
        policy(settings), inquiry.received_at, level=level, tier=inquiry.customer_tier
    )
    session.flush()
    service.record(
        session,
        inquiry,
        actor=actor,
        action="inquiry.triaged",
        before=before,
        after={**service.snapshot(inquiry), "reasons": list(values.reasons)},
    )


def triage(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    *,
    actor: str,
    incident_id: int | None = None,
    hook: str | None = None,
) -> bool:
    """Run triage on a stored inquiry and keep its answer; False when there was none.

    R18: a triage that raises leaves the inquiry as stored (level 1, logged,
    an ``inquiry.triage_failed`` event), never lost.
    """
    try:
        function = triage_function(hook or TRIAGE_HOOK)
    except Exception:
        log.exception("triage could not be loaded; %s stays at level 1", inquiry.reference)
        function = None
        _failed(session, inquiry, actor, "import")
    if function is None:
        if incident_id is not None:
            _link(session, inquiry, incident_id, actor=actor)
        return False
    try:
        with session.begin_nested():
            values = function(
                session, settings, inquiry.original_text, inquiry.customer_tier, inquiry.received_at
            )
            _apply_triage(session, settings, inquiry, values, actor=actor, incident_id=incident_id)
    except Exception:
        log.exception("triage failed; %s stays at level 1", inquiry.reference)
        _failed(session, inquiry, actor, "error")
        if incident_id is not None:
            _link(session, inquiry, incident_id, actor=actor)
        return False
    return True


def _failed(session: Session, inquiry: Inquiry, actor: str, stage: str) -> None:
    service.record(
        session, inquiry, actor=actor, action="inquiry.triage_failed", after={"stage": stage}
    )


def _link(session: Session, inquiry: Inquiry, incident_id: int, *, actor: str) -> None:
    """The incident the agent chose, kept without triage (R20: an event says so)."""
    before = service.snapshot(inquiry)
    inquiry.incident_id = incident_id
    session.flush()
    service.record(
        session,
        inquiry,
        actor=actor,
        action="inquiry.linked",
        before=before,
        after=service.snapshot(inquiry),
    )


def _contact(
    session: Session, settings: Settings, inquiry: Inquiry, now: dt.datetime
) -> tuple[Subscriber, str] | None:
    """The row that reaches this customer and the template channel for it, or None."""
    if inquiry.customer_email:
        return contacts.email_row(session, inquiry.customer_email, inquiry.locale, now), "email"
    if inquiry.channel == rules.Channel.CHAT and settings.chat_webhook_url:
        row = contacts.webhook_row(
            session, settings.chat_webhook_url, inquiry.locale, CHAT_WEBHOOK_FORMAT, now
        )
        return row, "short"
    return None


def acknowledge(
    session: Session, settings: Settings, inquiry: Inquiry, *, actor: str, now: dt.datetime
) -> InquiryMessage | None:
    """Queue the ``inquiry_ack`` message to the customer where an address is known (R18).

    Composed with the active template (the same texts the team checked) in the
    customer's language, with any linked incident's confirmed facts, and sent
    through the outbox (retries, dead letters, delivery pages). The reply-by
    time is the inquiry's first-response due time. Returns the message kept in
    the conversation, or None when there is nobody to send it to.
    """
    found = _contact(session, settings, inquiry, now)
    if found is None:
        return None
    row, channel = found
    incident = session.get(Incident, inquiry.incident_id) if inquiry.incident_id else None
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
    subject = mail.subject or inquiry.reference
    data: dict[str, Any] = {"reference": inquiry.reference, "inquiry_id": inquiry.id}
    conversation = inquiry.messages[0].data.get("conversation") if inquiry.messages else None
    if conversation:
        data["conversation"] = conversation
    sent = outbox.queue_to(
        session,
        settings,
        [row],
        kind=notify_rules.MessageKind.INQUIRY_ACK,
        texts={
            inquiry.locale: outbox.MessageTexts(
                subject=subject, text=mail.text, html=mail.html, short=short.text if short else None
            )
        },
        data=data,
        incident_id=inquiry.incident_id,
        actor=actor,
        now=now,
    )
    inquiry.contact_id = row.id
    note = InquiryMessage(
        direction="out",
        channel=rules.Channel.EMAIL if channel == "email" else rules.Channel.CHAT,
        kind=ACK_KIND,
        subject=subject,
        body=short.text if short else mail.text,
        author=actor,
        at=now,
        outbox_message_id=sent.id,
        data={"to": row.kind},
    )
    inquiry.messages.append(note)
    inquiry.updated_at = now
    session.flush()
    service.record(
        session,
        inquiry,
        actor=actor,
        action="inquiry.acknowledged",
        after={
            "reference": inquiry.reference,
            "outbox_message_id": sent.id,
            "to": row.kind,
            "reply_by": inquiry.first_response_due_at.isoformat()
            if inquiry.first_response_due_at
            else None,
        },
    )
    return note


def check_address(new: service.NewInquiry) -> None:
    """Refuse a mail address no mail server would take, before anything is stored.

    The customer can correct it on the form or in the widget; an inquiry
    stored with it could never be acknowledged or answered.
    """
    if new.customer_email and new.customer_email.strip():
        new.customer_email = notify_rules.normalise_email(new.customer_email)


def take(
    session: Session,
    settings: Settings,
    new: service.NewInquiry,
    *,
    actor: str,
    now: dt.datetime | None = None,
    incident_id: int | None = None,
) -> Inquiry:
    """Take an inquiry in from any channel: stored, triaged, acknowledged (R18).

    Refuses (``InvalidInput``) only what could not be stored: empty or
    too long text, an unknown channel, tier or language, a malformed address.
    Past that the inquiry is stored whatever triage or the acknowledgement do.
    ``incident_id`` is the incident an agent chose (the phone form); it wins
    over triage's. The caller commits.
    """
    now = now or utcnow()
    check_address(new)
    inquiry = service.receive(session, settings, new, actor=actor, now=now)
    triage(session, settings, inquiry, actor=actor, incident_id=incident_id)
    try:
        with session.begin_nested():
            acknowledge(session, settings, inquiry, actor=actor, now=now)
    except Exception:
        log.exception("the acknowledgement of %s could not be queued", inquiry.reference)
        service.record(session, inquiry, actor=actor, action="inquiry.ack_failed")
    return inquiry
