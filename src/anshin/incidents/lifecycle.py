"""An incident's life after the fact: its times, reopening it, the report it promised.

``service`` declares, publishes and resolves; this module changes what those
steps recorded when the facts turn out otherwise:

* the start of the outage is often learnt after the declaration, and the
  recovery happened before someone clicked publish — both are facts a person
  corrects (R1, R7), each change kept as an event with the times before and
  after;
* a resolved incident that comes back is reopened by a senior: its
  components are down again, customers get a ``reopened`` notice (checked
  like any other, R3, R12–R16), and the update cadence starts again (R5);
* the resolution notice promises a report by a date (R7): the report notice
  (R8) keeps that promise and clears the dashboard's due item
  (:func:`reports_owed`).

Each function takes the caller's session, writes rows and an event in one
transaction and republishes the status page; the caller commits.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin import events
from anshin.comms.kinds import MessageKind
from anshin.config import Settings
from anshin.db import lock_for_update, utcnow
from anshin.errors import Conflict, Forbidden, InvalidInput
from anshin.i18n import N_
from anshin.incidents import cadence, notices, page, rules, time_rules
from anshin.incidents import messages as composer
from anshin.incidents.components import recompute_component_statuses
from anshin.incidents.models import Incident, IncidentUpdate
from anshin.incidents.record import snapshot
from anshin.team import rules as team_rules

# Where a reopened incident stands again: still looking, or the cause already known.
REOPEN_STATUSES: tuple[str, ...] = (
    rules.IncidentStatus.INVESTIGATING,
    rules.IncidentStatus.IDENTIFIED,
)


def _times(incident: Incident) -> dict[str, dt.datetime | None]:
    return {"started_at": incident.started_at, "resolved_at": incident.resolved_at}


def correct_times(
    session: Session,
    settings: Settings,
    incident: Incident,
    *,
    started_at: dt.datetime | None = None,
    resolved_at: dt.datetime | None = None,
    actor: str,
    now: dt.datetime | None = None,
) -> Incident:
    """Correct when the outage started and (once resolved) when it recovered (R1, R7).

    Only the times given change. A recovery time belongs to a resolved
    incident; neither time may be in the future, and recovery is not before
    the start. The event ``incident.times_corrected`` keeps both times before
    and after.
    """
    now = now or utcnow()
    lock_for_update(session, incident)
    if started_at is None and resolved_at is None:
        raise InvalidInput(
            N_("Give a start time or a recovery time to correct."), field="started_at"
        )
    if resolved_at is not None and incident.status != "resolved":
        raise InvalidInput(
            N_("Only a resolved incident has a recovery time to correct."), field="resolved_at"
        )
    new_start = started_at or incident.started_at
    new_recovery = resolved_at or incident.resolved_at
    # The refusal names the time that was changed: a new recovery before the start is
    # the recovery's fault, a new start after the recovery the start's.
    if new_recovery is not None and new_recovery != incident.resolved_at:
        time_rules.check_recovery_time(new_recovery, started_at=new_start, now=now)
    time_rules.check_start_time(
        new_start, detected_at=incident.detected_at, resolved_at=new_recovery, now=now
    )
    before = _times(incident)
    incident.started_at = new_start
    incident.resolved_at = new_recovery
    after = _times(incident)
    if after == before:
        return incident
    incident.updated_at = now
    session.flush()
    events.record(
        session,
        actor=actor,
        entity_type="incident",
        entity_id=incident.id,
        action="incident.times_corrected",
        before=before,
        after=after,
    )
    page.republish(session, settings, now=now)
    return incident


def reopen(
    session: Session,
    settings: Settings,
    incident: Incident,
    *,
    body_ja: str,
    body_en: str | None = None,
    status: str = rules.IncidentStatus.INVESTIGATING,
    next_update_at: dt.datetime | None = None,
    actor: str,
    actor_role: str,
    override_reason: str | None = None,
    now: dt.datetime | None = None,
) -> IncidentUpdate:
    """A resolved incident came back: reopen it with a ``reopened`` notice (R5, R7, R22).

    Senior or above (``incident.reopen``). The components go back to the
    incident's impact, the recovery time is cleared, the notice is checked and
    queued for every subscriber, and its ``next_update_at`` (the cadence's,
    or earlier) restarts the clock the dashboard counts down to.
    """
    now = now or utcnow()
    if not team_rules.can(actor_role, "incident.reopen"):
        raise Forbidden(N_("Only a senior or above can reopen an incident."))
    lock_for_update(session, incident)
    if incident.status != rules.IncidentStatus.RESOLVED:
        raise Conflict(N_("Only a resolved incident can be reopened."))
    if status not in REOPEN_STATUSES:
        raise InvalidInput(
            N_("A reopened incident is investigating or identified."), field="status"
        )
    text_ja = rules.check_text(body_ja, field="body_ja", limit=rules.TEXT_MAX, required=True)
    text_en = rules.check_text(body_en, field="body_en", limit=rules.TEXT_MAX)
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
    before = snapshot(incident)
    update, checked = notices.add_public_update(
        session,
        settings,
        incident,
        MessageKind.REOPENED,
        status,
        {"ja": text_ja, "en": text_en},
        title_en=None,
        next_update_at=promised,
        now=now,
        actor=actor,
        actor_role=actor_role,
        override_reason=override_reason,
    )
    incident.status = status
    incident.resolved_at = None
    incident.updated_at = now
    session.flush()
    checked.record_override(session, incident, update, actor=actor)
    events.record(
        session,
        actor=actor,
        entity_type="incident",
        entity_id=incident.id,
        action="incident.reopened",
        before=before,
        after={**snapshot(incident), "update_id": update.id, "next_update_at": promised},
    )
    recompute_component_statuses(
        session, [ic.component_id for ic in incident.components], actor=actor, now=now
    )
    notices.send_update(session, settings, incident, update, actor=actor, now=now)
    page.republish(session, settings, now=now)
    return update


def reopen_draft(
    session: Session,
    settings: Settings,
    incident: Incident,
    now: dt.datetime,
    next_update_at: dt.datetime | None = None,
) -> tuple[dict[str, str], dt.datetime]:
    """The ``reopened`` template's texts (ja, en) and the next-update time they promise (R11).

    The cadence's time as a person writes it (``promised_next_update_at``)
    unless ``next_update_at`` names an earlier one: the text and the recorded
    time always agree (``next-update-mismatch``).
    """
    return cadence.promising_draft(
        session, settings, incident, MessageKind.REOPENED, now, next_update_at
    )


def publish_report(
    session: Session,
    settings: Settings,
    incident: Incident,
    *,
    body_ja: str,
    body_en: str | None = None,
    actor: str,
    actor_role: str = "operator",
    override_reason: str | None = None,
    now: dt.datetime | None = None,
) -> IncidentUpdate:
    """R8: the report notice keeps the resolution notice's promise (R7) and clears the due item.

    Only a resolved incident has a report to announce. The notice is checked
    and queued for every subscriber like any public message.
    """
    now = now or utcnow()
    lock_for_update(session, incident)
    if incident.status != rules.IncidentStatus.RESOLVED:
        raise Conflict(N_("The report notice follows the resolution; resolve the incident first."))
    text_ja = rules.check_text(body_ja, field="body_ja", limit=rules.TEXT_MAX, required=True)
    text_en = rules.check_text(body_en, field="body_en", limit=rules.TEXT_MAX)
    update, checked = notices.add_public_update(
        session,
        settings,
        incident,
        MessageKind.REPORT_NOTICE,
        rules.IncidentStatus.RESOLVED,
        {"ja": text_ja, "en": text_en},
        title_en=None,
        next_update_at=None,
        now=now,
        actor=actor,
        actor_role=actor_role,
        override_reason=override_reason,
    )
    before = {"report_due_at": incident.report_due_at, "report_published_at": None}
    incident.report_published_at = now
    incident.updated_at = now
    session.flush()
    checked.record_override(session, incident, update, actor=actor)
    events.record(
        session,
        actor=actor,
        entity_type="incident",
        entity_id=incident.id,
        action="incident.report_notice",
        before=before,
        after={
            "report_due_at": incident.report_due_at,
            "report_published_at": now,
            "update_id": update.id,
        },
    )
    notices.send_update(session, settings, incident, update, actor=actor, now=now)
    page.republish(session, settings, now=now)
    return update


def report_draft(
    session: Session, settings: Settings, incident: Incident, now: dt.datetime
) -> dict[str, str]:
    """The ``report_notice`` template's texts (ja, en), from the record (R8, R11)."""
    return composer.compose_all(
        session, settings, incident, MessageKind.REPORT_NOTICE, "status_page", now
    )


def reports_owed(session: Session, now: dt.datetime) -> list[tuple[Incident, time_rules.ReportDue]]:
    """Resolved incidents whose promised report is not published yet, soonest due first (R7)."""
    rows = session.scalars(
        select(Incident)
        .where(
            Incident.status == rules.IncidentStatus.RESOLVED,
            Incident.report_due_at.is_not(None),
            Incident.report_published_at.is_(None),
        )
        .order_by(Incident.report_due_at)
        .limit(200)
    )
    owed: list[tuple[Incident, time_rules.ReportDue]] = []
    for incident in rows:
        due = time_rules.report_due(
            report_due_at=incident.report_due_at,
            published_at=incident.report_published_at,
            now=now,
        )
        if due is not None:
            owed.append((incident, due))
    return owed
