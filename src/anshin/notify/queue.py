"""The wake-up queue (docs/design.md "background work"): Huey on SQLite or Redis.

The queue carries no deliveries, only "there is work": a woken task claims
deliveries through the database. So a lost queue message costs a delay (the
sweeper wakes workers again), never a message.

- ``ANSHIN_QUEUE_URL`` unset: SqliteHuey in a file next to the SQLite
  database (or in the temp directory for PostgreSQL), consumed by a thread
  inside ``anshin serve`` (:func:`start_embedded_consumer`) or by
  ``anshin worker`` processes on the same machine.
- ``ANSHIN_QUEUE_URL=redis://host:6379/0``: RedisHuey, consumed by any number
  of ``anshin worker`` processes on any machine. ``?name=`` picks the queue's
  name (default ``anshin``) so several installations can share one Redis.
- ``ANSHIN_QUEUE_URL=sqlite:///path/queue.db``: SqliteHuey at that path.
"""

from __future__ import annotations

import hashlib
import logging
import math
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer
from sqlalchemy import event
from sqlalchemy.orm import Session

from anshin.config import Settings

if TYPE_CHECKING:
    from anshin.notify.tasks import DeliveryTasks

log = logging.getLogger("anshin.notify.queue")

DEFAULT_NAME = "anshin"
# More wake-ups than this per publish only make idle tasks: each woken task
# keeps claiming batches until nothing is due.
MAX_WAKES = 8

# Wake-ups after commits are coalesced: at most one sent per interval and per
# queue, the others folded into one booked for the interval's end (see wake_soon).
WAKE_INTERVAL_SECONDS = 0.05

_WAKE_KEY = "anshin.notify.wake"
_HOOKED_KEY = "anshin.notify.wake.hooked"
_lock = threading.Lock()
_queues: dict[str, DeliveryTasks] = {}
_embedded: Consumer | None = None
_wake_lock = threading.Lock()
_last_wake: dict[tuple[int, str, str], float] = {}
_booked: dict[tuple[int, str, str], tuple[Settings, int]] = {}


class EmbeddedConsumer(Consumer):
    """A Huey consumer that lives inside another program (``anshin serve``).

    It must not install signal handlers: the web server owns them, and
    signals can only be set from the main thread anyway.
    """

    def _set_signal_handlers(self) -> None:
        return None


def is_redis(settings: Settings) -> bool:
    """True when the queue is Redis (workers are separate ``anshin worker`` processes)."""
    return (settings.queue_url or "").startswith(("redis://", "rediss://", "unix://"))


