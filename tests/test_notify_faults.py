"""Fault tests with real worker processes: a killed worker and a flaky mail server lose
nothing and send nothing twice (R4; docs/design.md "outbox", "Scale-out").

The SMTP sink answers 451 to every third message; a worker process (``python -m
anshin.notify worker``, the same code as ``anshin worker``) is killed with SIGKILL in
the middle of the run. Afterwards every delivery is ``sent`` and every subscriber
holds exactly one distinct Message-ID. A resend after a crash between the server's
accept and the commit would carry the same Message-ID (that is the guarantee
docs/delivery.md states); the raw copy count is reported, not hidden.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.notify import models, queue, service, wire
from anshin.notify.models import Delivery, Subscriber
from anshin.notify.service import MessageTexts
from anshin.notify.sink import MailSink, SmtpSink
from anshin.notify.sink import seed_subscribers as seed

assert models

REDIS_URL = os.environ.get("ANSHIN_TEST_REDIS_URL")
TEXTS = {
    "ja": MessageTexts(
        subject="【障害】決済がご利用いただけない状況について（第1報）",
        text="現在、決済がご利用いただけない状況です。ご迷惑をおかけし申し訳ございません。",
    )
}
SUBSCRIBERS = 300


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink(MailSink(fail_every=3, delay=0.004, keep_data=False)) as running:
        yield running


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment of a worker process: the test's database, sink and short timings."""
    env = dict(os.environ)
    env.update(
        {
            "ANSHIN_DATABASE_URL": settings.database_url,
            "ANSHIN_SECRET_KEY": settings.secret_key,
            "ANSHIN_BASE_URL": settings.base_url,
            "ANSHIN_SMTP_HOST": settings.smtp_host,
            "ANSHIN_SMTP_PORT": str(settings.smtp_port),
            "ANSHIN_SMTP_FROM": settings.smtp_from,
            "ANSHIN_SMTP_MESSAGE_ID_DOMAIN": settings.smtp_message_id_domain,
            "ANSHIN_DELIVERY_MAX_ATTEMPTS": str(settings.delivery_max_attempts),
            "ANSHIN_DELIVERY_BACKOFF_BASE_SECONDS": str(settings.delivery_backoff_base_seconds),
            "ANSHIN_DELIVERY_BACKOFF_MAX_SECONDS": str(settings.delivery_backoff_max_seconds),
            "ANSHIN_DELIVERY_BATCH_SIZE": str(settings.delivery_batch_size),
            "ANSHIN_DELIVERY_CLAIM_SECONDS": str(settings.delivery_claim_seconds),
            "ANSHIN_SWEEP_AFTER_SECONDS": str(settings.sweep_after_seconds),
        }
    )
    env.pop("ANSHIN_QUEUE_URL", None)
    if settings.queue_url:
        env["ANSHIN_QUEUE_URL"] = settings.queue_url
    return env


def start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "anshin.notify", "worker", "--workers", "2"],
        env=worker_env(settings),
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(condition: object, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n--- worker log ---\n{tail}")


def sent_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(Delivery).where(Delivery.status == "sent")
            ).scalar()
            or 0
        )


def check_exactly_once(
    session: Session, sink: SmtpSink, settings: Settings, message_id: int
) -> None:
    """Every delivery sent; every subscriber got exactly one distinct Message-ID, its own."""
    session.expire_all()
    rows = session.execute(
        select(Delivery.id, Delivery.status, Subscriber.address)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.message_id == message_id)
    ).all()
    assert len(rows) == SUBSCRIBERS
    assert {status for _, status, _ in rows} == {"sent"}
    per_recipient = sink.handler.ids_per_recipient()
    assert set(per_recipient) == {address for _, _, address in rows}
    for delivery_id, _, address in rows:
        assert per_recipient[address] == {
            wire.message_id(delivery_id, settings.smtp_message_id_domain)
        }, address
    copies = sink.handler.copies()
    resent = sum(n - 1 for n in copies.values() if n > 1)
    # Only a kill between the server's accept and the commit can resend, and then with
    # the same Message-ID; with one kill that is at most the sends in flight (2 threads).
    assert resent <= 2, copies.most_common(3)


@pytest.fixture
def flaky(settings: Settings, sink: SmtpSink) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": sink.port,
            "smtp_from": "anshin <status@example.com>",
            "smtp_message_id_domain": "faults.example.com",
            "delivery_backoff_base_seconds": 0.05,
            "delivery_backoff_max_seconds": 0.3,
            "delivery_max_attempts": 25,
            "delivery_batch_size": 25,
            "delivery_claim_seconds": 2,
            "sweep_after_seconds": 1,
        }
    )


