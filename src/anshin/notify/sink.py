"""Local receivers for trying delivery for real: an SMTP sink and a webhook receiver.

Used by the tests and the fan-out benchmark (and handy on a laptop: run a
sink, point ``ANSHIN_SMTP_PORT`` at it, publish, look at what arrived). Both
listen on 127.0.0.1 only and can be told to fail on purpose — the SMTP sink
answers ``451`` to every n-th message, the webhook receiver answers a chosen
status — so retry paths run against real protocol errors, not mocks.
``aiosmtpd`` is a development dependency; it is imported only here.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from sqlalchemy import insert
from sqlalchemy.orm import Session

from anshin.db import utcnow
from anshin.notify.models import Subscriber, SubscriberComponent


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    """One accepted mail."""

    recipients: list[str]
    message_id: str
    data: bytes

    def parse(self) -> EmailMessage:
        """The mail as an ``email`` object (headers decoded)."""
        return cast(EmailMessage, message_from_bytes(self.data, policy=default_policy))


@dataclass
class MailSink:
    """aiosmtpd handler that records accepted mail; ``fail_every=3`` answers 451 to each third."""

    fail_every: int = 0
    delay: float = 0.0
    keep_data: bool = True
    reject: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    attempts: int = 0
    refused: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.reject:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.attempts += 1
            number = self.attempts
        if self.fail_every and number % self.fail_every == 0:
            with self._lock:
                self.refused += 1
            return "451 4.3.0 Temporary failure, please try again later"
        if self.delay:
            await asyncio.sleep(self.delay)
        data = bytes(envelope.content)
        head = data.split(b"\r\n\r\n", 1)[0]
        message_id = ""
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                message_id = line.split(b":", 1)[1].strip().decode()
                break
        with self._lock:
            self.received.append(
                Received(list(envelope.rcpt_tos), message_id, data if self.keep_data else b"")
            )
        return "250 2.0.0 OK"

    def accepted(self) -> int:
        """How many mails were accepted so far."""
        with self._lock:
            return len(self.received)

    def ids_per_recipient(self) -> dict[str, set[str]]:
        """Distinct Message-IDs each recipient received (one per message means no duplicates)."""
        result: dict[str, set[str]] = {}
        with self._lock:
            for item in self.received:
                for rcpt in item.recipients:
                    result.setdefault(rcpt.lower(), set()).add(item.message_id)
        return result

    def copies(self) -> Counter[str]:
        """How many times each Message-ID arrived (above 1: a resend after a crash)."""
        with self._lock:
            return Counter(item.message_id for item in self.received)


class SmtpSink:
    """A running SMTP server on 127.0.0.1 feeding a :class:`MailSink` (context manager)."""

    def __init__(self, handler: MailSink | None = None) -> None:
        from aiosmtpd.controller import Controller

        self.handler = handler or MailSink()
        self.port = free_port()
        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, data_size_limit=10_000_000
        )

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


@dataclass
class Hook:
    """One webhook request as received."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 recording accepted POSTs.

    ``statuses`` scripts the next answers in order; ``by_path`` fixes the
    answer for a path (e.g. ``{"/gone": 410}``); otherwise ``default_status``.
    """

    def __init__(
        self,
        statuses: list[int] | None = None,
        default_status: int = 200,
        by_path: dict[str, int] | None = None,
    ) -> None:
        self.requests: list[Hook] = []
        self.statuses = list(statuses or [])
        self.default_status = default_status
        self.by_path = dict(by_path or {})
        self.attempts = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.attempts += 1
                    if self.path in receiver.by_path:
                        status = receiver.by_path[self.path]
                    elif receiver.statuses:
                        status = receiver.statuses.pop(0)
                    else:
                        status = receiver.default_status
                    if 200 <= status < 300:
                        receiver.requests.append(
                            Hook(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                        )
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        """The URL to register as a webhook subscriber."""
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def seed_subscribers(
    session: Session,
    count: int,
    *,
    prefix: str = "user",
    domain: str = "example.com",
    status: str = "active",
    locale: str = "ja",
    component_id: int | None = None,
) -> list[int]:
    """Bulk-insert email subscribers ``{prefix}{i}@{domain}`` (tests, benchmark); returns ids."""
    now = utcnow()
    rows = [
        {
            "kind": "email",
            "address": f"{prefix}{i}@{domain}",
            "locale": locale,
            "status": status,
            "source": "import",
            "created_at": now,
            "confirmed_at": now if status == "active" else None,
        }
        for i in range(count)
    ]
    ids: list[int] = []
    for start in range(0, len(rows), 5000):
        ids.extend(
            session.scalars(
                insert(Subscriber).returning(Subscriber.id, sort_by_parameter_order=True),
                rows[start : start + 5000],
            )
        )
    if component_id is not None:
        session.execute(
            insert(SubscriberComponent),
            [{"subscriber_id": i, "component_id": component_id} for i in ids],
        )
    session.flush()
    return ids
