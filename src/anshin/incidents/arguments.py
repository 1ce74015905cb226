"""Requests of the API and the command line turned into the service's arguments (R1, R5).

Both front ends take the same partial edits and the same "no news" shortcut,
so the merging lives here once, next to the shapes in ``schemas``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.incidents import cadence
from anshin.incidents.models import Incident
from anshin.incidents.record import IncidentInput
from anshin.incidents.schemas import IncidentPatch
from anshin.inputs import to_utc


def patched_input(incident: Incident, patch: IncidentPatch, zone: str) -> IncidentInput:
    """The full set of facts after a PATCH: fields not sent keep their current value.

    ``service.edit`` replaces the whole record, so the patch is merged here;
    the component impact stays what it was unless the patch names a new one.
    """
    sent = patch.model_fields_set
    current_impact = incident.components[0].impact if incident.components else None

    def pick(name: str, current: Any) -> Any:
        return getattr(patch, name) if name in sent else current

    recovery_at = (
        to_utc(patch.estimated_recovery_at, zone, field="estimated_recovery_at")
        if "estimated_recovery_at" in sent
        else incident.estimated_recovery_at
    )
    components = (
        list(patch.components or [])
        if "components" in sent
        else [str(ic.component_id) for ic in incident.components]
    )
    return IncidentInput(
        title=pick("title", incident.title) or "",
        title_en=pick("title_en", incident.title_en),
        severity=pick("severity", incident.severity) or "",
        summary=pick("summary", incident.summary) or "",
        summary_en=pick("summary_en", incident.summary_en),
        components=components,
        component_impact=pick("impact", current_impact),
        estimated_affected_customers=pick(
            "estimated_affected_customers", incident.estimated_affected_customers
        ),
        estimated_recovery_at=recovery_at,
        recovery_confirmed=bool(pick("recovery_confirmed", incident.recovery_confirmed)),
        cause=pick("cause", incident.cause),
        cause_confirmed=bool(pick("cause_confirmed", incident.cause_confirmed)),
        workaround=pick("workaround", incident.workaround),
        workaround_en=pick("workaround_en", incident.workaround_en),
        internal_notes=pick("internal_notes", incident.internal_notes),
    )


def update_arguments(
    session: Session,
    settings: Settings,
    incident: Incident,
    *,
    body_ja: str | None,
    body_en: str | None,
    next_update_at: dt.datetime | None,
    no_news: bool,
    now: dt.datetime,
) -> tuple[str, str | None, dt.datetime | None, str | None]:
    """Body texts, promised time and kind for an update; ``no_news`` fills in the prepared texts.

    R5: an update goes out even with no news; the prepared "引き続き対応中です"
    texts and the cadence's next time are used wherever the author wrote none.
    """
    if not no_news:
        return body_ja or "", body_en, next_update_at, None
    texts, next_at = cadence.no_news_draft(
        session, settings, incident, now, next_update_at=next_update_at
    )
    return body_ja or texts["ja"], body_en or texts["en"], next_at, "no_news_update"
