"""The harassment path (R25): the supervisor's queue, the evidence, the one-click handover.

A flagged inquiry (``Inquiry.harassment``) leaves the ordinary queues for a
supervisor. The customer's words are evidence: ``original_text`` and every
inbound message are never edited (a correction is a new message), and
:func:`evidence` exports them with times, channel and the event history,
exactly as stored. The agent who took such a contact hands it to a supervisor
in one action (:func:`hand_to_supervisor`: released, level 3, an event), and
:func:`handled_today` counts how many each agent has dealt with today, so a
supervisor can take the next one off someone who has had enough.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin import events
from anshin.config import Settings
from anshin.db import lock_for_update, utcnow
from anshin.errors import Forbidden
from anshin.i18n import N_
from anshin.inquiries import rules
from anshin.inquiries.models import ENTITY, Inquiry
from anshin.inquiries.service import history, record, snapshot
from anshin.team.models import User

SUPERVISOR_LEVEL = 3


def queue(session: Session) -> list[Inquiry]:
    """Open flagged inquiries, oldest first: the supervisor's queue (R25)."""
    stmt = (
        select(Inquiry)
        .where(Inquiry.harassment.is_(True), Inquiry.closed_at.is_(None))
        .order_by(Inquiry.received_at, Inquiry.id)
    )
    return list(session.scalars(stmt))


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def evidence(session: Session, inquiry: Inquiry) -> dict[str, Any]:
    """The customer's words as stored, with times, channel and the full history (R25).

    Only stored values, in a stable order: exporting twice gives the same
    document, and edits to anything but the conversation never change the words.
    """
    return {
        "reference": inquiry.reference,
        "channel": inquiry.channel,
        "received_at": _iso(inquiry.received_at),
        "customer": {
            "name": inquiry.customer_name,
            "email": inquiry.customer_email,
            "phone": inquiry.customer_phone,
            "organisation": inquiry.customer_org,
        },
        "harassment": inquiry.harassment,
        "original_text": inquiry.original_text,
        "inbound": [
            {
                "at": _iso(m.at),
                "channel": m.channel,
                "subject": m.subject,
                "author": m.author,
                "text": m.body,
                "mail_message_id": m.mail_message_id,
            }
            for m in inquiry.messages
            if m.direction == "in"
        ],
        "history": [
            {
                "at": _iso(e.at),
                "actor": e.actor,
                "action": e.action,
                "before": e.before,
                "after": e.after,
            }
            for e in history(session, inquiry)
        ],
    }


def evidence_json(session: Session, inquiry: Inquiry) -> str:
    """:func:`evidence` as JSON text (UTF-8, Japanese kept readable)."""
    return json.dumps(evidence(session, inquiry), ensure_ascii=False, indent=2) + "\n"


def evidence_body(session: Session, inquiry: Inquiry, fmt: str) -> str:
    """The evidence as ``json`` or ``text`` (the download and the CLI print the same)."""
    if fmt == "json":
        return evidence_json(session, inquiry)
    return evidence_text(session, inquiry)


def evidence_text(session: Session, inquiry: Inquiry) -> str:
    """:func:`evidence` as plain text for a printout: words verbatim, then the history."""
    data = evidence(session, inquiry)
    customer = data["customer"]
    lines = [
        f"reference: {data['reference']}",
        f"channel: {data['channel']}",
        f"received_at: {data['received_at']}",
        "customer: " + " / ".join(str(v) for v in customer.values() if v),
        "",
        "--- original_text ---",
        data["original_text"],
        "--- end ---",
    ]
    for n, message in enumerate(data["inbound"], start=1):
        lines += [
            "",
            f"--- inbound {n}: {message['at']} {message['channel']} {message['author']} ---",
            message["text"],
            "--- end ---",
        ]
    lines += ["", "--- history ---"]
    for e in data["history"]:
        after = json.dumps(e["after"], ensure_ascii=False, sort_keys=True) if e["after"] else ""
        lines.append(f"{e['at']} {e['actor']} {e['action']} {after}".rstrip())
    return "\n".join(lines) + "\n"


def hand_to_supervisor(
    session: Session, inquiry: Inquiry, *, by: User, now: dt.datetime | None = None
) -> Inquiry:
    """Hand a contact to the supervisors in one action: released, level 3, an event (R25).

    The agent holding it (or anyone, if nobody holds it) may; a supervisor may
    take it off another agent too. It is flagged as harassment on the way, so
    it lands in the supervisor's queue whatever triage said.
    """
    now = now or utcnow()
    lock_for_update(session, inquiry)
    holder = inquiry.claimed_by_id
    if holder is not None and holder != by.id and rules.role_level(by.role) < SUPERVISOR_LEVEL:
        raise Forbidden(
            N_("Another agent holds this inquiry; only they or a supervisor may hand it over."),
            field="claim",
        )
    before = snapshot(inquiry)
    inquiry.claimed_by_id = None
    inquiry.claimed_at = None
    inquiry.level = SUPERVISOR_LEVEL
    inquiry.harassment = True
    inquiry.updated_at = now
    session.flush()
    record(
        session,
        inquiry,
        actor=by.actor,
        action="inquiry.handed_to_supervisor",
        before=before,
        after=snapshot(inquiry),
    )
    return inquiry


def handled_today(
    session: Session, settings: Settings, now: dt.datetime | None = None
) -> list[tuple[str, int]]:
    """How many flagged contacts each agent acted on today (team's zone), most first (R25).

    "Acted on" is any event by that agent on a flagged inquiry since local
    midnight: taking it, replying, handing it over.
    """
    now = now or utcnow()
    zone = ZoneInfo(settings.timezone)
    midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    stmt = (
        select(events.Event.actor, events.Event.entity_id)
        .join(Inquiry, Inquiry.id == events.Event.entity_id)
        .where(
            events.Event.entity_type == ENTITY,
            events.Event.at >= midnight.astimezone(dt.UTC),
            events.Event.actor.like("user:%"),
            Inquiry.harassment.is_(True),
        )
        .distinct()
    )
    counts: Counter[int] = Counter()
    for actor, _inquiry_id in session.execute(stmt).all():
        user_id = actor.split(":")[1]
        if user_id.isdigit():
            counts[int(user_id)] += 1
    if not counts:
        return []
    names = {u.id: u.name for u in session.scalars(select(User).where(User.id.in_(list(counts))))}
    return sorted(
        ((names.get(uid, str(uid)), n) for uid, n in counts.items()),
        key=lambda row: (-row[1], row[0]),
    )
