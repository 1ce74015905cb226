"""Real HTTP receivers on 127.0.0.1 that misbehave the ways a customer's endpoint can.

Each runs a ``ThreadingHTTPServer`` in a thread of its own:

- ``ok``: answers 200 at once;
- ``fail``: answers 500 with a body that must never reach staff;
- ``hang``: reads the request, then says nothing until released;
- ``trickle``: answers 200 and then the body a byte at a time until released.

They record every request and the most requests they ever held at once, so a
test can assert what reached them without timing anything.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

SECRET_ANSWER = "internal stack trace: password=hunter2 <script>alert(1)</script>"


@dataclass
class Receiver:
    """One misbehaving endpoint; ``url(path)`` is where to send."""

    mode: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    held: int = 0
    most_held: int = 0
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def url(self, path: str = "/hook") -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def wait_for(self, count: int, timeout: float = 60.0) -> None:
        """Until ``count`` requests arrived (a generous timeout, not a measurement)."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"{self.mode}: {len(self.requests)} of {count} requests")

    def release(self) -> None:
        self.released.set()

    def __enter__(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.arrived:
                    receiver.held += 1
                    receiver.most_held = max(receiver.most_held, receiver.held)
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body}
                    )
                    receiver.arrived.notify_all()
                try:
                    self._answer()
                except OSError:
                    pass  # the sender gave up on us: that is the point of some tests
                finally:
                    with receiver.arrived:
                        receiver.held -= 1

            def _answer(self) -> None:
                mode = receiver.mode
                if mode == "hang":
                    receiver.released.wait(120)
                if mode == "fail":
                    payload = SECRET_ANSWER.encode()
                    self.send_response(500)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if mode == "trickle":
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    for _ in range(1200):  # a byte every 0.1 s for up to two minutes
                        if receiver.released.wait(0.1):
                            break
                        self.wfile.write(b"x")
                        self.wfile.flush()
                    self.close_connection = True
                    return
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def receivers(*modes: str) -> Iterator[list[Receiver]]:
    """Several receivers at once, all released and stopped at the end."""
    started: list[Receiver] = []
    try:
        for mode in modes:
            started.append(Receiver(mode).__enter__())
        yield started
    finally:
        for receiver in started:
            receiver.__exit__(None, None, None)
