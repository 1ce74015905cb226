"""The incident's timeline, built from what was stored and nothing else (R31).

Each entry is one stored fact at its stored time: the detection and
declaration times on the record, each update as published (and when its
deliveries ended), component changes, the inquiries per 15 minutes,
escalations, commitments made / kept / missed, message-check overrides, the
resolution. Where no row or event says something happened, the timeline does
not say it either.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anshin.events import Event
from anshin.incidents import service as incidents
from anshin.incidents.models import Incident, IncidentUpdate
from anshin.inquiries.models import ENTITY as INQUIRY
from anshin.inquiries.models import Commitment, Inquiry
from anshin.notify.models import Delivery, OutboxMessage
from anshin.notify.rules import DeliveryStatus
from anshin.review import metrics, rules

UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.FAILED)
INQUIRY_ACTIONS = (
    "inquiry.escalated",
    "inquiry.commitment_missed",
    "message.check_overridden",
)
INCIDENT_ACTIONS = (
    "incident.declared",
    "incident.resolved",
    "incident.reopened",
    "incident.report_notice",
    "incident.times_corrected",
    "message.check_overridden",
)


@dataclass(frozen=True)
class Entry:
    """One moment of the timeline: what happened, and the stored row or event it comes from."""

    at: dt.datetime
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # "event:123", "update:7", "inquiry:Q-2026-000001" …


def _updates(session: Session, incident: Incident) -> list[Entry]:
    out: list[Entry] = []
    rows = session.scalars(
        select(IncidentUpdate)
        .where(IncidentUpdate.incident_id == incident.id)
        .order_by(IncidentUpdate.published_at, IncidentUpdate.id)
    )
    for update in rows:
        out.append(
            Entry(
                update.published_at,
                "update_published" if update.audience == "public" else "internal_note",
                {
                    "kind": update.kind,
                    "status": update.status,
                    "next_update_at": update.next_update_at,
                    "author": update.author,
                },
                f"update:{update.id}",
            )
        )
        if update.audience != "public":
            continue
        delivered = session.execute(
            select(
                func.max(Delivery.sent_at),
                func.count().filter(Delivery.status.in_(UNFINISHED)),
                func.count().filter(Delivery.status == DeliveryStatus.SENT),
            )
            .join(OutboxMessage, OutboxMessage.id == Delivery.message_id)
            .where(OutboxMessage.update_id == update.id)
        ).one()
        last_sent, unfinished, sent = delivered
        if last_sent is not None and not unfinished:
            out.append(Entry(last_sent, "delivery_finished", {"sent": sent}, f"update:{update.id}"))
        elif last_sent is None and (imported := metrics.imported_delivery(session, update)):
            detail = {"sent": (imported.after or {}).get("delivered"), "imported": True}
            out.append(Entry(imported.at, "delivery_finished", detail, f"update:{update.id}"))
    return out


def _events(
    session: Session, entity_type: str, ids: list[int], actions: tuple[str, ...]
) -> list[Event]:
    if not ids:
        return []
    return list(
        session.scalars(
            select(Event)
            .where(
                Event.entity_type == entity_type,
                Event.entity_id.in_(ids),
                Event.action.in_(actions),
            )
            .order_by(Event.at, Event.id)
        )
    )


def _event_entry(event: Event, references: dict[int, str]) -> Entry:
    after = event.after or {}
    detail: dict[str, Any] = {"actor": event.actor}
    if event.entity_type == INQUIRY:
        detail["inquiry"] = references.get(event.entity_id)
    if event.action == "inquiry.escalated":
        detail |= {"from": (event.before or {}).get("level"), "to": after.get("level")}
    elif event.action == "message.check_overridden":
        detail |= {"reason": after.get("reason"), "update_id": after.get("update_id")}
    elif event.action == "component.status_changed":
        detail |= {"from": (event.before or {}).get("status"), "to": after.get("status")}
    kind = {
        "incident.declared": "declared",
        "incident.resolved": "resolved",
        "incident.reopened": "reopened",
        "incident.report_notice": "report_notice",
        "incident.times_corrected": "times_corrected",
        "inquiry.escalated": "escalation",
        "inquiry.commitment_missed": "commitment_missed",
        "message.check_overridden": "check_overridden",
        "component.status_changed": "component_changed",
    }[event.action]
    return Entry(event.at, kind, detail, f"event:{event.id}")


def for_incident(session: Session, reference: str | int, *, now: dt.datetime) -> list[Entry]:
    """The whole timeline of one incident, oldest first."""
    incident = incidents.get(session, reference)
    entries = [Entry(incident.detected_at, "detected", {}, f"incident:{incident.reference}")]
    entries += _updates(session, incident)
    entries += [
        _event_entry(ev, {}) for ev in _events(session, "incident", [incident.id], INCIDENT_ACTIONS)
    ]
    component_ids = [ic.component_id for ic in incident.components]
    until = incident.resolved_at or now
    entries += [
        _event_entry(ev, {})
        for ev in _events(session, "component", component_ids, ("component.status_changed",))
        if incident.declared_at - dt.timedelta(minutes=5)
        <= ev.at
        <= until + dt.timedelta(minutes=5)
    ]
    inquiries = list(
        session.execute(
            select(Inquiry.id, Inquiry.reference, Inquiry.received_at).where(
                Inquiry.incident_id == incident.id
            )
        )
    )
    references = {row.id: row.reference for row in inquiries}
    for start, count in rules.volume_bins(
        (row.received_at for row in inquiries), incident.declared_at
    ):
        entries.append(Entry(start, "inquiry_volume", {"count": count, "minutes": 15}, "inquiries"))
    entries += [
        _event_entry(ev, references)
        for ev in _events(session, INQUIRY, list(references), INQUIRY_ACTIONS)
    ]
    if references:
        for promise in session.scalars(
            select(Commitment).where(Commitment.inquiry_id.in_(list(references)))
        ):
            detail = {
                "inquiry": references.get(promise.inquiry_id),
                "kind": promise.kind,
                "due_at": promise.due_at,
                "owner": promise.owner_name,
            }
            entries.append(
                Entry(promise.created_at, "commitment_made", detail, f"commitment:{promise.id}")
            )
            if promise.kept_at is not None:
                entries.append(
                    Entry(
                        promise.kept_at,
                        "commitment_kept",
                        detail | {"on_time": promise.kept_at <= promise.due_at},
                        f"commitment:{promise.id}",
                    )
                )
    entries.sort(key=lambda e: (e.at, e.kind))
    return entries
