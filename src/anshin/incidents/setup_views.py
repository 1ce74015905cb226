"""Console pages for what incidents happen to: components and maintenance windows (R10).

Everyone signed in may look; seniors and above change them
(team.rules.PERMISSIONS ``component.manage`` / ``maintenance.manage``).
A component's status is derived from open incidents and maintenance in
progress, so these pages never set it by hand. Included by
``incidents.views.router``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from anshin.errors import AnshinError
from anshin.i18n import N_
from anshin.incidents import components as components_service
from anshin.incidents import forms
from anshin.incidents import maintenance as maintenance_service
from anshin.team import rules as team_rules
from anshin.team.models import User
from anshin.web.auth import DbSession, Operator, Senior
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


def _components_page(
    request: Request,
    session: Session,
    user: User,
    *,
    status: int = 200,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    return page(
        request,
        user,
        "incidents/components.html",
        status=status,
        components=components_service.list_components(session),
        groups=components_service.list_groups(session),
        can_manage=team_rules.can(user.role, "component.manage"),
        values=values or {},
        errors=errors or {},
    )


@router.get("/console/components", response_class=HTMLResponse)
def components_page(request: Request, session: DbSession, user: Operator) -> Response:
    """Every component with the status derived from open incidents and maintenance."""
    return _components_page(request, session, user)


@router.post("/console/components", response_class=HTMLResponse)
def add_component(request: Request, session: DbSession, user: Senior, form: PostedForm) -> Response:
    """Senior and above: add a component customers can see, in a group."""
    try:
        component = components_service.add_component(
            session,
            form.get("name"),
            actor=user.actor,
            group=form.get("group") or None,
            name_en=form.get("name_en") or None,
            description=form.raw("description") or None,
            settings=settings_of(request),
        )
    except AnshinError as exc:
        session.rollback()
        return _components_page(
            request,
            session,
            user,
            status=exc.status,
            values=form.values(),
            errors=error_for(request, exc, "name"),
        )
    session.commit()
    flash(request, N_("Component {name} added."), name=component.name)
    return redirect("/console/components")


def _maintenance_page(
    request: Request,
    session: Session,
    user: User,
    *,
    status: int = 200,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    windows = maintenance_service.list_maintenances(session, include_completed=True)
    return page(
        request,
        user,
        "incidents/maintenance.html",
        status=status,
        active=[w for w in windows if w.status != "completed"],
        completed=sorted(
            (w for w in windows if w.status == "completed"),
            key=lambda w: w.scheduled_start,
            reverse=True,
        )[:10],
        next_statuses=maintenance_service.NEXT_STATUSES,
        components=components_service.list_components(session),
        can_manage=team_rules.can(user.role, "maintenance.manage"),
        values=values or {"components": []},
        errors=errors or {},
    )


@router.get("/console/maintenance", response_class=HTMLResponse)
def maintenance_page(request: Request, session: DbSession, user: Operator) -> Response:
    """Maintenance windows announced in advance (R10)."""
    return _maintenance_page(request, session, user)


@router.post("/console/maintenance", response_class=HTMLResponse)
def schedule_maintenance(
    request: Request, session: DbSession, user: Senior, form: PostedForm
) -> Response:
    """Senior and above: announce a window; it is on the status page at once (R10)."""
    settings = settings_of(request)
    parsed = forms.Parsed(values={**form.values(), "components": form.getlist("components")})
    start = forms.parse_time(parsed, form, "scheduled_start", settings.timezone, required=True)
    end = forms.parse_time(parsed, form, "scheduled_end", settings.timezone, required=True)
    if not form.get("title"):
        parsed.fail("title", N_("This field is required."))
    if start is None or end is None or not parsed.ok:
        errors = translate_errors(request, parsed.errors)
        return _maintenance_page(
            request, session, user, status=422, values=parsed.values, errors=errors
        )
    try:
        window = maintenance_service.schedule(
            session,
            settings,
            title=form.get("title"),
            title_en=form.get("title_en") or None,
            body=form.raw("body"),
            body_en=form.raw("body_en") or None,
            scheduled_start=start,
            scheduled_end=end,
            components=form.getlist("components"),
            actor=user.actor,
        )
    except AnshinError as exc:
        session.rollback()
        return _maintenance_page(
            request,
            session,
            user,
            status=exc.status,
            values=parsed.values,
            errors=error_for(request, exc),
        )
    session.commit()
    flash(request, N_("Maintenance {ref} scheduled."), ref=window.reference)
    return redirect("/console/maintenance")


@router.post("/console/maintenance/{ref}/status")
def maintenance_status(
    request: Request, session: DbSession, user: Senior, ref: str, form: PostedForm
) -> Response:
    """Senior and above: start, verify or complete a window (components follow)."""
    window = maintenance_service.get(session, ref)
    maintenance_service.set_status(
        session, settings_of(request), window, form.get("status"), actor=user.actor
    )
    session.commit()
    flash(request, N_("Maintenance {ref} updated."), ref=window.reference)
    return redirect("/console/maintenance")
