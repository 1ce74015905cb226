"""Request-scoped helpers every route uses: the database session, the locale, the user.

Routes stay thin (docs/design.md): they take these, call a service, commit, render.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

from fastapi import Request
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.errors import AnshinError
from anshin.i18n import N_, negotiate, translate
from anshin.team import rules as team_rules
from anshin.team import service as team_service
from anshin.team import sessions as console_sessions
from anshin.team.models import User
from anshin.team.rules import Role

P = ParamSpec("P")
R = TypeVar("R")
LOCALE_COOKIE = "anshin_lang"
log = logging.getLogger("anshin")


class LoginRequired(AnshinError):
    """No signed-in user and no valid API token (HTTP 401; pages redirect to /login)."""

    status = 401


class RoleRequired(AnshinError):
    """The user is signed in but ranks too low for this action (HTTP 403)."""

    status = 403


class CsrfFailed(AnshinError):
    """A form came without this session's CSRF token (HTTP 403)."""

    status = 403


def settings_of(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def lock_when_writing(endpoint: Callable[P, R]) -> Callable[P, R]:
    """Mark a state-changing route whose session should not take the write lock up front.

    For a POST that mostly reads, or spends long on something else before it
    writes (sign-in: an argon2 check of about 0.2 s, usually followed by no write
    at all): on SQLite a write session would hold the database's write lock
    through it. Its writes take the lock when they come (see anshin.db).
    """
    endpoint.lock_when_writing = True  # type: ignore[attr-defined]
    return endpoint


def db_session(request: Request) -> Iterator[Session]:
    """A session per request; the route commits, anything uncommitted is rolled back.

    A request that changes state (POST, PUT, PATCH, DELETE) gets a write session:
    on SQLite it holds the write lock from its first statement, so what the route
    read is still true when it writes (anshin.db). GET and HEAD read without it.
    """
    state = request.app.state
    endpoint = request.scope.get("endpoint")
    reads = request.method in SAFE_METHODS or getattr(endpoint, "lock_when_writing", False)
    factory = state.sessions if reads else getattr(state, "write_sessions", state.sessions)
    session: Session = factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def request_locale(request: Request) -> str:
    """ja or en for this request: ?lang=, then the cookie, then Accept-Language."""
    cached = getattr(request.state, "locale", None)
    if cached:
        return str(cached)
    locale = negotiate(
        request.query_params.get("lang"),
        request.cookies.get(LOCALE_COOKIE),
        request.headers.get("accept-language"),
        settings_of(request).default_locale,
    )
    request.state.locale = locale
    return locale


def message(request: Request, error: AnshinError) -> str:
    """An error's text in the request's language."""
    return translate(request_locale(request), error.msgid, **error.params)


def csrf_token(request: Request) -> str:
    """This session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def is_bearer(request: Request) -> bool:
    """True when the request authenticates with an API token (no cookie, no CSRF)."""
    return request.headers.get("authorization", "").lower().startswith("bearer ")


def verify_csrf(request: Request, sent: str | None) -> None:
    """Refuse unless ``sent`` is this session's CSRF token (403, nothing changed)."""
    expected = request.session.get("csrf")
    if not expected or not sent or not secrets.compare_digest(str(expected), sent):
        raise CsrfFailed(N_("The form has expired. Reload the page and try again."))


async def check_csrf(request: Request) -> None:
    """Refuse a state-changing form unless it carries the session's token.

    Forms post ``csrf_token``; htmx and the API's cookie callers send the
    ``X-CSRF-Token`` header. Requests authenticated by a bearer token carry no
    cookie and need no CSRF check.
    """
    if is_bearer(request):
        return
    sent = request.headers.get("x-csrf-token")
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else None
    verify_csrf(request, sent)


def current_user(request: Request, session: Session) -> User | None:
    """The signed-in user (a live server-side session) or the owner of a bearer token, else None.

    The cookie only names a session (team.sessions); a cookie without a live
    session behind it — signed out, expired, forged with the key — is nobody.
    """
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        token = team_service.token_for(session, auth[7:].strip())
        request.state.api_token = token
        return token.user if token is not None else None
    raw = request.session.get(console_sessions.SID)
    if not raw:
        return None
    live = console_sessions.lookup(session, settings_of(request), str(raw))
    if live is None:  # signed out, expired, ended by an administrator, or never issued
        request.session.clear()
        return None
    request.state.console_session = live
    return live.user


def user_for_error_page(request: Request) -> User | None:
    """The signed-in user, for the error page's navigation; None if there is none or it fails.

    The error page must render whatever went wrong, so this opens a session of its
    own (the failed route's may be in a broken transaction) and treats any failure
    to load the user — a database that is down is a likely reason for the error —
    as nobody signed in, logged for the operator. Without a session cookie or a
    token it touches neither the database nor the cookie.
    """
    if "session" not in request.scope:
        return None
    signed_in = bool(request.session.get(console_sessions.SID))
    if not signed_in and not request.headers.get("authorization", "").lower().startswith("bearer "):
        return None
    try:
        with request.app.state.sessions() as session:
            return current_user(request, session)
    except Exception:
        log.warning("error page: could not load the signed-in user", exc_info=True)
        return None


def require_role(request: Request, session: Session, minimum: str = Role.OPERATOR) -> User:
    """The current user if they rank at least ``minimum``; otherwise 401 or 403."""
    user = current_user(request, session)
    if user is None:
        raise LoginRequired(N_("Sign in to continue."))
    if not team_rules.at_least(user.role, minimum):
        raise RoleRequired(N_("Your role does not allow this."))
    return user


def page_context(request: Request, user: User | None, **extra: Any) -> dict[str, Any]:
    """What every console page's layout needs."""
    settings = settings_of(request)
    return {
        "request": request,
        "locale": request_locale(request),
        "user": user,
        "csrf_token": csrf_token(request),
        "zone": settings.timezone,
        "site_name": settings.site_name,
        **extra,
    }
