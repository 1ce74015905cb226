"""Inquiry use cases at the heart of the record: store, find, move through the flow (R18–R20).

Every function takes the caller's session, checks input through ``rules``,
writes rows and an event (entity type ``inquiry``) in the same transaction, and
leaves the commit to the caller. The inquiry is stored before anything else
happens (R18): triage, the acknowledgement and linking are added to the same
transaction by the intake (``inquiries.intake``), never instead of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin import events, references
from anshin.config import Settings
from anshin.db import lock_for_update, utcnow
from anshin.errors import InvalidInput, NotFound
from anshin.i18n import N_
from anshin.inputs import record_key, text_problem
from anshin.inquiries import rules
from anshin.inquiries.models import ENTITY, Inquiry, InquiryMessage
from anshin.inquiries.policy import policy

PREFIX = "Q"
REFERENCE_WIDTH = 6  # Q-2026-000123: a surge brings thousands a year
TEXT_MAX = 50_000  # characters of one inquiry's text; a longer one is refused, never cut
NAME_MAX = 200
PHONE_MAX = 40
SUBJECT_MAX = 300


@dataclass
class NewInquiry:
    """What intake knows about an inquiry when it arrives, from any channel."""

    channel: str
    text: str
    customer_name: str | None = None
    customer_email: str | None = None
    customer_phone: str | None = None
    customer_org: str | None = None
    customer_tier: str = rules.Tier.STANDARD
    locale: str = "ja"
    subject: str | None = None
    received_at: dt.datetime | None = None
    keep_informed: bool = True
    mail_message_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TriageValues:
    """The triage's answer for one inquiry (``inquiries.triage``), as stored on the record."""

    incident_id: int | None
    intent: str
    level: int
    temperature: int
    harassment: bool
    reasons: tuple[str, ...] = ()
    suggested_template: str | None = None


def _clean(value: str | None, field_name: str, limit: int) -> str | None:
    text = " ".join((value or "").split())
    if not text:
        return None
    if len(text) > limit:
        raise InvalidInput(
            N_("{label} must be at most {n} characters."),
            field=field_name,
            label=field_name,
            n=limit,
        )
    problem = text_problem(text)
    if problem:
        raise InvalidInput(problem, field=field_name)
    return text


def check_text(text: str | None) -> str:
    """The customer's words, refused when empty or too long — never trimmed or cut (R25)."""
    if text is None or not text.strip():
        raise InvalidInput(N_("Write what happened: the text is empty."), field="text")
    if len(text) > TEXT_MAX:
        raise InvalidInput(N_("The text must be at most {n} characters."), field="text", n=TEXT_MAX)
    problem = text_problem(text)
    if problem:
        raise InvalidInput(problem, field="text")
    return text


def snapshot(inquiry: Inquiry) -> dict[str, Any]:
    """The fields an event records before and after a change."""
    return {
        "reference": inquiry.reference,
        "stage": inquiry.stage,
        "level": inquiry.level,
        "intent": inquiry.intent,
        "temperature": inquiry.temperature,
        "harassment": inquiry.harassment,
        "incident_id": inquiry.incident_id,
        "claimed_by_id": inquiry.claimed_by_id,
    }


