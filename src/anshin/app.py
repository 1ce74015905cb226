"""FastAPI factory: one app that mounts every domain's routers (docs/design.md, "Where code lives").

Errors a user can cause become a 4xx with a message in the request's language
(JSON under /api/, a page elsewhere); nothing becomes a 500 with a traceback.
A database that cannot do its job (read-only, full, locked, unreachable, no
connection free in time) answers 503 with Retry-After, the same way.
A setup the app cannot run with (a malformed message-check word list) stops
``create_app`` instead of failing later on a user's request.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp

from anshin import __version__
from anshin.comms.lint.lexicon import validate as validate_word_lists
from anshin.config import Settings, get_settings
from anshin.db import make_engine, make_sessionmaker
from anshin.instance.secret import ensure_secret
from anshin.team.sessions import COOKIE as SESSION_COOKIE
from anshin.team.sessions import SecureCookieOnHttps
from anshin.web import limits
from anshin.web.errors import install_error_handlers, install_storage_error_handler
from anshin.web.headers import SecurityHeaders
from anshin.web.middleware import RememberLanguage, RequestGate

log = logging.getLogger("anshin")

# Modules exposing ``router``; order matters only for overlapping paths.
ROUTER_MODULES: tuple[str, ...] = (
    "anshin.statuspage.views",
    "anshin.statuspage.faq_views",
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
    # Fixed paths before the desk's /console/inquiries/{ref}: intake's
    # (/console/inquiries/phone) and the harassment queue (/console/inquiries/harassment).
    "anshin.inquiries.intake_api",
    "anshin.inquiries.public_views",
    "anshin.inquiries.intake_views",
    "anshin.inquiries.harassment_views",
    "anshin.inquiries.views",
    "anshin.inquiries.desk_views",
    "anshin.inquiries.desk_api",
    "anshin.team.skill_views",
    "anshin.inquiries.reply_views",
    "anshin.inquiries.reply_api",
    "anshin.inquiries.handoff_views",
    "anshin.inquiries.handoff_api",
    "anshin.inquiries.share_views",
    "anshin.inquiries.share_api",
    "anshin.inquiries.departments_api",
    "anshin.inquiries.departments_views",
    # The knowledge base's console: fixed paths (/console/kb/new, /console/kb/synonyms)
    # before the article's /console/kb/{key}.
    "anshin.knowledge.form_views",
    "anshin.knowledge.synonym_views",
    "anshin.knowledge.views",
    "anshin.knowledge.search_views",
    "anshin.review.feedback_views",
    "anshin.review.drill_views",
    "anshin.review.action_views",
    "anshin.review.views",
    "anshin.review.report_views",
    "anshin.knowledge.api",
)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Size the thread pool the routes run in to ``ANSHIN_THREADS`` (the pool is sized to it)."""
    settings: Settings = app.state.settings
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
    yield
    app.state.engine.dispose()


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
    install_error_handlers(app)
    install_storage_error_handler(app)
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
