"""Incident use cases: declare, publish updates, resolve, edit the shared record.

Each function takes the caller's session, checks input through ``rules``,
writes rows and an event in the same transaction, and republishes the status
page (docs/design.md "published artefact"). The caller commits. What an
incident owes its customers next (the timers, the "no news" draft) is
``incidents.cadence``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin import events
from anshin.config import Settings
from anshin.db import lock_for_update, utcnow
from anshin.errors import Conflict, InvalidInput, NotFound
from anshin.i18n import N_
from anshin.incidents import notices, page, rules, time_rules
from anshin.incidents.components import (
    recompute_component_statuses,
    resolve_components,
)
from anshin.incidents.models import Incident, IncidentComponent, IncidentUpdate
from anshin.incidents.record import IncidentInput as IncidentInput
from anshin.incidents.record import clean_facts, next_reference, snapshot
from anshin.inputs import record_key


def declare(
    session: Session,
    settings: Settings,
    data: IncidentInput,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> Incident:
    """Open an incident, mark its components, start the first-notice clock (R1, R4).

    The incident is not on the public page until its first notice is published;
    its components' statuses are, at once.
    """
    now = now or utcnow()
    facts = clean_facts(data)
    started_at = data.started_at or data.detected_at or now
    detected_at = data.detected_at or now
    rules.check_times(started_at=started_at, detected_at=detected_at, declared_at=now)
    impact = rules.check_component_status(
        data.component_impact or rules.DEFAULT_IMPACT[facts["severity"]]
    )
    components = resolve_components(session, data.components)
    incident = Incident(
        reference=next_reference(session, now.year),
        status="investigating",
        started_at=started_at,
        detected_at=detected_at,
        declared_at=now,
        created_by=actor,
        updated_at=now,
        **facts,
    )
    incident.components = [
        IncidentComponent(component=c, component_id=c.id, impact=impact) for c in components
    ]
    session.add(incident)
    session.flush()
    events.record(
        session,
        actor=actor,
        entity_type="incident",
        entity_id=incident.id,
        action="incident.declared",
        after=snapshot(incident),
    )
    recompute_component_statuses(session, [c.id for c in components], actor=actor, now=now)
    page.republish(session, settings, now=now)
    return incident


def get(session: Session, reference_or_id: str | int) -> Incident:
    """The incident by reference (INC-2026-0001) or numeric id; 404 otherwise."""
    incident: Incident | None
    key = record_key(reference_or_id, "ref")
    if isinstance(key, int):
        incident = session.get(Incident, key)
    else:
        incident = session.scalar(select(Incident).where(Incident.reference == key.upper()))
    if incident is None:
        raise NotFound(N_("No such incident: {ref}."), ref=str(reference_or_id))
    return incident


def list_incidents(
    session: Session, *, open_only: bool = False, limit: int = 200
) -> list[Incident]:
    """Incidents, open ones first then newest first."""
    stmt = select(Incident).order_by(Incident.declared_at.desc()).limit(limit)
    if open_only:
        stmt = stmt.where(Incident.status != "resolved")
    return list(session.scalars(stmt))


def publish_update(
    session: Session,
    settings: Settings,
    incident: Incident,
    *,
    body_ja: str,
    body_en: str | None = None,
    status: str | None = None,
    next_update_at: dt.datetime | None = None,
    audience: str = "public",
    kind: str | None = None,
    actor: str,
    actor_role: str = "operator",
    override_reason: str | None = None,
    title_en: str | None = None,
    now: dt.datetime | None = None,
) -> IncidentUpdate:
    """Post a message on an open incident: the first notice, an update, a no-news update.

    R3/R5: every public update carries ``next_update_at`` — the cadence's time
    unless the author promises earlier. A resolved incident takes no updates.
    A public text passes the message check first (or a senior overrides it with
    ``override_reason``), and is queued for every subscriber in this transaction
    (R4, see :mod:`anshin.incidents.notices`). Every published locale is
    written before the check (an empty English text from the kind's template),
    so what is checked is what the status page and every subscriber get;
    ``title_en`` gives the incident its English title when English readers
    need one.
    """
    now = now or utcnow()
    # Concurrency: decide first notice or update, and resolved or not, on the row as
    # it is once no other publish can change it (one first notice however many race).
    lock_for_update(session, incident)
    if incident.status == "resolved":
        raise Conflict(N_("This incident is already resolved; it takes no more updates."))
    if audience not in rules.AUDIENCES:
        raise InvalidInput(N_("Unknown audience: {value}."), field="audience", value=audience)
    new_status = rules.check_status(status or incident.status)
    if new_status == "resolved":
        update = resolve(
            session,
            settings,
            incident,
            body_ja=body_ja,
            body_en=body_en,
            actor=actor,
            actor_role=actor_role,
            override_reason=override_reason,
            title_en=title_en,
            now=now,
        )
        return update
    text_ja = rules.check_text(body_ja, field="body_ja", limit=rules.TEXT_MAX, required=True)
    text_en = rules.check_text(body_en, field="body_en", limit=rules.TEXT_MAX)
    promised: dt.datetime | None = None
    if audience == "public":
        if next_update_at is None:  # R5: the time the text promises, else the cadence's
            next_update_at = notices.time_promised(
                {"ja": text_ja, "en": text_en}, now, settings.timezone
            )
        promised = rules.choose_next_update_at(
            next_update_at,
            published_at=now,
            severity=incident.severity,
            cadence_minutes=settings.cadence_minutes(),
        )
    if kind is None:
        kind = "first_notice" if not incident.public_updates and audience == "public" else "update"
    if kind not in rules.OPEN_UPDATE_KINDS:
        raise InvalidInput(N_("Unknown update kind: {value}."), field="kind", value=kind)
    before = snapshot(incident)
    checked = None
    if audience == "public":
        update, checked = notices.add_public_update(
            session,
            settings,
            incident,
            kind,
            new_status,
            {"ja": text_ja, "en": text_en},
            title_en=title_en,
            next_update_at=promised,
            now=now,
            actor=actor,
            actor_role=actor_role,
            override_reason=override_reason,
        )
    else:  # an internal note: no check, no customer
        update = IncidentUpdate(
            incident=incident,
            kind=kind,
            status=new_status,
            body_ja=text_ja or "",
            body_en=text_en,
            audience=audience,
            published_at=now,
            next_update_at=promised,
            author=actor,
        )
        session.add(update)
    incident.status = new_status
    incident.updated_at = now
    session.flush()
    if checked is not None:
        checked.record_override(session, incident, update, actor=actor)
    events.record(
        session,
        actor=actor,
        entity_type="incident",
        entity_id=incident.id,
        action=f"incident.{kind}",
        before={"status": before["status"]},
        after={
            "status": new_status,
            "update_id": update.id,
            "audience": audience,
            "next_update_at": promised,
        },
    )
    if audience == "public":
        notices.send_update(session, settings, incident, update, actor=actor, now=now)
        page.republish(session, settings, now=now)
    return update


def resolve(
    session: Session,
    settings: Settings,
    incident: Incident,
    *,
    body_ja: str,
    body_en: str | None = None,
    actor: str,
    actor_role: str = "operator",
    override_reason: str | None = None,
    title_en: str | None = None,
    resolved_at: dt.datetime | None = None,
    report_due_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> IncidentUpdate:
    """Close the incident with a resolution notice and restore its components (R7).

    The notice is checked (R12: it apologises) and queued for every
    subscriber in this transaction, like any public update. ``resolved_at`` is
    when the service actually recovered (not before the start, not in the
    future); the moment of publishing when not given. ``report_due_at`` is the
    date the notice promises the report by (default: the template's, 7 days
    after the recovery); the dashboard counts down to it until the report
    notice is published.
    """
    now = now or utcnow()
    # Concurrency: two resolves at once give one resolution notice (see publish_update).
    lock_for_update(session, incident)
    if incident.status == "resolved":
        raise Conflict(N_("This incident is already resolved; it takes no more updates."))
    recovered = time_rules.check_recovery_time(
        resolved_at or now, started_at=incident.started_at, now=now
    )
    report_due = (
        time_rules.check_report_due(report_due_at, recovered_at=recovered)
        if report_due_at is not None
        else time_rules.report_due_at(recovered, settings.timezone)
    )
    text_ja = rules.check_text(body_ja, field="body_ja", limit=rules.TEXT_MAX, required=True)
    text_en = rules.check_text(body_en, field="body_en", limit=rules.TEXT_MAX)
    before = snapshot(incident)
    update, checked = notices.add_public_update(
        session,
        settings,
        incident,
        "resolution",
        "resolved",
        {"ja": text_ja, "en": text_en},
        title_en=title_en,
        next_update_at=None,
        now=now,
        actor=actor,
        actor_role=actor_role,
        override_reason=override_reason,
    )
    incident.status = "resolved"
    incident.resolved_at = recovered
    incident.report_due_at = report_due
    incident.report_published_at = None
    incident.updated_at = now
    session.flush()
    checked.record_override(session, incident, update, actor=actor)
    events.record(
        session,
        actor=actor,
        entity_type="incident",
        entity_id=incident.id,
        action="incident.resolved",
        before=before,
        after=snapshot(incident),
    )
    recompute_component_statuses(
        session, [ic.component_id for ic in incident.components], actor=actor, now=now
    )
    notices.send_update(session, settings, incident, update, actor=actor, now=now)
    page.republish(session, settings, now=now)
    return update


def edit(
    session: Session,
    settings: Settings,
    incident: Incident,
    data: IncidentInput,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> Incident:
    """Change the shared record every agent answers from (R2); the event keeps the old facts."""
    now = now or utcnow()
    if incident.status == "resolved":
        raise Conflict(N_("This incident is already resolved; it takes no more updates."))
    facts = clean_facts(data)
    impact = rules.check_component_status(
        data.component_impact or rules.DEFAULT_IMPACT[facts["severity"]]
    )
    components = resolve_components(session, data.components)
    before = snapshot(incident)
    touched = {ic.component_id for ic in incident.components}
    for key, value in facts.items():
        setattr(incident, key, value)
    wanted = {c.id: c for c in components}
    incident.components = [ic for ic in incident.components if ic.component_id in wanted]
    for ic in incident.components:
        ic.impact = impact
    present = {ic.component_id for ic in incident.components}
    for component_id, component in wanted.items():
        if component_id not in present:
            incident.components.append(
                IncidentComponent(component=component, component_id=component_id, impact=impact)
            )
    incident.updated_at = now
    session.flush()
    events.record(
        session,
        actor=actor,
        entity_type="incident",
        entity_id=incident.id,
        action="incident.edited",
        before=before,
        after=snapshot(incident),
    )
    recompute_component_statuses(session, sorted(touched | set(wanted)), actor=actor, now=now)
    page.republish(session, settings, now=now)
    return incident
