"""The inquiry form on the public status page: ``/inquiry`` (R18), in Japanese and English.

For customers, not staff: no sign-in and no CSRF token (there is no session
to protect; a customer may arrive from a mail link or a cached status page).
Two guards instead: a honeypot field people never see and bots fill in (the
post is answered as if accepted and nothing is stored), and a per-client limit
kept in the database (``inquiries.limits``, ``ANSHIN_INQUIRY_RATE_PER_HOUR``).
An accepted post goes through ``inquiries.intake.take`` — stored first,
triaged, acknowledged by mail — and the thank-you page shows the reference
and what happens next. A refusal shows the form again with what was typed
and the reason in the reader's language, with a 4xx status, storing nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from anshin.db import utcnow
from anshin.errors import AnshinError
from anshin.inquiries import intake, limits, rules, service
from anshin.notify import rules as notify_rules
from anshin.web.deps import db_session, message, request_locale, settings_of
from anshin.web.templating import render
from anshin.web.views_helpers import PostedForm

router = APIRouter()
log = logging.getLogger("anshin.inquiries")

# The honeypot: a field hidden from people (CSS, aria-hidden, no tab stop) that bots fill.
HONEYPOT = "homepage"
FIELDS = ("name", "email", "phone", "organisation", "text")
# The service names the record's fields; the form marks its own input as the one to correct.
FORM_FIELD = {
    "customer_name": "name",
    "customer_email": "email",
    "customer_phone": "phone",
    "customer_org": "organisation",
}


def _page(request: Request, template: str, status: int = 200, **extra: Any) -> HTMLResponse:
    settings = settings_of(request)
    context = {
        "request": request,
        "locale": request_locale(request),
        "site_name": settings.site_name,
        "zone": settings.timezone,
        **extra,
    }
    return HTMLResponse(render(f"inquiries/{template}", context), status_code=status)


def _form(
    request: Request,
    *,
    status: int = 200,
    error: str | None = None,
    field: str | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    locale = request_locale(request)
    values = values or {
        **{name: "" for name in FIELDS},
        "locale": locale,
        "keep_informed": True,
    }
    return _page(
        request,
        "public_form.html",
        status,
        error=error,
        error_field=field,
        values=values,
        honeypot=HONEYPOT,
        text_max=service.TEXT_MAX,
        name_max=service.NAME_MAX,
        phone_max=service.PHONE_MAX,
    )


@router.get("/inquiry", response_class=HTMLResponse)
def inquiry_form(request: Request) -> HTMLResponse:
    """The form: what happened, how to reach you; the reply comes in the language chosen."""
    return _form(request)


@router.post("/inquiry", response_class=HTMLResponse)
def inquiry_submit(
    request: Request, form: PostedForm, session: Session = Depends(db_session)
) -> HTMLResponse:
    """Take the inquiry in and show its reference (R18); honeypot and hourly limit first."""
    settings = settings_of(request)
    values: dict[str, Any] = {name: form.get(name) or "" for name in FIELDS}
    values["locale"] = form.get("locale") or request_locale(request)
    values["keep_informed"] = form.get("keep_informed") == "1"
    if form.get(HONEYPOT):
        # A bot: answered like a person (so it learns nothing), nothing stored or counted.
        log.info("inquiry form: honeypot filled, post discarded")
        return _page(request, "public_thanks.html", inquiry=None, email=None)
    now = utcnow()
    try:
        if not values["email"].strip():
            # The form's answer goes by mail: without an address nobody could reply.
            notify_rules.normalise_email(values["email"])
        client = limits.form_client(settings, request.client.host if request.client else None)
        limits.check_and_count(session, settings, client, now)
        inquiry = intake.take(
            session,
            settings,
            service.NewInquiry(
                channel=rules.Channel.FORM,
                text=values["text"],
                customer_name=values["name"],
                customer_email=values["email"],
                customer_phone=values["phone"],
                customer_org=values["organisation"],
                locale=values["locale"],
                keep_informed=values["keep_informed"],
            ),
            actor="public:form",
            now=now,
        )
    except limits.TooManyRequests as exc:
        session.rollback()
        page = _page(request, "public_limited.html", exc.status, error=message(request, exc))
        page.headers["Retry-After"] = str(int(limits.WINDOW.total_seconds()))
        return page
    except AnshinError as exc:
        session.rollback()
        return _form(
            request,
            status=exc.status,
            error=message(request, exc),
            field=FORM_FIELD.get(exc.field or "", exc.field),
            values=values,
        )
    session.commit()
    return _page(
        request,
        "public_thanks.html",
        inquiry=inquiry,
        email=inquiry.customer_email,
        acknowledged=inquiry.contact_id is not None,
    )
