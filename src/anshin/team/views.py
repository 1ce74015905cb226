"""Console pages for signing in and for the admin's people and API tokens.

Sign-in never says which part was wrong (email or password); a redirect after
sign-in only goes to a path on this site. Every form carries the session's
CSRF token; a new session gets a new one after sign-in and sign-out.
"""

from __future__ import annotations

import logging
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from anshin.db import utcnow
from anshin.errors import AnshinError
from anshin.i18n import N_, translate
from anshin.inputs import DbId, parse_count, parse_id
from anshin.team import rules, throttle
from anshin.team import service as team_service
from anshin.team import sessions as console_sessions
from anshin.team.models import User
from anshin.web.auth import Admin, DbSession
from anshin.web.deps import (
    CsrfFailed,
    current_user,
    lock_when_writing,
    request_locale,
    settings_of,
    verify_csrf,
)
from anshin.web.views_helpers import PostedForm, error_for, flash, page, redirect, safe_next

router = APIRouter(include_in_schema=False)
log = logging.getLogger("anshin.team")


def _login_page(
    request: Request,
    *,
    status: int = 200,
    error: str | None = None,
    email: str = "",
    next_url: str = "",
) -> HTMLResponse:
    return page(
        request,
        None,
        "team/login.html",
        status=status,
        error=error,
        email=email,
        next_url=next_url,
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, session: DbSession, next: str = "") -> Response:
    """The sign-in page; someone already signed in goes straight on."""
    if current_user(request, session) is not None:
        return redirect(safe_next(next))
    return _login_page(request, next_url=safe_next(next, default=""))


@router.post("/login", response_class=HTMLResponse)
@lock_when_writing  # the argon2 check must not hold SQLite's write lock
def login(request: Request, session: DbSession, form: PostedForm) -> Response:
    """Check the password (argon2, in the thread pool) and start a session with a fresh CSRF token.

    The CSRF failure is shown on the sign-in page itself, so this route checks the
    token rather than taking a role alias.
    """
    email = form.get("email")
    next_url = safe_next(form.get("next"), default="")
    locale = request_locale(request)
    try:
        verify_csrf(request, form.get("csrf_token") or request.headers.get("x-csrf-token"))
    except CsrfFailed as exc:
        return _login_page(
            request, status=403, error=translate(locale, exc.msgid), email=email, next_url=next_url
        )
    password = form.raw("password")
    settings = settings_of(request)
    address = request.client.host if request.client else None
    now = utcnow()
    if email and password:
        try:
            # Before the password is hashed: a guesser must not be able to buy argon2's CPU.
            throttle.check(session, settings, email, address, now)
        except throttle.TooManySignIns as exc:
            refused = _login_page(
                request,
                status=exc.status,
                error=translate(locale, exc.msgid, **exc.params),
                email=email,
                next_url=next_url,
            )
            refused.headers["Retry-After"] = str(exc.retry_after)
            return refused
    user = team_service.authenticate(session, email, password) if email and password else None
    if user is None:
        if email and password:
            throttle.count_failure(session, settings, email, address, now)
        return _login_page(
            request,
            status=401,
            error=translate(locale, N_("The email address or password is not correct.")),
            email=email,
            next_url=next_url,
        )
    throttle.succeeded(session, settings, email)
    sid = console_sessions.start(session, settings, user, now)
    session.commit()  # the session, and a rehashed password
    request.session.clear()
    request.session[console_sessions.SID] = sid
    request.session["csrf"] = secrets.token_urlsafe(32)
    return redirect(next_url or "/console")


@router.post("/logout")
def logout(request: Request, session: DbSession, form: PostedForm) -> Response:
    """End the session on the server (CSRF-checked, so another site cannot sign a person out).

    A copy of the cookie signs nobody in afterwards (team.sessions).
    """
    verify_csrf(request, form.get("csrf_token") or request.headers.get("x-csrf-token"))
    console_sessions.end(session, str(request.session.get(console_sessions.SID) or ""))
    session.commit()
    request.session.clear()
    flash(request, N_("You have signed out."))
    return redirect("/login")


