"""The desk's JSON API (R22, R23): queues, claims, escalation, the flow.

* ``GET /api/inquiries`` — a queue: ``level``, ``view`` (all, mine, unassigned),
  ``incident``, ``intent``, ``channel``; earliest due first, hottest first, 50
  a page: ``page`` asks for one, ``next`` links to the following one.
* ``GET /api/inquiries/{ref}`` — one inquiry with its history.
* ``POST /api/inquiries/{ref}/claim`` | ``/release`` | ``/takeover`` (reason) —
  a lost race answers 409 with ``holder`` and ``since``.
* ``POST /api/inquiries/{ref}/escalate`` | ``/deescalate`` (level, reason),
  ``/stage`` (stage, note).

The same services as the console decide (``inquiries.claims``,
``inquiries.escalation``); the role a route names is the lowest that may call
it, the rules then check the inquiry's level and who holds it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from anshin.db import utcnow
from anshin.inputs import StrictInput, Text
from anshin.inquiries import claims, escalation, queues, service, share
from anshin.inquiries.intake_api import MessageOut
from anshin.inquiries.intake_group import incident_ref
from anshin.inquiries.models import Inquiry
from anshin.timefmt import iso_local, to_zone
from anshin.web.auth import DbSession, Operator, Senior
from anshin.web.deps import settings_of
from anshin.web.paging import Paging, page_number

router = APIRouter(prefix="/api", tags=["inquiries"])

Filter = Annotated[str, Query(max_length=40)]


class HolderOut(BaseModel):
    """Who holds an inquiry."""

    id: int
    name: str


class InquiryRow(BaseModel):
    """One inquiry as a queue lists it."""

    reference: str
    received_at: str
    channel: str
    customer_name: str | None
    customer_org: str | None
    customer_tier: str
    intent: str
    level: int
    temperature: int
    harassment: bool
    stage: str
    incident_id: int | None
    holder: HolderOut | None
    claimed_at: str | None
    due_at: str | None = Field(description="What the inquiry owes next (first response), ISO 8601")
    due_kind: str | None
    seconds_left: int | None
    overdue: bool


class QueueOut(BaseModel):
    """A page of a queue, earliest due first, and where the next page is."""

    inquiries: list[InquiryRow]
    total: int = Field(description="How many open inquiries match the filters in all")
    page: int = Field(description="This page's number, from 1")
    pages: int = Field(description="How many pages the matching inquiries fill")
    next: str | None = Field(
        description="The next page's path and query (same filters), or null on the last page"
    )


class EventOut(BaseModel):
    """One line of the inquiry's history (R20)."""

    at: str
    actor: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class InquiryOut(InquiryRow):
    """One inquiry: the customer (personal data, staff only), their words, conversation, history."""

    locale: str
    customer: dict[str, Any]
    keep_informed: bool
    incident: str | None = Field(description="The linked incident's reference")
    original_text: str
    subject: str | None
    triage_reasons: list[str]
    suggested_template: str | None
    first_response_due_at: str | None
    first_responded_at: str | None
    closed_at: str | None
    messages: list[MessageOut]
    history: list[EventOut]


class ReasonIn(StrictInput):
    """Why (a takeover)."""

    reason: Text = Field(max_length=4000)


class LevelIn(StrictInput):
    """The new level and why (escalate, de-escalate)."""

    level: int
    reason: Text = Field(max_length=4000)


class StageIn(StrictInput):
    """The next stage of the flow; ``shared`` needs a note for the team (R19)."""

    stage: Text = Field(max_length=30)
    note: Text | None = Field(default=None, max_length=4000)
    # R21: to ``shared`` with departments named, they receive it with the note (share.py).
    departments: list[Text] = Field(default_factory=list, max_length=50)


def _row(
    session: Session, inquiry: Inquiry, zone: str, now: dt.datetime, names: dict[int, str]
) -> dict[str, Any]:
    due = queues.due_of(inquiry, now)
    holder = None
    if inquiry.claimed_by_id is not None:
        holder = {"id": inquiry.claimed_by_id, "name": names.get(inquiry.claimed_by_id, "?")}
    return {
        "reference": inquiry.reference,
        "received_at": iso_local(inquiry.received_at, zone),
        "channel": inquiry.channel,
        "customer_name": inquiry.customer_name,
        "customer_org": inquiry.customer_org,
        "customer_tier": inquiry.customer_tier,
        "intent": inquiry.intent,
        "level": inquiry.level,
        "temperature": inquiry.temperature,
        "harassment": inquiry.harassment,
        "stage": inquiry.stage,
        "incident_id": inquiry.incident_id,
        "holder": holder,
        "claimed_at": iso_local(inquiry.claimed_at, zone),
        "due_at": iso_local(due.due_at, zone) if due else None,
        "due_kind": due.kind if due else None,
        "seconds_left": due.seconds_left if due else None,
        "overdue": bool(due and due.overdue),
    }


