"""Admin console page for one person: role, active or not, a new password (R22, issue 7).

Every change ends that person's console sessions (team.users), and the page
says so before the button is pressed. A refusal (the last administrator, a
short password) re-renders the page with the reason next to the field.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import AnshinError
from anshin.i18n import N_
from anshin.inputs import DbId
from anshin.team import rules, users
from anshin.team.models import ConsoleSession, User
from anshin.team.sessions import limits
from anshin.web.auth import Admin, DbSession
from anshin.web.deps import settings_of
from anshin.web.views_helpers import PostedForm, error_for, flash, page, redirect

router = APIRouter(include_in_schema=False)


def live_sessions(session: Session, settings: Settings, user_id: int) -> int:
    """How many console sessions of the user are live now (not idle or past their lifetime)."""
    idle, lifetime = limits(settings)
    now = utcnow()
    found = session.scalar(
        select(func.count())
        .select_from(ConsoleSession)
        .where(
            ConsoleSession.user_id == user_id,
            ConsoleSession.last_seen_at >= now - idle,
            ConsoleSession.created_at >= now - lifetime,
        )
    )
    return int(found or 0)


def _user_page(
    request: Request,
    session: Session,
    admin: User,
    target: User,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    return page(
        request,
        admin,
        "team/user.html",
        status=status,
        person=target,
        roles=rules.ROLES,
        sessions_live=live_sessions(session, settings_of(request), target.id),
        errors=errors or {},
    )


@router.get("/console/users/{user_id}", response_class=HTMLResponse)
def user_page(request: Request, session: DbSession, user: Admin, user_id: DbId) -> Response:
    """Admin: one person's role, state and password."""
    return _user_page(request, session, user, users.get_user(session, user_id))


@router.post("/console/users/{user_id}/role", response_class=HTMLResponse)
def change_role(
    request: Request, session: DbSession, user: Admin, user_id: DbId, form: PostedForm
) -> Response:
    """Admin: give another role; the person's sessions end."""
    target = users.get_user(session, user_id)
    try:
        changed = users.change_role(session, target, form.get("role"), actor=user.actor)
    except AnshinError as exc:
        session.rollback()
        errors = error_for(request, exc, "role")
        return _user_page(request, session, user, target, status=exc.status, errors=errors)
    session.commit()
    if changed:
        flash(
            request,
            N_("The role of {name} was changed; their sessions were ended."),
            name=target.name,
        )
    return redirect(f"/console/users/{target.id}")


@router.post("/console/users/{user_id}/active", response_class=HTMLResponse)
def set_active(
    request: Request, session: DbSession, user: Admin, user_id: DbId, form: PostedForm
) -> Response:
    """Admin: deactivate (sessions end, tokens stop) or reactivate."""
    target = users.get_user(session, user_id)
    active = form.get("active") == "1"
    try:
        users.set_active(session, target, active, actor=user.actor)
    except AnshinError as exc:
        session.rollback()
        errors = error_for(request, exc, "active")
        return _user_page(request, session, user, target, status=exc.status, errors=errors)
    session.commit()
    if active:
        flash(request, N_("{name} can sign in again."), name=target.name)
    else:
        flash(
            request,
            N_("{name} can no longer sign in; their sessions were ended."),
            name=target.name,
        )
    return redirect(f"/console/users/{target.id}")


@router.post("/console/users/{user_id}/password", response_class=HTMLResponse)
def reset_password(
    request: Request, session: DbSession, user: Admin, user_id: DbId, form: PostedForm
) -> Response:
    """Admin: set a new password; every session of the person ends."""
    target = users.get_user(session, user_id)
    try:
        users.reset_password(session, target, form.raw("password"), actor=user.actor)
    except AnshinError as exc:
        session.rollback()
        errors = error_for(request, exc, "password")
        return _user_page(request, session, user, target, status=exc.status, errors=errors)
    session.commit()
    flash(
        request,
        N_("A new password was set for {name}; their sessions were ended."),
        name=target.name,
    )
    return redirect(f"/console/users/{target.id}")
