"""An incident's or a maintenance window's message, composed from its record (R4, R5, R7, R11).

incidents builds the context from its records (``incidents.context``) and
hands it to comms, which renders the active template (or a draft) on it:
comms knows no record (docs/design.md "Dependency direction").
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from anshin.comms import rules
from anshin.comms import service as comms
from anshin.comms.variables import allowed_names
from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents.context_kinds import build_context
from anshin.incidents.models import Incident, Maintenance


def suggest_kind(incident: Incident, *, resolving: bool = False) -> str:
    """The template the compose box starts from for this incident (R4, R5, R7)."""
    return rules.suggest_kind(
        status=incident.status,
        has_public_update=bool(incident.public_updates),
        resolving=resolving,
    )


def compose(
    session: Session,
    settings: Settings,
    incident: Incident | None,
    kind: str,
    locale: str,
    channel: str,
    now: dt.datetime | None = None,
    *,
    maintenance: Maintenance | None = None,
    options: dict[str, Any] | None = None,
    source: rules.Source | None = None,
) -> rules.Rendered:
    """The message to start from: the active template rendered with the record's facts.

    ``source`` renders a draft instead of the active text (the edit page's
    preview) — checked the same way, never saved; a draft is checked before
    the record, so its error is the one reported.
    """
    now = now or utcnow()
    rules.check_key(kind, locale, channel)
    if source is not None:
        rules.validate(source, kind=kind, channel=channel, allowed=allowed_names(kind))
    values = build_context(
        settings, kind, locale, now, incident=incident, maintenance=maintenance, options=options
    )
    return comms.compose(session, kind, locale, channel, values, source=source)


def compose_all(
    session: Session,
    settings: Settings,
    incident: Incident,
    kind: str,
    channel: str,
    now: dt.datetime,
    *,
    options: dict[str, Any] | None = None,
) -> dict[str, str]:
    """The message's text in every published language (ja, en): what a draft starts from."""
    return {
        locale: compose(
            session, settings, incident, kind, locale, channel, now, options=options
        ).text
        for locale in rules.LOCALES
    }
