"""FastAPI factory: one app that mounts every domain's routers (docs/design.md "Architecture").

Errors a user can cause become a 4xx with a message in the request's language
(JSON under /api/, a page elsewhere); nothing becomes a 500 with a traceback.
A database that cannot do its job (read-only, full, locked, unreachable, no
connection free in time) answers 503 with Retry-After, the same way.
A setup the app cannot run with (a malformed message-check word list) stops
``create_app`` instead of failing later on a user's request.
"""

from __future__ import annotations

import html
import importlib
import logging
import re
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import exc as sa_exc
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anshin import __version__
from anshin.comms.lint.lexicon import LexiconError
from anshin.comms.lint.lexicon import validate as validate_word_lists
from anshin.comms.lint_api import word_lists_unavailable
from anshin.config import Settings, get_settings
from anshin.db import is_busy, is_storage_error, make_engine, make_sessionmaker, storage_cause
from anshin.errors import AnshinError
from anshin.i18n import N_, SUPPORTED_LOCALES, translate
from anshin.inputs import ERROR_MESSAGES as INPUT_MESSAGES
from anshin.inputs import printable
from anshin.instance.secret import ensure_secret
from anshin.team.service import HASHING_SLOTS
from anshin.team.sessions import COOKIE as SESSION_COOKIE
from anshin.team.sessions import SecureCookieOnHttps
from anshin.web import limits
from anshin.web.deps import (
    LOCALE_COOKIE,
    LoginRequired,
    message,
    page_context,
    request_locale,
    user_for_error_page,
)
from anshin.web.headers import SecurityHeaders
from anshin.web.limits import no_body, plain_error
from anshin.web.templating import render

log = logging.getLogger("anshin")

# Modules exposing ``router``; order matters only for overlapping paths.
ROUTER_MODULES: tuple[str, ...] = (
    "anshin.statuspage.views",
    "anshin.team.views",
    "anshin.team.user_views",
    "anshin.team.account_views",
    "anshin.incidents.views",
    "anshin.incidents.api",
    "anshin.team.api",
    "anshin.comms.lint_api",
    "anshin.comms.api",
    "anshin.comms.views",
    "anshin.notify.views",
    "anshin.notify.api",
    "anshin.notify.console_views",
)

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


def _install_error_handlers(app: FastAPI) -> None:
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


def _install_storage_error_handler(app: FastAPI) -> None:
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


