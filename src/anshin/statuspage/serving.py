"""The stored artefacts as each process holds them: bytes in memory, checked by one tiny query.

The public page takes the surge during an incident, so a request must cost
about what a static file costs. Each process keeps the bytes (and ready-made
response headers) of the last publish version it read, and asks the database
one indexed one-row question — ``SELECT version`` on a connection kept for that
purpose — at most once per request and at most once per tenth of a second, so
a change published by any server reaches every server at once while the
database stays the only truth (docs/design.md "Scale-out"): nothing held here has
to be shared between processes.

When the database cannot answer, the last bytes this process holds are still
served: the status page matters most exactly when things are broken."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from anshin.config import Settings
from anshin.db import make_engine, make_sessionmaker, transaction, utcnow
from anshin.statuspage import service
from anshin.statuspage.models import Artefact, PublishState

log = logging.getLogger("anshin.statuspage")

# Republish when the stored page is older than this, so the 90-day history window
# and the "as of" time move on even when nothing changes.
REFRESH_AFTER = dt.timedelta(minutes=10)
# A version read is trusted for this long (one read per window, not per request, in a
# surge; a publish committed in this process is seen at once). Requests already accept
# Cache-Control max-age=10, so a tenth of a second across servers is invisible.
PROBE_WINDOW_SECONDS = 0.1
# After a failed refresh, wait this long before trying again (no retry storm).
RETRY_AFTER_SECONDS = 30.0
CACHE_CONTROL = b"public, max-age=10"
PROBE_SQL = f"SELECT version FROM {PublishState.__tablename__} WHERE id = 1"
# Public paths other sites may read from a browser: the JSON and the feeds (as Statuspage).
CORS_PREFIXES = ("api/", "history.", "en/history.")


@dataclass(frozen=True)
class Stored:
    """One artefact with its response headers built once per publish version."""

    path: str
    body: bytes
    etag: str
    headers: list[tuple[bytes, bytes]]
    headers_vary: list[tuple[bytes, bytes]]
    not_modified: list[tuple[bytes, bytes]]
    not_modified_vary: list[tuple[bytes, bytes]]

    @classmethod
    def build(cls, path: str, content_type: str, body: bytes, etag: str) -> Stored:
        common = [
            (b"etag", etag.encode()),
            (b"cache-control", CACHE_CONTROL),
            (b"x-content-type-options", b"nosniff"),
        ]
        if path.startswith(CORS_PREFIXES):
            common.append((b"access-control-allow-origin", b"*"))
        vary = [(b"vary", b"Accept-Language, Cookie")]
        full = [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
            *common,
        ]
        return cls(path, body, etag, full, full + vary, common, common + vary)

    def matches(self, if_none_match: bytes | None) -> bool:
        """RFC 9110 weak comparison against an If-None-Match list (or ``*``)."""
        if not if_none_match:
            return False
        wanted = self.etag.encode()
        for candidate in if_none_match.split(b","):
            tag = candidate.strip()
            if tag == b"*" or tag.removeprefix(b"W/") == wanted:
                return True
        return False


class VersionProbe:
    """A raw DB-API connection kept for the one-row version check (no pool, no ORM).

    On SQLite a bare SELECT opens no transaction; on PostgreSQL the connection is
    in autocommit. Either way each read sees the latest committed publish.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Any = None
        self._lock = threading.Lock()

    def _open(self) -> Any:
        proxied = self.engine.raw_connection()
        proxied.detach()  # ours alone: never returned to the pool with autocommit on
        conn = proxied.dbapi_connection
        assert conn is not None
        if self.engine.dialect.name == "postgresql":
            conn.autocommit = True
        return conn

    def read(self) -> int | None:
        """The current publish version; None before the first publish. Raises when the DB fails."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._conn is None:
                        self._conn = self._open()
                    cursor = self._conn.cursor()
                    try:
                        cursor.execute(PROBE_SQL)
                        row = cursor.fetchone()
                    finally:
                        cursor.close()
                    return None if row is None else int(row[0])
                except Exception:
                    self._discard()
                    if attempt == 2:
                        raise
        return None  # pragma: no cover - the loop returns or raises

    def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a broken connection may fail to close
                conn.close()

    def close(self) -> None:
        """Close the kept connection (the app's shutdown, tests)."""
        with self._lock:
            self._discard()


class ArtefactCache:
    """The artefacts of one publish version, reloaded when the version moves."""

    def __init__(self, engine: Engine, sessions: sessionmaker[Session], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        self.probe = VersionProbe(engine)
        # The reload runs on the event loop: it opens a connection of its own rather
        # than wait for the app's pool, which a burst of requests may have emptied.
        own = make_engine(engine.url.render_as_string(hide_password=False), poolclass=NullPool)
        self.reads = make_sessionmaker(own)
        self.version: int | None = None
        self.published_at: dt.datetime | None = None
        # R5: a promised next update passes before the regular refresh: publish again then,
        # so the page says the update is late instead of showing a past time as upcoming.
        self.refresh_at: dt.datetime | None = None
        self.files: dict[str, Stored] = {}
        self._reload_lock = threading.Lock()
        self._publish_lock = threading.Lock()
        self._next_attempt = 0.0
        self._checked_at = -PROBE_WINDOW_SECONDS
        self._hint = -1

    async def get(self, path: str) -> Stored | None:
        """The artefact at ``path`` as currently published (None: unknown path or no page)."""
        checked = time.monotonic()
        hint = service.local_publishes()
        if self.files and hint == self._hint and checked - self._checked_at < PROBE_WINDOW_SECONDS:
            return self.files.get(path)  # checked a moment ago and nothing published here since
        try:
            current = self.probe.read()
        except Exception:
            log.warning("status page: version check failed; serving the bytes held", exc_info=True)
            return self.files.get(path)
        self._checked_at, self._hint = checked, hint
        if current is None:
            await self._publish_in_thread(wait=True)
        else:
            if current != self.version:
                self._reload()
            if self._stale():
                await self._publish_in_thread(wait=False)
        return self.files.get(path)

    def _stale(self) -> bool:
        if self.published_at is None or time.monotonic() < self._next_attempt:
            return False
        now = utcnow()
        due = self.refresh_at is not None and now >= self.refresh_at
        return due or now - self.published_at > REFRESH_AFTER

    def _reload(self) -> None:
        """Read the version and every artefact (version first: a newer row only means a reread)."""
        with self._reload_lock:
            try:
                with self.reads() as session:
                    state = session.execute(
                        select(PublishState.version, PublishState.published_at).where(
                            PublishState.id == 1
                        )
                    ).first()
                    if state is None or state.version == self.version:
                        return
                    files = {
                        a.path: Stored.build(a.path, a.content_type, a.body, a.etag)
                        for a in session.scalars(select(Artefact))
                    }
                    refresh_at = service.next_promise_after(session, state.published_at)
            except Exception:
                log.warning("status page: reload failed; serving the bytes held", exc_info=True)
                return
            self.files, self.version, self.published_at = files, state.version, state.published_at
            self.refresh_at = refresh_at

    async def _publish_in_thread(self, *, wait: bool) -> None:
        """Publish (first request on a fresh database, or a stale page) off the event loop.

        ``wait``: wait, in the worker thread, until a page exists (nothing to serve
        yet). Otherwise only the request that gets the lock refreshes and the others
        keep serving what is held. The event loop itself never blocks on the lock.
        """
        if wait:
            await anyio.to_thread.run_sync(self._publish_locked)
            return
        if not self._publish_lock.acquire(blocking=False):
            return
        try:
            await anyio.to_thread.run_sync(self._publish)
        finally:
            self._publish_lock.release()

    def _publish_locked(self) -> None:
        with self._publish_lock:
            self._publish()

    def _publish(self) -> None:
        if time.monotonic() < self._next_attempt:
            return
        try:
            current = self.probe.read()
            if current is None or (current == self.version and self._stale()):
                with transaction(self.sessions) as session:
                    service.publish(session, self.settings)
        except Exception:
            self._next_attempt = time.monotonic() + RETRY_AFTER_SECONDS
            log.warning("status page: publish on request failed", exc_info=True)
        self._reload()

    def close(self) -> None:
        """Let go of the probe's connection."""
        self.probe.close()
