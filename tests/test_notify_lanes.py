"""One slow webhook receiver must not delay every customer's notices (issue 7).

Real HTTP receivers on 127.0.0.1 (hanging, trickling, failing, fine) and the real
aiosmtpd server: mail and webhooks are separate lanes, at most one delivery is in
flight per endpoint, and a failing endpoint backs off in the database while its
deliveries wait with their attempts intact. Nothing here is timed: tests assert
order, completion and state, and wait only with generous timeouts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.notify import endpoints, models, queue, service, subscribers
from anshin.notify.models import Delivery, Subscriber, WebhookEndpoint
from anshin.notify.service import MessageTexts
from anshin.notify.sink import MailSink, SmtpSink
from anshin.notify.sink import seed_subscribers as seed
from webhook_receivers import receivers

assert models

TEXTS = {
    "ja": MessageTexts(subject="【障害】ログイン障害（第1報）", text="ログインしづらい状況です。"),
    "en": MessageTexts(subject="[Incident] Sign-in trouble", text="Some cannot sign in."),
}
EMAILS = 29


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink(MailSink()) as running:
        yield running


@pytest.fixture
def lanes(settings: Settings, sink: SmtpSink) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allowed_networks": ["127.0.0.1/32"],  # the test receivers listen here
            "smtp_port": sink.port,
            "smtp_from": "status@example.com",
            "delivery_backoff_base_seconds": 60.0,
            "delivery_backoff_max_seconds": 120.0,
            "delivery_max_attempts": 5,
            "delivery_claim_seconds": 300,
            "webhook_deadline_seconds": 120.0,
            "webhook_workers": 4,
        }
    )


def _wait(check: object, what: str, timeout: float = 90.0) -> None:
    """Poll ``check`` until true; the timeout only stops a broken run, it measures nothing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"still waiting for {what}")


def _by_status(engine: Engine, message_id: int, channel: str) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(Delivery.status, func.count())
            .where(Delivery.message_id == message_id, Delivery.channel == channel)
            .group_by(Delivery.status)
        ).all()
    return {str(s): int(n) for s, n in rows}


def test_mail_of_a_later_update_goes_out_while_slow_webhooks_are_in_flight(
    session: Session, lanes: Settings, engine: Engine, sink: SmtpSink
) -> None:
    """The report of issue 7: 2 hanging and 2 trickling receivers, then an update's mails."""
    tasks = queue.get_queue(lanes.model_copy(update={"delivery_batch_size": 2}))
    tasks.huey.flush()
    with receivers("hang", "hang", "trickle", "trickle") as slow:
        for index, receiver in enumerate(slow):
            subscribers.add_webhook(session, lanes, url=receiver.url(f"/r{index}"), actor="t")
        session.commit()
        seed(session, EMAILS)
        session.commit()
        consumer = queue.start_embedded_consumer(tasks.settings, workers=2)
        assert consumer is not None
        try:
            first = service.fan_out(session, tasks.settings, kind="first_notice", texts=TEXTS)
            session.commit()
            for receiver in slow:
                receiver.wait_for(1)
            later = service.fan_out(session, tasks.settings, kind="update", texts=TEXTS)
            session.commit()
            _wait(
                lambda: _by_status(engine, later.id, "email") == {"sent": EMAILS},
                "the later update's mail",
            )
            # Every mail of the later update went out while the first notice's webhooks
            # were still in flight, each endpoint holding exactly one delivery.
            assert _by_status(engine, first.id, "webhook") == {"sending": 4}
            assert _by_status(engine, later.id, "webhook") == {"pending": 4}
            assert [r.most_held for r in slow] == [1, 1, 1, 1]
            assert [len(r.requests) for r in slow] == [1, 1, 1, 1]
            with engine.connect() as conn:
                waiting = conn.execute(
                    select(Delivery.attempts).where(
                        Delivery.message_id == later.id, Delivery.channel == "webhook"
                    )
                ).scalars()
                assert set(waiting) == {0}  # waiting for their endpoint, no attempt spent
            for receiver in slow:
                receiver.release()
            _wait(
                lambda: _by_status(engine, later.id, "webhook") == {"sent": 4},
                "the webhooks once the receivers answer",
            )
        finally:
            for receiver in slow:
                receiver.release()
            queue.stop_embedded_consumer()
    assert sink.handler.accepted() == 2 * EMAILS


