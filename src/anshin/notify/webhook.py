"""Webhooks: POST a signed JSON body to each webhook subscriber (R26).

Headers on every request:

- ``X-Anshin-Timestamp``: Unix seconds when the request was signed;
- ``X-Anshin-Signature: sha256=<hex>``: HMAC-SHA256 with the subscriber's
  secret over ``"<timestamp>." + body`` (see :func:`anshin.notify.wire.sign`);
- ``Idempotency-Key``: the delivery id, identical on every retry, so a
  receiver can drop a copy it has already processed;
- ``X-Anshin-Delivery`` and ``X-Anshin-Event`` (the message kind).

``anshin`` format is anshin's own JSON; ``slack`` is the body a Slack incoming
webhook expects (``text`` + ``blocks``). A 2xx answer is success; timeouts,
connection errors, 408/425/429 and 5xx are retried; other answers are final.

Only addresses a webhook may reach are connected to (``rules.address_allowed``,
``ANSHIN_WEBHOOK_ALLOWED_NETWORKS``), and every attempt ends by its deadline
(``ANSHIN_WEBHOOK_DEADLINE_SECONDS``): see :class:`WebhookSender`.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from anshin import __version__
from anshin.notify import rules, wire
from anshin.notify.smtp import Outcome

if TYPE_CHECKING:
    from anshin.config import Settings

# How much of an answer is read (and dropped) before the attempt counts as answered.
ANSWER_READ_MAX = 64 * 1024


def body_for(
    *,
    fmt: str,
    delivery_id: int,
    message_id: int,
    kind: str,
    locale: str,
    created_at: str,
    texts: Mapping[str, Mapping[str, Any]],
    component_ids: list[int],
    data: Mapping[str, Any],
) -> bytes:
    """The request body of one delivery in the subscriber's format."""
    if fmt == "slack":
        url = data.get("url")
        payload: dict[str, Any] = wire.slack_payload(texts, locale, str(url) if url else None)
    else:
        payload = wire.anshin_payload(
            delivery_id=delivery_id,
            message_id=message_id,
            kind=kind,
            locale=locale,
            created_at=created_at,
            texts=texts,
            component_ids=component_ids,
            data=data,
        )
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Refused(Exception):
    """Every address the host resolves to is one a webhook may not reach (SSRF guard)."""

    def __init__(self, address: str) -> None:
        super().__init__(address)
        self.address = address


# Name lookups run here so a lookup that hangs still ends at the attempt's deadline.
_resolver = ThreadPoolExecutor(max_workers=8, thread_name_prefix="anshin-webhook-dns")


def resolve(host: str, port: int, timeout: float) -> list[tuple[Any, ...]]:
    """``getaddrinfo`` for a TCP connection, given up after ``timeout`` seconds."""
    future = _resolver.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
    return list(future.result(timeout=max(timeout, 0.001)))


def blocked_addresses(url: str, allowed: Sequence[rules.IPNetwork], timeout: float) -> list[str]:
    """The addresses ``url``'s host resolves to that a webhook may not reach.

    A host that does not resolve now gives none: the check at send time
    (:func:`guarded_connect`) judges whatever it resolves to then.
    """
    host, port = rules.url_host_port(url)
    try:
        infos = resolve(host, port, timeout)
    except (OSError, TimeoutError):
        return []
    found = {str(info[4][0]) for info in infos}
    return sorted(a for a in found if not rules.address_allowed(a, allowed))


def guarded_connect(
    host: str, port: int, allowed: Sequence[rules.IPNetwork], deadline_at: float
) -> socket.socket:
    """A TCP connection to an address of ``host`` that a webhook may reach.

    The check is made on the very address connected to, after this lookup, so
    a name that resolved to a public address when the webhook was added and to
    an inside one now (DNS rebinding) is still refused.
    """
    infos = resolve(host, port, deadline_at - time.monotonic())
    refused: str | None = None
    last: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        if not rules.address_allowed(str(sockaddr[0]), allowed):
            refused = str(sockaddr[0])
            continue
        sock = socket.socket(family, kind, proto)
        sock.settimeout(max(deadline_at - time.monotonic(), 0.001))
        try:
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        return sock
    if last is not None:
        raise last
    raise Refused(refused or host)


