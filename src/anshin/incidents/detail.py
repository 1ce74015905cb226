"""What the incident record page shows around the record: compose box, check, delivery, clock.

The console page (``views``) and its htmx fragments (``compose_views``) share
these so the first render and every refresh say the same thing:

* the compose box starts from the product's templates (R11): the kind the
  incident owes next (R4 first notice, R5 update, R7 resolution), rendered
  with the record's facts in Japanese and English;
* the message check (伝え方チェック, R3, R6, R12–R16) on what is typed;
* each published notice's delivery counts (R4, R26) and the first-notice
  clock: owed 15 minutes after the declaration, then when it was published
  and when its last customer was reached (R4).

Only reads; nothing here writes or commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from anshin import inputs
from anshin.comms.lint import Finding, has_errors
from anshin.comms.rules import LOCALES
from anshin.config import Settings
from anshin.events import Event
from anshin.incidents import forms, languages, notices, rules
from anshin.incidents import messages as composer
from anshin.incidents.context import promised_next_update_at
from anshin.incidents.models import Incident
from anshin.notify import service as notify
from anshin.notify.service import POLL_SECONDS, DeliveryCounts
from anshin.team import rules as team_rules
from anshin.team.models import User
from anshin.timefmt import clock_local

COMPOSE_CHANNEL = "status_page"


def compose_kinds(incident: Incident) -> tuple[str, ...]:
    """The kinds the compose box offers for this incident now (R4, R5, R7)."""
    return rules.compose_kinds(
        status=incident.status, has_public_update=bool(incident.public_updates)
    )


def chosen_kind(incident: Incident, wanted: str | None) -> str:
    """The kind asked for if it is valid now, else the one the incident owes next."""
    kinds = compose_kinds(incident)
    if wanted in kinds:
        return str(wanted)
    return composer.suggest_kind(incident)


def compose_values(
    session: Session,
    settings: Settings,
    incident: Incident,
    kind: str,
    now: dt.datetime,
    *,
    publish_affected: bool = False,
) -> dict[str, Any]:
    """The compose box's starting values: the kind's template in every published language (R11).

    The promised next-update time is the cadence's, down to the quarter hour
    (R5), the same time the rendered text names. The estimated number of
    affected customers is in the text only when the lead ticks the box for it.
    """
    next_at = promised_next_update_at(now, incident.severity, settings.cadence_minutes())
    options = {
        "publish_affected": publish_affected,
        "next_update_at": next_at if kind != "resolution" else None,
    }
    texts = composer.compose_all(
        session, settings, incident, kind, COMPOSE_CHANNEL, now, options=options
    )
    values: dict[str, Any] = {
        "kind": kind,
        "body_ja": texts["ja"],
        "body_en": texts["en"],
        "audience": "public",
        "status": incident.status if incident.status in forms.UPDATE_STATUSES else "investigating",
        "publish_affected": "1" if publish_affected else "",
    }
    if kind != "resolution":
        values["next_update_at"] = forms.input_value(next_at, settings.timezone)
    else:
        # R7: when the service actually recovered; now unless the writer corrects it.
        values["resolved_at"] = forms.input_value(now, settings.timezone)
    return values


def typed_next_update(values: dict[str, Any], zone: str) -> dt.datetime | None:
    """The compose box's next-update time, or None while it is blank or not a time yet."""
    text = str(values.get("next_update_at") or "").strip()
    if not text:
        return None
    try:
        return inputs.parse_time(text, zone, field="next_update_at")
    except inputs.BadInput:
        return None


def check(
    incident: Incident, values: dict[str, Any], zone: str = "Asia/Tokyo"
) -> dict[str, list[Finding]]:
    """The message check on the compose box's texts; internal notes are not checked.

    The typed next-update time goes with it, so a text promising another time
    is marked while it is typed (``next-update-mismatch``, R5).
    """
    if values.get("audience") == "internal" and values.get("kind") != "resolution":
        return {}
    kind = chosen_kind(incident, values.get("kind"))
    texts = {locale: str(values.get(f"body_{locale}") or "") for locale in LOCALES}
    next_at = typed_next_update(values, zone) if kind != "resolution" else None
    return notices.check_texts(incident, kind, texts, next_update_at=next_at, zone=zone)


def blocking(findings: dict[str, list[Finding]]) -> bool:
    """True when a finding would stop the publish (an error), so the override shows."""
    return any(has_errors(items) for items in findings.values())


