"""The receiving end of the fan-out benchmark, run as a process of its own.

It runs the product's own receivers (``anshin.notify.sink``): the aiosmtpd
SMTP sink and the webhook receiver, on 127.0.0.1. A process of its own so the
senders under test (the product's workers, the smtplib baseline) never share
an interpreter, and so a GIL, with what they send to. A small HTTP control
port tells the benchmark how much has arrived and when the last message was
accepted, and at the end who got how many copies:

- ``GET /stats``: counts, bytes, and first/last accept times (CLOCK_MONOTONIC,
  which Linux shares between processes, so the benchmark can subtract its own
  ``time.monotonic()`` of the publish from them);
- ``GET /recipients``: copies per mail recipient and per webhook path, and the
  distinct Message-IDs / Idempotency-Keys seen (a resend carries the same one).

Usage: ``python bench/fanout_sink.py CONTROL_PORT [uvloop|asyncio]`` (stops on SIGTERM / SIGINT).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from anshin.notify.sink import Hook, MailSink, WebhookReceiver, free_port


@dataclass
class TimedMailSink(MailSink):
    """The product's mail sink, also noting when mail was accepted and how many bytes."""

    first: float = 0.0
    last: float = 0.0
    size: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if reply.startswith("250"):
            now = time.monotonic()
            with self._lock:
                self.first = self.first or now
                self.last = now
                self.size += len(envelope.content)
        return reply


class TimedHooks(list[Hook]):
    """The webhook receiver's list of accepted requests, noting when the last one came."""

    first: float = 0.0
    last: float = 0.0

    def append(self, item: Hook) -> None:
        now = time.monotonic()
        self.first = self.first or now
        self.last = now
        super().append(item)


def stats(mail: TimedMailSink, hooks: TimedHooks) -> dict[str, Any]:
    """What arrived so far (the benchmark polls this for its progress bar)."""
    with mail._lock:
        mails, size, m_first, m_last = len(mail.received), mail.size, mail.first, mail.last
    firsts = [t for t in (m_first, hooks.first) if t]
    return {
        "mails": mails,
        "hooks": len(hooks),
        "bytes": size,
        "refused": mail.refused,
        "first": min(firsts) if firsts else 0.0,
        "last": max(m_last, hooks.last),
    }


def recipients(mail: TimedMailSink, hooks: TimedHooks) -> dict[str, Any]:
    """Copies per recipient and distinct ids: the exactly-once check of the benchmark."""
    with mail._lock:
        received = list(mail.received)
    per_rcpt: Counter[str] = Counter()
    for item in received:
        per_rcpt.update(r.lower() for r in item.recipients)
    hook_list = list(hooks)
    return {
        "mails": dict(per_rcpt),
        "message_ids": len({item.message_id for item in received}),
        "hooks": dict(Counter(h.path for h in hook_list)),
        "idempotency_keys": len({h.headers.get("idempotency-key", "") for h in hook_list}),
        "signed": sum(1 for h in hook_list if h.headers.get("x-anshin-signature")),
    }


def smtp_controller(handler: MailSink, loop_kind: str) -> Controller:
    """The product's SMTP sink set-up (``anshin.notify.sink.SmtpSink``), on a chosen event loop.

    uvloop (installed with ``uvicorn[standard]``) does the sink's socket work in C,
    which saves a few percent of the CPU the senders under test share with the sink;
    aiosmtpd's own Python parsing is most of the sink's cost either way.
    """
    loop: asyncio.AbstractEventLoop
    if loop_kind == "uvloop":
        import uvloop

        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    return Controller(
        handler, hostname="127.0.0.1", port=free_port(), loop=loop, data_size_limit=10_000_000
    )


def serve(control_port: int, loop_kind: str = "uvloop") -> None:
    """Run both receivers and the control port until SIGTERM or SIGINT."""
    mail = TimedMailSink(keep_data=False)
    hooks = TimedHooks()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    smtp = smtp_controller(mail, loop_kind)
    smtp.start()
    with WebhookReceiver() as receiver:
        receiver.requests = hooks
        ports = {"smtp": smtp.port, "http": receiver.port}

        class Control(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                routes = {
                    "/": lambda: ports,
                    "/stats": lambda: stats(mail, hooks),
                    "/recipients": lambda: recipients(mail, hooks),
                }
                route = routes.get(self.path)
                body = json.dumps(route() if route else {"error": "not found"}).encode()
                self.send_response(200 if route else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        control = ThreadingHTTPServer(("127.0.0.1", control_port), Control)
        threading.Thread(target=control.serve_forever, daemon=True).start()
        done.wait()
        control.shutdown()
        control.server_close()
    smtp.stop()


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "uvloop")
