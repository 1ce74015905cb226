"""What the incident JSON API answers, shared with ``anshin … --format json`` (R1-R5).

The CLI prints exactly what the API returns, so a script can move between the
two without learning a second format. Times go out in ISO 8601 with the team's
offset (stored UTC, docs/design.md). Internal notes and internal updates appear
here because every caller of the staff API is signed-in staff; the public JSON
is the status page's ``/api/v2/*`` and never carries them. What callers may
send lives in ``incidents.schemas``.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents import cadence
from anshin.incidents.models import Component, Incident, IncidentUpdate, Maintenance
from anshin.inputs import Time
from anshin.timefmt import to_zone


class DueOut(BaseModel):
    """The next message the incident owes its customers (R4, R5); negative seconds = overdue."""

    kind: str
    due_at: dt.datetime
    seconds_left: int
    overdue: bool


class AffectedComponentOut(BaseModel):
    """A component an incident holds down, and how badly."""

    id: int
    name: str
    name_en: str | None
    impact: str
    status: str


class UpdateOut(BaseModel):
    """One published message."""

    id: int
    kind: str
    status: str
    audience: str
    body_ja: str
    body_en: str | None
    published_at: dt.datetime
    next_update_at: dt.datetime | None
    author: str


class IncidentOut(BaseModel):
    """The whole shared record (R1, R2) with its messages and what is owed next."""

    id: int
    reference: str
    title: str
    title_en: str | None
    summary: str
    summary_en: str | None
    severity: str
    status: str
    started_at: dt.datetime
    detected_at: dt.datetime
    declared_at: dt.datetime
    resolved_at: dt.datetime | None
    report_due_at: dt.datetime | None = None
    report_published_at: dt.datetime | None = None
    estimated_affected_customers: int | None
    estimated_recovery_at: dt.datetime | None
    recovery_confirmed: bool
    cause: str | None
    cause_confirmed: bool
    workaround: str | None
    workaround_en: str | None
    internal_notes: str | None
    created_by: str
    updated_at: dt.datetime
    components: list[AffectedComponentOut]
    updates: list[UpdateOut]
    next_update_at: dt.datetime | None
    due: DueOut | None


class IncidentList(BaseModel):
    """Incidents, newest first, and how many match the filters in all (for paging)."""

    incidents: list[IncidentOut]
    total: int = 0


class NoNewsDraftOut(BaseModel):
    """The prepared "引き続き対応中です" update in both languages, ready to post (R5)."""

    body_ja: str
    body_en: str
    next_update_at: dt.datetime


class ComponentOut(BaseModel):
    """A component and its derived status."""

    id: int
    name: str
    name_en: str | None
    description: str | None
    group: str | None
    group_en: str | None
    status: str
    position: int


class ComponentList(BaseModel):
    """Every component in display order."""

    components: list[ComponentOut]


class MaintenanceOut(BaseModel):
    """A maintenance window."""

    id: int
    reference: str
    title: str
    title_en: str | None
    body: str
    body_en: str | None
    status: str
    scheduled_start: Time
    scheduled_end: Time
    completed_at: dt.datetime | None
    components: list[str]
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime


class MaintenanceList(BaseModel):
    """Maintenance windows by start time."""

    maintenances: list[MaintenanceOut]


def _z(value: dt.datetime | None, zone: str) -> dt.datetime | None:
    return to_zone(value, zone)


def _zz(value: dt.datetime, zone: str) -> dt.datetime:
    local = to_zone(value, zone)
    assert local is not None
    return local


def update_out(update: IncidentUpdate, zone: str) -> UpdateOut:
    """One update in the team's zone."""
    return UpdateOut(
        id=update.id,
        kind=update.kind,
        status=update.status,
        audience=update.audience,
        body_ja=update.body_ja,
        body_en=update.body_en,
        published_at=_zz(update.published_at, zone),
        next_update_at=_z(update.next_update_at, zone),
        author=update.author,
    )


def incident_out(incident: Incident, settings: Settings, now: Time | None = None) -> IncidentOut:
    """The incident as the API and ``--format json`` show it, with its due timer."""
    zone = settings.timezone
    due = cadence.due(settings, incident, now or utcnow())
    public = incident.public_updates
    promised = public[-1].next_update_at if public and incident.status != "resolved" else None
    return IncidentOut(
        id=incident.id,
        reference=incident.reference,
        title=incident.title,
        title_en=incident.title_en,
        summary=incident.summary,
        summary_en=incident.summary_en,
        severity=incident.severity,
        status=incident.status,
        started_at=_zz(incident.started_at, zone),
        detected_at=_zz(incident.detected_at, zone),
        declared_at=_zz(incident.declared_at, zone),
        resolved_at=_z(incident.resolved_at, zone),
        report_due_at=_z(incident.report_due_at, zone),
        report_published_at=_z(incident.report_published_at, zone),
        estimated_affected_customers=incident.estimated_affected_customers,
        estimated_recovery_at=_z(incident.estimated_recovery_at, zone),
        recovery_confirmed=incident.recovery_confirmed,
        cause=incident.cause,
        cause_confirmed=incident.cause_confirmed,
        workaround=incident.workaround,
        workaround_en=incident.workaround_en,
        internal_notes=incident.internal_notes,
        created_by=incident.created_by,
        updated_at=_zz(incident.updated_at, zone),
        components=[
            AffectedComponentOut(
                id=ic.component.id,
                name=ic.component.name,
                name_en=ic.component.name_en,
                impact=ic.impact,
                status=ic.component.status,
            )
            for ic in sorted(incident.components, key=lambda c: c.component.position)
        ],
        updates=[update_out(u, zone) for u in incident.updates],
        next_update_at=_z(promised, zone),
        due=(
            DueOut(
                kind=due.kind,
                due_at=_zz(due.due_at, zone),
                seconds_left=due.seconds_left,
                overdue=due.overdue,
            )
            if due
            else None
        ),
    )


def component_out(component: Component) -> ComponentOut:
    """A component with its group's names."""
    group = component.group
    return ComponentOut(
        id=component.id,
        name=component.name,
        name_en=component.name_en,
        description=component.description,
        group=group.name if group else None,
        group_en=group.name_en if group else None,
        status=component.status,
        position=component.position,
    )


def maintenance_out(maintenance: Maintenance, zone: str) -> MaintenanceOut:
    """A maintenance window in the team's zone."""
    return MaintenanceOut(
        id=maintenance.id,
        reference=maintenance.reference,
        title=maintenance.title,
        title_en=maintenance.title_en,
        body=maintenance.body,
        body_en=maintenance.body_en,
        status=maintenance.status,
        scheduled_start=_zz(maintenance.scheduled_start, zone),
        scheduled_end=_zz(maintenance.scheduled_end, zone),
        completed_at=_z(maintenance.completed_at, zone),
        components=[mc.component.name for mc in maintenance.components],
        created_by=maintenance.created_by,
        created_at=_zz(maintenance.created_at, zone),
        updated_at=_zz(maintenance.updated_at, zone),
    )