def record(
    session: Session,
    inquiry: Inquiry,
    *,
    actor: str,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """One line of the inquiry's history (R20), in the caller's transaction."""
    events.record(
        session,
        actor=actor,
        entity_type=ENTITY,
        entity_id=inquiry.id,
        action=action,
        before=before,
        after=after,
    )


def check(new: NewInquiry) -> str:
    """Refuse what could not be stored (channel, tier, language, text); the text when fine."""
    if new.channel not in tuple(rules.Channel):
        raise InvalidInput(N_("Unknown channel: {value}."), field="channel", value=new.channel)
    if new.customer_tier not in tuple(rules.Tier):
        raise InvalidInput(
            N_("The customer tier must be standard or important."), field="customer_tier"
        )
    if new.locale not in ("ja", "en"):
        raise InvalidInput(N_("The language must be ja or en."), field="locale")
    return check_text(new.text)


def receive(
    session: Session,
    settings: Settings,
    new: NewInquiry,
    *,
    actor: str,
    triage: TriageValues | None = None,
    now: dt.datetime | None = None,
) -> Inquiry:
    """Store an inquiry with its reference and first-response due time (R18, R20).

    The customer's words become the first message of the conversation and the
    unalterable ``original_text``. ``triage`` (when the caller ran it) sets the
    incident, intent, level and temperature; without it the inquiry waits at
    level 1 for a person to read it.
    """
    inquiry = new_record(session, settings, new, triage=triage, now=now)
    session.add(inquiry)
    session.flush()
    record(session, inquiry, actor=actor, action="inquiry.received", after=received(inquiry))
    return inquiry


def received(inquiry: Inquiry) -> dict[str, Any]:
    """What the ``inquiry.received`` event keeps: the record as stored, its channel, reasons."""
    return {
        **snapshot(inquiry),
        "channel": inquiry.channel,
        "reasons": list(inquiry.triage_reasons or ()),
    }


def new_record(
    session: Session,
    settings: Settings,
    new: NewInquiry,
    *,
    triage: TriageValues | None = None,
    now: dt.datetime | None = None,
    numbered: bool = True,
) -> Inquiry:
    """The inquiry row and its first message, with the next reference; not yet added.

    For a caller that adds more to the same flush (``inquiries.intake``: the
    acknowledgement's rows, the events in one INSERT); :func:`receive` adds,
    flushes and records it. ``numbered=False`` leaves the reference for the
    caller to take with :func:`next_reference` just before its first write
    (taking it is that write).
    """
    now = now or utcnow()
    text = check(new)
    received_at = new.received_at or now
    values = triage or TriageValues(
        incident_id=None, intent=rules.Intent.UNRELATED, level=1, temperature=0, harassment=False
    )
    level = rules.check_level(values.level)
    inquiry = Inquiry(
        reference=next_reference(session, received_at) if numbered else "",
        received_at=received_at,
        channel=new.channel,
        locale=new.locale,
        customer_name=_clean(new.customer_name, "customer_name", NAME_MAX),
        customer_email=_clean(new.customer_email, "customer_email", 254),
        customer_phone=_clean(new.customer_phone, "customer_phone", PHONE_MAX),
        customer_org=_clean(new.customer_org, "customer_org", NAME_MAX),
        customer_tier=new.customer_tier,
        subject=_clean(new.subject, "subject", SUBJECT_MAX),
        original_text=text,
        keep_informed=new.keep_informed,
        incident_id=values.incident_id,
        intent=values.intent,
        level=level,
        temperature=values.temperature,
        harassment=values.harassment,
        triage_reasons=list(values.reasons),
        suggested_template=values.suggested_template,
        stage=rules.Stage.RECEIVED,
        first_response_due_at=rules.first_response_due(
            policy(settings), received_at, level=level, tier=new.customer_tier
        ),
        mail_message_id=new.mail_message_id,
        created_at=now,
        updated_at=now,
    )
    inquiry.messages = [
        InquiryMessage(
            direction="in",
            channel=new.channel,
            subject=inquiry.subject,
            body=text,
            author=inquiry.customer_name or inquiry.customer_email or "customer",
            at=received_at,
            mail_message_id=new.mail_message_id,
            data=dict(new.extra),
        )
    ]
    return inquiry


def next_reference(session: Session, received_at: dt.datetime) -> str:
    """The next ``Q-<year>-<number>`` from the shared counter, in the caller's transaction."""
    return next_references(session, [received_at])[0]


def next_references(session: Session, received: Sequence[dt.datetime]) -> list[str]:
    """The next ``Q-<year>-<number>`` for each time, one counter statement per year.

    Grouped intake numbers a whole group at once, in arrival order within each year.
    """
    found: dict[int, list[int]] = {}
    for index, at in enumerate(received):
        found.setdefault(at.year, []).append(index)
    out = [""] * len(received)
    for year, indexes in found.items():
        last = references.next_number(
            session, PREFIX, year, existing=Inquiry.reference, count=len(indexes)
        )
        for offset, index in enumerate(indexes):
            number = last - len(indexes) + 1 + offset
            out[index] = references.format_reference(PREFIX, year, number, REFERENCE_WIDTH)
    return out


def get(session: Session, reference_or_id: str | int) -> Inquiry:
    """The inquiry by reference (Q-2026-000123) or numeric id; 404 otherwise."""
    found: Inquiry | None
    key = record_key(reference_or_id, "ref")
    if isinstance(key, int):
        found = session.get(Inquiry, key)
    else:
        found = session.scalar(select(Inquiry).where(Inquiry.reference == key.upper()))
    if found is None:
        raise NotFound(N_("No such inquiry: {ref}."), ref=str(reference_or_id))
    return found


def move(
    session: Session,
    inquiry: Inquiry,
    target: str,
    *,
    actor: str,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> Inquiry:
    """Move the inquiry to another flow stage, with what that stage asks for (R19).

    ``resolved`` needs a reply that reported the result; ``shared`` a note for
    the team, kept as an internal message. Leaving the closed stages reopens it.
    """
    now = now or utcnow()
    lock_for_update(session, inquiry)
    has_result = any(m.direction == "out" and m.reports_result for m in inquiry.messages)
    rules.check_transition(inquiry.stage, target, has_result_reply=has_result, note=note)
    before = snapshot(inquiry)
    inquiry.stage = target
    if rules.is_closed(target):
        inquiry.closed_at = inquiry.closed_at or now
        inquiry.claimed_by_id = None
        inquiry.claimed_at = None
    else:
        inquiry.closed_at = None
    if target == rules.Stage.SHARED and note:
        inquiry.messages.append(
            InquiryMessage(
                direction="note",
                channel=inquiry.channel,
                kind="shared_note",
                body=note.strip(),
                author=actor,
                at=now,
            )
        )
    inquiry.updated_at = now
    session.flush()
    record(
        session,
        inquiry,
        actor=actor,
        action="inquiry.stage_changed",
        before=before,
        after={**snapshot(inquiry), "note": (note or "").strip() or None},
    )
    return inquiry


def history(session: Session, inquiry: Inquiry) -> list[events.Event]:
    """Every action on the inquiry, oldest first (R20)."""
    return events.history(session, ENTITY, inquiry.id)
