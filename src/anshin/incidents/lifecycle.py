"""An incident's life after the fact: correcting its start and recovery times, reopening it.

``service`` declares, publishes and resolves; this module changes what those
steps recorded when the facts turn out otherwise:

* the start of the outage is often learnt after the declaration, and the
  recovery happened before someone clicked publish — both are facts a person
  corrects (R1, R7), each change kept as an event with the times before and
  after;

Each function takes the caller's session, writes rows and an event in one
transaction and republishes the status page; the caller commits.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from anshin import events
from anshin.config import Settings
from anshin.db import lock_for_update, utcnow
from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.incidents import time_rules
from anshin.incidents.models import Incident
from anshin.statuspage import service as statuspage


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
    statuspage.publish(session, settings, now=now)
    return incident
