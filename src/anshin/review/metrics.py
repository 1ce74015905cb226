"""The review metrics of one incident, read from what was stored (R30, R31; docs/review.md).

This module only gathers facts — public updates, deliveries, inquiries,
their escalation events, commitments, check overrides, dead letters — and
hands them to the pure definitions in :mod:`anshin.review.rules`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anshin.comms.kinds import MessageKind
from anshin.events import Event
from anshin.incidents import service as incidents
from anshin.incidents.models import Incident, IncidentUpdate
from anshin.incidents.rules import Audience
from anshin.inquiries.models import ENTITY as INQUIRY
from anshin.inquiries.models import Commitment, Inquiry
from anshin.notify.models import Delivery, OutboxMessage
from anshin.notify.rules import DeliveryStatus
from anshin.review import feedback, rules

OVERRIDDEN = "message.check_overridden"
IMPORTED_DELIVERY = "incident.update_delivered"  # written by review.history only


def public_updates(session: Session, incident: Incident) -> list[IncidentUpdate]:
    """The incident's public updates in publication order (internal notes never count)."""
    return list(
        session.scalars(
            select(IncidentUpdate)
            .where(
                IncidentUpdate.incident_id == incident.id,
                IncidentUpdate.audience == Audience.PUBLIC,
            )
            .order_by(IncidentUpdate.published_at, IncidentUpdate.id)
        )
    )


def _last_delivery_of(session: Session, update: IncidentUpdate) -> Any:
    sent = session.scalar(
        select(func.max(Delivery.sent_at))
        .join(OutboxMessage, OutboxMessage.id == Delivery.message_id)
        .where(OutboxMessage.update_id == update.id, Delivery.status == DeliveryStatus.SENT)
    )
    return sent if sent is not None else _imported_delivery(session, update)


def _imported_delivery(session: Session, update: IncidentUpdate) -> dt.datetime | None:
    event = imported_delivery(session, update)
    return event.at if event is not None else None


def imported_delivery(session: Session, update: IncidentUpdate) -> Event | None:
    """An imported update's last delivery, as the history file told it (review.history).

    Imported history sends nothing, so it has no delivery rows; the file's
    ``delivered`` and ``last_delivered_at`` are kept on an
    ``incident.update_delivered`` event at that time instead.
    """
    for event in session.scalars(
        select(Event).where(
            Event.entity_type == "incident",
            Event.entity_id == update.incident_id,
            Event.action == IMPORTED_DELIVERY,
        )
    ):
        after = event.after or {}
        if after.get("update_id") == update.id and after.get("last_delivered_at"):
            return event
    return None


def _escalations(session: Session, inquiry_ids: list[int]) -> dict[str, int]:
    if not inquiry_ids:
        return rules.escalation_steps([])
    rows = session.scalars(
        select(Event).where(
            Event.entity_type == INQUIRY,
            Event.entity_id.in_(inquiry_ids),
            Event.action == "inquiry.escalated",
        )
    )
    return rules.escalation_steps(
        (int((e.before or {}).get("level", 0)), int((e.after or {}).get("level", 0))) for e in rows
    )


def _overrides(session: Session, incident: Incident, inquiry_ids: list[int]) -> int:
    on_incident = session.scalar(
        select(func.count()).where(
            Event.entity_type == "incident",
            Event.entity_id == incident.id,
            Event.action == OVERRIDDEN,
        )
    )
    on_inquiries: int | None = 0
    if inquiry_ids:
        on_inquiries = session.scalar(
            select(func.count()).where(
                Event.entity_type == INQUIRY,
                Event.entity_id.in_(inquiry_ids),
                Event.action == OVERRIDDEN,
            )
        )
    return int(on_incident or 0) + int(on_inquiries or 0)


def _dead_letters(session: Session, incident: Incident) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Delivery)
            .join(OutboxMessage, OutboxMessage.id == Delivery.message_id)
            .where(OutboxMessage.incident_id == incident.id, Delivery.status == DeliveryStatus.DEAD)
        )
        or 0
    )


@dataclass(frozen=True)
class Facts:
    """What one incident's metrics are computed from; facts of several incidents pool."""

    incident: Incident
    updates: list[rules.PublicUpdate]
    last_delivery: dt.datetime | None
    inquiries: list[Any]  # rows: id, received_at, first_responded_at, level, email, phone
    commitments: list[tuple[dt.datetime, dt.datetime | None]]
    scores: list[int]
    escalations: dict[str, int]
    overrides: int
    dead_letters: int

    @property
    def answered(self) -> list[rules.Answered]:
        return [
            rules.Answered(row.received_at, row.first_responded_at, row.level)
            for row in self.inquiries
        ]


def facts_of(session: Session, incident: Incident) -> Facts:
    """Read everything the metrics of one incident need (a handful of queries)."""
    updates = public_updates(session, incident)
    # The incident's messages end with its resolution: the report notice published days
    # later is neither a kept promise nor the end of a silence (docs/review.md).
    during = [u for u in updates if u.kind != MessageKind.REPORT_NOTICE]
    first = updates[0] if updates else None
    inquiries = list(
        session.execute(
            select(
                Inquiry.id,
                Inquiry.received_at,
                Inquiry.first_responded_at,
                Inquiry.level,
                Inquiry.customer_email,
                Inquiry.customer_phone,
            ).where(Inquiry.incident_id == incident.id)
        )
    )
    inquiry_ids = [row.id for row in inquiries]
    commitments = (
        [
            (due, kept)
            for due, kept in session.execute(
                select(Commitment.due_at, Commitment.kept_at).where(
                    Commitment.inquiry_id.in_(inquiry_ids)
                )
            )
        ]
        if inquiry_ids
        else []
    )
    return Facts(
        incident=incident,
        updates=[rules.PublicUpdate(u.published_at, u.next_update_at) for u in during],
        last_delivery=_last_delivery_of(session, first) if first is not None else None,
        inquiries=inquiries,
        commitments=commitments,
        scores=feedback.scores(session, incident),
        escalations=_escalations(session, inquiry_ids),
        overrides=_overrides(session, incident, inquiry_ids),
        dead_letters=_dead_letters(session, incident),
    )


def compute(f: Facts) -> dict[str, Any]:
    """Every metric of docs/review.md for one incident's facts, by its exact name."""
    incident = f.incident
    csat_average, csat_responses = rules.csat(f.scores)
    return {
        "incident": incident.reference,
        "first_notice_seconds": rules.first_notice_seconds(incident.declared_at, f.updates),
        "first_notice_delivered_seconds": rules.seconds_between(
            incident.declared_at, f.last_delivery
        ),
        "cadence_kept": rules.cadence_kept(f.updates),
        "longest_silence_seconds": rules.longest_silence_seconds(
            incident.declared_at, f.updates, incident.resolved_at
        ),
        "inquiries_total": len(f.inquiries),
        "inquiries_peak_hour": rules.peak_in_window(row.received_at for row in f.inquiries),
        "repeat_customers": rules.repeat_customers(
            rules.customer_key(row.customer_email, row.customer_phone) for row in f.inquiries
        ),
        **rules.first_response_percentiles(f.answered),
        "escalations": f.escalations,
        "commitments_kept": rules.commitments_kept(f.commitments),
        "csat_average": csat_average,
        "csat_responses": csat_responses,
        "check_overrides": f.overrides,
        "dead_letters": f.dead_letters,
    }


def for_incident(session: Session, reference: str | int) -> dict[str, Any]:
    """Every metric of docs/review.md for one incident, by its exact name."""
    return compute(facts_of(session, incidents.get(session, reference)))
