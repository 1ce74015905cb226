"""Staff JSON API for incidents, components and maintenance (``/api/…``, docs at /api/docs).

Callers authenticate with a bearer API token or the console's session cookie;
a cookie-authenticated write must also send ``X-CSRF-Token``. Routes are thin:
parse, call the service, commit, return the stored record (the same shape
``anshin … --format json`` prints). A refusal leaves the database unchanged:
nothing is committed unless the whole service call succeeded.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request

from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.incidents import cadence, lifecycle, rules, search, service
from anshin.incidents import components as component_service
from anshin.incidents import maintenance as maintenance_service
from anshin.incidents.arguments import patched_input, update_arguments
from anshin.incidents.responses import (
    ComponentList,
    ComponentOut,
    IncidentList,
    IncidentOut,
    MaintenanceList,
    MaintenanceOut,
    NoNewsDraftOut,
    component_out,
    incident_out,
    maintenance_out,
)
from anshin.incidents.schemas import (
    ComponentCreate,
    IncidentCreate,
    IncidentPatch,
    MaintenanceCreate,
    MaintenanceStatusIn,
    ReopenCreate,
    ReportCreate,
    ResolveCreate,
    TimesPatch,
    UpdateCreate,
)
from anshin.inputs import Ref, to_utc
from anshin.timefmt import to_zone
from anshin.web.auth import DbSession, Operator, Senior
from anshin.web.deps import settings_of

router = APIRouter(prefix="/api", tags=["incidents"])

LIST_FILTERS: tuple[str, ...] = ("all", "open", *rules.STATUSES)


def _settings(request: Request) -> Settings:
    return settings_of(request)


@router.get("/incidents", response_model=IncidentList)
def list_incidents(
    request: Request,
    session: DbSession,
    user: Operator,
    status: Annotated[
        str, Query(max_length=20, description="all, open, or one status (e.g. resolved)")
    ] = "all",
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    q: Annotated[
        str, Query(max_length=search.QUERY_MAX, description="words in titles, summaries, updates")
    ] = "",
    component: Annotated[str, Query(max_length=200, description="a component's name or id")] = "",
    severity: Annotated[str, Query(max_length=10, description="sev1, sev2 or sev3")] = "",
    since: Annotated[
        dt.date | None, Query(description="declared on or after this day (team's zone)")
    ] = None,
    until: Annotated[
        dt.date | None, Query(description="declared on or before this day (team's zone)")
    ] = None,
) -> IncidentList:
    """Incidents, newest first; filters as the console's incident list (R2).

    ``?status=open`` for the ones still owing updates; ``q`` words must all
    appear (title, summary or any update); ``since``/``until`` are days.
    """
    if status not in LIST_FILTERS:
        raise InvalidInput(
            N_("Unknown filter: {value}. Use one of: {choices}."),
            field="status",
            value=status,
            choices=", ".join(LIST_FILTERS),
        )
    settings = _settings(request)
    now = utcnow()
    filters = search.Filters(
        q=q,
        component=component,
        severity=severity,
        status="" if status == "all" else status,
        since=since,
        until=until,
    )
    rows, total = search.search(session, filters, settings.timezone, limit=limit, offset=offset)
    return IncidentList(incidents=[incident_out(i, settings, now) for i in rows], total=total)


@router.post("/incidents", response_model=IncidentOut, status_code=201)
def declare(
    request: Request, session: DbSession, user: Operator, body: IncidentCreate
) -> IncidentOut:
    """Declare an incident (R1); the first notice is then due within 15 minutes (R4)."""
    settings = _settings(request)
    zone = settings.timezone
    data = service.IncidentInput(
        title=body.title,
        severity=body.severity,
        summary=body.summary,
        title_en=body.title_en,
        summary_en=body.summary_en,
        components=body.components,
        component_impact=body.impact,
        started_at=to_utc(body.started_at, zone, field="started_at", happened=True),
        detected_at=to_utc(body.detected_at, zone, field="detected_at", happened=True),
        estimated_affected_customers=body.estimated_affected_customers,
        estimated_recovery_at=to_utc(
            body.estimated_recovery_at, zone, field="estimated_recovery_at"
        ),
        recovery_confirmed=body.recovery_confirmed,
        cause=body.cause,
        cause_confirmed=body.cause_confirmed,
        workaround=body.workaround,
        workaround_en=body.workaround_en,
        internal_notes=body.internal_notes,
    )
    incident = service.declare(session, settings, data, actor=user.actor)
    session.commit()
    return incident_out(incident, settings)


@router.get("/incidents/{ref}", response_model=IncidentOut)
def get_incident(request: Request, session: DbSession, user: Operator, ref: Ref) -> IncidentOut:
    """One incident with every message and the next one due."""
    return incident_out(service.get(session, ref), _settings(request))


@router.patch("/incidents/{ref}", response_model=IncidentOut)
def edit_facts(
    request: Request, session: DbSession, user: Operator, ref: Ref, body: IncidentPatch
) -> IncidentOut:
    """Change facts of the shared record (R2); fields not sent keep their value."""
    settings = _settings(request)
    incident = service.get(session, ref)
    data = patched_input(incident, body, settings.timezone)
    service.edit(session, settings, incident, data, actor=user.actor)
    session.commit()
    return incident_out(incident, settings)


@router.post("/incidents/{ref}/updates", response_model=IncidentOut, status_code=201)
def post_update(
    request: Request, session: DbSession, user: Operator, ref: Ref, body: UpdateCreate
) -> IncidentOut:
    """Publish the first notice or an update (R4, R5); ``no_news`` posts the prepared text."""
    settings = _settings(request)
    now = utcnow()
    incident = service.get(session, ref)
    text_ja, text_en, promised, kind = update_arguments(
        session,
        settings,
        incident,
        body_ja=body.body_ja,
        body_en=body.body_en,
        next_update_at=to_utc(body.next_update_at, settings.timezone, field="next_update_at"),
        no_news=body.no_news,
        now=now,
    )
    service.publish_update(
        session,
        settings,
        incident,
        body_ja=text_ja,
        body_en=text_en,
        status=body.status,
        next_update_at=promised,
        audience=body.audience,
        kind=kind,
        actor=user.actor,
        actor_role=user.role,
        override_reason=body.override_reason,
        now=now,
    )
    session.commit()
    return incident_out(incident, settings, now)


@router.post("/incidents/{ref}/resolve", response_model=IncidentOut)
def resolve(
    request: Request, session: DbSession, user: Operator, ref: Ref, body: ResolveCreate
) -> IncidentOut:
    """Resolve with a resolution notice that promises the report (R7)."""
    settings = _settings(request)
    incident = service.get(session, ref)
    service.resolve(
        session,
        settings,
        incident,
        body_ja=body.body_ja,
        body_en=body.body_en,
        actor=user.actor,
        actor_role=user.role,
        override_reason=body.override_reason,
        resolved_at=to_utc(body.resolved_at, settings.timezone, field="resolved_at", happened=True),
        report_due_at=to_utc(body.report_due_at, settings.timezone, field="report_due_at"),
    )
    session.commit()
    return incident_out(incident, settings)


@router.post("/incidents/{ref}/reopen", response_model=IncidentOut)
def reopen(
    request: Request, session: DbSession, user: Senior, ref: Ref, body: ReopenCreate
) -> IncidentOut:
    """Reopen a resolved incident that came back (senior or above); the cadence restarts (R5)."""
    settings = _settings(request)
    now = utcnow()
    incident = service.get(session, ref)
    promised = to_utc(body.next_update_at, settings.timezone, field="next_update_at")
    body_ja, body_en = body.body_ja, body.body_en
    if body_ja is None:
        texts, _ = lifecycle.reopen_draft(session, settings, incident, now, promised)
        body_ja, body_en = texts["ja"], body_en or texts["en"]
    lifecycle.reopen(
        session,
        settings,
        incident,
        body_ja=body_ja,
        body_en=body_en,
        status=body.status,
        next_update_at=promised,
        actor=user.actor,
        actor_role=user.role,
        override_reason=body.override_reason,
        now=now,
    )
    session.commit()
    return incident_out(incident, settings, now)


@router.post("/incidents/{ref}/report", response_model=IncidentOut)
def publish_report(
    request: Request, session: DbSession, user: Operator, ref: Ref, body: ReportCreate
) -> IncidentOut:
    """Announce the report the resolution notice promised (R8); clears the due item (R7)."""
    settings = _settings(request)
    now = utcnow()
    incident = service.get(session, ref)
    body_ja, body_en = body.body_ja, body.body_en
    if body_ja is None:
        texts = lifecycle.report_draft(session, settings, incident, now)
        body_ja, body_en = texts["ja"], body_en or texts["en"]
    lifecycle.publish_report(
        session,
        settings,
        incident,
        body_ja=body_ja,
        body_en=body_en,
        actor=user.actor,
        actor_role=user.role,
        override_reason=body.override_reason,
        now=now,
    )
    session.commit()
    return incident_out(incident, settings, now)


@router.post("/incidents/{ref}/times", response_model=IncidentOut)
def correct_times(
    request: Request, session: DbSession, user: Operator, ref: Ref, body: TimesPatch
) -> IncidentOut:
    """Correct when the outage started and when it recovered (R1, R7); each change is an event."""
    settings = _settings(request)
    zone = settings.timezone
    incident = service.get(session, ref)
    lifecycle.correct_times(
        session,
        settings,
        incident,
        started_at=to_utc(body.started_at, zone, field="started_at", happened=True),
        resolved_at=to_utc(body.resolved_at, zone, field="resolved_at", happened=True),
        actor=user.actor,
    )
    session.commit()
    return incident_out(incident, settings)


@router.get("/incidents/{ref}/no-news-draft", response_model=NoNewsDraftOut)
def no_news_draft(request: Request, session: DbSession, user: Operator, ref: Ref) -> NoNewsDraftOut:
    """The prepared 「引き続き対応中です」 update and the time it promises (R5)."""
    settings = _settings(request)
    incident = service.get(session, ref)
    now = utcnow()
    texts, next_at = cadence.no_news_draft(session, settings, incident, now)
    local = to_zone(next_at, settings.timezone)
    assert local is not None
    return NoNewsDraftOut(body_ja=texts["ja"], body_en=texts["en"], next_update_at=local)


@router.get("/components", response_model=ComponentList, tags=["components"])
def list_components(session: DbSession, user: Operator) -> ComponentList:
    """Every component with its group and current status."""
    return ComponentList(
        components=[component_out(c) for c in component_service.list_components(session)]
    )


@router.post("/components", response_model=ComponentOut, status_code=201, tags=["components"])
def add_component(
    request: Request, session: DbSession, user: Senior, body: ComponentCreate
) -> ComponentOut:
    """Add a component (senior and above); the status page shows it at once."""
    component = component_service.add_component(
        session,
        body.name,
        settings=_settings(request),
        actor=user.actor,
        group=body.group,
        name_en=body.name_en,
        description=body.description,
    )
    session.commit()
    return component_out(component)


@router.get("/maintenances", response_model=MaintenanceList, tags=["maintenance"])
def list_maintenances(
    request: Request, session: DbSession, user: Operator, include_completed: bool = False
) -> MaintenanceList:
    """Maintenance windows by start time."""
    zone = _settings(request).timezone
    rows = maintenance_service.list_maintenances(session, include_completed=include_completed)
    return MaintenanceList(maintenances=[maintenance_out(m, zone) for m in rows])


@router.post("/maintenances", response_model=MaintenanceOut, status_code=201, tags=["maintenance"])
def schedule_maintenance(
    request: Request, session: DbSession, user: Senior, body: MaintenanceCreate
) -> MaintenanceOut:
    """Announce a maintenance window in advance (R10; senior and above)."""
    settings = _settings(request)
    zone = settings.timezone
    start = to_utc(body.scheduled_start, zone, field="scheduled_start")
    end = to_utc(body.scheduled_end, zone, field="scheduled_end")
    assert start is not None and end is not None
    window = maintenance_service.schedule(
        session,
        settings,
        title=body.title,
        scheduled_start=start,
        scheduled_end=end,
        body=body.body,
        title_en=body.title_en,
        body_en=body.body_en,
        components=body.components,
        notify_subscribers=body.notify_subscribers,
        actor=user.actor,
    )
    session.commit()
    return maintenance_out(window, zone)


@router.post("/maintenances/{ref}/status", response_model=MaintenanceOut, tags=["maintenance"])
def maintenance_status(
    request: Request, session: DbSession, user: Senior, ref: Ref, body: MaintenanceStatusIn
) -> MaintenanceOut:
    """Move a window along: in_progress, verifying, completed (senior and above)."""
    settings = _settings(request)
    window = maintenance_service.get(session, ref)
    maintenance_service.set_status(session, settings, window, body.status, actor=user.actor)
    session.commit()
    return maintenance_out(window, settings.timezone)
