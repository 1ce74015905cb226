"""Middleware of the request path: the admission gate and the remembered language choice.

Plain ASGI classes (not BaseHTTPMiddleware): both sit on every request, the
status page's hot paths included (docs/decisions/0003-serving-the-status-page.md).
"""

from __future__ import annotations

from urllib.parse import parse_qs

import anyio.to_thread
from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anshin.i18n import SUPPORTED_LOCALES, translate
from anshin.team.service import HASHING_SLOTS
from anshin.web.deps import (
    LOCALE_COOKIE,
    request_locale,
)
from anshin.web.errors import BUSY_MESSAGE, RETRY_AFTER_BUSY
from anshin.web.limits import no_body, plain_error


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
