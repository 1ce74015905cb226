"""Huey tasks of delivery: ``deliver`` (claim and send until nothing is due) and ``sweep``.

Tasks are registered on a Huey instance built for one set of settings (a
laptop's SQLite queue or a fleet's Redis), so the same code serves the
embedded consumer, ``anshin worker`` processes and the tests.
"""

from __future__ import annotations

import importlib
import logging
import math
import threading
import time
from typing import Any

from huey import Huey, crontab
from sqlalchemy import Engine

from anshin.config import Settings
from anshin.db import make_engine
from anshin.instance.secret import ensure_secret
from anshin.notify import claims, endpoints, outbox

log = logging.getLogger("anshin.notify.tasks")

# A deliver task hands over to a fresh one after this long, so one busy
# message does not keep a worker thread from other tasks forever.
RUN_BUDGET_SECONDS = 120.0

# Periodic work of the domains above notify, run by the sweeper every minute as
# ``function(engine, settings)``. Named, not imported: notify sits below them
# (docs/design.md "dependency direction"), like app.ROUTER_MODULES.
SWEEP_HOOKS: tuple[str, ...] = (
    "anshin.incidents.nudges:sweep",
    "anshin.inquiries.missed:sweep",
)


class WebhookLane:
    """The webhook lane of one process: up to ``webhook_workers`` threads, one endpoint each.

    Mail is sent by the queue's worker threads; webhooks by these threads, so a
    receiver that hangs until its deadline holds one of them, never a mail
    thread (issue 7: one slow receiver must not delay every customer's notice).
    Each thread claims one delivery with its endpoint's lease, sends it, and
    claims the next until no endpoint has work it may take; the last one to
    stop books the next wake-up (a retry, or an endpoint's backoff ending).
    """

    def __init__(self, tasks: DeliveryTasks) -> None:
        self._tasks = tasks
        self._cond = threading.Condition()
        self._running = 0
        self.handled = 0

    def kick(self) -> int:
        """Claim work for the idle threads and start them (returns at once); how many started."""
        tasks = self._tasks
        with self._cond:
            free = tasks.settings.webhook_workers - self._running
            if free <= 0:
                return 0
            self._running += free  # reserved while claiming
        worker = claims.worker_id()
        ids: list[int] = []
        try:
            ids = endpoints.claim(tasks.engine, tasks.settings, worker, free)
        finally:
            with self._cond:
                self._running -= free - len(ids)
                self._cond.notify_all()
        for delivery_id in ids:
            threading.Thread(
                target=self._run, args=(worker, [delivery_id]), name="anshin-webhook", daemon=True
            ).start()
        return len(ids)

    def _run(self, worker: str, ids: list[int]) -> None:
        tasks = self._tasks
        try:
            with outbox.Senders(tasks.settings) as senders:
                while ids:
                    outbox.send_hooks(
                        tasks.engine, tasks.settings, worker, senders, ids, stopping=tasks.stopping
                    )
                    with self._cond:
                        self.handled += len(ids)
                    if tasks.stopping():
                        break
                    ids = endpoints.claim(tasks.engine, tasks.settings, worker, 1)
        except Exception:  # the claims expire and return to the queue; the sweeper wakes us
            log.exception("a webhook sending thread failed")
        finally:
            with self._cond:
                self._running -= 1
                last = self._running == 0
                self._cond.notify_all()
            if last and not tasks.stopping():
                try:
                    tasks.book_next_wake()
                except Exception:
                    log.exception("could not book the next wake-up")

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Until no webhook is being sent (True), or ``timeout`` passed (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._running == 0, timeout)