class _Watchdog:
    """Shuts the attempt's socket at its deadline, whatever call is blocked on it."""

    def __init__(self, deadline_at: float) -> None:
        self.deadline_at = deadline_at
        self.sock: socket.socket | None = None
        self.fired = False
        self._timer: threading.Timer | None = None

    def watch(self, sock: socket.socket) -> None:
        """Guard ``sock`` (the TLS socket replaces the plain one it wraps)."""
        self.sock = sock
        if self._timer is None:
            self._timer = threading.Timer(max(self.deadline_at - time.monotonic(), 0.0), self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


class WebhookSender:
    """Sends one signed POST at a time, each within a total deadline (R26, issue 7).

    ``webhook_deadline_seconds`` covers the whole attempt: looking up the
    name, connecting, sending, and reading the answer to its end (up to
    :data:`ANSWER_READ_MAX`; the rest is not waited for). A receiver that
    never answers, or answers a byte at a time, costs one deadline and the
    attempt counts as failed (retried with backoff). Only the status code and a
    short error class are kept; the receiver's answer is read and dropped,
    never stored or shown (it may hold anything).
    """

    def __init__(self, settings: Settings) -> None:
        self.deadline = settings.webhook_deadline_seconds
        self.allowed = settings.webhook_networks()
        self._tls: ssl.SSLContext | None = None

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    def send(self, *, url: str, secret: str, body: bytes, delivery_id: int, kind: str) -> Outcome:
        """POST one signed body; ``ok`` only on a 2xx answer read to its end within the deadline."""
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"anshin/{__version__}",
            "Connection": "close",
            "X-Anshin-Timestamp": str(timestamp),
            "X-Anshin-Signature": wire.sign(secret, timestamp, body),
            "Idempotency-Key": wire.idempotency_key(delivery_id),
            "X-Anshin-Delivery": str(delivery_id),
            "X-Anshin-Event": kind,
        }
        deadline_at = time.monotonic() + self.deadline
        watchdog = _Watchdog(deadline_at)
        try:
            status = self._post(url, body, headers, deadline_at, watchdog)
        except Refused as exc:
            return Outcome.failed(f"address not allowed ({exc.address})", transient=False)
        except Exception as exc:  # any failure of the attempt; the class is what staff see
            if watchdog.fired or time.monotonic() >= deadline_at:
                return Outcome.failed(self._late(), transient=True)
            return Outcome.failed(error_class(exc), transient=True)
        finally:
            watchdog.cancel()
        if watchdog.fired:
            return Outcome.failed(self._late(), transient=True)
        if 200 <= status < 300:
            return Outcome.accepted()
        return Outcome.failed(f"HTTP {status}", transient=rules.http_is_transient(status))

    def _late(self) -> str:
        return f"deadline exceeded ({self.deadline:g} s)"

    def _post(
        self,
        url: str,
        body: bytes,
        headers: dict[str, str],
        deadline_at: float,
        watchdog: _Watchdog,
    ) -> int:
        parts = urlsplit(url)
        host, port = rules.url_host_port(url)
        sock = guarded_connect(host, port, self.allowed, deadline_at)
        watchdog.watch(sock)
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            sock = self._context().wrap_socket(sock, server_hostname=host)
            watchdog.watch(sock)
            conn = http.client.HTTPSConnection(host, port)
        else:
            conn = http.client.HTTPConnection(host, port)
        conn.sock = sock
        try:
            target = parts.path or "/"
            if parts.query:
                target += "?" + parts.query
            conn.request("POST", target, body=body, headers=headers)
            response = conn.getresponse()
            read = 0
            while read < ANSWER_READ_MAX and (chunk := response.read1(8192)):
                read += len(chunk)  # read to the end and dropped (see the class docstring)
            return response.status
        finally:
            conn.close()

    def close(self) -> None:
        """Nothing is pooled: each attempt has its own connection (and its own deadline)."""


def error_class(exc: BaseException) -> str:
    """A short, stable description of a failed attempt for staff (no receiver-supplied text)."""
    if isinstance(exc, socket.gaierror):
        return "name lookup failed"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error ({type(exc).__name__})"
    if isinstance(exc, http.client.HTTPException):
        return f"bad HTTP answer ({type(exc).__name__})"
    return f"connection failed ({type(exc).__name__})"