def sqlite_queue_path(settings: Settings) -> Path:
    """Where the embedded queue's file lives when ``ANSHIN_QUEUE_URL`` does not say."""
    url = settings.queue_url or ""
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///") :])
    db = settings.database_url
    if db.startswith("sqlite:///") and ":memory:" not in db:
        return Path(db[len("sqlite:///") :] + ".queue")
    digest = hashlib.sha256(db.encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"anshin-queue-{digest}.db"


def make_huey(settings: Settings) -> Huey:
    """The Huey instance the settings call for (no results kept: the database is the record)."""
    url = settings.queue_url or ""
    if is_redis(settings):
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        name = query.pop("name", DEFAULT_NAME)
        clean = urlunsplit(parts._replace(query=urlencode(query)))
        return RedisHuey(name, url=clean, results=False, blocking=True, read_timeout=1)
    if url and not url.startswith("sqlite:///"):
        raise ValueError(f"ANSHIN_QUEUE_URL must be redis://… or sqlite:///…, not {url!r}")
    path = sqlite_queue_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(DEFAULT_NAME, filename=str(path), results=False, timeout=30)


def get_queue(settings: Settings) -> DeliveryTasks:
    """The queue and its tasks for these settings, built once per process."""
    from anshin.notify.tasks import DeliveryTasks

    key = settings.model_dump_json()
    with _lock:
        found = _queues.get(key)
        if found is None:
            found = DeliveryTasks(make_huey(settings), settings)
            _queues[key] = found
        return found


def wake(settings: Settings, recipients: int = 1) -> int:
    """Wake enough workers for ``recipients`` deliveries; returns how many wake-ups were sent.

    A failure to reach the queue is logged, not raised: the deliveries are
    already safe in the database and the sweeper will wake workers later.
    """
    if recipients <= 0:
        return 0
    count = min(MAX_WAKES, max(1, math.ceil(recipients / settings.delivery_batch_size)))
    try:
        tasks = get_queue(settings)
        for _ in range(count):
            tasks.deliver()
    except Exception:  # the queue is only an accelerator; never fail the publisher
        log.exception("could not wake delivery workers; the sweeper will pick the work up")
        return 0
    return count


def wake_soon(settings: Settings, recipients: int = 1) -> None:
    """Wake workers for work just committed, coalescing a burst of commits into few wake-ups.

    Each wake-up through Huey's SQLite queue is a write to its file (about
    10 ms); a burst of intake requests, each queueing one acknowledgement,
    would spend that on every request. So per queue: when no wake-up went out
    in the last :data:`WAKE_INTERVAL_SECONDS`, this one is sent at once (a
    quiet system delivers without delay); otherwise one wake-up is booked for
    the end of the interval and every commit until then joins it.

    The guarantee stays: the booked wake-up is sent after every commit that
    joined it (the caller has committed before calling here, and the booking
    is taken out of the table before it is sent, so a later commit books a
    new one), so a woken worker always finds the committed deliveries. A
    process killed with a wake-up still booked loses at most that wake-up;
    the sweeper picks the work up, as for any lost queue message.
    """
    if recipients <= 0:
        return
    key = _wake_key(settings)
    now = time.monotonic()
    with _wake_lock:
        booked = _booked.get(key)
        if booked is not None:
            _booked[key] = (settings, booked[1] + recipients)
            return
        since = now - _last_wake.get(key, -math.inf)
        if since >= WAKE_INTERVAL_SECONDS:
            _last_wake[key] = now
        else:
            _booked[key] = (settings, recipients)
            timer = threading.Timer(WAKE_INTERVAL_SECONDS - since, _send_booked, (key,))
            timer.daemon = True
            timer.start()
            return
    wake(settings, recipients)


def _wake_key(settings: Settings) -> tuple[int, str, str]:
    """Which wake-ups coalesce: one settings object's, per queue.

    Cheap, as it is computed after every intake's commit (dumping the settings
    to JSON cost about a millisecond a request). The object is what an app or
    worker holds for its life; two objects with the same queue only coalesce
    less, which costs a wake-up, never a delivery.
    """
    return (id(settings), settings.queue_url or "", settings.database_url)


def _send_booked(key: tuple[int, str, str]) -> None:
    """Send the wake-up booked for ``key`` (taken out first: later commits book anew)."""
    with _wake_lock:
        booked = _booked.pop(key, None)
        _last_wake[key] = time.monotonic()
    if booked is not None:
        wake(*booked)


def forget_wakes() -> None:
    """Forget when wake-ups were last sent (tests that count wake-ups start from quiet)."""
    with _wake_lock:
        _last_wake.clear()


def wake_after_commit(session: Session, settings: Settings, recipients: int) -> None:
    """Wake workers once the caller's transaction commits; forget it if the caller rolls back.

    Before the commit the workers would find nothing; after a rollback there
    is nothing to find. A savepoint's release or rollback (``begin_nested``)
    fires the same session events while the caller's transaction, and its
    lock, still hold: the wake waits for the real end (woken then, workers
    would find nothing yet and sleep until the sweeper).
    """
    if recipients <= 0:
        return
    pending: list[tuple[Settings, int]] = session.info.setdefault(_WAKE_KEY, [])
    pending.append((settings, recipients))
    if session.info.get(_HOOKED_KEY):
        return
    session.info[_HOOKED_KEY] = True

    def _after_commit(committed: Session) -> None:
        if committed.in_nested_transaction():
            return  # a savepoint released: the outer transaction has not committed yet
        for item_settings, count in committed.info.pop(_WAKE_KEY, []):
            wake_soon(item_settings, count)

    def _after_rollback(rolled_back: Session) -> None:
        if rolled_back.in_nested_transaction():
            return  # a savepoint rolled back: wakes queued outside it still stand
        rolled_back.info.pop(_WAKE_KEY, None)

    event.listen(session, "after_commit", _after_commit)
    event.listen(session, "after_rollback", _after_rollback)


def start_embedded_consumer(settings: Settings, workers: int = 2) -> Consumer | None:
    """Start delivery threads inside this process (``anshin serve`` with the SQLite queue).

    With a Redis queue the ``anshin worker`` processes deliver and nothing is
    started here. Runs a sweep first, so work left by a previous run resumes.
    """
    global _embedded
    if is_redis(settings):
        log.info("queue is Redis: deliveries are sent by `anshin worker` processes")
        return None
    with _lock:
        if _embedded is not None:
            return _embedded
    tasks = get_queue(settings)
    consumer = EmbeddedConsumer(
        tasks.huey,
        workers=workers,
        worker_type="thread",
        periodic=True,
        initial_delay=0.1,
        max_delay=1.0,
        check_worker_health=True,
    )
    tasks.attach(consumer.stop_flag)
    consumer.start()
    try:
        tasks.sweep_now()
    except Exception:  # the web server must come up; the periodic sweep retries every minute
        log.exception("the start-up sweep of deliveries failed")
    with _lock:
        _embedded = consumer
    return consumer


def stop_embedded_consumer(timeout: float = 10.0) -> None:
    """Stop the embedded delivery threads: current sends finish, claimed work is released."""
    global _embedded
    with _lock:
        consumer, _embedded = _embedded, None
    if consumer is None:
        return
    consumer.shutdown_timeout = timeout
    consumer.stop(graceful=True)
    for tasks in list(_queues.values()):
        if tasks.huey is consumer.huey:
            tasks.lane.wait_idle(timeout)  # webhook threads end their current send
            tasks.attach(None)


def run_worker(settings: Settings, workers: int = 2) -> None:
    """``anshin worker``: consume the queue until SIGINT/SIGTERM (blocking)."""
    tasks = get_queue(settings)
    consumer = tasks.huey.create_consumer(
        workers=workers,
        worker_type="thread",
        periodic=True,
        initial_delay=0.1,
        max_delay=1.0,
        check_worker_health=True,
        graceful_signal="TERM",
        shutdown_timeout=30.0,
    )
    tasks.attach(consumer.stop_flag)
    tasks.sweep_now()
    consumer.run()
    tasks.lane.wait_idle(30.0)  # webhook threads end their current send


def describe(settings: Settings) -> dict[str, Any]:
    """What the queue is, for ``anshin worker`` to print at start (no secrets)."""
    if is_redis(settings):
        parts = urlsplit(settings.queue_url or "")
        return {"backend": "redis", "host": parts.hostname, "port": parts.port}
    return {"backend": "sqlite", "path": str(sqlite_queue_path(settings))}
