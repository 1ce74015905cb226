"""The staff console for incidents (issue 2, scope 6): the shared record and publishing.

R2 every agent answers from the one record page; R4/R5 the dashboard and the
record show a live countdown to the next message owed (first notice 15 minutes
after declaring, then the time the last update promised) and turn red when it
is overdue; R5 a no-news update is one button (with a ticked box: it cannot be
undone, ``confirm``); R7 the resolution notice starts from a text promising a
report. Components and maintenance windows (R10) are managed by seniors.

Routes are thin: read the form (``forms``), call the service, commit, redirect;
a refusal re-renders the page with what was typed and the error beside its field.
Declaring and editing the facts (R1, R2) is ``incidents.declare_views``; the
other parts of the console (dashboard, setup, search, nudges, lifecycle) are
included from their own modules under this router.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from anshin import events, hooks
from anshin.comms.lint import Finding
from anshin.db import utcnow
from anshin.errors import AnshinError
from anshin.i18n import N_
from anshin.incidents import (
    cadence,
    compose_views,
    confirm,
    dashboard_views,
    declare_views,
    detail,
    forms,
    lifecycle_views,
    notices,
    nudge_views,
    search_views,
    service,
    setup_views,
)
from anshin.incidents.models import Incident
from anshin.team.models import User
from anshin.timefmt import format_local
from anshin.web.auth import DbSession, Operator
from anshin.web.deps import request_locale, settings_of
from anshin.web.views_helpers import (
    PostedForm,
    error_for,
    flash,
    page,
    redirect,
    translate_errors,
)

router = APIRouter(include_in_schema=False)

# Panels of higher packages on an incident's record page (R26: the inquiries about it):
# "module:function" names called with (session, settings, user, incident), each returning
# (template name, context) or None. Resolved by name (anshin.hooks): incidents imports none.
RECORD_PANELS: tuple[str, ...] = (
    "anshin.inquiries.dashboard:incident_panel",
    "anshin.review.views:record_panel",
)
router.include_router(declare_views.router)  # /console/incidents/new before /{ref}
router.include_router(dashboard_views.router)
router.include_router(setup_views.router)
router.include_router(compose_views.router)
router.include_router(search_views.router)
router.include_router(nudge_views.router)
router.include_router(lifecycle_views.router)


def _detail(
    request: Request,
    session: Session,
    user: User,
    incident: Incident,
    *,
    status: int = 200,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    findings: dict[str, list[Finding]] | None = None,
    kind: str | None = None,
    times_values: dict[str, Any] | None = None,
    times_errors: dict[str, str] | None = None,
    reopen: lifecycle_views.ReopenBox | None = None,
) -> HTMLResponse:
    """The shared record (R2): facts, timeline with delivery, event log, clock, compose box.

    ``values`` re-fill the compose box after a refusal (nothing typed is lost);
    without them it starts from the template of the kind owed next (R11).
    ``times_values``/``times_errors`` do the same for the times form (``lifecycle_views``).
    """
    settings = settings_of(request)
    now = utcnow()
    open_ = incident.status != "resolved"
    if values is None and open_:
        wanted = detail.chosen_kind(incident, kind)
        values = detail.compose_values(session, settings, incident, wanted, now)
    values = values or {}
    if findings is None and open_:
        findings = detail.check(incident, values, settings.timezone)
    counts = detail.deliveries(session, incident)
    history = events.history(session, "incident", incident.id)
    no_news = (
        detail.compose_values(session, settings, incident, "no_news_update", now)
        if open_ and incident.public_updates
        else {}
    )
    return page(
        request,
        user,
        "incidents/detail.html",
        status=status,
        incident=incident,
        due=cadence.due(settings, incident, now),
        history=history,
        first=not incident.public_updates,
        values=values,
        errors=errors or {},
        **detail.compose_context(session, user, incident, values, findings or {}),
        no_news=no_news,
        counts=counts,
        **detail.clock_context(settings, incident, counts),
        overrides=detail.overrides(incident, history),
        cadence_minutes=settings.cadence_minutes()[incident.severity],
        no_news_warning=confirm.no_news_warning(settings, incident, now) if open_ else None,
        times_values=times_values,
        times_errors=times_errors,
        **lifecycle_views.reopen_context(request, session, user, incident, now, reopen),
        panels=[
            found
            for name in RECORD_PANELS
            if (found := hooks.resolve(name)(session, settings, user, incident)) is not None
        ],
    )


# The record page, for the routes of other modules that show it again after a refusal.
record_page = _detail


@router.get("/console/incidents/{ref}", response_class=HTMLResponse)
def incident_detail(
    request: Request, session: DbSession, user: Operator, ref: str, kind: str = ""
) -> Response:
    """The one record every agent answers from (R2); ``?kind=`` starts the box from that kind."""
    return _detail(request, session, user, service.get(session, ref), kind=kind or None)


def _refused(
    request: Request,
    session: Session,
    user: User,
    ref: str,
    exc: AnshinError,
    values: dict[str, Any],
) -> HTMLResponse:
    """Show a refused publish again with what was typed and why (nothing lost).

    A failed message check shows its findings; an override by someone below
    senior is a 403 with its reason next to the field.
    """
    session.rollback()
    incident = service.get(session, ref)
    findings = exc.findings if isinstance(exc, notices.MessageCheckFailed) else None
    return _detail(
        request,
        session,
        user,
        incident,
        status=exc.status,
        values=values,
        errors=error_for(request, exc),
        findings=findings,
    )


@router.post("/console/incidents/{ref}/updates", response_class=HTMLResponse)
def publish_update(
    request: Request, session: DbSession, user: Operator, ref: str, form: PostedForm
) -> Response:
    """Publish the first notice or an update; public ones promise the next time (R4-R6).

    The service checks the wording (R3, R6, R12-R16) and queues the notice for
    every subscriber in the same transaction.
    """
    settings = settings_of(request)
    incident = service.get(session, ref)
    data, parsed = forms.parse_update(form, settings.timezone)
    if data is None:
        errors = translate_errors(request, parsed.errors)
        return _detail(
            request, session, user, incident, status=422, values=parsed.values, errors=errors
        )
    try:
        update = service.publish_update(
            session,
            settings,
            incident,
            body_ja=data.body_ja,
            body_en=data.body_en,
            status=data.status,
            next_update_at=data.next_update_at,
            audience=data.audience,
            kind=data.kind,
            actor=user.actor,
            actor_role=user.role,
            override_reason=data.override_reason,
            title_en=data.title_en,
        )
    except AnshinError as exc:
        return _refused(request, session, user, ref, exc, parsed.values)
    session.commit()
    if update.audience == "internal":
        flash(request, N_("Internal note added. Customers do not see it."))
    elif update.kind == "first_notice":
        flash(request, N_("First notice published."))
    else:
        flash(request, N_("Update published."))
    return redirect(f"/console/incidents/{incident.reference}")


@router.post("/console/incidents/{ref}/no-news", response_class=HTMLResponse)
def publish_no_news(
    request: Request, session: DbSession, user: Operator, ref: str, form: PostedForm
) -> Response:
    """R5: publish the no-news template in Japanese and English, once confirmed."""
    settings = settings_of(request)
    incident = service.get(session, ref)
    if incident.status != "resolved" and not confirm.confirmed(form):
        errors = confirm.error(request, confirm.NO_NEWS_FIELD)
        return _detail(request, session, user, incident, status=422, errors=errors)
    now = utcnow()
    values = detail.compose_values(session, settings, incident, "no_news_update", now)
    # The texts and the time they promise come from one place, so they always agree.
    texts, next_at = cadence.no_news_draft(session, settings, incident, now)
    try:
        service.publish_update(
            session,
            settings,
            incident,
            body_ja=texts["ja"],
            body_en=texts["en"],
            next_update_at=next_at,
            kind="no_news_update",
            actor=user.actor,
            actor_role=user.role,
            now=now,
        )
    except AnshinError as exc:
        return _refused(request, session, user, ref, exc, values)
    session.commit()
    when = format_local(next_at, settings.timezone, request_locale(request))
    flash(request, N_("No-news update published. The next one is due by {time}."), time=when)
    return redirect(f"/console/incidents/{incident.reference}")


@router.post("/console/incidents/{ref}/resolve", response_class=HTMLResponse)
def resolve_incident(
    request: Request, session: DbSession, user: Operator, ref: str, form: PostedForm
) -> Response:
    """R7: close the incident with the resolution notice and restore its components.

    Only with the confirmation box ticked: it cannot be undone (``confirm``).
    """
    settings = settings_of(request)
    incident = service.get(session, ref)
    values = {**form.values(), "kind": "resolution"}
    if incident.status != "resolved" and not confirm.confirmed(form):
        errors = confirm.error(request)
        return _detail(request, session, user, incident, status=422, values=values, errors=errors)
    parsed = forms.Parsed(values=values)
    recovered = forms.parse_time(parsed, form, "resolved_at", settings.timezone, happened=True)
    if not parsed.ok:
        errors = translate_errors(request, parsed.errors)
        return _detail(request, session, user, incident, status=422, values=values, errors=errors)
    try:
        service.resolve(
            session,
            settings,
            incident,
            body_ja=form.raw("body_ja"),
            body_en=form.raw("body_en") or None,
            actor=user.actor,
            actor_role=user.role,
            override_reason=form.raw("override_reason").strip() or None,
            title_en=form.raw("title_en").strip() or None,
            resolved_at=recovered,
        )
    except AnshinError as exc:
        return _refused(request, session, user, ref, exc, values)
    session.commit()
    flash(request, N_("Incident resolved and the resolution notice published."))
    return redirect(f"/console/incidents/{incident.reference}")
