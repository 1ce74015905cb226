"""Errors as people read them: a 4xx in the request's language, a storage 503 with Retry-After.

Nothing a user can cause becomes a 500 with a traceback: validation errors
name the field (or the line and column of broken JSON) in the reader's
language, JSON under /api/ and the error page elsewhere. A database that
cannot do its job (read-only, full, locked, unreachable, no connection free in
time) answers 503 with Retry-After the same way
(docs/decisions/0004-concurrency-and-storage-errors.md).
"""

from __future__ import annotations

import html
import logging
import re
import threading
import time
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from anshin.comms.lint.lexicon import LexiconError
from anshin.comms.lint_api import word_lists_unavailable
from anshin.db import is_busy, is_storage_error, storage_cause
from anshin.errors import AnshinError
from anshin.i18n import N_, translate
from anshin.inputs import ERROR_MESSAGES as INPUT_MESSAGES
from anshin.inputs import printable
from anshin.web.deps import (
    LoginRequired,
    message,
    page_context,
    request_locale,
    user_for_error_page,
)
from anshin.web.templating import render

log = logging.getLogger("anshin")

# pydantic error types a person can cause, in words they can act on.
VALIDATION_MESSAGES: dict[str, str] = {
    "missing": N_("This field is required."),
    "string_too_long": N_("Too long."),
    "string_too_short": N_("Too short."),
    "string_type": N_("Enter text (a JSON string)."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "float_parsing": N_("Enter a number."),
    "datetime_parsing": N_("Enter a date and time (ISO 8601, e.g. 2026-11-22T15:30+09:00)."),
    "datetime_from_date_parsing": N_(
        "Enter a date and time (ISO 8601, e.g. 2026-11-22T15:30+09:00)."
    ),
    "literal_error": N_("Choose one of the allowed values."),
    "enum": N_("Choose one of the allowed values."),
    "greater_than_equal": N_("The value is too small."),
    "less_than_equal": N_("The value is too large."),
    "json_invalid": N_("The request body is not valid JSON: line {line}, column {column}."),
    "model_attributes_type": N_("The request body must be a JSON object."),
    "model_type": N_("The request body must be a JSON object."),
    "dict_type": N_("The request body must be a JSON object."),
    "list_type": N_("Enter a list."),
    "too_long": N_("Too many items."),
    "bool_parsing": N_("Enter true or false."),
    "bool_type": N_("Enter true or false."),
    "extra_forbidden": N_("Unknown field."),
    # pydantic's own refusal of a lone surrogate (in a field's name, or before our check).
    "string_unicode": INPUT_MESSAGES["text_surrogate"],
    # The shared input layer (anshin.inputs): unstorable text, times, ids, references.
    **INPUT_MESSAGES,
}
# A JSON object key followed by its colon: the field a parse error sits in.
_JSON_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')


def _json_error_detail(err: dict[str, Any], doc: Any) -> dict[str, Any]:
    """Where a body that is not JSON breaks: line, column, and the field it was in.

    FastAPI reports the character offset only; people and editors count lines
    and columns, and a client fixing its request wants the field's name.
    """
    loc = err.get("loc", ())
    offset = loc[-1] if loc and isinstance(loc[-1], int) else 0
    text = doc if isinstance(doc, str) else ""
    offset = min(offset, len(text))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    keys = _JSON_KEY.findall(text, 0, offset)
    return {"field": keys[-1] if keys else None, "line": line, "column": column}


def _json(payload: dict[str, Any], status: int, headers: Any = None) -> JSONResponse:
    """A JSON answer whose every string can be sent: a lone surrogate is escaped, not a crash."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return printable(value)
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    return JSONResponse(clean(payload), status_code=status, headers=headers)


def _is_api(request: Request) -> bool:
    # The scope, not request.url: Starlette decodes the query string strictly as UTF-8
    # there, and an error answer must not fail on the bytes it is answering.
    path = str(request.scope.get("path", ""))
    return path.startswith("/api/") or request.headers.get("accept", "").startswith(
        "application/json"
    )


async def _error_page(request: Request, status: int, text: str) -> HTMLResponse:
    """The error page, with the signed-in user's navigation so they can carry on from it."""
    user = await run_in_threadpool(user_for_error_page, request)
    if user is None:
        context: dict[str, Any] = {"request": request, "locale": request_locale(request)}
    else:
        context = page_context(request, user)
    try:
        body = render("error.html", {"user": None, **context, "status": status, "message": text})
    except Exception:  # e.g. a query string that is not UTF-8, met by the layout's URL
        log.warning("error page: the layout could not be rendered", exc_info=True)
        body = (
            f"<!doctype html><html><body><h1>{status}</h1><p>{html.escape(text)}</p></body></html>"
        )
    return HTMLResponse(printable(body), status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AnshinError)
    async def anshin_error(request: Request, exc: AnshinError) -> Response:
        if isinstance(exc, LoginRequired) and not _is_api(request):
            query = bytes(request.scope.get("query_string", b"")).decode("latin-1")
            target = quote(
                str(request.scope.get("path", "")) + ("?" + query if query else ""),
                errors="replace",
            )
            return RedirectResponse(f"/login?next={target}", status_code=303)
        text = message(request, exc)
        if _is_api(request):
            payload: dict[str, Any] = {
                "error": {
                    "code": type(exc).__name__,
                    "message": text,
                    "field": exc.field,
                    **exc.details(),
                }
            }
            return _json(payload, exc.status)
        return await _error_page(request, exc.status, text)

    @app.exception_handler(LexiconError)
    async def word_lists_error(request: Request, exc: LexiconError) -> Response:
        # A word-list file broken after start-up, met by any page that checks a message.
        return await anshin_error(request, word_lists_unavailable(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        locale = request_locale(request)
        details: list[dict[str, Any]] = []
        for err in exc.errors():
            kind = str(err.get("type"))
            msgid = VALIDATION_MESSAGES.get(kind, N_("This value is not valid."))
            if kind == "json_invalid":
                where = _json_error_detail(err, exc.body)
                text = translate(locale, msgid, line=where["line"], column=where["column"])
                details.append({**where, "message": text})
                continue
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
            params = {k: str(v) for k, v in (err.get("ctx") or {}).items()}
            details.append(
                {"field": ".".join(loc) or None, "message": translate(locale, msgid, **params)}
            )
        summary = translate(
            locale, N_("Some of the input is not valid. Check the fields and try again.")
        )
        if _is_api(request):
            return _json(
                {"error": {"code": "InvalidInput", "message": summary, "details": details}}, 422
            )
        lines = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return await _error_page(request, 422, f"{summary} {lines}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        locale = request_locale(request)
        texts = {
            404: N_("Page not found."),
            405: N_("This method is not allowed here."),
            401: N_("Sign in to continue."),
            403: N_("Your role does not allow this."),
            400: N_("The request body could not be read. Send UTF-8 text."),
        }
        fallback = N_("The request could not be processed.")
        text = translate(locale, texts.get(exc.status_code, fallback))
        if _is_api(request):
            return _json(
                {"error": {"code": f"HTTP{exc.status_code}", "message": text}},
                exc.status_code,
                getattr(exc, "headers", None),
            )
        return await _error_page(request, exc.status_code, text)


# Retry-After of a storage 503: soon for a lock or a full pool, later for a database that
# is read-only, full or unreachable (a person has to act first).
RETRY_AFTER_BUSY = 5
RETRY_AFTER_UNAVAILABLE = 30
BUSY_MESSAGE = N_(
    "The service is handling many requests right now. Nothing was changed. "
    "Please try again in a moment."
)
STORAGE_MESSAGE = N_(
    "The service cannot read or store data right now. Nothing was changed. "
    "Please try again in a moment."
)


class StorageLog:
    """One log line per storage error with its cause; repeats of a cause are counted.

    In a burst the same cause ("database is locked") can fail hundreds of
    requests a second; the operator needs the cause once, and how often it
    happened, not hundreds of identical lines.
    """

    def __init__(self, every_seconds: float = 10.0) -> None:
        self.every = every_seconds
        self._last: dict[str, float] = {}
        self._quiet: dict[str, int] = {}
        self._lock = threading.Lock()

    def failed(self, request: Request, exc: BaseException) -> None:
        cause = f"{type(getattr(exc, 'orig', None) or exc).__name__}: {storage_cause(exc)}"
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(cause, -self.every) < self.every:
                self._quiet[cause] = self._quiet.get(cause, 0) + 1
                return
            self._last[cause] = now
            repeats = self._quiet.pop(cause, 0)
        more = f" (and {repeats} more since the last report)" if repeats else ""
        log.error("storage error on %s %s: %s%s", request.method, request.url.path, cause, more)


def install_storage_error_handler(app: FastAPI) -> None:
    """Storage errors → 503 with Retry-After, JSON under /api/, the error page elsewhere.

    The page is rendered without looking up the signed-in user: the database is
    what failed, and a pool with no free connection would make it wait again.
    """
    storage_log = StorageLog()

    async def storage_error(request: Request, exc: Exception) -> Response:
        if not is_storage_error(exc):
            raise exc
        storage_log.failed(request, exc)
        locale = request_locale(request)
        text = translate(locale, STORAGE_MESSAGE)
        retry = RETRY_AFTER_BUSY if is_busy(exc) else RETRY_AFTER_UNAVAILABLE
        headers = {"Retry-After": str(retry), "Cache-Control": "no-store"}
        if _is_api(request):
            payload = {
                "error": {"code": "StorageUnavailable", "message": text, "retry_after": retry}
            }
            return JSONResponse(payload, status_code=503, headers=headers)
        context = {"request": request, "locale": locale, "user": None}
        body = render("error.html", {**context, "status": 503, "message": text})
        return HTMLResponse(body, status_code=503, headers=headers)

    app.add_exception_handler(sa_exc.DBAPIError, storage_error)
    app.add_exception_handler(sa_exc.TimeoutError, storage_error)
