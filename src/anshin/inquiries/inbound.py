"""Inbound mail into the record: a new inquiry, or the next turn of an existing one (R18–R20).

The listener (``anshin mail-in``) and the import (``anshin inquiry import``)
both call :func:`store` with one parsed mail (``inquiries.mail``) in their own
transaction, and commit before they report success — the SMTP ``250`` is said
only once the mail is in the database.

Threading rules, the first that applies:

1. **Duplicate**: a message with this Message-ID is stored already (an MTA's
   redelivery, the same file imported twice, our own mail coming back): nothing
   is written.
2. **Reply by header**: ``In-Reply-To``, then ``References`` newest first, names
   a Message-ID stored on an inquiry or one of its messages (the customer's
   earlier mail, or a reply we sent) — the mail joins that inquiry.
3. **Reply by reference**: the subject carries an inquiry's reference
   (``Q-2026-000123``) and the sender is that inquiry's customer (same address,
   or the inquiry has none). A reference is easy to guess; a Message-ID is not,
   so a stranger quoting someone else's reference starts an inquiry of their own
   (the reference they quoted is kept in the message's data for the agent).
4. Otherwise a **new inquiry** through ``inquiries.intake.take`` (triage and the
   acknowledgement); an auto-reply or bounce (RFC 3834) that threads nowhere is
   not made an inquiry, since acknowledging it could start a mail loop.

A mail joining a closed inquiry (``resolved``/``shared``) reopens it at
``listening`` (R19: the customer is still talking to us).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import lock_for_update, utcnow
from anshin.inquiries import intake, rules, service
from anshin.inquiries.mail import ParsedMail
from anshin.inquiries.models import Inquiry, InquiryMessage

log = logging.getLogger(__name__)

Kind = Literal["created", "threaded", "duplicate", "ignored"]


@dataclass(frozen=True)
class Outcome:
    """What became of one mail: ``reference`` is the inquiry it created, joined or repeated."""

    kind: Kind
    reference: str | None = None
    inquiry_id: int | None = None
    threaded_by: str | None = None  # in_reply_to | references | subject_reference


def _bare(message_id: str) -> str:
    return message_id.strip().strip("<>")


def _stored_message_id(session: Session, message_id: str) -> InquiryMessage | None:
    """A message already stored under this Message-ID (either spelling: with or without <>)."""
    spellings = (message_id, _bare(message_id))
    return session.scalar(
        select(InquiryMessage).where(InquiryMessage.mail_message_id.in_(spellings)).limit(1)
    )


def find_thread(session: Session, mail: ParsedMail) -> tuple[Inquiry | None, str | None]:
    """The inquiry this mail answers and which rule found it (module docstring, rules 2–3)."""
    ids = mail.thread_ids
    if ids:
        spellings = {*ids, *(_bare(i) for i in ids)}
        owners: dict[str, int] = {}
        for mid, inquiry_id in session.execute(
            select(InquiryMessage.mail_message_id, InquiryMessage.inquiry_id).where(
                InquiryMessage.mail_message_id.in_(spellings)
            )
        ):
            owners.setdefault(_bare(mid or ""), inquiry_id)
        for mid, inquiry_id in session.execute(
            select(Inquiry.mail_message_id, Inquiry.id).where(
                Inquiry.mail_message_id.in_(spellings)
            )
        ):
            owners.setdefault(_bare(mid or ""), inquiry_id)
        for wanted in ids:
            found = owners.get(_bare(wanted))
            if found is not None:
                via = "in_reply_to" if wanted in mail.in_reply_to else "references"
                return session.get(Inquiry, found), via
    if mail.reference:
        inquiry = session.scalar(select(Inquiry).where(Inquiry.reference == mail.reference))
        if inquiry is not None and _same_customer(inquiry, mail):
            return inquiry, "subject_reference"
    return None, None


def _same_customer(inquiry: Inquiry, mail: ParsedMail) -> bool:
    """Rule 3: only the inquiry's own customer threads by quoting its reference."""
    if not inquiry.customer_email:
        return True
    return inquiry.customer_email.strip().lower() == mail.sender_address.strip().lower()


