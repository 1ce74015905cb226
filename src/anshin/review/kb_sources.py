"""Review notes as the knowledge base shows its links to them (R32).

Named by ``anshin.knowledge.console.SOURCE_HOOKS`` and resolved by name, so
knowledge never imports review: an article saved from a review note shows the
incident's reference and links to the note on the review page.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.incidents.models import Incident
from anshin.review.models import ReviewNote


def describe(session: Session, target_type: str, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """``{id: (incident reference, review page url)}`` for the review notes that exist."""
    if target_type != "review_note" or not ids:
        return {}
    rows = session.execute(
        select(ReviewNote.id, Incident.reference)
        .join(Incident, Incident.id == ReviewNote.incident_id)
        .where(ReviewNote.id.in_(ids))
    )
    return {id_: (ref, f"/console/incidents/{ref}/review#note-{id_}") for id_, ref in rows}
