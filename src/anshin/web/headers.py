"""Security headers on every response: pages, API, status page, static files, errors.

- ``Content-Security-Policy``: scripts, styles, images, fonts and requests from
  this origin only — no inline script or style anywhere (the console's script
  is ``/static/console.js``; htmx is told not to inject its indicator style),
  so text that slipped into a page unescaped still cannot run. Forms post to
  this origin only, nothing embeds a page (``frame-ancestors 'none'``), no
  ``<base>``, no plugins.
- ``X-Frame-Options: DENY`` for browsers that predate ``frame-ancestors``
  (clickjacking of the console's buttons).
- ``X-Content-Type-Options: nosniff``: a CSV export or a JSON answer is never
  run as a script or shown as a page.
- ``Referrer-Policy: same-origin``: console addresses (incident references,
  searches) are not sent to other sites a page links to.
- ``Cross-Origin-Opener-Policy: same-origin``: a page opened from another site
  cannot reach the console's window.

The interactive API documentation (``/api/docs``, Swagger UI) is the one page
that loads its script and style from a CDN and starts with an inline script:
its policy allows that CDN and the inline scripts *of that page as served* by
their SHA-256 hash, and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
DOCS_PATH = "/api/docs"
_DOCS_CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
"""The headers as ASGI pairs, for answers sent outside the app (the status page's fast path)."""

_NAMES = frozenset(name for name, _ in SECURITY_HEADERS)


def docs_policy(body: bytes) -> bytes:
    """The API documentation's policy: its CDN, and its own inline scripts by hash."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(body)
    )
    return (
        f"default-src 'self'; script-src 'self' {_DOCS_CDN} {hashes}; "
        f"style-src 'self' {_DOCS_CDN}; img-src 'self' data: https://fastapi.tiangolo.com; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'"
    ).encode()


def with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` plus every security header the answer does not set itself."""
    present = {name.lower() for name, _ in headers}
    return [*headers, *(pair for pair in SECURITY_HEADERS if pair[0] not in present)]


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every HTTP answer (see module doc)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope.get("path") == DOCS_PATH:
            await self._docs(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_security_headers(list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The small documentation page is held back until its inline scripts can be hashed."""
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        for message in held:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != b"content-security-policy"
                ]
                headers.append((b"content-security-policy", docs_policy(body)))
                message["headers"] = with_security_headers(headers)
            await send(message)
