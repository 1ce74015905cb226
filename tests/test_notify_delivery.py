"""The outbox for real: fan-out in one transaction, workers sending to a real SMTP server
(aiosmtpd on 127.0.0.1) and a real HTTP receiver, retries, dead letters, claims (R4, R26).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from anshin import events
from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import Conflict, InvalidInput
from anshin.incidents import components
from anshin.notify import claims, models, queue, service, subscribers, tokens, wire
from anshin.notify.models import Delivery, OutboxMessage, Subscriber
from anshin.notify.service import MessageTexts
from anshin.notify.sink import MailSink, SmtpSink, WebhookReceiver
from anshin.notify.sink import seed_subscribers as seed

assert models  # the notify tables are part of Base.metadata for create_all

TEXTS = {
    "ja": MessageTexts(
        subject="【障害】ログインしづらい状況についてのお詫び（第1報）",
        text="現在、ログインしづらい状況が発生しております。\nご迷惑をおかけし、誠に申し訳ございません。",
        short="ログイン障害が発生しています",
    ),
    "en": MessageTexts(
        subject="[Incident] Some customers cannot sign in",
        text="Some customers cannot sign in.\nWe are sorry for the trouble.",
    ),
}


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink(MailSink()) as running:
        yield running


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@pytest.fixture
def fast(settings: Settings, sink: SmtpSink) -> Settings:
    """Settings with the SMTP sink and short retry timings, so the tests stay fast."""
    return settings.model_copy(
        update={
            "webhook_allowed_networks": ["127.0.0.1/32"],  # the test receivers listen here
            "smtp_host": "127.0.0.1",
            "smtp_port": sink.port,
            "smtp_from": "安心ステータス <status@example.com>",
            "smtp_message_id_domain": "status.example.com",
            "site_name": "安心テスト",
            "delivery_backoff_base_seconds": 0.01,
            "delivery_backoff_max_seconds": 0.05,
            "delivery_max_attempts": 10,
            "delivery_claim_seconds": 30,
            "sweep_after_seconds": 1,
        }
    )


def drain(settings: Settings, engine: Engine, *, timeout: float = 30.0) -> None:
    """Run the worker code in this thread until no delivery is waiting (retries included)."""
    tasks = queue.get_queue(settings)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tasks.deliver_now()
        with engine.connect() as conn:
            waiting = conn.execute(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.status.in_(("pending", "sending", "failed")))
            ).scalar()
        if not waiting:
            return
        time.sleep(0.02)
    raise AssertionError("deliveries still waiting after the timeout")


def statuses(session: Session, message_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.message_id == message_id)
        .group_by(Delivery.status)
    ).all()
    return {s: int(n) for s, n in rows}


def test_fan_out_matches_components_and_skips_inactive(session: Session, fast: Settings) -> None:
    login = components.add_component(session, "ログイン", actor="t", name_en="Login")
    pay = components.add_component(session, "決済", actor="t", name_en="Payments")
    seed(session, 3, prefix="login", component_id=login.id)
    seed(session, 2, prefix="pay", component_id=pay.id)
    seed(session, 4, prefix="all")
    seed(session, 2, prefix="pending", status="pending")
    seed(session, 1, prefix="left", status="unsubscribed")
    session.commit()

    about_login = service.fan_out(
        session, fast, kind="first_notice", texts=TEXTS, component_ids=[login.id], actor="user:1"
    )
    everything = service.fan_out(session, fast, kind="update", texts=TEXTS)
    session.commit()
    assert about_login.recipients == 3 + 4
    assert everything.recipients == 3 + 2 + 4
    rows = session.scalars(select(Delivery).where(Delivery.message_id == about_login.id)).all()
    addresses = {session.get(Subscriber, d.subscriber_id).address for d in rows}  # type: ignore[union-attr]
    assert addresses == {f"login{i}@example.com" for i in range(3)} | {
        f"all{i}@example.com" for i in range(4)
    }
    assert {d.status for d in rows} == {"pending"} and {d.attempts for d in rows} == {0}
    history = events.history(session, "notify_message", about_login.id)
    assert [e.action for e in history] == ["notify.message.queued"]
    assert history[0].after and history[0].after["recipients"] == 7


def test_fan_out_is_one_statement_not_a_loop(
    session: Session, fast: Settings, engine: Engine
) -> None:
    seed(session, 3000)
    session.commit()
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        message = service.fan_out(session, fast, kind="first_notice", texts=TEXTS)
        session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert message.recipients == 3000
    assert sum(1 for s in statements if s.startswith("INSERT INTO notify_deliveries")) == 1
    assert len(statements) < 10


def test_fan_out_rolls_back_with_the_caller(session: Session, fast: Settings) -> None:
    seed(session, 5)
    session.commit()
    message = service.fan_out(session, fast, kind="first_notice", texts=TEXTS)
    assert message.recipients == 5
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Delivery)) == 0
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_fan_out_refuses_bad_texts(session: Session, fast: Settings) -> None:
    seed(session, 2)
    session.commit()
    with pytest.raises(InvalidInput):
        service.fan_out(session, fast, kind="first_notice", texts={"en": TEXTS["en"]})
    with pytest.raises(InvalidInput):
        service.fan_out(
            session, fast, kind="first_notice", texts={"ja": {"subject": " ", "text": "本文"}}
        )
    with pytest.raises(InvalidInput):
        service.fan_out(session, fast, kind="shout", texts=TEXTS)
    with pytest.raises(InvalidInput):
        service.fan_out(session, fast, kind="update", texts={**TEXTS, "fr": TEXTS["en"]})
    session.rollback()
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_mail_arrives_with_headers_parts_and_a_working_unsubscribe(
    session: Session, fast: Settings, engine: Engine, sink: SmtpSink
) -> None:
    ja = seed(session, 2, prefix="ja")
    en = seed(session, 1, prefix="en", locale="en")
    session.commit()
    message = service.fan_out(session, fast, kind="first_notice", texts=TEXTS)
    session.commit()
    drain(fast, engine)

    got = {r.recipients[0]: r for r in sink.handler.received}
    assert set(got) == {"ja0@example.com", "ja1@example.com", "en0@example.com"}
    delivery = {d.subscriber_id: d for d in session.scalars(select(Delivery))}
    mail = got["ja0@example.com"].parse()
    assert mail["Subject"] == TEXTS["ja"].subject
    assert mail["From"].addresses[0].display_name == "安心ステータス"
    assert mail["To"] == "ja0@example.com"
    assert mail["Date"] is not None
    assert mail["Message-ID"] == f"<anshin.delivery.{delivery[ja[0]].id}@status.example.com>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",))
    markup = mail.get_body(("html",))
    assert text is not None and markup is not None
    assert "ご迷惑をおかけし" in text.get_content()
    assert "ご迷惑をおかけし" in markup.get_content() and "<p>" in markup.get_content()
    assert mail.get_content_charset() is None and text.get_content_charset() == "utf-8"
    assert "配信" in text.get_content()  # the Japanese footer
    assert got["en0@example.com"].parse()["Subject"] == TEXTS["en"].subject

    header = mail["List-Unsubscribe"]
    https, mailto = (part.strip().strip("<>") for part in header.split(","))
    assert https.startswith(fast.base_url + "/unsubscribe/")
    assert mailto.startswith("mailto:status@example.com?subject=unsubscribe%20")
    token = https.rsplit("/", 1)[1]
    assert https in text.get_content()
    subscribers.unsubscribe(session, fast, token)
    session.commit()
    assert session.get(Subscriber, ja[0]).status == "unsubscribed"  # type: ignore[union-attr]
    assert session.get(Subscriber, ja[1]).status == "active"  # type: ignore[union-attr]

    counts = service.counts(session, message.id)
    assert (counts.total, counts.sent, counts.queued, counts.failed, counts.dead) == (3, 3, 0, 0, 0)
    assert counts.last_delivered_at is not None
    session.refresh(message)
    assert message.last_delivered_at == counts.last_delivered_at
    assert len(en) == 1


def test_transient_smtp_failures_are_retried_until_sent(
    session: Session, fast: Settings, engine: Engine, sink: SmtpSink
) -> None:
    sink.handler.fail_every = 3
    seed(session, 60)
    session.commit()
    message = service.fan_out(session, fast, kind="update", texts=TEXTS)
    session.commit()
    drain(fast, engine)
    assert sink.handler.refused >= 20
    assert statuses(session, message.id) == {"sent": 60}
    per = sink.handler.ids_per_recipient()
    assert len(per) == 60 and all(len(ids) == 1 for ids in per.values())
    assert max(sink.handler.copies().values()) == 1
    retried = session.scalar(
        select(func.count()).select_from(Delivery).where(Delivery.attempts > 1)
    )
    assert retried and retried >= 20


def test_permanent_failure_is_a_dead_letter_that_can_be_retried(
    session: Session, fast: Settings, engine: Engine, sink: SmtpSink
) -> None:
    seed(session, 3)
    session.commit()
    sink.handler.reject.add("user1@example.com")
    message = service.fan_out(session, fast, kind="update", texts=TEXTS)
    session.commit()
    drain(fast, engine)
    counts = service.counts(session, message.id)
    assert (counts.sent, counts.dead) == (2, 1)
    assert counts.last_delivered_at is not None  # reached everyone it could
    dead = session.scalars(select(Delivery).where(Delivery.status == "dead")).one()
    assert dead.attempts == 1 and dead.last_error and dead.last_error.startswith("SMTP 550")
    with pytest.raises(Conflict):
        service.retry(session, fast, dead.id - 1 if dead.id > 1 else dead.id + 1, actor="t")
    session.rollback()

    sink.handler.reject.clear()
    service.retry(session, fast, dead.id, actor="user:1")
    session.commit()
    assert [e.action for e in events.history(session, "notify_delivery", dead.id)] == [
        "notify.delivery.retried"
    ]
    drain(fast, engine)
    session.expire_all()
    assert service.counts(session, message.id).sent == 3
    assert sink.handler.ids_per_recipient()["user1@example.com"] == {
        wire.message_id(dead.id, "status.example.com")
    }


def test_exhausted_retries_become_dead_and_retry_all(
    session: Session, fast: Settings, engine: Engine, sink: SmtpSink
) -> None:
    short = fast.model_copy(update={"delivery_max_attempts": 2})
    sink.handler.fail_every = 1  # the server refuses everything for now
    seed(session, 4)
    session.commit()
    message = service.fan_out(session, short, kind="update", texts=TEXTS)
    session.commit()
    drain(short, engine)
    assert statuses(session, message.id) == {"dead": 4}
    assert sink.handler.refused == 8
    sink.handler.fail_every = 0
    assert service.retry_dead(session, short, message_id=message.id, actor="t") == 4
    session.commit()
    drain(short, engine)
    session.expire_all()
    assert statuses(session, message.id) == {"sent": 4}


def test_webhooks_are_signed_and_retried_with_the_same_key(
    session: Session, fast: Settings, engine: Engine, hooks: WebhookReceiver
) -> None:
    plain = subscribers.add_webhook(session, fast, url=hooks.url("/anshin"), actor="t", locale="en")
    slack = subscribers.add_webhook(
        session,
        fast,
        url=hooks.url("/slack"),
        fmt="slack",
        actor="t",
        secret="slack-secret-0123456789",
    )
    gone = subscribers.add_webhook(session, fast, url=hooks.url("/gone"), actor="t")
    session.commit()
    hooks.statuses = [503]  # the first request fails once
    hooks.by_path = {"/gone": 410}  # a receiver that says Gone is final
    message = service.fan_out(
        session,
        fast,
        kind="first_notice",
        texts=TEXTS,
        data={"incident": "INC-2026-0001", "url": "https://s.example/i/1"},
    )
    session.commit()
    drain(fast, engine)

    by_path = {h.path: h for h in hooks.requests}
    assert set(by_path) == {"/anshin", "/slack"}
    for path, sub in (("/anshin", plain), ("/slack", slack)):
        hook = by_path[path]
        timestamp = int(hook.headers["x-anshin-timestamp"])
        assert abs(timestamp - time.time()) < 60
        assert wire.verify(
            sub.secret or "", timestamp, hook.body, hook.headers["x-anshin-signature"]
        )
        assert not wire.verify(
            "wrong-secret-0000000", timestamp, hook.body, hook.headers["x-anshin-signature"]
        )
        delivery = session.scalars(select(Delivery).where(Delivery.subscriber_id == sub.id)).one()
        assert hook.headers["idempotency-key"] == str(delivery.id)
    assert by_path["/anshin"].json()["subject"] == TEXTS["en"].subject
    assert by_path["/anshin"].json()["data"]["incident"] == "INC-2026-0001"
    assert set(by_path["/slack"].json()) == {"text", "blocks"}
    counts = service.counts(session, message.id)
    assert (counts.sent, counts.dead) == (2, 1)
    retried = session.scalars(select(Delivery).where(Delivery.attempts == 2)).all()
    assert len(retried) == 1  # the 503 was retried once
    dead = session.scalars(select(Delivery).where(Delivery.subscriber_id == gone.id)).one()
    assert dead.status == "dead" and dead.attempts == 1
    assert dead.last_error and dead.last_error.startswith("HTTP 410")
    assert hooks.attempts == 4


def test_leaving_before_the_send_cancels_the_delivery(
    session: Session, fast: Settings, engine: Engine, sink: SmtpSink
) -> None:
    ids = seed(session, 2)
    session.commit()
    message = service.fan_out(session, fast, kind="update", texts=TEXTS)
    session.commit()
    token = tokens.unsubscribe_token(fast, ids[0], "user0@example.com")
    subscribers.unsubscribe(session, fast, token)
    subscribers.delete(session, ids[1], actor="t")
    session.commit()
    drain(fast, engine)
    assert statuses(session, message.id) == {"cancelled": 2}
    assert sink.handler.accepted() == 0


def test_claims_do_not_overlap_and_expired_claims_come_back(
    session: Session, fast: Settings, engine: Engine
) -> None:
    small = fast.model_copy(update={"delivery_batch_size": 4, "delivery_max_attempts": 2})
    seed(session, 10)
    session.commit()
    service.fan_out(session, small, kind="update", texts=TEXTS)
    session.commit()
    first = claims.claim(engine, small, "w1")
    second = claims.claim(engine, small, "w2")
    assert len(first) == 4 and len(second) == 4 and not set(first) & set(second)
    assert claims.renew(engine, small, "w1", first + second) == set(first)

    later = utcnow() + dt.timedelta(seconds=small.delivery_claim_seconds + 1)
    report = claims.sweep(engine, small, now=later)
    assert report.recovered == 8 and report.dead == 0 and report.due == 10
    again = claims.claim(engine, small, "w3", now=later)
    assert len(again) == 4
    much_later = later + dt.timedelta(seconds=small.delivery_claim_seconds + 1)
    third = claims.claim(engine, small, "w4", now=much_later)  # recovers w3's claim first
    assert set(third) & set(again) == set()
    session.expire_all()
    spent = [d for d in session.scalars(select(Delivery)) if d.id in first and d.id in again]
    assert all(d.status == "dead" and d.attempts == 2 for d in spent)  # claimed twice: given up

    claims.release(engine, "w4", third)
    session.expire_all()
    assert {session.get(Delivery, i).status for i in third} == {"pending"}  # type: ignore[union-attr]
    assert {session.get(Delivery, i).attempts for i in third} <= {0, 1}  # type: ignore[union-attr]


def test_marks_change_only_what_the_worker_holds_and_read_back_exactly(
    session: Session, fast: Settings, engine: Engine
) -> None:
    """The per-delivery marks run on the driver connection (claims.Marks); the ORM reads them."""
    seed(session, 3)
    session.commit()
    message = service.fan_out(session, fast, kind="update", texts=TEXTS)
    session.commit()
    a, b, c = claims.claim(engine, fast, "w1")
    now = dt.datetime(2026, 12, 1, 10, 12, 30, 123456, tzinfo=dt.UTC)
    retry_at = now + dt.timedelta(seconds=5)
    marks = claims.Marks(engine)
    try:
        marks.sent(a, now)
        marks.sent(a, now + dt.timedelta(hours=1))  # already sent: the first time stays
        marks.failed(b, "w2", "dead", now, "not the holder")  # another worker's mark: ignored
        marks.failed(b, "w1", "failed", retry_at, "SMTP 451 try later")
        marks.cancelled(c, "w2", "not the holder")
        marks.cancelled(c, "w1", "the subscriber unsubscribed")
    finally:
        marks.close()
    session.expire_all()
    got = {
        d.id: d for d in session.scalars(select(Delivery).where(Delivery.message_id == message.id))
    }
    assert (got[a].status, got[a].sent_at, got[a].claimed_until, got[a].claimed_by) == (
        "sent",
        now,
        None,
        "w1",
    )
    assert (got[b].status, got[b].next_attempt_at, got[b].last_error, got[b].claimed_by) == (
        "failed",
        retry_at,
        "SMTP 451 try later",
        None,
    )
    assert (got[c].status, got[c].last_error, got[c].claimed_until) == (
        "cancelled",
        "the subscriber unsubscribed",
        None,
    )
    # Stored exactly as SQLAlchemy stores timestamps: its own comparisons find them.
    with engine.connect() as conn:
        count = select(func.count()).select_from(Delivery)
        assert conn.execute(count.where(Delivery.sent_at == now)).scalar() == 1
        assert conn.execute(count.where(Delivery.next_attempt_at == retry_at)).scalar() == 1


def test_publishing_wakes_workers_only_after_commit(session: Session, fast: Settings) -> None:
    huey = queue.get_queue(fast).huey
    huey.flush()
    queue.forget_wakes()  # the first wake after a quiet spell goes out at once
    seed(session, 5)
    session.commit()
    service.fan_out(session, fast, kind="update", texts=TEXTS)
    assert huey.pending_count() == 0
    session.rollback()
    assert huey.pending_count() == 0
    service.fan_out(session, fast, kind="update", texts=TEXTS)
    session.commit()
    assert huey.pending_count() == 1


def test_embedded_consumer_delivers_in_the_background(
    session: Session, fast: Settings, engine: Engine, sink: SmtpSink
) -> None:
    queue.get_queue(fast).huey.flush()
    seed(session, 25)
    session.commit()
    consumer = queue.start_embedded_consumer(fast, workers=2)
    assert consumer is not None
    try:
        message = service.fan_out(session, fast, kind="first_notice", texts=TEXTS)
        session.commit()
        deadline = time.monotonic() + 20
        while sink.handler.accepted() < 25 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        queue.stop_embedded_consumer()
    assert sink.handler.accepted() == 25
    session.expire_all()
    assert statuses(session, message.id) == {"sent": 25}
    # After the consumer stopped, the same process can still send directly.
    again = service.fan_out(session, fast, kind="update", texts=TEXTS)
    session.commit()
    assert queue.get_queue(fast).deliver_now() == 25
    assert statuses(session, again.id) == {"sent": 25}


def test_subscribing_twice_is_refused_for_staff_and_resends_for_the_public(
    session: Session, fast: Settings
) -> None:
    subscribers.subscribe_email(session, fast, email="Hanako@Example.com", locale="ja")
    session.commit()
    with pytest.raises(Conflict):
        subscribers.subscribe_email(
            session, fast, email="hanako@example.com", locale="en", actor="staff"
        )
    session.rollback()
    row = session.scalars(select(Subscriber)).one()
    assert (row.address, row.locale, row.status) == ("hanako@example.com", "ja", "pending")
    assert session.scalar(select(func.count()).select_from(Delivery)) == 1  # one confirmation
    # The public form says nothing about the address; a pending one gets the mail again.
    subscribers.subscribe_email(session, fast, email="hanako@example.com", locale="en")
    session.commit()
    row = session.scalars(select(Subscriber)).one()
    assert (row.locale, row.status) == ("en", "pending")
    assert session.scalar(select(func.count()).select_from(Delivery)) == 2
