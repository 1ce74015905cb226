"""Requests (お願い), commitments (お約束) and the next step of an inquiry (R24, R27).

A customer's request is recorded as they put it and decided once: accepted,
declined, or an alternative offered (whose text the handoff sheet shows). A
commitment is something we promised, with an owner and a due time; the
authority matrix (``policy.toml``, R27) decides who may make which kind — an
operator may promise a call back, not a refund — and the console, the API and
the CLI all come through :func:`add_commitment`, so none can skip the check.

An open commitment past its due time is missed (``rules.commitment_state``);
``inquiries.missed`` marks it, alerts the team on duty once and lists it on
the dashboard.
Every change is an event in the inquiry's history (R20), in the caller's
transaction.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import Conflict, InvalidInput, NotFound
from anshin.i18n import N_
from anshin.inputs import text_problem
from anshin.inquiries import claims, rules
from anshin.inquiries.models import Commitment, CustomerRequest, Inquiry
from anshin.inquiries.policy import policy
from anshin.inquiries.service import record
from anshin.team.models import User

log = logging.getLogger("anshin.inquiries.commitments")
ACTOR = "system:commitments"
TEXT_MAX = 2000


def _text(value: str | None, field: str, msgid: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(msgid, field=field)
    if len(text) > TEXT_MAX:
        raise InvalidInput(N_("{field} must be at most {n} characters."), field=field, n=TEXT_MAX)
    problem = text_problem(text)
    if problem:
        raise InvalidInput(problem, field=field)
    return text


def _request(inquiry: Inquiry, request_id: int) -> CustomerRequest:
    for found in inquiry.requests:
        if found.id == request_id:
            return found
    raise NotFound(N_("No such request on this inquiry: {id}."), id=request_id)


def _commitment(inquiry: Inquiry, commitment_id: int) -> Commitment:
    for found in inquiry.commitments:
        if found.id == commitment_id:
            return found
    raise NotFound(N_("No such commitment on this inquiry: {id}."), id=commitment_id)


def add_request(
    session: Session,
    inquiry: Inquiry,
    text: str,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> CustomerRequest:
    """Record what the customer asks for, in their terms, pending our decision (R24)."""
    now = now or utcnow()
    row = CustomerRequest(
        text=_text(text, "text", N_("Write what the customer asks for.")),
        decision=rules.RequestDecision.PENDING,
        created_by=actor,
        created_at=now,
    )
    inquiry.requests.append(row)
    inquiry.updated_at = now
    session.flush()
    record(
        session,
        inquiry,
        actor=actor,
        action="inquiry.request_added",
        after={"request_id": row.id, "text": row.text},
    )
    return row


def decide_request(
    session: Session,
    inquiry: Inquiry,
    request_id: int,
    decision: str,
    *,
    actor: str,
    alternative: str | None = None,
    now: dt.datetime | None = None,
) -> CustomerRequest:
    """Decide a request: accepted, declined, or an alternative offered (with its text) (R24).

    A decision may be changed (the customer may accept the alternative later);
    each change is an event with the decision before and after.
    """
    now = now or utcnow()
    row = _request(inquiry, request_id)
    decided = tuple(d for d in rules.RequestDecision if d != rules.RequestDecision.PENDING)
    if decision not in decided:
        raise InvalidInput(
            N_("The decision must be one of: {choices}."),
            field="decision",
            choices=", ".join(decided),
        )
    other: str | None = None
    if decision == rules.RequestDecision.ALTERNATIVE:
        other = _text(alternative, "alternative", N_("Write the alternative we offer."))
    before = {"request_id": row.id, "decision": row.decision, "alternative": row.alternative}
    row.decision = decision
    row.alternative = other
    row.decided_by = actor
    row.decided_at = now
    inquiry.updated_at = now
    session.flush()
    record(
        session,
        inquiry,
        actor=actor,
        action="inquiry.request_decided",
        before=before,
        after={"request_id": row.id, "decision": decision, "alternative": other},
    )
    return row


def add_commitment(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    *,
    by: User,
    kind: str,
    description: str,
    due_at: dt.datetime | None,
    owner: User | None = None,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Commitment:
    """Promise the customer something, if ``by``'s level may (R27), owned by ``owner``.

    The authority matrix is checked first against the role of the person making
    the promise: an operator (level 1) asking for a refund is refused with the
    level needed, and nothing is written.
    """
    now = now or utcnow()
    rules.check_authority(policy(settings), kind, rules.role_level(by.role))
    # R23: a held inquiry is its holder's (or a lead's); a promise from a stale page is refused.
    claims.require_actor(session, inquiry, by, zone=settings.timezone)
    text = _text(description, "description", N_("Write what we promise."))
    if due_at is None:
        raise InvalidInput(N_("Give the time the promise is due."), field="due_at")
    if due_at <= now:
        raise InvalidInput(N_("The due time must be in the future."), field="due_at")
    who = owner or by
    if not who.active:
        raise InvalidInput(N_("The owner must be an active team member."), field="owner")
    row = Commitment(
        kind=kind,
        description=text,
        owner_id=who.id,
        owner_name=who.name,
        due_at=due_at,
        state=rules.CommitmentState.OPEN,
        created_by=actor or by.actor,
        created_at=now,
    )
    inquiry.commitments.append(row)
    inquiry.updated_at = now
    session.flush()
    record(
        session,
        inquiry,
        actor=actor or by.actor,
        action="inquiry.commitment_added",
        after={
            "commitment_id": row.id,
            "kind": kind,
            "description": text,
            "owner": who.name,
            "due_at": due_at.isoformat(),
        },
    )
    return row


def keep(
    session: Session,
    inquiry: Inquiry,
    commitment_id: int,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> Commitment:
    """Mark a commitment kept (late ones too: kept late is still kept, and the history shows it)."""
    now = now or utcnow()
    row = _commitment(inquiry, commitment_id)
    if row.state == rules.CommitmentState.KEPT:
        raise Conflict(N_("This commitment is already kept."), field="commitment")
    before = {"commitment_id": row.id, "state": state_of(row, now)}
    row.state = rules.CommitmentState.KEPT
    row.kept_at = now
    inquiry.updated_at = now
    session.flush()
    record(
        session,
        inquiry,
        actor=actor,
        action="inquiry.commitment_kept",
        before=before,
        after={"commitment_id": row.id, "state": row.state, "late": now > row.due_at},
    )
    return row


def state_of(row: Commitment, now: dt.datetime) -> str:
    """The commitment's state now: open, kept, or missed once open past its due time."""
    return rules.commitment_state(row.state, row.due_at, now, row.kept_at)


def set_next_action(
    session: Session,
    inquiry: Inquiry,
    text: str,
    due_at: dt.datetime | None,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> Inquiry:
    """The proposed next step and its deadline, which the handoff sheet carries (R24)."""
    now = now or utcnow()
    step = _text(text, "next_action", N_("Write the next step."))
    if due_at is None:
        raise InvalidInput(N_("Give the deadline of the next step."), field="next_action_due_at")
    before = {
        "next_action": inquiry.next_action,
        "next_action_due_at": inquiry.next_action_due_at.isoformat()
        if inquiry.next_action_due_at
        else None,
    }
    inquiry.next_action = step
    inquiry.next_action_due_at = due_at
    inquiry.updated_at = now
    session.flush()
    record(
        session,
        inquiry,
        actor=actor,
        action="inquiry.next_action_set",
        before=before,
        after={"next_action": step, "next_action_due_at": due_at.isoformat()},
    )
    return inquiry
