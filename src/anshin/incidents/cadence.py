"""What an incident owes its customers next, and the words for "no news yet" (R4, R5).

The console's timers, the dashboard, staff nudges and the API's ``due`` all ask
the same question here, and the "引き続き対応中です" draft answers it with the
cadence's next time. Kept apart from ``incidents.service`` (which writes the
record): the cadence changes with the team's promises, not with the record.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents import messages as composer
from anshin.incidents import rules
from anshin.incidents.context import promised_next_update_at
from anshin.incidents.models import Incident


def due(settings: Settings, incident: Incident, now: dt.datetime | None = None) -> rules.Due | None:
    """What the incident owes its customers next, and by when (R4, R5)."""
    public = incident.public_updates
    return rules.next_due(
        status=incident.status,
        declared_at=incident.declared_at,
        last_public_next_update_at=public[-1].next_update_at if public else None,
        has_public_update=bool(public),
        now=now or utcnow(),
        first_notice_minutes=settings.first_notice_minutes,
    )


def no_news_draft(
    session: Session,
    settings: Settings,
    incident: Incident,
    now: dt.datetime | None = None,
    *,
    next_update_at: dt.datetime | None = None,
) -> tuple[dict[str, str], dt.datetime]:
    """R5: the "引き続き対応中です" texts (ja, en) and the next-update time they promise.

    The time is the cadence's, down to the quarter hour (a time a person writes).

    Rendered from the ``no_news_update`` template (R11), so a lead's edit of it
    reaches the console, the API and the CLI alike.
    """
    return promising_draft(
        session, settings, incident, "no_news_update", now or utcnow(), next_update_at
    )


def promising_draft(
    session: Session,
    settings: Settings,
    incident: Incident,
    kind: str,
    now: dt.datetime,
    next_update_at: dt.datetime | None = None,
) -> tuple[dict[str, str], dt.datetime]:
    """A template's status-page texts (ja, en) and the next-update time they promise (R5, R11).

    The cadence's time as a person writes it (``promised_next_update_at``)
    unless ``next_update_at`` names an earlier one: the text and the recorded
    time always agree (``next-update-mismatch``). The no-news update and the
    reopened notice both promise this way.
    """
    next_at = next_update_at or promised_next_update_at(
        now, incident.severity, settings.cadence_minutes()
    )
    options = {"next_update_at": next_at}
    texts = composer.compose_all(
        session, settings, incident, kind, "status_page", now, options=options
    )
    return texts, next_at
