"""Serve the public status page from the stored artefacts, never by rendering per request.

One raw ASGI handler does the work for both ways in:

- ``router`` (mounted by create_app like every domain's router) serves every
  path, including ``/?lang=en`` and HEAD;
- ``StatusPageFastPath``, an ASGI middleware placed outermost, answers the hot
  paths (GET/HEAD without a query string) before sessions, routing and the
  other middleware run — the surge during an incident hits exactly these.

Conditional requests (If-None-Match) get 304; the page at ``/`` is picked by
``?lang=``, the ``anshin_lang`` cookie, then Accept-Language. When nothing has
been published yet the first request publishes; when no page can be had at
all the answer is a short 503 in both languages, never a 500.
"""

from __future__ import annotations

import logging
import re
import threading
import weakref
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from anshin.i18n import negotiate
from anshin.statuspage.serving import ArtefactCache, Stored
from anshin.web.deps import LOCALE_COOKIE
from anshin.web.headers import with_security_headers

log = logging.getLogger("anshin.statuspage")

# Public path (without the leading slash) of every artefact but the negotiated page.
ARTEFACT_PATHS: tuple[str, ...] = (
    "history.atom",
    "history.rss",
    "en/history.atom",
    "en/history.rss",
    "api/v2/summary.json",
    "api/v2/status.json",
    "api/v2/components.json",
    "api/v2/incidents.json",
    "api/v2/incidents/unresolved.json",
    "api/v2/scheduled-maintenances.json",
    "api/v2/scheduled-maintenances/upcoming.json",
    "api/v2/scheduled-maintenances/active.json",
)
# Request path -> artefact path; None means "negotiate the language".
PATHS: dict[str, str | None] = {
    "/": None,
    "/en/": "en/index.html",
    **{"/" + p: p for p in ARTEFACT_PATHS},
}
_COOKIE = re.compile(rb"(?:^|[;,\s])" + LOCALE_COOKIE.encode() + rb"=\s*\"?([A-Za-z-]{2,8})")
UNAVAILABLE = (
    '<!doctype html><html lang="ja"><meta charset="utf-8"><title>503</title>'
    "<p>ステータスページを準備しています。しばらくしてから再度お試しください。</p>"
    '<p lang="en">The status page is being prepared. Please try again shortly.</p></html>'
).encode()
_cache_lock = threading.Lock()


def cache_of(app: Any) -> ArtefactCache:
    """The app's artefact cache, made on first use from the app's engine and settings."""
    cache: ArtefactCache | None = getattr(app.state, "status_cache", None)
    if cache is None:
        with _cache_lock:
            cache = getattr(app.state, "status_cache", None)
            if cache is None:
                cache = ArtefactCache(app.state.engine, app.state.sessions, app.state.settings)
                weakref.finalize(cache, cache.probe.close)
                app.state.status_cache = cache
    return cache


@lru_cache(maxsize=512)
def _locale(query: str | None, cookie: str | None, accept: str | None, default: str) -> str:
    return negotiate(query, cookie, accept, default)


def page_for(
    query_string: bytes, cookie: bytes | None, accept_language: bytes | None, default: str
) -> str:
    """``index.html`` or ``en/index.html`` for a request to ``/`` (R: Japanese first)."""
    query = None
    if query_string:
        query = parse_qs(query_string.decode("latin-1")).get("lang", [None])[0]
    chosen = None
    if cookie:
        found = _COOKIE.search(cookie)
        chosen = found.group(1).decode() if found else None
    accept = accept_language.decode("latin-1")[:200] if accept_language else None
    locale = _locale(query, chosen, accept, default)
    return "en/index.html" if locale == "en" else "index.html"


async def _send(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> None:
    # The security headers here too: the fast path answers before the app's middleware.
    headers = with_security_headers(headers)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def serve(scope: Scope, receive: Receive, send: Send, app: Any = None) -> None:
    """Answer one GET/HEAD for a status page path from the stored bytes.

    ``app`` holds the settings, engine and sessions in ``app.state``; inside the
    FastAPI app it is ``scope["app"]``.
    """
    if scope["method"] not in ("GET", "HEAD"):
        await _send(send, 405, [(b"allow", b"GET, HEAD"), (b"content-length", b"0")])
        return
    path = scope["path"]
    target = PATHS.get(path, path.lstrip("/"))
    if_none_match = cookie = accept = None
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            if_none_match = value
        elif name == b"cookie":
            cookie = value
        elif name == b"accept-language":
            accept = value
    app = app if app is not None else scope.get("app")
    stored: Stored | None = None
    try:
        if target is None:
            default = app.state.settings.default_locale if app is not None else "ja"
            target = page_for(scope.get("query_string", b""), cookie, accept, default)
        if app is not None:
            stored = await cache_of(app).get(target)
    except Exception:
        log.exception("status page: could not serve %s", path)
    if stored is None:
        headers = [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"content-length", str(len(UNAVAILABLE)).encode()),
            (b"retry-after", b"10"),
            (b"cache-control", b"no-store"),
        ]
        await _send(send, 503, headers, UNAVAILABLE if scope["method"] == "GET" else b"")
        return
    vary = path == "/"
    if stored.matches(if_none_match):
        await _send(send, 304, stored.not_modified_vary if vary else stored.not_modified)
        return
    body = stored.body if scope["method"] == "GET" else b""
    await _send(send, 200, stored.headers_vary if vary else stored.headers, body)


class StatusPageFastPath:
    """ASGI middleware: the status page's hot paths answered before the rest of the stack.

    Only GET/HEAD of a known public path without a query string is taken; every
    other request (and ``/?lang=en``, which also sets the language cookie) goes on
    to the app unchanged. Two ways to place it:

    - ``StatusPageFastPath(create_app(settings))`` wraps the app from outside, so a
      status request never enters Starlette at all (the fastest; ``.state`` is the
      app's, for callers that read it);
    - ``app.add_middleware(StatusPageFastPath)`` as the last middleware added.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        inner = getattr(app, "state", None)
        # Wrapping the FastAPI app itself: its state is known now. As a middleware
        # inside the app, the app arrives with each request as scope["app"].
        self.holder: Any = app if hasattr(inner, "settings") else None
        if inner is not None:
            self.state = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] in PATHS
            and scope["method"] in ("GET", "HEAD")
            and not scope.get("query_string")
        ):
            await serve(scope, receive, send, self.holder)
            return
        await self.app(scope, receive, send)


class _Endpoint:
    """``serve`` as a Starlette route endpoint (a class instance runs as a raw ASGI app)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await serve(scope, receive, send)


class _Redirect:
    """A permanent redirect (``/en`` to ``/en/``), as a raw ASGI app."""

    def __init__(self, location: str) -> None:
        self.location = location.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _send(send, 301, [(b"location", self.location), (b"content-length", b"0")])


router = APIRouter()
_methods = ["GET", "HEAD"]
router.routes.extend(
    Route(p, _Endpoint(), methods=_methods, include_in_schema=False) for p in PATHS
)
router.routes.append(Route("/en", _Redirect("/en/"), methods=_methods, include_in_schema=False))