class DeliveryTasks:
    """The delivery tasks registered on one Huey instance, for one database."""

    def __init__(self, huey: Huey, settings: Settings) -> None:
        self.huey = huey
        self.settings = settings
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        self._stop: threading.Event | None = None
        self.lane = WebhookLane(self)

        @huey.task(name="anshin.notify.deliver")
        def deliver(wake_key: str | None = None) -> None:
            """Claim and send due deliveries until none is left, then book the next wake-up."""
            if wake_key:
                huey.get(wake_key)  # consume this slot so a later wake can take it
            self.deliver_now(wait=False)

        @huey.periodic_task(crontab(minute="*"), name="anshin.notify.sweep")
        def sweep() -> None:
            """Every minute: recover expired claims, wake workers, run the periodic hooks."""
            try:
                self.sweep_now()
            finally:
                self.run_hooks()

        self._deliver = deliver
        self._sweep = sweep

    # -- plumbing ---------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """One engine per process and database, created on first use."""
        with self._engine_lock:
            if self._engine is None:
                self._engine = make_engine(self.settings.database_url)
                # Sign unsubscribe links with the installation's key from the first mail on.
                ensure_secret(self.settings, self._engine)
            return self._engine

    def attach(self, stop_flag: threading.Event | None) -> None:
        """Watch a consumer's stop flag so running tasks finish their current send and return.

        ``None`` detaches (after that consumer stopped), so direct calls work again.
        """
        self._stop = stop_flag

    def stopping(self) -> bool:
        """True once the consumer this process runs is shutting down."""
        return self._stop is not None and self._stop.is_set()

    # -- what the tasks do -------------------------------------------------------

    def deliver(self) -> Any:
        """Enqueue one wake-up (a ``deliver`` task)."""
        return self._deliver()

    def deliver_now(self, budget: float = RUN_BUDGET_SECONDS, *, wait: bool = True) -> int:
        """Send mail in this thread and start the webhook lane; how many deliveries were handled.

        The queue's task does not ``wait`` for the webhooks (they have their own
        threads); a direct call (``anshin deliveries``, tests) waits until the
        lane has nothing left it may send, and counts its deliveries too.
        """
        started = time.monotonic()
        worker = claims.worker_id()
        handled = 0
        lane_before = self.lane.handled
        self.lane.kick()
        with outbox.Senders(self.settings) as senders:
            while not self.stopping():
                claimed = outbox.process_batch(
                    self.engine, self.settings, worker, senders, stopping=self.stopping
                )
                handled += claimed
                if claimed == 0:
                    break
                if time.monotonic() - started > budget:
                    self._deliver()  # hand over to a fresh task; keep going there
                    return handled
        if wait:
            while self.lane.wait_idle() and not self.stopping() and self.lane.kick():
                pass
            handled += self.lane.handled - lane_before
        if not self.stopping():
            self.book_next_wake()
        return handled

    def book_next_wake(self) -> None:
        """One wake-up for the next retry, endpoint rest or claim expiry (one a second at most)."""
        delays = [
            d
            for d in (
                claims.seconds_until_next_due(self.engine),
                endpoints.seconds_until_next_due(self.engine),
            )
            if d is not None
        ]
        if not delays:
            return
        delay = min(delays)
        due_at = math.ceil(time.time() + delay)
        key = f"anshin.notify.wake.{due_at}"
        if self.huey.put_if_empty(key, "1"):
            self._deliver.schedule(kwargs={"wake_key": key}, delay=max(due_at - time.time(), 0))

    def run_hooks(self) -> None:
        """Run every SWEEP_HOOKS function; one that fails is logged and retried next minute."""
        for name in SWEEP_HOOKS:
            module_name, _, function = name.partition(":")
            try:
                getattr(importlib.import_module(module_name), function)(self.engine, self.settings)
            except Exception:  # a periodic hook must never stop the sweeper
                log.exception("periodic hook %s failed", name)

    def sweep_now(self) -> claims.SweepReport:
        """Recover lost work and wake workers for it (periodic task, ``deliveries sweep``)."""
        report = claims.sweep(self.engine, self.settings)
        if report.recovered or report.dead or report.stale:
            log.warning(
                "sweeper: %s expired claims recovered, %s given up, %s deliveries overdue",
                report.recovered,
                report.dead,
                report.stale,
            )
        if report.due:
            for _ in range(
                min(8, max(1, math.ceil(report.due / self.settings.delivery_batch_size)))
            ):
                self._deliver()
        self.book_next_wake()
        return report