def compose_context(
    session: Session,
    user: User,
    incident: Incident,
    values: dict[str, Any],
    findings: dict[str, list[Finding]],
) -> dict[str, Any]:
    """What the compose box template needs besides the typed values.

    Shared by the record page and its compose/check fragments, so both draw
    the same box (kinds offered, where it posts, whether an override shows).
    """
    kind = chosen_kind(incident, values.get("kind"))
    base = f"/console/incidents/{incident.reference}"
    english_readers = languages.english_readers(session, incident)
    return {
        "kind": kind,
        "kinds": compose_kinds(incident),
        "action": f"{base}/resolve" if kind == "resolution" else f"{base}/updates",
        "findings": findings,
        "blocking": blocking(findings),
        "internal": values.get("audience") == "internal" and kind != "resolution",
        "can_override": team_rules.can(user.role, "message.override_check"),
        "statuses": forms.UPDATE_STATUSES,
        # English subscribers get the title as their subject: ask for it in the box.
        "english_readers": english_readers,
        "ask_title_en": english_readers > 0 and not incident.title_en,
        "affected_known": incident.estimated_affected_customers is not None,
    }


def deliveries(session: Session, incident: Incident) -> dict[int, DeliveryCounts]:
    """Each published notice's delivery counts, by update id (R4, R26), in one count query."""
    messages = notices.messages_for_incident(session, incident.id)
    found = notify.counts_many(session, (message.id for message in messages.values()))
    return {
        update_id: found[message.id]
        for update_id, message in messages.items()
        if message.id in found
    }


def first_deliveries(session: Session, incident: Incident) -> dict[int, DeliveryCounts]:
    """The first public notice's delivery counts alone, by its update id (R4).

    The first-notice clock polls every few seconds and reads only this one
    notice, so it does not count the incident's other notices.
    """
    public = incident.public_updates
    if not public:
        return {}
    first = public[0]
    message = notices.message_for_update(session, first.id)
    if message is None:
        return {}
    return {first.id: notify.counts(session, message.id)}


def first_notice(
    settings: Settings, incident: Incident, counts: dict[int, DeliveryCounts]
) -> tuple[rules.FirstNotice, DeliveryCounts | None]:
    """R4: the first-notice clock, and the first notice's delivery counts it was read from."""
    public = incident.public_updates
    first = public[0] if public else None
    reached = counts.get(first.id) if first is not None else None
    clock = rules.first_notice(
        declared_at=incident.declared_at,
        published_at=first.published_at if first is not None else None,
        delivered_at=reached.last_delivered_at if reached is not None else None,
        minutes=settings.first_notice_minutes,
    )
    return clock, reached


def clock_time(value: dt.datetime | None, zone: str) -> str:
    """HH:MM in the team's zone, for the first-notice sentence."""
    return clock_local(value, zone)


def clock_context(
    settings: Settings, incident: Incident, counts: dict[int, DeliveryCounts]
) -> dict[str, Any]:
    """The first-notice clock and its times as the page prints them (R4)."""
    clock, reached = first_notice(settings, incident, counts)
    return {
        "clock": clock,
        "clock_published": clock_time(clock.published_at, settings.timezone),
        "clock_delivered": clock_time(clock.delivered_at, settings.timezone),
        # Still on its way: the page keeps asking until the last customer has it.
        "clock_waiting": reached is not None and clock.delivered_at is None,
        "clock_counts": reached,
        "poll_seconds": POLL_SECONDS,
    }


@dataclass(frozen=True)
class Override:
    """A message the check refused that a senior published anyway, and why."""

    actor: str
    reason: str
    rules: list[str]


def overrides(incident: Incident, history: list[Event]) -> dict[int, Override]:
    """Check overrides by the update they let through (event ``message.check_overridden``).

    ``history`` is the incident's event log, as the page already loaded it.
    Each override names its update (``update_id``), so two overrides in a row,
    or an override recorded after its update's event, still land on the right
    update; older overrides that name none still show, on the update that
    followed them.
    """
    resolution = next((u.id for u in incident.public_updates if u.kind == "resolution"), None)
    found: dict[int, Override] = {}
    # Overrides recorded before they named their update were written just before
    # the update's own event: such an override belongs to the next event that
    # names an update (the history is oldest first).
    unnamed: Override | None = None
    for event in history:
        after = event.after or {}
        if event.action == "message.check_overridden":
            names = [rule for items in (after.get("findings") or {}).values() for rule in items]
            override = Override(event.actor, str(after.get("reason") or ""), sorted(set(names)))
            if after.get("update_id") is None:
                unnamed = override
            else:
                found[int(after["update_id"])] = override
            continue
        update_id = after.get("update_id")
        if update_id is None and event.action == "incident.resolved":
            update_id = resolution
        if unnamed is not None and update_id is not None:
            found.setdefault(int(update_id), unnamed)
            unnamed = None
    return found
