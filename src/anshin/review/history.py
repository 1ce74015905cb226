"""Loading a past incident with its own times: ``anshin incident import`` (issue 10 §8).

For teams moving from spreadsheets or another tool, and for drills. The file
(docs/review-import.md, docs/incident-import.schema.json) is checked whole by
:mod:`anshin.review.history_rules` first; then every row is written in the
caller's one transaction, so a refusal changes nothing. Imported history:

- keeps its times: rows and events carry the file's times, and every event is
  marked ``"imported": true`` with the actor ``import:<file name>``;
- is never sent: no outbox row, no delivery, no status-page republish, no
  component status change (a past outage must not turn today's page red);
  a file's ``delivered`` / ``last_delivered_at`` are kept on an
  ``incident.update_delivered`` event, which the review metrics read when no
  delivery row exists (``first_notice_delivered_seconds``);
- inquiries get new ``Q-`` references from the shared counter (the file's
  ``id`` is kept in the ``inquiry.received`` event as ``source_id``);
- survey answers are stored under ``imp:<sha256 of the address>`` (40
  characters), so no address is kept in clear and one address answers once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from anshin import events, references
from anshin.components.models import Component
from anshin.db import utcnow
from anshin.errors import Conflict
from anshin.events import Event
from anshin.i18n import N_
from anshin.incidents.models import Incident, IncidentComponent, IncidentUpdate
from anshin.incidents.record import snapshot
from anshin.inquiries import service as inquiries
from anshin.inquiries.models import ENTITY as INQUIRY
from anshin.inquiries.models import Commitment, Inquiry, InquiryMessage
from anshin.inquiries.triage import Triager
from anshin.review.history_rules import Asked, History, Update
from anshin.review.metrics import IMPORTED_DELIVERY as DELIVERED
from anshin.review.models import FeedbackResponse

MARK = {"imported": True}
ALREADY_THERE = N_(
    "{ref} is already stored: nothing was imported. Add --replace to replace it with the file."
)
_SERIES = re.compile(r"INC-([0-9]{4})-([0-9]+)")

Progress = Callable[[int], None]


def respondent(email: str) -> str:
    """Who answered, without the address: ``imp:`` and 36 hex digits of its SHA-256."""
    return "imp:" + hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()[:36]


def load(
    session: Session,
    history: History,
    *,
    actor: str,
    replace: bool = False,
    progress: Progress | None = None,
) -> Incident:
    """Write the checked history in the caller's transaction; the caller commits."""
    step = progress or (lambda _n: None)
    old = session.scalar(select(Incident).where(Incident.reference == history.reference))
    if old is not None:
        if not replace:
            raise Conflict(ALREADY_THERE, ref=history.reference)
        remove(session, old)
    incident = _incident(session, history, actor)
    step(1)
    for update in history.updates:
        _update(session, incident, update, actor)
        step(1)
    intents = _intents(history.inquiries)
    for asked, intent in zip(history.inquiries, intents, strict=True):
        _inquiry(session, incident, asked, intent, actor)
        step(1)
    for answer in history.feedback:
        session.add(
            FeedbackResponse(
                incident_id=incident.id,
                respondent=respondent(answer.email),
                score=answer.score,
                comment=answer.comment,
                created_at=answer.at,
                updated_at=answer.at,
            )
        )
        step(1)
    _keep_counter_ahead(session, history.reference)
    session.flush()
    return incident


def remove(session: Session, incident: Incident) -> None:
    """Delete an incident and all that hangs on it (``--replace``), in the caller's transaction.

    Its inquiries (with their messages and commitments), survey answers, review
    notes and actions go with it, and their events: the history is replaced whole.
    """
    inquiry_ids = list(
        session.scalars(select(Inquiry.id).where(Inquiry.incident_id == incident.id))
    )
    if inquiry_ids:
        session.execute(
            delete(Event).where(Event.entity_type == INQUIRY, Event.entity_id.in_(inquiry_ids))
        )
        for inquiry in session.scalars(select(Inquiry).where(Inquiry.id.in_(inquiry_ids))):
            session.delete(inquiry)
    session.execute(
        delete(Event).where(Event.entity_type == "incident", Event.entity_id == incident.id)
    )
    session.delete(incident)
    session.flush()


def _component(session: Session, name: str) -> Component:
    found = session.scalar(select(Component).where(Component.name == name))
    if found is None:
        found = Component(name=name, status="operational")
        session.add(found)
        session.flush()
    return found


def _incident(session: Session, h: History, actor: str) -> Incident:
    incident = Incident(
        reference=h.reference,
        title=h.title,
        title_en=h.title_en,
        summary=h.summary,
        severity=h.severity,
        status=h.status,
        started_at=h.started_at,
        detected_at=h.detected_at,
        declared_at=h.declared_at,
        resolved_at=h.resolved_at,
        estimated_affected_customers=h.estimated_affected_customers,
        cause=h.cause,
        cause_confirmed=h.cause_confirmed,
        created_by=actor,
        updated_at=h.resolved_at or h.declared_at,
    )
    seen: set[int] = set()
    for name, impact in h.components:
        component = _component(session, name)
        if component.id not in seen:
            seen.add(component.id)
            incident.components.append(
                IncidentComponent(component=component, component_id=component.id, impact=impact)
            )
    session.add(incident)
    session.flush()
    declared = {**snapshot(incident), "resolved_at": None, "status": "investigating", **MARK}
    _event(session, incident.id, actor, "incident.declared", h.declared_at, after=declared)
    if h.resolved_at is not None:
        _event(
            session,
            incident.id,
            actor,
            "incident.resolved",
            h.resolved_at,
            after={"status": "resolved", "resolved_at": h.resolved_at, **MARK},
        )
    return incident


