"""The incident facts form (R1, R2): declare a new incident, edit an open one's facts.

R1 the facts are entered once when declaring, and the first-notice clock starts
(R4); R2 editing them changes the one record every agent answers from, and the
event log keeps the old facts. One form serves both, so a field added to the
record is added here once. Included by ``incidents.views.router`` ahead of the
record page, so ``/console/incidents/new`` is not read as a reference.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from anshin.db import utcnow
from anshin.errors import AnshinError
from anshin.i18n import N_
from anshin.incidents import components as components_service
from anshin.incidents import forms, rules, service
from anshin.incidents.models import Incident
from anshin.team.models import User
from anshin.web.auth import DbSession, Operator
from anshin.web.deps import settings_of
from anshin.web.views_helpers import (
    PostedForm,
    error_for,
    flash,
    page,
    redirect,
    translate_errors,
)

router = APIRouter(include_in_schema=False)


def _form_page(
    request: Request,
    session: Session,
    user: User,
    *,
    incident: Incident | None = None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The declare form, or the same form editing an open incident's facts (R1, R2)."""
    settings = settings_of(request)
    return page(
        request,
        user,
        "incidents/form.html",
        status=status,
        incident=incident,
        values=values,
        errors=errors or {},
        components=components_service.list_components(session),
        impacts=forms.IMPACT_CHOICES,
        severities=rules.SEVERITIES,
        cadence=settings.cadence_minutes(),
        first_notice_minutes=settings.first_notice_minutes,
    )


@router.get("/console/incidents/new", response_class=HTMLResponse)
def new_incident(request: Request, session: DbSession, user: Operator) -> Response:
    """The declare form: detected now, severity chosen on purpose."""
    now_local = forms.input_value(utcnow(), settings_of(request).timezone)
    return _form_page(request, session, user, values={"detected_at": now_local})


@router.post("/console/incidents/new", response_class=HTMLResponse)
def declare_incident(
    request: Request, session: DbSession, user: Operator, form: PostedForm
) -> Response:
    """Declare: write the incident and start the first-notice clock (R1, R4)."""
    settings = settings_of(request)
    data, parsed = forms.parse_incident(form, settings.timezone)
    if data is None:
        errors = translate_errors(request, parsed.errors)
        return _form_page(request, session, user, values=parsed.values, errors=errors, status=422)
    try:
        incident = service.declare(session, settings, data, actor=user.actor)
    except AnshinError as exc:
        session.rollback()
        errors = error_for(request, _on_form(exc))
        return _form_page(
            request, session, user, values=parsed.values, errors=errors, status=exc.status
        )
    session.commit()
    flash(
        request,
        N_("Incident {ref} declared. Publish the first notice now."),
        ref=incident.reference,
    )
    return redirect(f"/console/incidents/{incident.reference}")


def _on_form(exc: AnshinError) -> AnshinError:
    """Point a service refusal at a field the form has (declared_at is not typed)."""
    if exc.field == "declared_at":
        exc.field = "detected_at"
    return exc


@router.get("/console/incidents/{ref}/edit", response_class=HTMLResponse)
def edit_incident_form(request: Request, session: DbSession, user: Operator, ref: str) -> Response:
    """Edit the facts of the shared record (R2)."""
    incident = service.get(session, ref)
    values = forms.incident_values(incident, settings_of(request).timezone)
    return _form_page(request, session, user, incident=incident, values=values)


@router.post("/console/incidents/{ref}/edit", response_class=HTMLResponse)
def edit_incident(
    request: Request, session: DbSession, user: Operator, ref: str, form: PostedForm
) -> Response:
    """Save changed facts; the event log keeps the old ones."""
    settings = settings_of(request)
    incident = service.get(session, ref)
    data, parsed = forms.parse_incident(form, settings.timezone)
    if data is None:
        errors = translate_errors(request, parsed.errors)
        return _form_page(
            request,
            session,
            user,
            incident=incident,
            values=parsed.values,
            errors=errors,
            status=422,
        )
    try:
        service.edit(session, settings, incident, data, actor=user.actor)
    except AnshinError as exc:
        session.rollback()
        return _form_page(
            request,
            session,
            user,
            incident=service.get(session, ref),
            values=parsed.values,
            errors=error_for(request, _on_form(exc)),
            status=exc.status,
        )
    session.commit()
    flash(request, N_("The record was updated."))
    return redirect(f"/console/incidents/{incident.reference}")
