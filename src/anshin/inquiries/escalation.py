"""Escalation, stage moves and triage corrections by an agent (R19, R20, R22, R25).

Escalating hands the inquiry to a higher level with a reason; de-escalating
hands it back down, and only someone at the current level or above may do that
(``rules.check_escalation``). The first-response due time follows the new
level (the policy, R18). The claim stays only if its holder can answer at the
new level; otherwise the inquiry goes back to the new level's queue (R23).
Every change is an event with what it was, what it became and why (R20).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import Conflict, InvalidInput
from anshin.i18n import N_
from anshin.incidents.models import Incident
from anshin.inquiries import claims, handoff, rules, service
from anshin.inquiries.models import Inquiry, InquiryMessage
from anshin.inquiries.policy import policy
from anshin.team.models import User

TRIAGE_FIELDS: tuple[str, ...] = ("intent", "temperature", "harassment", "incident")


def change_level(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    user: User,
    target: object,
    reason: str | None,
    *,
    direction: str | None = None,
    now: dt.datetime | None = None,
) -> Inquiry:
    """Move the inquiry to level ``target`` with a reason (R22).

    ``direction`` ``"up"`` or ``"down"`` refuses the other way (the API's
    /escalate and /deescalate); None takes either.
    """
    now = now or utcnow()
    level = rules.check_level(target)
    text = claims.check_reason(reason)
    claims.require_actor(session, inquiry, user, zone=settings.timezone)
    if inquiry.closed_at is not None:
        raise Conflict(N_("This inquiry is closed; reopen it first."), field="level")
    current = inquiry.level
    if direction == "up" and level < current:
        raise Conflict(N_("Escalating goes to a higher level."), field="level")
    if direction == "down" and level > current:
        raise Conflict(N_("Handing back down goes to a lower level."), field="level")
    rules.check_escalation(current, level, actor_level=claims.agent_level(session, user))
    before = {
        **service.snapshot(inquiry),
        "first_response_due_at": inquiry.first_response_due_at,
    }
    inquiry.level = level
    inquiry.first_response_due_at = rules.first_response_due(
        policy(settings), inquiry.received_at, level=level, tier=inquiry.customer_tier
    )
    holder = claims.holder_of(session, inquiry)
    released = holder is not None and not rules.can_handle(
        claims.agent_level(session, holder), level
    )
    if released:
        inquiry.claimed_by_id = None
        inquiry.claimed_at = None
    inquiry.updated_at = now
    session.flush()
    service.record(
        session,
        inquiry,
        actor=user.actor,
        action="inquiry.escalated" if level > current else "inquiry.deescalated",
        before=before,
        after={
            **service.snapshot(inquiry),
            "first_response_due_at": inquiry.first_response_due_at,
            "reason": text,
            "released": released,
        },
    )
    if level > current:
        # R24: escalating produces the handoff sheet, kept as an internal note for the next level.
        inquiry.messages.append(
            InquiryMessage(
                direction="note",
                channel=inquiry.channel,
                kind="handoff_sheet",
                body=handoff.text(session, settings, inquiry, locale=inquiry.locale, now=now),
                author=user.actor,
                at=now,
            )
        )
        session.flush()
    return inquiry


def escalate(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    user: User,
    target: object,
    reason: str | None,
    *,
    now: dt.datetime | None = None,
) -> Inquiry:
    """Hand the inquiry up to ``target`` (R22): ``inquiry.escalated``."""
    return change_level(session, settings, inquiry, user, target, reason, direction="up", now=now)


def deescalate(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    user: User,
    target: object,
    reason: str | None,
    *,
    now: dt.datetime | None = None,
) -> Inquiry:
    """Hand the inquiry back down to ``target`` (R22): ``inquiry.deescalated``."""
    return change_level(session, settings, inquiry, user, target, reason, direction="down", now=now)


def move_stage(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    user: User,
    target: str,
    *,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> Inquiry:
    """Move through the flow (R19) as the holder, a lead, or anyone at its level when unheld."""
    claims.require_actor(session, inquiry, user, zone=settings.timezone)
    if inquiry.claimed_by_id is None:
        claims.check_can_handle(session, inquiry, user)
    return service.move(session, inquiry, target, actor=user.actor, note=note, now=now)


def _parse(session: Session, name: str, value: str) -> tuple[str, Any]:
    """The stored column and its new value for a corrected triage field."""
    text = (value or "").strip()
    if name == "intent":
        if text not in rules.INTENT_ORDER:
            raise InvalidInput(N_("Unknown intent: {value}."), field="value", value=text)
        return "intent", text
    if name == "temperature":
        if text not in {str(t) for t in rules.TEMPERATURES}:
            raise InvalidInput(N_("The temperature must be 0, 1, 2 or 3."), field="value")
        return "temperature", int(text)
    if name == "harassment":
        lowered = text.lower()
        if lowered in ("yes", "true", "1", "はい"):
            return "harassment", True
        if lowered in ("no", "false", "0", "いいえ"):
            return "harassment", False
        raise InvalidInput(N_("Answer yes or no."), field="value")
    if name == "incident":
        if text.lower() in ("", "none", "-"):
            return "incident_id", None
        found = session.scalar(select(Incident).where(Incident.reference == text.upper()))
        if found is None:
            raise InvalidInput(N_("No such incident: {ref}."), field="value", ref=text)
        return "incident_id", found.id
    raise InvalidInput(N_("Unknown triage field: {value}."), field="field", value=name)


def correct_triage(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    user: User,
    name: str,
    value: str,
    reason: str | None,
    *,
    now: dt.datetime | None = None,
) -> Inquiry:
    """Correct one triage value the machine got wrong, with a reason (R20).

    The level is not corrected here: that is an escalation, with its rules.
    Marking harassment sends the inquiry to the supervisor's level (R25).
    """
    now = now or utcnow()
    if name == "level":
        raise InvalidInput(
            N_("Change the level by escalating or handing back down."), field="field"
        )
    column, new = _parse(session, name, value)
    text = claims.check_reason(reason)
    claims.require_actor(session, inquiry, user, zone=settings.timezone)
    old = getattr(inquiry, column)
    if old == new:
        raise Conflict(N_("The value is unchanged."), field="value")
    setattr(inquiry, column, new)
    inquiry.updated_at = now
    session.flush()
    service.record(
        session,
        inquiry,
        actor=user.actor,
        action="inquiry.triage_corrected",
        before={"field": name, "value": old},
        after={"field": name, "value": new, "reason": text},
    )
    if name == "harassment" and new and inquiry.level < 3:
        change_level(session, settings, inquiry, user, 3, text, direction="up", now=now)
    return inquiry
