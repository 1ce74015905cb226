"""Anyone signed in changes their own password (issue 7).

The current password is asked for first (a session left open on a shared
screen must not be enough to take the account over), with the sign-in
throttle's count per account, so it cannot be guessed here either. A new
password ends every session of the person — a copied cookie, another browser
— and this browser goes on in a fresh session.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from anshin.db import utcnow
from anshin.errors import AnshinError, InvalidInput
from anshin.i18n import N_
from anshin.team import service as team_service
from anshin.team import sessions as console_sessions
from anshin.team import throttle, users
from anshin.team.models import User
from anshin.web.auth import DbSession, Operator
from anshin.web.deps import lock_when_writing, settings_of
from anshin.web.views_helpers import PostedForm, error_for, flash, page, redirect

router = APIRouter(include_in_schema=False)


def _account_page(
    request: Request, user: User, *, status: int = 200, errors: dict[str, str] | None = None
) -> HTMLResponse:
    return page(request, user, "team/account.html", status=status, errors=errors or {})


@router.get("/console/account", response_class=HTMLResponse)
def account(request: Request, user: Operator) -> Response:
    """One's own account: name, role, and a form to change the password."""
    return _account_page(request, user)


@router.post("/console/account/password", response_class=HTMLResponse)
@lock_when_writing  # the argon2 checks must not hold SQLite's write lock
def change_password(
    request: Request, session: DbSession, user: Operator, form: PostedForm
) -> Response:
    """Check the current password, set the new one, end every other session."""
    settings = settings_of(request)
    address = request.client.host if request.client else None
    now = utcnow()
    try:
        throttle.check(session, settings, user.email, address, now)
        if team_service.authenticate(session, user.email, form.raw("current_password")) is None:
            throttle.count_failure(session, settings, user.email, address, now)
            raise InvalidInput(N_("The current password is not correct."), field="current_password")
        users.reset_password(session, user, form.raw("new_password"), actor=user.actor)
    except AnshinError as exc:
        session.rollback()
        if exc.field == "password":  # team.users names it so; this form's field is the new one
            exc.field = "new_password"
        errors = error_for(request, exc, "new_password")
        return _account_page(request, user, status=exc.status, errors=errors)
    sid = console_sessions.start(session, settings, user, now)
    session.commit()
    request.session[console_sessions.SID] = sid
    request.session["csrf"] = secrets.token_urlsafe(32)
    flash(request, N_("Your password was changed. Your other sessions were ended."))
    return redirect("/console/account")