def _data(mail: ParsedMail, *, mentions: str | None = None) -> dict[str, Any]:
    """What the message's ``data`` keeps about the mail beyond its text."""
    data: dict[str, Any] = {"from": mail.sender_address}
    if mail.sender_name:
        data["from_name"] = mail.sender_name
    if mail.attachments:
        data["attachments"] = list(mail.attachments)  # names only: files are not stored
    if mail.html_only:
        data["html_only"] = True
    if mail.sent_at is not None:
        data["sent_at"] = mail.sent_at.isoformat()
    if mail.notes:
        data["decoding"] = list(mail.notes)
    if len(mail.subject) > service.SUBJECT_MAX:
        data["subject_full"] = mail.subject
    if mentions:
        data["mentions_reference"] = mentions
    return data


def _subject(mail: ParsedMail) -> str | None:
    text = " ".join(mail.subject.split())
    return text[: service.SUBJECT_MAX] or None


def store(
    session: Session,
    settings: Settings,
    mail: ParsedMail,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> Outcome:
    """File one inbound mail by the threading rules, in the caller's transaction (R18–R20).

    Raises :class:`~anshin.errors.InvalidInput` when the text cannot be stored
    (empty, longer than an inquiry's limit): the caller refuses the mail whole.
    """
    now = now or utcnow()
    existing = _stored_message_id(session, mail.message_id)
    if existing is not None:
        return Outcome("duplicate", existing.inquiry.reference, existing.inquiry_id)
    inquiry, via = find_thread(session, mail)
    if inquiry is None:
        if mail.automatic:
            log.info("mail %s is an automatic reply answering nothing: ignored", mail.message_id)
            return Outcome("ignored")
        mentions = mail.reference
        created = intake.take(
            session,
            settings,
            service.NewInquiry(
                channel=rules.Channel.EMAIL,
                text=mail.text,
                customer_name=mail.sender_name,
                customer_email=mail.sender_address,
                subject=_subject(mail),
                locale=mail.locale,
                received_at=now,
                mail_message_id=mail.message_id,
                extra=_data(mail, mentions=mentions),
            ),
            actor=actor,
        )
        return Outcome("created", created.reference, created.id)
    return _append(session, inquiry, mail, via=via or "", actor=actor, now=now)


def _append(
    session: Session,
    inquiry: Inquiry,
    mail: ParsedMail,
    *,
    via: str,
    actor: str,
    now: dt.datetime,
) -> Outcome:
    """The mail as the next inbound turn of ``inquiry``; a closed one reopens (R19)."""
    text = service.check_text(mail.text)
    lock_for_update(session, inquiry)
    # Checked again under the row lock: a redelivery racing this one in another
    # process waits here and then finds the first one's message.
    again = _stored_message_id(session, mail.message_id)
    if again is not None:
        return Outcome("duplicate", inquiry.reference, inquiry.id)
    message = InquiryMessage(
        direction="in",
        channel=rules.Channel.EMAIL,
        subject=_subject(mail),
        body=text,
        author=(mail.sender_name or mail.sender_address)[:200],
        at=now,
        mail_message_id=mail.message_id,
        data=_data(mail),
    )
    inquiry.messages.append(message)
    inquiry.updated_at = now
    session.flush()
    service.record(
        session,
        inquiry,
        actor=actor,
        action="inquiry.message_received",
        after={
            "message": message.id,
            "channel": rules.Channel.EMAIL.value,
            "mail_message_id": mail.message_id,
            "threaded_by": via,
        },
    )
    if rules.is_closed(inquiry.stage):
        service.move(session, inquiry, rules.Stage.LISTENING, actor=actor, now=now)
    return Outcome("threaded", inquiry.reference, inquiry.id, via)
