"""Incidents and their updates as the knowledge base shows its links to them (R32).

Named by ``anshin.knowledge.console.SOURCE_HOOKS`` and resolved by name, so
knowledge never imports incidents: an article drawn from an incident update
shows the incident's reference and links to the update on its page.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.incidents.models import Incident, IncidentUpdate


def describe(session: Session, target_type: str, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """``{id: (reference, console url)}`` for the incidents or updates that exist."""
    if not ids:
        return {}
    if target_type == "incident":
        rows = session.execute(select(Incident.id, Incident.reference).where(Incident.id.in_(ids)))
        return {id_: (ref, f"/console/incidents/{ref}") for id_, ref in rows}
    if target_type == "update":
        rows = session.execute(
            select(IncidentUpdate.id, Incident.reference)
            .join(Incident, Incident.id == IncidentUpdate.incident_id)
            .where(IncidentUpdate.id.in_(ids))
        )
        return {id_: (ref, f"/console/incidents/{ref}#update-{id_}") for id_, ref in rows}
    return {}
