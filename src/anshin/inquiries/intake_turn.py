"""SQLite's write lock, taken in turns by intakes: within a process and across processes (R18).

SQLite has one write lock per database. A connection that finds it taken
polls with growing sleeps (up to 100 ms each), so under a burst of inquiries
some requests sleep long after the lock was free again: the p99 of
bench/intake.py, worst with several server processes (``--workers 2``: 3.3 s
at 63 inquiries a second). Intakes instead wait for their turn, taken just
before the first write and given back when the transaction ends (commit,
rollback, close):

- within a process, on a lock of the process (``_WRITE_TURN``): the next
  intake wakes the moment the turn is given back;
- across the processes of one machine (uvicorn workers, ``anshin worker``),
  on an advisory ``flock`` of a file next to the database
  (``<database>.intake-turn``), tried at short intervals (0.2 ms, doubling up
  to 2 ms) rather than SQLite's 100 ms.

Not taken on PostgreSQL (row locks: writers do not queue), for an in-memory
database, or when the session is in a write transaction already (its caller
holds SQLite's lock). After ``db_busy_timeout_seconds`` without a turn the
request goes on and SQLite's own wait decides, as without it. Other writers
(the console, the delivery workers) do not take the turn; they wait in SQLite
as before.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from anshin.config import Settings

# One intake at a time per process holds SQLite's write lock; the others wait here.
_WRITE_TURN = threading.Lock()
SUFFIX = ".intake-turn"
FIRST_PAUSE, LONGEST_PAUSE = 0.0002, 0.002
_files: dict[tuple[int, str], int] = {}  # (process, path) → descriptor: a fork opens its own
_files_lock = threading.Lock()


def turn_file(database: str | None) -> str | None:
    """The file whose lock is the turn across processes, or None for an in-memory database."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database + SUFFIX


def _descriptor(path: str) -> int:
    key = (os.getpid(), path)
    with _files_lock:
        found = _files.get(key)
        if found is None:
            found = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            _files[key] = found
        return found


def _lock_file(descriptor: int, deadline: float) -> bool:
    pause = FIRST_PAUSE
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(pause)
        pause = min(2 * pause, LONGEST_PAUSE)


def take(session: Session, settings: Settings) -> None:
    """On SQLite, wait for this intake's turn to write; given back when the transaction ends."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw: Any = connection.connection.dbapi_connection
    deadline = time.monotonic() + settings.db_busy_timeout_seconds
    if raw.in_transaction or not _WRITE_TURN.acquire(timeout=settings.db_busy_timeout_seconds):
        return
    path = turn_file(connection.engine.url.database)
    try:
        descriptor = _descriptor(path) if path else None
    except OSError:  # a read-only directory: the turn within the process still holds
        descriptor = None
    if descriptor is not None and not _lock_file(descriptor, deadline):
        descriptor = None
    held = [True]

    def end(_session: Session, transaction: SessionTransaction) -> None:
        if held[0] and transaction.parent is None:
            held[0] = False
            if descriptor is not None:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
            _WRITE_TURN.release()

    event.listen(session, "after_transaction_end", end)
