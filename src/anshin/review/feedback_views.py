"""The customer's survey page, ``/feedback/{token}`` (R30): no login, works on a phone.

Customers arrive from a mail link, often on a phone, right after an outage:
the page is one question (1 to 5), an optional comment and one button, in
ja or en (``?lang=``). A bad or expired link, or a bad answer, is a 4xx page in
the reader's language that keeps what they typed; nothing is lost or half-stored.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from anshin.errors import AnshinError
from anshin.review import feedback
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


def _page(request: Request, status: int = 200, **extra: Any) -> HTMLResponse:
    settings = settings_of(request)
    context = {
        "request": request,
        "locale": request_locale(request),
        "site_name": settings.site_name,
        **extra,
    }
    return HTMLResponse(render("review/feedback.html", context), status_code=status)


def _title(survey: feedback.Survey, locale: str) -> str:
    incident = survey.incident
    return (incident.title_en or incident.title) if locale == "en" else incident.title


@router.get("/feedback/{token}", response_class=HTMLResponse)
def survey_page(
    token: str, request: Request, session: Session = Depends(db_session)
) -> HTMLResponse:
    """The survey, with the earlier answer filled in when there is one."""
    try:
        survey = feedback.open_survey(session, settings_of(request), token)
    except AnshinError as exc:
        return _page(request, exc.status, state="error", error=message(request, exc))
    answer = survey.answer
    return _page(
        request,
        state="form",
        token=token,
        csrf_token=csrf_token(request),
        title=_title(survey, request_locale(request)),
        values={
            "score": str(answer.score) if answer else "",
            "comment": answer.comment if answer else "",
        },
        answered=answer is not None,
    )


@router.post("/feedback/{token}", response_class=HTMLResponse)
def survey_submit(
    token: str, request: Request, form: PostedForm, session: Session = Depends(db_session)
) -> HTMLResponse:
    """Store the answer (a second answer replaces the first) and thank the customer."""
    settings = settings_of(request)
    locale = request_locale(request)
    values = {"score": form.get("score") or "", "comment": form.get("comment") or ""}
    try:
        verify_csrf(request, form.get("csrf_token"))
        survey = feedback.open_survey(session, settings, token)
    except AnshinError as exc:
        session.rollback()
        return _page(request, exc.status, state="error", error=message(request, exc))
    try:
        feedback.answer(
            session,
            settings,
            token,
            score=values["score"],
            comment=values["comment"],
            locale=locale,
        )
    except AnshinError as exc:
        session.rollback()
        return _page(
            request,
            exc.status,
            state="form",
            token=token,
            csrf_token=csrf_token(request),
            title=_title(survey, locale),
            values=values,
            answered=survey.answer is not None,
            error=message(request, exc),
        )
    session.commit()
    return _page(request, state="thanks", title=_title(survey, locale))
