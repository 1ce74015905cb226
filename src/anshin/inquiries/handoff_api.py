"""JSON API of the handoff sheet, requests, commitments and the harassment path (R24, R25, R27).

The same services as the console: a commitment beyond the caller's level is
refused by the authority matrix (409, with the level needed), and nothing is
written. The evidence is for supervisors.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import Field

from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.inputs import DbId, StrictInput, Text, Time, to_utc
from anshin.inquiries import commitments, handoff, harassment, service
from anshin.inquiries.harassment_views import check_format, evidence_response
from anshin.inquiries.models import Commitment, CustomerRequest
from anshin.team.models import User
from anshin.web.auth import DbSession, Operator, Supervisor
from anshin.web.deps import request_locale, settings_of

router = APIRouter(prefix="/api", tags=["inquiries"])


class RequestCreate(StrictInput):
    """A customer's request (お願い), in their terms."""

    text: Text = Field(max_length=commitments.TEXT_MAX)


class RequestDecide(StrictInput):
    """accepted, declined, or alternative (with ``alternative``: the text of what we offer)."""

    decision: Text = Field(max_length=20)
    alternative: Text | None = Field(None, max_length=commitments.TEXT_MAX)


class CommitmentCreate(StrictInput):
    """A commitment (お約束): ``kind`` from the authority matrix; ``owner_id`` defaults to you."""

    kind: Text = Field(max_length=30)
    description: Text = Field(max_length=commitments.TEXT_MAX)
    due_at: Time
    owner_id: DbId | None = None


class NextActionSet(StrictInput):
    """The proposed next step and its deadline."""

    next_action: Text = Field(max_length=commitments.TEXT_MAX)
    due_at: Time


def _request_out(r: CustomerRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "text": r.text,
        "decision": r.decision,
        "alternative": r.alternative,
        "decided_by": r.decided_by,
        "decided_at": r.decided_at,
    }


def _commitment_out(c: Commitment, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": c.id,
        "kind": c.kind,
        "description": c.description,
        "owner": c.owner_name,
        "owner_id": c.owner_id,
        "due_at": c.due_at,
        "state": commitments.state_of(c, now),
        "kept_at": c.kept_at,
    }


@router.get("/inquiries/{ref}/handoff")
def get_handoff(
    request: Request,
    ref: str,
    session: DbSession,
    user: Operator,
    format: Annotated[str, Query(max_length=10)] = "json",
) -> Any:
    """The handoff sheet (R24): JSON, or ``?format=text`` for the plain text."""
    fmt = check_format(format)
    inquiry = service.get(session, ref)
    sheet = handoff.build(session, settings_of(request), inquiry, locale=request_locale(request))
    if fmt == "text":
        return Response(handoff.render_text(sheet), media_type="text/plain; charset=utf-8")
    return {
        "reference": sheet.reference,
        "temperature": sheet.temperature,
        "level": sheet.level,
        "harassment": sheet.harassment,
        "incident": sheet.incident_reference,
        "customer_says": [{"at": s.at, "channel": s.channel, "text": s.text} for s in sheet.words],
        "confirmed": [{"label": f.label, "value": f.value} for f in sheet.confirmed],
        "told": [{"at": s.at, "source": s.source, "text": s.text} for s in sheet.told],
        "disagreements": [
            {"topic": f.topic, "reason": f.reason, "quote": f.quote} for f in sheet.flags
        ],
        "requests": [_request_out(r) for r in inquiry.requests],
        "commitments": [_commitment_out(c, sheet.generated_at) for c in inquiry.commitments],
        "next_action": sheet.next_action,
        "next_action_due_at": sheet.next_action_due_at,
    }


@router.post("/inquiries/{ref}/requests", status_code=201)
def add_request(
    ref: str, session: DbSession, user: Operator, body: RequestCreate
) -> dict[str, Any]:
    """Record a customer's request."""
    inquiry = service.get(session, ref)
    row = commitments.add_request(session, inquiry, body.text, actor=user.actor)
    session.commit()
    return _request_out(row)


@router.post("/inquiries/{ref}/requests/{request_id}")
def decide_request(
    ref: str, request_id: int, session: DbSession, user: Operator, body: RequestDecide
) -> dict[str, Any]:
    """Decide a request: accepted, declined, or alternative (with its text)."""
    inquiry = service.get(session, ref)
    row = commitments.decide_request(
        session, inquiry, request_id, body.decision, alternative=body.alternative, actor=user.actor
    )
    session.commit()
    return _request_out(row)


@router.post("/inquiries/{ref}/commitments", status_code=201)
def add_commitment(
    request: Request, ref: str, session: DbSession, user: Operator, body: CommitmentCreate
) -> dict[str, Any]:
    """Record a commitment, within the caller's authority (R27): else 409 with the level needed."""
    settings = settings_of(request)
    inquiry = service.get(session, ref)
    owner = session.get(User, body.owner_id) if body.owner_id else user
    if owner is None:
        raise InvalidInput(N_("No such team member: {id}."), field="owner_id", id=body.owner_id)
    row = commitments.add_commitment(
        session,
        settings,
        inquiry,
        by=user,
        kind=body.kind,
        description=body.description,
        due_at=to_utc(body.due_at, settings.timezone, field="due_at"),
        owner=owner,
    )
    session.commit()
    return _commitment_out(row, row.created_at)


@router.post("/inquiries/{ref}/commitments/{commitment_id}/kept")
def keep_commitment(
    ref: str, commitment_id: int, session: DbSession, user: Operator
) -> dict[str, Any]:
    """Mark a commitment kept."""
    inquiry = service.get(session, ref)
    row = commitments.keep(session, inquiry, commitment_id, actor=user.actor)
    session.commit()
    assert row.kept_at is not None
    return _commitment_out(row, row.kept_at)


@router.post("/inquiries/{ref}/next-action")
def set_next_action(
    request: Request, ref: str, session: DbSession, user: Operator, body: NextActionSet
) -> dict[str, Any]:
    """Set the proposed next step and its deadline."""
    settings = settings_of(request)
    inquiry = service.get(session, ref)
    commitments.set_next_action(
        session,
        inquiry,
        body.next_action,
        to_utc(body.due_at, settings.timezone, field="due_at"),
        actor=user.actor,
    )
    session.commit()
    return {"next_action": inquiry.next_action, "next_action_due_at": inquiry.next_action_due_at}


@router.get("/inquiries/{ref}/evidence")
def get_evidence(
    ref: str,
    session: DbSession,
    user: Supervisor,
    format: Annotated[str, Query(max_length=10)] = "json",
) -> Response:
    """The customer's words as stored, times, channel and history (R25)."""
    fmt = check_format(format)
    inquiry = service.get(session, ref)
    body = harassment.evidence_body(session, inquiry, fmt)
    return evidence_response(body, inquiry.reference, fmt)


@router.post("/inquiries/{ref}/hand-to-supervisor")
def hand_to_supervisor(ref: str, session: DbSession, user: Operator) -> dict[str, Any]:
    """Release the contact to the supervisors at level 3 (R25)."""
    inquiry = service.get(session, ref)
    harassment.hand_to_supervisor(session, inquiry, by=user)
    session.commit()
    return {"reference": inquiry.reference, "level": inquiry.level, "claimed_by_id": None}
