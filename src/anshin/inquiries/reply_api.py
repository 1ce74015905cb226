"""JSON API for replying to inquiries (R21, R23, R26).

* ``GET  /api/inquiries/{ref}/reply-draft`` — the text a reply starts from (operator);
* ``POST /api/inquiries/{ref}/reply`` — check and send a reply, or record a call
  (operator; only the agent holding the claim);
* ``POST /api/incidents/{ref}/inquiries/reply`` — one checked answer to every
  selected open inquiry on the incident (senior and above).

A refused check answers 422 with the findings (``details``); nothing is sent.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from anshin.incidents import service as incidents
from anshin.inputs import Ref, to_utc
from anshin.inquiries import outgoing, replies, reply_all, service
from anshin.web.auth import DbSession, Operator, Senior
from anshin.web.deps import settings_of

router = APIRouter(prefix="/api", tags=["inquiries"])


class DraftOut(BaseModel):
    """The template a reply starts from, rendered for this customer."""

    reference: str
    kind: str
    locale: str
    route: str = Field(description="email, chat or phone: how the reply travels")
    subject: str | None
    text: str


class ReplyIn(BaseModel):
    """One reply; ``body`` is exactly what is checked and sent (or read out on the phone)."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(max_length=replies.BODY_MAX)
    subject: str | None = Field(default=None, max_length=outgoing.SUBJECT_MAX)
    reports_result: bool = False
    override_reason: str | None = Field(default=None, max_length=2000)
    outcome: str | None = Field(default=None, max_length=replies.NOTE_MAX)
    next_action: str | None = Field(default=None, max_length=replies.NOTE_MAX)
    next_action_due_at: dt.datetime | None = None


class ReplyOut(BaseModel):
    """The message as recorded in the inquiry's conversation."""

    reference: str
    message_id: int
    kind: str | None
    channel: str
    subject: str | None
    body: str
    outbox_message_id: int | None
    mail_message_id: str | None
    reports_result: bool
    first_responded_at: dt.datetime | None


class ReplyAllIn(BaseModel):
    """One answer per language, and which open inquiries on the incident get it."""

    model_config = ConfigDict(extra="forbid")

    body_ja: str | None = Field(default=None, max_length=replies.BODY_MAX)
    body_en: str | None = Field(default=None, max_length=replies.BODY_MAX)
    intent: str | None = None
    channel: str | None = None
    include_claimed: bool = False
    reports_result: bool = False
    override_reason: str | None = Field(default=None, max_length=2000)


class ReplyAllOut(BaseModel):
    """References the answer went to, and those left out (held by another agent, phone only)."""

    incident: str
    sent: list[str]
    held: list[str]
    to_call: list[str]


@router.get("/inquiries/{ref}/reply-draft", response_model=DraftOut)
def reply_draft(request: Request, session: DbSession, user: Operator, ref: Ref) -> DraftOut:
    """The suggested template rendered for this inquiry (R21); nothing is stored."""
    inquiry = service.get(session, ref)
    found = replies.draft(session, settings_of(request), inquiry)
    return DraftOut(
        reference=inquiry.reference,
        kind=found.kind,
        locale=found.locale,
        route=found.route,
        subject=found.subject,
        text=found.text,
    )


@router.post("/inquiries/{ref}/reply", response_model=ReplyOut, status_code=201)
def post_reply(
    request: Request, session: DbSession, user: Operator, ref: Ref, body: ReplyIn
) -> ReplyOut:
    """Check and send a reply by the inquiry's channel, or record the call (R21, R23)."""
    settings = settings_of(request)
    inquiry = service.get(session, ref)
    message = replies.reply(
        session,
        settings,
        inquiry,
        user,
        text=body.body,
        subject=body.subject,
        reports_result=body.reports_result,
        override_reason=body.override_reason,
        outcome=body.outcome,
        next_action=body.next_action,
        next_action_due_at=to_utc(
            body.next_action_due_at, settings.timezone, field="next_action_due_at"
        ),
    )
    session.commit()
    return ReplyOut(
        reference=inquiry.reference,
        message_id=message.id,
        kind=message.kind,
        channel=message.channel,
        subject=message.subject,
        body=message.body,
        outbox_message_id=message.outbox_message_id,
        mail_message_id=message.mail_message_id,
        reports_result=message.reports_result,
        first_responded_at=inquiry.first_responded_at,
    )


@router.post("/incidents/{ref}/inquiries/reply", response_model=ReplyAllOut)
def post_reply_all(
    request: Request, session: DbSession, user: Senior, ref: Ref, body: ReplyAllIn
) -> ReplyAllOut:
    """One checked answer to every selected open inquiry on the incident (R21, R26)."""
    incident = incidents.get(session, ref)
    outcome = reply_all.reply_all(
        session,
        settings_of(request),
        incident,
        user,
        answers={"ja": body.body_ja, "en": body.body_en},
        selection=reply_all.Selection(body.intent, body.channel, body.include_claimed),
        reports_result=body.reports_result,
        override_reason=body.override_reason,
    )
    session.commit()
    return ReplyAllOut(
        incident=incident.reference, sent=outcome.sent, held=outcome.held, to_call=outcome.to_call
    )