def inquiry_out(session: Session, inquiry: Inquiry, zone: str) -> InquiryOut:
    """The inquiry with its history, for every route that changes it."""
    names = queues.names_of(session, {inquiry.claimed_by_id} if inquiry.claimed_by_id else set())
    history = [
        EventOut(
            at=iso_local(e.at, zone) or "",
            actor=e.actor,
            action=e.action,
            before=e.before,
            after=e.after,
        )
        for e in service.history(session, inquiry)
    ]
    return InquiryOut(
        **_row(session, inquiry, zone, utcnow(), names),
        locale=inquiry.locale,
        customer={
            "name": inquiry.customer_name,
            "email": inquiry.customer_email,
            "phone": inquiry.customer_phone,
            "organisation": inquiry.customer_org,
            "tier": inquiry.customer_tier,
        },
        keep_informed=inquiry.keep_informed,
        incident=incident_ref(session, inquiry),
        original_text=inquiry.original_text,
        subject=inquiry.subject,
        triage_reasons=list(inquiry.triage_reasons or []),
        suggested_template=inquiry.suggested_template,
        first_response_due_at=iso_local(inquiry.first_response_due_at, zone),
        first_responded_at=iso_local(inquiry.first_responded_at, zone),
        closed_at=iso_local(inquiry.closed_at, zone),
        messages=[
            MessageOut(
                direction=m.direction,
                channel=m.channel,
                kind=m.kind,
                subject=m.subject,
                body=m.body,
                author=m.author,
                at=to_zone(m.at, zone) or m.at,
            )
            for m in inquiry.messages
        ],
        history=history,
    )


@router.get("/inquiries", response_model=QueueOut)
def list_inquiries(
    request: Request,
    session: DbSession,
    user: Operator,
    level: Filter = "",
    view: Filter = "",
    incident: Filter = "",
    intent: Filter = "",
    channel: Filter = "",
    page: Annotated[str, Query(max_length=10)] = "",
) -> QueueOut:
    """Open inquiries matching the filters, earliest due first, hottest first (R22), a page
    of ``queues.QUEUE_PAGE_SIZE`` at a time; ``next`` is null on the last page."""
    flt = queues.parse_filter(
        level=level, view=view, incident=incident, intent=intent, channel=channel
    )
    number = page_number(page)
    paging = Paging(
        page=number, size=queues.QUEUE_PAGE_SIZE, total=queues.count(session, flt, user)
    )
    now = utcnow()
    zone = settings_of(request).timezone
    found = queues.queue(session, flt, user, limit=paging.size, offset=paging.offset)
    names = queues.names_of(session, {i.claimed_by_id for i in found if i.claimed_by_id})
    following = None
    if number < paging.pages:
        query = urlencode({**queues.filter_query(flt), "page": number + 1})
        following = f"{request.url.path}?{query}"
    return QueueOut(
        inquiries=[InquiryRow(**_row(session, i, zone, now, names)) for i in found],
        total=paging.total,
        page=number,
        pages=paging.pages,
        next=following,
    )


@router.get("/inquiries/{ref}", response_model=InquiryOut)
def show_inquiry(request: Request, session: DbSession, user: Operator, ref: str) -> InquiryOut:
    """One inquiry with the customer's words and its history (R20)."""
    return inquiry_out(session, service.get(session, ref), settings_of(request).timezone)


def _done(request: Request, session: Session, inquiry: Inquiry) -> InquiryOut:
    session.commit()
    return inquiry_out(session, inquiry, settings_of(request).timezone)


@router.post("/inquiries/{ref}/claim", response_model=InquiryOut)
def claim(request: Request, session: DbSession, user: Operator, ref: str) -> InquiryOut:
    """Hold the inquiry (R23); 409 with ``holder`` and ``since`` when someone was quicker."""
    inquiry = service.get(session, ref)
    claims.claim(session, inquiry, user, zone=settings_of(request).timezone)
    return _done(request, session, inquiry)


@router.post("/inquiries/{ref}/release", response_model=InquiryOut)
def release(request: Request, session: DbSession, user: Operator, ref: str) -> InquiryOut:
    """Let go of the inquiry: its holder, or a lead (R23)."""
    inquiry = service.get(session, ref)
    claims.release(session, inquiry, user, zone=settings_of(request).timezone)
    return _done(request, session, inquiry)


@router.post("/inquiries/{ref}/takeover", response_model=InquiryOut)
def take_over(
    request: Request, session: DbSession, user: Senior, ref: str, body: ReasonIn
) -> InquiryOut:
    """A lead takes the inquiry over with a reason (R23): supervisors, seniors up to L2."""
    inquiry = service.get(session, ref)
    claims.take_over(session, inquiry, user, body.reason, zone=settings_of(request).timezone)
    return _done(request, session, inquiry)


@router.post("/inquiries/{ref}/escalate", response_model=InquiryOut)
def escalate(
    request: Request, session: DbSession, user: Operator, ref: str, body: LevelIn
) -> InquiryOut:
    """Hand the inquiry up with a reason (R22); the due time follows the new level."""
    inquiry = service.get(session, ref)
    escalation.escalate(session, settings_of(request), inquiry, user, body.level, body.reason)
    return _done(request, session, inquiry)


@router.post("/inquiries/{ref}/deescalate", response_model=InquiryOut)
def deescalate(
    request: Request, session: DbSession, user: Operator, ref: str, body: LevelIn
) -> InquiryOut:
    """Hand the inquiry back down with a reason: the current level or above only (R22)."""
    inquiry = service.get(session, ref)
    escalation.deescalate(session, settings_of(request), inquiry, user, body.level, body.reason)
    return _done(request, session, inquiry)


@router.post("/inquiries/{ref}/stage", response_model=InquiryOut)
def stage(
    request: Request, session: DbSession, user: Operator, ref: str, body: StageIn
) -> InquiryOut:
    """Move to another stage of the flow, with what it asks for (R19)."""
    inquiry = service.get(session, ref)
    settings = settings_of(request)
    escalation.move_stage(session, settings, inquiry, user, body.stage, note=body.note)
    share.on_move(
        session, settings, inquiry, body.stage, list(body.departments), body.note, actor=user.actor
    )
    return _done(request, session, inquiry)