def test_a_hanging_attempt_ends_failed_at_its_deadline(
    session: Session, lanes: Settings, engine: Engine
) -> None:
    short = lanes.model_copy(update={"webhook_deadline_seconds": 1.0})
    with receivers("hang", "trickle", "ok") as (hanging, trickling, fine):
        for receiver in (hanging, trickling, fine):
            subscribers.add_webhook(session, short, url=receiver.url(), actor="t")
        session.commit()
        message = service.fan_out(session, short, kind="first_notice", texts=TEXTS)
        session.commit()
        queue.get_queue(short).deliver_now()
        assert not hanging.released.is_set() and not trickling.released.is_set()
        assert [len(r.requests) for r in (hanging, trickling, fine)] == [1, 1, 1]
    rows = session.execute(
        select(Subscriber.address, Delivery.status, Delivery.attempts, Delivery.last_error)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.message_id == message.id)
    ).all()
    found = {address: (status, attempts, error) for address, status, attempts, error in rows}
    assert found[hanging.url()] == ("failed", 1, "deadline exceeded (1 s)")
    assert found[trickling.url()] == ("failed", 1, "deadline exceeded (1 s)")
    assert found[fine.url()] == ("sent", 1, None)


def test_one_delivery_per_endpoint_and_other_endpoints_go_on(
    session: Session, lanes: Settings, engine: Engine
) -> None:
    with receivers("hang", "ok") as (hanging, fine):
        for receiver in (hanging, fine):
            subscribers.add_webhook(session, lanes, url=receiver.url(), actor="t")
        session.commit()
        for _ in range(3):
            service.fan_out(session, lanes, kind="update", texts=TEXTS)
        session.commit()
        runner = threading.Thread(target=queue.get_queue(lanes).deliver_now)
        runner.start()
        try:
            fine.wait_for(3)
            hanging.wait_for(1)
            assert hanging.most_held == 1 and len(hanging.requests) == 1
        finally:
            hanging.release()
            runner.join(120)
        assert not runner.is_alive()
        assert hanging.most_held == 1 and len(hanging.requests) == 3
    assert session.scalars(select(Delivery.status)).all() == ["sent"] * 6


def test_a_failing_endpoint_backs_off_and_its_deliveries_keep_their_attempts(
    session: Session, lanes: Settings, engine: Engine
) -> None:
    with receivers("fail") as (failing,):
        hook = subscribers.add_webhook(session, lanes, url=failing.url(), actor="t")
        session.commit()
        for _ in range(3):
            service.fan_out(session, lanes, kind="update", texts=TEXTS)
        session.commit()
        queue.get_queue(lanes).deliver_now()
        assert len(failing.requests) == 1  # one try, then the endpoint rests
        state = endpoints.state(engine, hook.id)
        assert state is not None and state["failures"] == 1
        assert state["busy_until"] is None
        attempts = sorted(session.scalars(select(Delivery.attempts)).all())
        assert attempts == [0, 0, 1]
        # Another worker run while the endpoint rests sends nothing and spends nothing.
        queue.get_queue(lanes).deliver_now()
        assert len(failing.requests) == 1
        session.expire_all()
        assert sorted(session.scalars(select(Delivery.attempts)).all()) == [0, 0, 1]
        # Its rest is over and it answers again: everything goes, the count starts over.
        failing.mode = "ok"
        past = utcnow()
        session.execute(update(WebhookEndpoint).values(next_attempt_at=past))
        session.execute(update(Delivery).values(next_attempt_at=past))
        session.commit()
        queue.get_queue(lanes).deliver_now()
        assert len(failing.requests) == 4
    session.expire_all()
    assert session.scalars(select(Delivery.status)).all() == ["sent"] * 3
    state = endpoints.state(engine, hook.id)
    assert state is not None and state["failures"] == 0
