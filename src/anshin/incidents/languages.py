"""Every language a notice goes out in, written before it is checked (R3, R26).

What customers read is what was checked, in every language: a locale the
agent left empty is written from the kind's status-page template (the text
the compose box shows) with the record's facts, so it is checked and stored
like a typed one and nothing is rebuilt later. English readers get English
subjects, so when confirmed subscribers read English the incident needs an
English title first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import exists, func, or_, select, true
from sqlalchemy.orm import Session

from anshin import events
from anshin.comms.rules import LOCALES
from anshin.config import Settings
from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.incidents import messages as composer
from anshin.incidents import rules as incident_rules
from anshin.incidents.models import Incident
from anshin.notify.models import Subscriber, SubscriberComponent


def english_readers(session: Session, incident: Incident) -> int:
    """How many confirmed subscribers of the incident's components read English (R26)."""
    ids = [ic.component_id for ic in incident.components]
    chose_nothing = ~exists().where(SubscriberComponent.subscriber_id == Subscriber.id)
    chose_one = exists().where(
        SubscriberComponent.subscriber_id == Subscriber.id,
        SubscriberComponent.component_id.in_(ids),
    )
    matches = or_(chose_nothing, chose_one) if ids else true()
    stmt = select(func.count()).where(
        Subscriber.status == "active", Subscriber.locale == "en", matches
    )
    return int(session.scalar(stmt) or 0)


def require_english_title(session: Session, incident: Incident) -> None:
    """Refuse to send English readers a subject in Japanese: ask for the English title first."""
    if incident.title_en or not english_readers(session, incident):
        return
    raise InvalidInput(
        N_(
            "Subscribers who read English will get this notice: "
            "give the incident an English title first."
        ),
        field="title_en",
    )


def take_english_title(
    session: Session, incident: Incident, title_en: str | None, *, actor: str
) -> None:
    """Take the English title given with a notice, then require one if English readers exist."""
    clean = incident_rules.check_text(title_en, field="title_en", limit=incident_rules.TITLE_MAX)
    if clean and not incident.title_en:
        before = {"title_en": incident.title_en}
        incident.title_en = clean
        session.flush()
        events.record(
            session,
            actor=actor,
            entity_type="incident",
            entity_id=incident.id,
            action="incident.edited",
            before=before,
            after={"title_en": clean},
        )
    require_english_title(session, incident)


def complete_texts(
    session: Session,
    settings: Settings,
    incident: Incident,
    kind: str,
    texts: Mapping[str, str | None],
    *,
    next_update_at: dt.datetime | None,
    now: dt.datetime,
) -> dict[str, str]:
    """Every locale that is published (the status page has both), none left empty.

    A locale the agent did not write is written from the kind's status-page
    template with the record's facts (the text the compose box offers), so it
    is checked and stored like a typed one and nothing is rebuilt later.
    """
    found: dict[str, str] = {}
    for locale in LOCALES:
        text = (texts.get(locale) or "").strip()
        if not text:
            text = composer.compose(
                session,
                settings,
                incident,
                kind,
                locale,
                "status_page",
                now,
                options={"next_update_at": next_update_at},
            ).text
        found[locale] = text
    return found
