"""Request body limits: a body larger than the route accepts is a 413, never read into memory.

Bodies are read before sign-in is checked (FastAPI parses a JSON or form body
before the route's dependencies run), so without a cap one anonymous 300 MB
POST grows the process by a gigabyte. :class:`BodyLimit` refuses a declared
``Content-Length`` above the limit before the app sees the request, and counts
the bytes of a body sent without one (chunked) as they arrive, stopping at the
limit. The limit is ``ANSHIN_MAX_BODY_BYTES`` (1 MiB: a 20,000-character
template or draft fits many times over); the CSV subscriber import takes
``ANSHIN_MAX_IMPORT_BYTES`` on its route.

The refusal speaks the request's language: JSON under ``/api/`` (code
``TooLarge``, the limit in bytes), the error page elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anshin.i18n import N_, translate
from anshin.web.deps import request_locale
from anshin.web.templating import render

TOO_LARGE_MESSAGE = N_(
    "The request is too large: at most {limit}. Nothing was changed. "
    "Send less at once (a shorter text, or a smaller file)."
)


def wants_json(scope: Scope) -> bool:
    """True for API callers (a path under /api/ or an ``Accept: application/json``)."""
    if str(scope.get("path", "")).startswith("/api/"):
        return True
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            return bytes(value).startswith(b"application/json")
    return False


def plain_error(
    request: Request,
    status: int,
    text: str,
    *,
    code: str,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    """An error answer without the database: JSON for API callers, the bare error page else.

    For refusals made before the app runs (too large, too busy): looking up who
    is signed in would cost the very resources being protected.
    """
    if wants_json(request.scope):
        payload = {"error": {"code": code, "message": text, **(extra or {})}}
        return JSONResponse(payload, status_code=status, headers=dict(headers or {}))
    context = {"request": request, "locale": request_locale(request), "user": None}
    body = render("error.html", {**context, "status": status, "message": text})
    return HTMLResponse(body, status_code=status, headers=dict(headers or {}))


def format_size(size: int) -> str:
    """1048576 -> "1 MB"; 1536 -> "1.5 KB": the limit as people read it."""
    if size >= 2**20:
        return f"{size / 2**20:g} MB"
    if size >= 2**10:
        return f"{size / 2**10:g} KB"
    return f"{size} B"


class BodyTooLarge(StarletteHTTPException):
    """Raised while a body is read past its limit (an HTTPException: FastAPI lets it through)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413)
        self.limit = limit


def too_large(request: Request, limit: int) -> Response:
    """The 413 in the request's language, with the limit; the connection is closed after it."""
    text = translate(request_locale(request), TOO_LARGE_MESSAGE, limit=format_size(limit))
    return plain_error(
        request,
        413,
        text,
        code="TooLarge",
        headers={"Connection": "close"},
        extra={"limit_bytes": limit},
    )


async def no_body() -> Message:
    """The receive of an answer sent without reading the request."""
    return {"type": "http.disconnect"}


class BodyLimit:
    """Refuse request bodies above the limit of their route (ASGI middleware, see module doc)."""

    def __init__(self, app: ASGIApp, default: int, routes: Mapping[str, int]) -> None:
        self.app = app
        self.default = default
        self.routes = dict(routes)

    def limit_for(self, path: str) -> int:
        """The route's own limit, or the default."""
        return self.routes.get(path, self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(str(scope.get("path", "")))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await too_large(Request(scope), limit)(scope, no_body, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def install(app: FastAPI, default: int, routes: Mapping[str, int]) -> None:
    """Add the middleware and the answer for a body that grows past its limit while read."""

    async def body_too_large(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BodyTooLarge)
        return too_large(request, exc.limit)

    app.add_exception_handler(BodyTooLarge, body_too_large)
    app.add_middleware(BodyLimit, default=default, routes=routes)