class RequestGate:
    """At most ``limit`` requests inside the app at once; the others wait their turn.

    Why: each request takes a thread for every step (dependencies, the route,
    the clean-up) and holds its database connection between them. Let hundreds
    in at once and they queue for threads while holding connections that the
    requests in threads are waiting for: checkouts time out and every request
    waits behind every other at each step. Admitting as many as there are
    threads (``ANSHIN_THREADS``) means an admitted request never waits for a
    thread, and with the pool sized above it, never for a connection. The rest
    wait here in arrival order holding nothing; after ``wait`` seconds they get a
    503 with Retry-After. The status page's own paths and static files pass
    straight through: they need neither a thread nor a connection.

    Sign-ins queue in a lane of their own first: a password check takes a CPU for
    about 0.2 s and only ``team.service.HASHING_SLOTS`` run at once, so a burst of
    them let in would fill every slot waiting for the CPU while subscribes and
    console pages waited behind them.
    """

    def __init__(self, app: ASGIApp, limit: int, wait: float) -> None:
        self.app = app
        self.limit = limit
        self.wait = wait
        self._slots: anyio.Semaphore | None = None
        self._sign_ins: anyio.Semaphore | None = None
        from anshin.statuspage.views import PATHS

        self._served_from_memory = frozenset(PATHS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or path in self._served_from_memory
            or path.startswith("/static/")
        ):
            await self.app(scope, receive, send)
            return
        if self._slots is None or self._sign_ins is None:
            self._slots = anyio.Semaphore(self.limit)
            self._sign_ins = anyio.Semaphore(2 * HASHING_SLOTS)
        lanes = [self._slots]
        if scope["method"] == "POST" and scope["path"] == "/login":
            lanes.insert(0, self._sign_ins)
        held: list[anyio.Semaphore] = []
        with anyio.move_on_after(self.wait):
            for lane in lanes:
                await lane.acquire()
                held.append(lane)
        try:
            if len(held) < len(lanes):
                await self._busy(scope, send)
                return
            await self.app(scope, receive, send)
        finally:
            for lane in reversed(held):
                lane.release()

    async def _busy(self, scope: Scope, send: Send) -> None:
        """503 with Retry-After in the request's language: the server is full right now."""
        request = Request(scope)
        response = plain_error(
            request,
            503,
            translate(request_locale(request), BUSY_MESSAGE),
            code="Busy",
            headers={"Retry-After": str(RETRY_AFTER_BUSY), "Cache-Control": "no-store"},
            extra={"retry_after": RETRY_AFTER_BUSY},
        )
        await response(scope, no_body, send)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Size the thread pool the routes run in to ``ANSHIN_THREADS`` (the pool is sized to it)."""
    settings: Settings = app.state.settings
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
    yield
    app.state.engine.dispose()


class RememberLanguage:
    """Keep an explicit ``?lang=ja|en`` choice in a cookie for later visits.

    A plain ASGI middleware (not BaseHTTPMiddleware): it sits on the status
    page's hot path and only touches responses to requests that chose a language.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or b"lang=" not in scope.get("query_string", b""):
            await self.app(scope, receive, send)
            return
        chosen = parse_qs(scope["query_string"].decode("latin-1")).get("lang", [""])[0]
        if chosen not in SUPPORTED_LOCALES:
            await self.app(scope, receive, send)
            return
        cookie = f"{LOCALE_COOKIE}={chosen}; Max-Age={365 * 86400}; Path=/; SameSite=lax"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for the given settings (tests pass their own; serve reads the env).

    Raises :class:`LexiconError` (naming the file and the entry) when a word list
    of the message check in ``ANSHIN_LINT_EXTRA_DIR`` is malformed.
    """
    settings = settings or get_settings()
    validate_word_lists()
    engine = make_engine(settings.database_url, settings)
    ensure_secret(settings, engine)  # the configured key, else the installation's generated one
    if settings.db_pool_size + settings.db_max_overflow <= settings.threads:
        log.warning(
            "ANSHIN_DB_POOL_SIZE + ANSHIN_DB_MAX_OVERFLOW (%d) should be above ANSHIN_THREADS "
            "(%d): requests would wait for a connection and fail with 503",
            settings.db_pool_size + settings.db_max_overflow,
            settings.threads,
        )
    app = FastAPI(
        lifespan=_lifespan,
        title="anshin",
        version=__version__,
        description="Incident communication and inquiry handling for support teams.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_sessionmaker(engine)
    app.state.write_sessions = make_sessionmaker(engine, writes=True)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        same_site="lax",
        https_only=settings.session_cookie_secure,
        max_age=settings.session_max_hours * 3600,
    )
    app.add_middleware(SecureCookieOnHttps)

    app.add_middleware(RememberLanguage)
    # A request waiting for its turn holds nothing, not even a decoded session.
    app.add_middleware(
        RequestGate, limit=settings.threads, wait=settings.request_queue_timeout_seconds
    )
    # A body too large is refused before it waits or is read.
    limits.install(
        app,
        default=settings.max_body_bytes,
        routes={"/api/subscribers/import": settings.max_import_bytes},
    )
    # Outermost: every answer, refusals included, carries the security headers.
    app.add_middleware(SecurityHeaders)
    _install_error_handlers(app)
    _install_storage_error_handler(app)
    static_dir = Path(__file__).parent / "web" / "static"
    app.mount("/static", StaticFiles(directory=static_dir), name="static")
    for module_name in ROUTER_MODULES:
        module = importlib.import_module(module_name)
        app.include_router(module.router)
    return app


def create_asgi(settings: Settings | None = None) -> ASGIApp:
    """The app as ``anshin serve`` runs it: the status page's hot paths answered first.

    Wrapping from outside keeps a status request off the middleware stack
    (about a third of the CPU per request; bench/RESULTS.md, decision 0003).
    """
    from anshin.statuspage.views import StatusPageFastPath

    return StatusPageFastPath(create_app(settings))
