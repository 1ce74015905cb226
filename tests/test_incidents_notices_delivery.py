"""What subscribers get when a notice is published, for real on SQLite and PostgreSQL (R4, R7, R10).

The email frame comes from the kind's template and carries the agent's checked
text; a locale the agent did not write gets the template's own wording. The
worker delivers to a real SMTP server (aiosmtpd on 127.0.0.1) and a real
webhook receiver, exactly once. Resolving and scheduling maintenance tell the
subscribers too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents import maintenance, notices, service
from anshin.notify import queue
from anshin.notify.models import Delivery, OutboxMessage
from anshin.notify.sink import MailSink, SmtpSink, WebhookReceiver
from notice_texts import FIRST_NOTICE_JA, RESOLUTION_EN, RESOLUTION_JA, UPDATE_EN, UPDATE_JA
from notice_world import ACTOR, World, build, count, recipients
from test_notify_delivery import drain


@pytest.fixture
def world(session: Session, settings: Settings) -> World:
    """The world, its webhook pointing at the discard port: nothing is sent here."""
    return build(session, settings, "http://127.0.0.1:9/hook")


def test_the_email_carries_the_agents_text_in_its_template_frame(
    session: Session, settings: Settings, world: World
) -> None:
    update = service.publish_update(
        session, settings, world.incident, body_ja=FIRST_NOTICE_JA, actor=ACTOR
    )
    session.commit()
    message = notices.message_for_update(session, update.id)
    assert message is not None
    ja = message.texts["ja"]
    assert ja["subject"].startswith("【第1報】障害発生のお知らせ：ログインできない障害（")
    assert FIRST_NOTICE_JA in ja["text"]
    assert settings.base_url.rstrip("/") + "/" in ja["text"]
    assert "驚かれたことと存じます" not in ja["text"]  # the template's own wording gives way
    # No English was written: publishing wrote it from the template, checked it and
    # stored it; the English subscriber gets exactly that text.
    en = message.texts["en"]
    assert update.body_en and update.body_en in en["text"]
    assert en["subject"].startswith("[Service disruption] First notice: Sign-in failures (")
    assert "we are sorry that it is not working as it should" in en["text"]
    assert FIRST_NOTICE_JA not in en["text"]
    assert settings.base_url.rstrip("/") + "/" in en["text"]

    second = service.publish_update(
        session, settings, world.incident, body_ja=UPDATE_JA, body_en=UPDATE_EN, actor=ACTOR
    )
    session.commit()
    written = notices.message_for_update(session, second.id)
    assert written is not None and written.kind == "update"
    assert UPDATE_EN in written.texts["en"]["text"] and UPDATE_JA in written.texts["ja"]["text"]


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink(MailSink()) as running:
        yield running


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def test_the_notice_reaches_a_real_mail_server_and_webhook_exactly_once(
    session: Session,
    settings: Settings,
    engine: Engine,
    sink: SmtpSink,
    hooks: WebhookReceiver,
) -> None:
    live = settings.model_copy(
        update={
            "webhook_allowed_networks": ["127.0.0.1/32"],  # the test receivers listen here
            "smtp_host": "127.0.0.1",
            "smtp_port": sink.port,
            "smtp_from": "安心ステータス <status@example.com>",
            "smtp_message_id_domain": "status.example.com",
            "site_name": "安心テスト",
            "delivery_backoff_base_seconds": 0.01,
            "delivery_backoff_max_seconds": 0.05,
        }
    )
    world = build(session, live, hooks.url("/hook"))
    update = service.publish_update(
        session, live, world.incident, body_ja=FIRST_NOTICE_JA, actor=ACTOR
    )
    session.commit()
    drain(live, engine)
    assert queue.get_queue(live).deliver_now() == 0  # nothing is left to send twice

    mails = {r.recipients[0]: r.parse() for r in sink.handler.received}
    assert sorted(mails) == ["en@example.com", "ja@example.com"]
    assert max(sink.handler.copies().values()) == 1
    reference = world.incident.reference
    ja = mails["ja@example.com"]
    assert ja["Subject"].startswith("【第1報】障害発生のお知らせ：ログインできない障害（")
    ja_text = ja.get_body(("plain",))
    assert ja_text is not None
    body = ja_text.get_content()
    assert FIRST_NOTICE_JA in body and "安心テスト" in body
    assert live.base_url.rstrip("/") + "/" in body
    en = mails["en@example.com"]
    assert en["Subject"].startswith("[Service disruption] First notice: Sign-in failures (")
    en_text = en.get_body(("plain",))
    assert en_text is not None
    assert "we are sorry that it is not working as it should" in en_text.get_content()
    (hook,) = hooks.requests
    payload = hook.json()
    assert payload["kind"] == "first_notice"
    assert payload["data"]["reference"] == reference
    message = notices.message_for_update(session, update.id)
    assert message is not None
    session.refresh(message)
    assert message.last_delivered_at is not None
    assert set(session.scalars(select(Delivery.status))) == {"sent"}


def test_resolving_sends_a_resolution_notice(
    session: Session, settings: Settings, world: World
) -> None:
    service.publish_update(session, settings, world.incident, body_ja=FIRST_NOTICE_JA, actor=ACTOR)
    resolution = service.resolve(
        session,
        settings,
        world.incident,
        body_ja=RESOLUTION_JA,
        body_en=RESOLUTION_EN,
        actor=ACTOR,
        now=utcnow() + dt.timedelta(minutes=40),
    )
    session.commit()
    message = notices.message_for_update(session, resolution.id)
    assert message is not None and message.kind == "resolution"
    assert message.data["status"] == "resolved" and message.data["next_update_at"] is None
    assert message.texts["ja"]["subject"].startswith(
        "【第2報・復旧のお知らせ】ログインできない障害"
    )
    assert RESOLUTION_JA in message.texts["ja"]["text"]
    assert RESOLUTION_EN in message.texts["en"]["text"]
    assert recipients(session, message) == {world.ja.id, world.en.id, world.hook.id}
    assert count(session, OutboxMessage) == 2


def test_maintenance_tells_its_subscribers_unless_told_not_to(
    session: Session, settings: Settings, world: World
) -> None:
    start = utcnow() + dt.timedelta(days=7)
    window = maintenance.schedule(
        session,
        settings,
        title="決済基盤の定期メンテナンス",
        title_en="Payments maintenance",
        body="作業中は決済がご利用いただけません。",
        scheduled_start=start,
        scheduled_end=start + dt.timedelta(hours=2),
        components=["決済"],
        actor=ACTOR,
    )
    session.commit()
    (message,) = session.scalars(
        select(OutboxMessage).where(OutboxMessage.maintenance_id == window.id)
    )
    assert message.kind == "maintenance_notice"
    assert message.data["reference"] == window.reference
    assert message.texts["ja"]["subject"].startswith("【メンテナンスのお知らせ】")
    assert "決済基盤の定期メンテナンス" in message.texts["ja"]["subject"]
    # payments' own subscriber and the one who chose nothing; not sign-in's
    assert recipients(session, message) == {world.payments_only.id, world.en.id}

    quiet = maintenance.schedule(
        session,
        settings,
        title="管理画面の小さな作業",
        scheduled_start=start,
        scheduled_end=start + dt.timedelta(minutes=10),
        components=["決済"],
        notify_subscribers=False,
        actor=ACTOR,
    )
    session.commit()
    assert quiet.id != window.id
    assert (
        session.scalars(select(OutboxMessage).where(OutboxMessage.maintenance_id == quiet.id)).all()
        == []
    )
    assert count(session, OutboxMessage) == 1
