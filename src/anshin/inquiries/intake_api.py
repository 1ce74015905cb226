"""``POST /api/inquiries`` for chat widgets and ``GET /api/inquiries/{ref}`` (R18, R20).

A chat widget's backend (or a form of the team's own website) posts what the
customer wrote with an API token of any console role; the answer is the
inquiry's reference, the incident triage linked it to, its level and intent,
and when the first response is due — enough for the widget to tell the
customer "your reference is Q-2026-000123, we reply by 14:30". The inquiry is
stored before anything else happens (``inquiries.intake``); a refusal (empty
or too long text, a bad address, an unknown tier) stores nothing and says why
in the caller's language (Accept-Language).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from anshin.config import Settings
from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.inputs import StrictInput, Text, Time, to_utc
from anshin.inquiries import intake, intake_group, rules, service
from anshin.timefmt import to_zone
from anshin.web.auth import DbSession, Operator
from anshin.web.deps import lock_when_writing, request_locale, settings_of

router = APIRouter(prefix="/api", tags=["inquiries"])

# The channels a caller of this API may name: the phone and mail have doors of their own.
API_CHANNELS: tuple[str, ...] = (rules.Channel.CHAT, rules.Channel.FORM)
CONVERSATION_MAX = 200


def _limit(limit: int, default: Any = None, **extra: Any) -> Any:
    """A text field whose limit is documented and enforced by the service (message in ja/en)."""
    return Field(default, json_schema_extra={"maxLength": limit, **extra})


class CustomerIn(StrictInput):
    """Who wrote: every field optional; with ``email`` the acknowledgement is mailed (R18)."""

    name: Text | None = _limit(service.NAME_MAX)
    email: Text | None = _limit(254)
    phone: Text | None = _limit(service.PHONE_MAX)
    organisation: Text | None = _limit(service.NAME_MAX)
    tier: Text = Field(
        rules.Tier.STANDARD, json_schema_extra={"enum": [str(t) for t in rules.Tier]}
    )


class InquiryCreate(StrictInput):
    """One inquiry as the customer wrote it; ``text`` is kept unaltered (R25)."""

    text: Text = _limit(service.TEXT_MAX, ..., description="The customer's words, unaltered")
    customer: CustomerIn | None = None
    locale: Text | None = Field(
        None,
        json_schema_extra={"enum": ["ja", "en"]},
        description="The customer's language (default: the request's Accept-Language)",
    )
    subject: Text | None = _limit(service.SUBJECT_MAX)
    keep_informed: bool = Field(
        True, description="Send each public update of the linked incident to this customer (R26)"
    )
    received_at: Time | None = Field(
        None, description="When the customer wrote (ISO 8601; default: now)"
    )
    channel: Text = Field(rules.Channel.CHAT, json_schema_extra={"enum": list(API_CHANNELS)})
    conversation: Text | None = _limit(
        CONVERSATION_MAX,
        description="The widget's own conversation id, returned in the chat webhook's data",
    )


class InquiryCreated(BaseModel):
    """What the widget tells the customer, and where triage put the inquiry."""

    reference: str
    incident: str | None
    level: int
    intent: str
    first_response_due_at: dt.datetime | None
    acknowledged: bool


class MessageOut(BaseModel):
    """One turn of the conversation."""

    direction: str
    channel: str
    kind: str | None
    subject: str | None
    body: str
    author: str
    at: dt.datetime


def new_inquiry(body: InquiryCreate, settings: Settings, locale: str) -> service.NewInquiry:
    """The service's input from a request body, checked where the service does not check."""
    if body.channel not in API_CHANNELS:
        raise InvalidInput(
            N_("The channel must be chat or form (phone and mail have their own ways in)."),
            field="channel",
        )
    conversation = (body.conversation or "").strip()
    if len(conversation) > CONVERSATION_MAX:
        raise InvalidInput(
            N_("{label} must be at most {n} characters."),
            field="conversation",
            label="conversation",
            n=CONVERSATION_MAX,
        )
    received_at = to_utc(body.received_at, settings.timezone, field="received_at", happened=True)
    customer = body.customer or CustomerIn(tier=str(rules.Tier.STANDARD))
    return service.NewInquiry(
        channel=body.channel,
        text=body.text,
        customer_name=customer.name,
        customer_email=customer.email,
        customer_phone=customer.phone,
        customer_org=customer.organisation,
        customer_tier=customer.tier,
        locale=(body.locale or locale).strip().lower(),
        subject=body.subject,
        received_at=received_at,
        keep_informed=body.keep_informed,
        extra={"conversation": conversation} if conversation else {},
    )


@router.post("/inquiries", response_model=InquiryCreated, status_code=201)
@lock_when_writing  # triage computes before the first write: no SQLite write lock meanwhile
def create_inquiry(
    request: Request, session: DbSession, user: Operator, body: InquiryCreate
) -> InquiryCreated:
    """Take an inquiry in from a chat widget or a web form (R18).

    Stored first, triaged, and acknowledged where an address is known (the
    customer's email; a chat without one through ``ANSHIN_CHAT_WEBHOOK_URL``).
    """
    settings = settings_of(request)
    new = new_inquiry(body, settings, request_locale(request))
    # Taken together with concurrent requests (one triage batch, one commit): intake_group.
    taken = intake_group.take(session, settings, intake.Arrival(new, user.actor))
    return InquiryCreated(
        reference=taken.reference,
        incident=taken.incident,
        level=taken.level,
        intent=taken.intent,
        first_response_due_at=to_zone(taken.first_response_due_at, settings.timezone),
        acknowledged=taken.acknowledged,
    )