def _tokens_page(
    request: Request,
    session: Session,
    user: User,
    *,
    status: int = 200,
    created: str | None = None,
    created_name: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, object] | None = None,
) -> HTMLResponse:
    return page(
        request,
        user,
        "team/tokens.html",
        status=status,
        tokens=team_service.list_tokens(session),
        now=utcnow(),
        users=[u for u in team_service.list_users(session) if u.active],
        created=created,
        created_name=created_name,
        errors=errors or {},
        values=values or {},
    )


@router.get("/console/tokens", response_class=HTMLResponse)
def tokens(request: Request, session: DbSession, user: Admin) -> Response:
    """Admin: the API tokens integrations use (only prefixes are shown)."""
    return _tokens_page(request, session, user)


@router.post("/console/tokens", response_class=HTMLResponse)
def create_token(request: Request, session: DbSession, user: Admin, form: PostedForm) -> Response:
    """Admin: make a token; its secret is on this one response and never again."""
    owner = user
    owner_id = form.get("user_id")
    if owner_id:
        number = parse_id(owner_id)
        chosen = session.get(User, number) if number is not None else None
        if chosen is None or not chosen.active:
            errors = {"user_id": translate(request_locale(request), N_("Choose a user."))}
            return _tokens_page(
                request, session, user, status=422, errors=errors, values=form.values()
            )
        owner = chosen
    try:
        days_text = form.get("expires_in_days")
        days = parse_count(days_text) if days_text else None
        if days_text and days is None:
            days = 0  # not a number: refused with the range below
        raw, token = team_service.create_token(
            session,
            user=owner,
            name=form.get("name"),
            actor=user.actor,
            expires_at=team_service.token_expiry(days),
        )
    except AnshinError as exc:
        return _tokens_page(
            request,
            session,
            user,
            status=exc.status,
            errors=error_for(request, exc, "name"),
            values=form.values(),
        )
    session.commit()
    return _tokens_page(request, session, user, status=201, created=raw, created_name=token.name)


@router.post("/console/tokens/{token_id}/revoke")
def revoke_token(request: Request, session: DbSession, user: Admin, token_id: DbId) -> Response:
    """Admin: stop a token from working; the row stays for the audit trail."""
    token = team_service.revoke_token(session, token_id, actor=user.actor)
    session.commit()
    flash(request, N_("The token {name} was revoked."), name=token.name)
    return redirect("/console/tokens")


def _users_page(
    request: Request,
    session: Session,
    user: User,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, object] | None = None,
) -> HTMLResponse:
    return page(
        request,
        user,
        "team/users.html",
        status=status,
        users=team_service.list_users(session),
        roles=rules.ROLES,
        errors=errors or {},
        values=values or {"role": "operator", "locale": "ja"},
    )


@router.get("/console/users", response_class=HTMLResponse)
def users(request: Request, session: DbSession, user: Admin) -> Response:
    """Admin: everyone who can sign in, with their role (R22 levels)."""
    return _users_page(request, session, user)


@router.post("/console/users", response_class=HTMLResponse)
def add_user(request: Request, session: DbSession, user: Admin, form: PostedForm) -> Response:
    """Admin: add a person; a refusal keeps what was typed (except the password)."""
    values = {k: v for k, v in form.values().items() if k != "password"}
    try:
        created = team_service.create_user(
            session,
            email=form.get("email"),
            name=form.get("name"),
            role=form.get("role"),
            password=form.raw("password"),
            locale=form.get("locale", "ja"),
            actor=user.actor,
        )
    except AnshinError as exc:
        return _users_page(
            request,
            session,
            user,
            status=exc.status,
            errors=error_for(request, exc),
            values=values,
        )
    session.commit()
    flash(request, N_("{name} can now sign in."), name=created.name)
    return redirect("/console/users")
