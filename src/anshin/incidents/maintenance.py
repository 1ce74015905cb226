"""Scheduled maintenance announced in advance (R10, R34).

Maintenance in progress puts its components ``under_maintenance``;
completing it hands them back to whatever else still holds them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin import events, references
from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import Conflict, InvalidInput, NotFound
from anshin.i18n import N_
from anshin.incidents import notices, page, rules
from anshin.incidents.components import recompute_component_statuses, resolve_components
from anshin.incidents.models import Maintenance, MaintenanceComponent
from anshin.inputs import record_key

# Statuses a window may move to from each status.
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    "scheduled": ("in_progress", "completed"),
    "in_progress": ("verifying", "completed"),
    "verifying": ("in_progress", "completed"),
    "completed": (),
}


def schedule(
    session: Session,
    settings: Settings,
    *,
    title: str,
    scheduled_start: dt.datetime,
    scheduled_end: dt.datetime,
    body: str = "",
    title_en: str | None = None,
    body_en: str | None = None,
    components: list[str] | None = None,
    notify_subscribers: bool = True,
    actor: str,
    now: dt.datetime | None = None,
) -> Maintenance:
    """Announce a maintenance window; it appears on the status page at once (R10).

    Subscribers of its components are told in advance by email, chat and
    webhook (``maintenance_notice`` templates) unless ``notify_subscribers``
    is off — a window too small to mail everyone about still shows on the page.
    """
    now = now or utcnow()
    clean_title = rules.check_text(title, field="title", limit=rules.TITLE_MAX, required=True)
    if scheduled_end <= scheduled_start:
        raise InvalidInput(N_("The end must be after the start."), field="scheduled_end")
    if scheduled_end <= now:
        raise InvalidInput(N_("The maintenance window has already ended."), field="scheduled_end")
    targets = resolve_components(session, components or [])
    maintenance = Maintenance(
        reference=references.next_reference(
            session, "MNT", scheduled_start.year, existing=Maintenance.reference
        ),
        title=clean_title or "",
        title_en=rules.check_text(title_en, field="title_en", limit=rules.TITLE_MAX),
        body=rules.check_text(body, field="body", limit=rules.TEXT_MAX) or "",
        body_en=rules.check_text(body_en, field="body_en", limit=rules.TEXT_MAX),
        scheduled_start=scheduled_start,
        scheduled_end=scheduled_end,
        created_by=actor,
        created_at=now,
        updated_at=now,
        components=[MaintenanceComponent(component=c, component_id=c.id) for c in targets],
    )
    session.add(maintenance)
    session.flush()
    events.record(
        session,
        actor=actor,
        entity_type="maintenance",
        entity_id=maintenance.id,
        action="maintenance.scheduled",
        after={
            "reference": maintenance.reference,
            "title": maintenance.title,
            "scheduled_start": scheduled_start,
            "scheduled_end": scheduled_end,
            "components": [c.name for c in targets],
        },
    )
    if notify_subscribers:
        notices.send_maintenance(session, settings, maintenance, actor=actor, now=now)
    page.republish(session, settings, now=now)
    return maintenance


def get(session: Session, reference_or_id: str | int) -> Maintenance:
    """A maintenance window by reference (MNT-2026-0001) or id; 404 otherwise."""
    found: Maintenance | None
    key = record_key(reference_or_id, "ref")
    if isinstance(key, int):
        found = session.get(Maintenance, key)
    else:
        found = session.scalar(select(Maintenance).where(Maintenance.reference == key.upper()))
    if found is None:
        raise NotFound(N_("No such maintenance: {ref}."), ref=str(reference_or_id))
    return found


def set_status(
    session: Session,
    settings: Settings,
    maintenance: Maintenance,
    status: str,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> Maintenance:
    """Move a window along scheduled → in progress → verifying → completed."""
    now = now or utcnow()
    if status not in rules.MAINTENANCE_STATUSES:
        raise InvalidInput(N_("Unknown maintenance status: {value}."), field="status", value=status)
    if status not in NEXT_STATUSES[maintenance.status]:
        raise Conflict(
            N_("Maintenance cannot go from {old} to {new}."), old=maintenance.status, new=status
        )
    before = maintenance.status
    maintenance.status = status
    maintenance.updated_at = now
    if status == "completed":
        maintenance.completed_at = now
    session.flush()
    events.record(
        session,
        actor=actor,
        entity_type="maintenance",
        entity_id=maintenance.id,
        action="maintenance.status_changed",
        before={"status": before},
        after={"status": status},
    )
    recompute_component_statuses(
        session, [mc.component_id for mc in maintenance.components], actor=actor, now=now
    )
    page.republish(session, settings, now=now)
    return maintenance


def list_maintenances(session: Session, *, include_completed: bool = False) -> list[Maintenance]:
    """Windows by start time; completed ones only when asked."""
    stmt = select(Maintenance).order_by(Maintenance.scheduled_start)
    if not include_completed:
        stmt = stmt.where(Maintenance.status != "completed")
    return list(session.scalars(stmt))
