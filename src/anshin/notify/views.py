"""Public pages: subscribe (double opt-in), confirm, unsubscribe (R26; RFC 8058).

These pages are for customers, not staff: no sign-in. The subscribe form is
CSRF-protected; the unsubscribe POST is not, on purpose — RFC 8058 one-click
unsubscribe is a POST from the mail provider with no cookie, and the signed
token in the URL is the proof. Every refusal is shown on the page in the
reader's language with a 4xx status, and changes nothing. Each client address
may send ``ANSHIN_SUBSCRIBE_RATE_PER_HOUR`` subscriptions an hour
(``notify.ratelimit``); past that the answer is a 429 page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from anshin.components.service import list_components
from anshin.db import utcnow
from anshin.errors import AnshinError
from anshin.notify import ratelimit, rules, subscribers
from anshin.web.deps import (
    csrf_token,
    db_session,
    message,
    request_locale,
    settings_of,
    verify_csrf,
)
from anshin.web.templating import render
from anshin.web.views_helpers import PostedForm

router = APIRouter()


def _page(request: Request, template: str, status: int = 200, **extra: Any) -> HTMLResponse:
    settings = settings_of(request)
    context = {
        "request": request,
        "locale": request_locale(request),
        "site_name": settings.site_name,
        **extra,
    }
    return HTMLResponse(render(f"notify/{template}", context), status_code=status)


def _components(session: Session, locale: str) -> list[dict[str, Any]]:
    return [
        {"id": c.id, "name": (c.name_en or c.name) if locale == "en" else c.name}
        for c in list_components(session)
    ]


def _form(
    request: Request,
    session: Session,
    *,
    status: int = 200,
    error: str | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    locale = request_locale(request)
    values = values or {"email": "", "locale": locale, "components": []}
    return _page(
        request,
        "subscribe.html",
        status,
        csrf_token=csrf_token(request),
        components=_components(session, locale),
        error=error,
        values=values,
        locales=rules.LOCALES,
    )


@router.get("/subscribe", response_class=HTMLResponse)
def subscribe_form(request: Request, session: Session = Depends(db_session)) -> HTMLResponse:
    """The subscription form: address, language, components (none chosen = all)."""
    return _form(request, session)


@router.post("/subscribe", response_class=HTMLResponse)
def subscribe_submit(
    request: Request, form: PostedForm, session: Session = Depends(db_session)
) -> HTMLResponse:
    """Start a subscription and send the confirmation mail (double opt-in)."""
    settings = settings_of(request)
    values: dict[str, Any] = {
        "email": form.get("email"),
        "locale": form.get("locale") or request_locale(request),
        "components": form.getlist("components"),
    }
    try:
        verify_csrf(request, form.get("csrf_token"))
        client = ratelimit.client_key(settings, request.client.host if request.client else None)
        ratelimit.check_and_count(session, settings, client, utcnow())
        subscribers.subscribe_email(
            session,
            settings,
            email=values["email"],
            locale=values["locale"],
            component_ids=values["components"],
        )
    except ratelimit.TooManyRequests as exc:
        session.rollback()
        page = _page(
            request, "notice.html", exc.status, kind="limited", error=message(request, exc)
        )
        page.headers["Retry-After"] = str(int(ratelimit.WINDOW.total_seconds()))
        return page
    except AnshinError as exc:
        session.rollback()
        return _form(
            request, session, status=exc.status, error=message(request, exc), values=values
        )
    session.commit()
    return _page(request, "notice.html", kind="sent", email=values["email"].strip().lower())


@router.get("/subscribe/confirm/{token}", response_class=HTMLResponse)
def subscribe_confirm(
    token: str, request: Request, session: Session = Depends(db_session)
) -> HTMLResponse:
    """The link in the confirmation mail: the subscription becomes active."""
    try:
        subscribers.confirm(session, settings_of(request), token)
    except AnshinError as exc:
        session.rollback()
        return _page(request, "notice.html", exc.status, kind="error", error=message(request, exc))
    session.commit()
    return _page(request, "notice.html", kind="confirmed")


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(
    token: str, request: Request, session: Session = Depends(db_session)
) -> HTMLResponse:
    """Ask before unsubscribing: link scanners follow GET links, so GET changes nothing."""
    try:
        subscriber = subscribers.for_unsubscribe_token(session, settings_of(request), token)
    except AnshinError as exc:
        return _page(request, "notice.html", exc.status, kind="error", error=message(request, exc))
    if subscriber.status == "unsubscribed":
        return _page(request, "notice.html", kind="unsubscribed")
    return _page(request, "unsubscribe.html", token=token, address=subscriber.address)


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_submit(
    token: str, request: Request, session: Session = Depends(db_session)
) -> HTMLResponse:
    """Unsubscribe: the page's button and RFC 8058 one-click POSTs (no session, no CSRF)."""
    try:
        subscribers.unsubscribe(session, settings_of(request), token)
    except AnshinError as exc:
        session.rollback()
        return _page(request, "notice.html", exc.status, kind="error", error=message(request, exc))
    session.commit()
    return _page(request, "notice.html", kind="unsubscribed")