def test_killed_worker_and_flaky_server_lose_nothing_and_duplicate_nothing(
    session: Session, flaky: Settings, engine: Engine, sink: SmtpSink, tmp_path: Path
) -> None:
    queue.get_queue(flaky).huey.flush()
    seed(session, SUBSCRIBERS)
    session.commit()
    message = service.fan_out(session, flaky, kind="first_notice", texts=TEXTS)
    session.commit()
    log = tmp_path / "workers.log"

    first = start_worker(flaky, log)
    try:
        wait_for(lambda: sink.handler.accepted() >= 60, 60, "the first worker to send", log)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    at_kill = sink.handler.accepted()
    assert at_kill < SUBSCRIBERS, "the worker finished before it could be killed mid-run"
    second = start_worker(flaky, log)
    try:
        wait_for(lambda: sent_count(engine) == SUBSCRIBERS, 90, "every delivery to be sent", log)
    finally:
        stop(second)
    assert sink.handler.refused > 0  # the 451s really happened
    check_exactly_once(session, sink, flaky, message.id)
    counts = service.counts(session, message.id)
    assert counts.sent == SUBSCRIBERS and counts.last_delivered_at is not None


@pytest.mark.skipif(not REDIS_URL, reason="ANSHIN_TEST_REDIS_URL is not set (needs Redis)")
def test_two_workers_on_postgresql_and_redis_send_each_message_once(
    db_url: str, session: Session, flaky: Settings, engine: Engine, sink: SmtpSink, tmp_path: Path
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the scale-out set-up is PostgreSQL + Redis; SQLite runs the test above")
    name = f"anshin-test-{uuid.uuid4().hex[:8]}"
    scaled = flaky.model_copy(update={"queue_url": f"{REDIS_URL}?name={name}"})
    huey = queue.get_queue(scaled).huey
    seed(session, SUBSCRIBERS)
    session.commit()
    log = tmp_path / "workers.log"
    workers = [start_worker(scaled, log), start_worker(scaled, log)]
    try:
        time.sleep(1.0)  # both consumers listening before the publish
        message = service.fan_out(session, scaled, kind="first_notice", texts=TEXTS)
        session.commit()
        wait_for(lambda: sink.handler.accepted() >= 80, 60, "the workers to send", log)
        workers[0].send_signal(signal.SIGKILL)  # one of them dies mid-run
        workers[0].wait(timeout=10)
        wait_for(lambda: sent_count(engine) == SUBSCRIBERS, 90, "every delivery to be sent", log)
    finally:
        for proc in workers:
            stop(proc)
        huey.flush()
    check_exactly_once(session, sink, scaled, message.id)
    senders = session.scalars(
        select(Delivery.claimed_by).where(Delivery.message_id == message.id).distinct()
    ).all()
    processes = {str(s).split(":")[1] for s in senders if s}
    assert len(processes) == 2, senders  # both worker processes shared the work


def test_sigterm_finishes_the_current_send_and_releases_the_rest(
    session: Session, flaky: Settings, engine: Engine, sink: SmtpSink, tmp_path: Path
) -> None:
    slow = flaky.model_copy(update={"delivery_claim_seconds": 600, "delivery_batch_size": 100})
    sink.handler.fail_every = 0
    sink.handler.delay = 0.01
    queue.get_queue(slow).huey.flush()
    seed(session, SUBSCRIBERS)
    session.commit()
    service.fan_out(session, slow, kind="first_notice", texts=TEXTS)
    session.commit()
    log = tmp_path / "worker.log"
    proc = start_worker(slow, log)
    try:
        wait_for(lambda: sink.handler.accepted() >= 20, 60, "the worker to send", log)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    finally:
        stop(proc)
    assert proc.returncode == 0
    with engine.connect() as conn:
        by_status = dict(
            conn.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
        )
    # Nothing is left claimed for 10 minutes: unsent work went straight back to the queue.
    assert by_status.get("sending", 0) == 0
    assert 20 <= by_status.get("sent", 0) < SUBSCRIBERS
    assert by_status.get("sent", 0) == sink.handler.accepted()
    assert by_status.get("pending", 0) == SUBSCRIBERS - by_status["sent"]
