"""The knowledge search's feed of incidents and their updates (named hook, read by knowledge).

``anshin.incidents.kb_feed:changed_since`` is resolved by knowledge/index.py
by name (knowledge never imports incidents). An incident is one record (its
titles, summaries, cause, workaround and internal notes: the search is for
staff); each update (notice or internal note) is another, titled with its
incident. Incidents change (``updated_at`` moves on every edit), updates are
only added: the watermark is ``"<updated_at ISO>|<incident id>|<update id>"``.
On PostgreSQL a transaction may commit an older time or a lower id after a
newer one was read: the watermark only moves past rows older than
:data:`SETTLE`, younger ones are delivered again (the index skips a record
it holds unchanged).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from anshin.db import utcnow
from anshin.incidents.models import Incident, IncidentComponent, IncidentUpdate

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
SETTLE = dt.timedelta(seconds=60)  # longer than any transaction changing an incident runs


def _parse(watermark: str) -> tuple[dt.datetime, int, int]:
    try:
        at, incident, update = watermark.split("|")
        return dt.datetime.fromisoformat(at), int(incident), int(update)
    except ValueError:
        return EPOCH, 0, 0


def _components(incident: Incident) -> list[str]:
    return [link.component.name for link in incident.components]


def _incident_record(incident: Incident) -> dict[str, Any]:
    parts = [
        incident.title_en,
        incident.summary,
        incident.summary_en,
        incident.cause,
        incident.workaround,
        incident.workaround_en,
        incident.internal_notes,
    ]
    return {
        "source": "incident",
        "record_id": incident.id,
        "key": incident.reference,
        "kind": "incident",
        "title": f"{incident.reference} {incident.title}",
        "text": "\n".join(p for p in parts if p),
        "locale": None,
        "state": incident.status,
        "components": _components(incident),
        "url": f"/console/incidents/{incident.reference}",
    }


def _update_record(incident: Incident, update: IncidentUpdate) -> dict[str, Any]:
    return {
        "source": "update",
        "record_id": update.id,
        "key": str(update.id),
        "kind": "update",
        "title": f"{incident.reference} {incident.title}",
        "text": "\n".join(p for p in (update.body_ja, update.body_en) if p),
        "locale": None,
        "state": update.status,
        "components": _components(incident),
        "url": f"/console/incidents/{incident.reference}#update-{update.id}",
    }


def changed_since(session: Session, watermark: str, limit: int) -> tuple[list[dict[str, Any]], str]:
    """Incidents changed and updates added since ``watermark`` (at most ``limit`` of each)."""
    at, last_incident, last_update = _parse(watermark)
    incidents = list(
        session.scalars(
            select(Incident)
            .options(selectinload(Incident.components).joinedload(IncidentComponent.component))
            .where(
                or_(
                    Incident.updated_at > at,
                    and_(Incident.updated_at == at, Incident.id > last_incident),
                )
            )
            .order_by(Incident.updated_at, Incident.id)
            .limit(limit)
        )
    )
    updates = list(
        session.scalars(
            select(IncidentUpdate)
            .where(IncidentUpdate.id > last_update)
            .order_by(IncidentUpdate.id)
            .limit(limit)
        )
    )
    records = [_incident_record(incident) for incident in incidents]
    records += [_update_record(update.incident, update) for update in updates]
    # SQLite has one writer at a time: what is read is in commit order.
    cutoff = utcnow() - SETTLE if session.get_bind().dialect.name == "postgresql" else None
    for incident in incidents:
        if cutoff is not None and incident.updated_at >= cutoff:
            break
        at, last_incident = incident.updated_at, incident.id
    for update in updates:
        if cutoff is not None and update.published_at >= cutoff:
            break
        last_update = update.id
    return records, f"{at.isoformat()}|{last_incident}|{last_update}"
