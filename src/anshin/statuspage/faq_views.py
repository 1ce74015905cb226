"""The public FAQ page ``/faq`` and its type-ahead ``/faq/suggest`` (R34), in Japanese and English.

For customers, like the status page: no sign-in. Unlike the status page
these are live routes (the stored page's fast path, decision 0003, is not
touched: the status page only links here). The page without a search is the
same for everyone in a language, so it may be cached for a minute
(``Cache-Control: public, max-age=60``, ``Vary`` on what picks the language);
a search is counted per client and never cached. ``/faq/suggest`` answers
JSON for the inquiry form's script (``/static/faq-suggest.js``): the top
matches of the start of what the customer typed. Bad input is a 4xx with a
message in the reader's language, never a 500.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.orm import Session

from anshin.errors import AnshinError
from anshin.i18n import SUPPORTED_LOCALES
from anshin.inputs import check_storable, text_problem
from anshin.statuspage import faq
from anshin.web.deps import db_session, message, request_locale, settings_of
from anshin.web.templating import render

router = APIRouter()

PAGE_CACHE = "public, max-age=60"
PAGE_CACHE_PRIVATE = "private, max-age=60"
VARY = "Accept-Language, Cookie"
RETRY_AFTER = "60"


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _locale(request: Request, lang: str | None) -> str:
    """``?lang=`` when it names a language anshin speaks, else the negotiated one.

    A value no one could type (NUL, a lone surrogate) is refused like any input.
    """
    if lang is not None:
        check_storable(lang, "lang")
    if lang in SUPPORTED_LOCALES:
        return str(lang)
    return request_locale(request)


def _page(request: Request, locale: str, status: int = 200, **extra: Any) -> HTMLResponse:
    settings = settings_of(request)
    context = {
        "request": request,
        "locale": locale,
        "site_name": settings.site_name,
        "query_max": faq.SUGGEST_MAX,
        **extra,
    }
    response = HTMLResponse(render("statuspage/faq.html", context), status_code=status)
    response.headers["Vary"] = VARY
    return response


@router.get("/faq", response_class=HTMLResponse)
def faq_page(
    request: Request,
    q: str | None = None,
    lang: str | None = None,
    session: Session = Depends(db_session),
) -> HTMLResponse:
    """Every public FAQ answer in the reader's language, or those matching a search (R34)."""
    locale = request_locale(request)
    try:
        locale = _locale(request, lang)
        words = faq.check_text(q or "", longest=faq.SUGGEST_MAX)
        if not words:
            response = _page(request, locale, answers=faq.listing(session, locale), query="")
            # A ?lang= answer sets the language cookie: kept out of shared caches.
            private = "lang" in request.query_params
            response.headers["Cache-Control"] = PAGE_CACHE_PRIVATE if private else PAGE_CACHE
            return response
        faq.count_search(session, settings_of(request), _client(request))
        session.commit()
        found = faq.find(session, words, locale, faq.PAGE_LIMIT)
    except AnshinError as exc:
        session.rollback()
        shown = q if q is not None and text_problem(q) is None else ""
        response = _page(
            request, locale, exc.status, answers=[], query=shown, error=message(request, exc)
        )
        if isinstance(exc, faq.TooManyRequests):
            response.headers["Retry-After"] = RETRY_AFTER
        response.headers["Cache-Control"] = "no-store"
        return response
    response = _page(request, locale, answers=found, query=words, searched=True)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/faq/suggest")
def faq_suggest(
    request: Request,
    q: str | None = None,
    lang: str | None = None,
    session: Session = Depends(db_session),
) -> JSONResponse:
    """Up to three public FAQ answers for what a customer is typing, as JSON (R34).

    ``{"results": [{"key", "title", "snippet", "url"}]}``; fewer than two
    characters answer no results without counting. Refusals are
    ``{"error": {"code", "message", "field"}}`` with 422 or 429.
    """
    locale = request_locale(request)
    headers = {"Cache-Control": "no-store"}
    try:
        locale = _locale(request, lang)
        words = faq.check_text(q or "", longest=faq.SUGGEST_MAX)
        if len(words) < faq.SUGGEST_MIN:
            return JSONResponse({"results": []}, headers=headers)
        faq.count_search(session, settings_of(request), _client(request))
        session.commit()
        found = faq.find(session, words, locale, faq.SUGGEST_LIMIT)
    except AnshinError as exc:
        session.rollback()
        if isinstance(exc, faq.TooManyRequests):
            headers["Retry-After"] = RETRY_AFTER
        error = {"code": type(exc).__name__, "message": message(request, exc), "field": exc.field}
        return JSONResponse({"error": error}, status_code=exc.status, headers=headers)
    prefix = "/faq" + ("?lang=en" if locale == "en" else "")
    results = [
        {"key": a.key, "title": a.title, "snippet": a.snippet, "url": f"{prefix}#faq-{a.key}"}
        for a in found
    ]
    return JSONResponse({"results": results}, headers=headers)