def _event(
    session: Session,
    incident_id: int,
    actor: str,
    action: str,
    at: dt.datetime,
    *,
    after: dict[str, Any],
    entity_type: str = "incident",
    before: dict[str, Any] | None = None,
) -> None:
    events.record(
        session,
        actor=actor,
        entity_type=entity_type,
        entity_id=incident_id,
        action=action,
        before=before,
        after=after,
        at=at,
    )


def _update(session: Session, incident: Incident, u: Update, actor: str) -> None:
    row = IncidentUpdate(
        incident=incident,
        kind=u.kind,
        status=u.status,
        body_ja=u.body_ja,
        body_en=u.body_en,
        audience=u.audience,
        published_at=u.published_at,
        next_update_at=u.next_update_at,
        author=actor,
    )
    session.add(row)
    session.flush()
    after = {
        "status": u.status,
        "update_id": row.id,
        "audience": u.audience,
        "next_update_at": u.next_update_at,
        **MARK,
    }
    _event(session, incident.id, actor, f"incident.{u.kind}", u.published_at, after=after)
    if u.delivered is not None or u.last_delivered_at is not None:
        _event(
            session,
            incident.id,
            actor,
            DELIVERED,
            u.last_delivered_at or u.published_at,
            after={
                "update_id": row.id,
                "delivered": u.delivered,
                "last_delivered_at": u.last_delivered_at,
                **MARK,
            },
        )


def _intents(asked: list[Asked]) -> list[str]:
    """Each inquiry's intent: the file's, else the triage model's reading of the text.

    The gap analysis compares intents with what the updates said; a spreadsheet
    rarely has them. Words only (no encoder, no incident matching): the
    inquiry's incident is the imported one, its level the file's escalations.
    """
    todo = [(q.text, q.tier) for q in asked if q.intent is None]
    read = iter(Triager(profiles=[], use_encoder=False).run(todo) if todo else [])
    return [q.intent if q.intent is not None else next(read).intent for q in asked]


def _inquiry(session: Session, incident: Incident, q: Asked, intent: str, actor: str) -> None:
    inquiry = Inquiry(
        reference=references.next_reference(
            session,
            inquiries.PREFIX,
            q.received_at.year,
            existing=Inquiry.reference,
            width=inquiries.REFERENCE_WIDTH,
        ),
        received_at=q.received_at,
        channel=q.channel,
        customer_name=q.name,
        customer_email=q.email,
        customer_phone=q.phone,
        customer_tier=q.tier,
        original_text=q.text,
        keep_informed=False,
        incident_id=incident.id,
        level=q.level,
        intent=intent,
        stage="resolved" if q.closed_at else "received",
        first_responded_at=q.first_response_at,
        closed_at=q.closed_at,
        created_at=q.received_at,
        updated_at=q.closed_at or q.received_at,
    )
    inquiry.messages.append(
        InquiryMessage(
            direction="in", channel=q.channel, body=q.text, author=q.name or "", at=q.received_at
        )
    )
    for p in q.commitments:
        inquiry.commitments.append(
            Commitment(
                kind=p.kind,
                description=p.what,
                owner_name=p.owner,
                due_at=p.due_at,
                state="kept" if p.kept_at else ("missed" if p.due_at < utcnow() else "open"),
                kept_at=p.kept_at,
                created_by=actor,
                created_at=q.received_at,
            )
        )
    session.add(inquiry)
    session.flush()

    def note(
        action: str,
        at: dt.datetime,
        after: dict[str, Any],
        before: dict[str, Any] | None = None,
    ) -> None:
        after = {**after, **MARK}
        _event(
            session, inquiry.id, actor, action, at, after=after, entity_type=INQUIRY, before=before
        )

    received = {"channel": q.channel, "source_id": q.source_id, "level": 1}
    note("inquiry.received", q.received_at, received)
    for step in q.escalations:
        note(
            "inquiry.escalated",
            step.at,
            {"level": step.to_level, "reason": step.reason},
            {"level": step.from_level},
        )
    for c in inquiry.commitments:
        added = {"commitment_id": c.id, "due_at": c.due_at}
        note("inquiry.commitment_added", q.received_at, added)
        if c.kept_at is not None:
            note("inquiry.commitment_kept", c.kept_at, {"commitment_id": c.id})


def _keep_counter_ahead(session: Session, reference: str) -> None:
    """An imported INC-2026-0042 moves this year's counter past 42, so no declare reuses it."""
    match = _SERIES.fullmatch(reference)
    if match is None:
        return
    year, number = int(match.group(1)), int(match.group(2))
    counter = session.get(references.ReferenceCounter, ("INC", year))
    if counter is not None and counter.last < number:
        counter.last = number
