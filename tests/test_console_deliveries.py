"""Delivery in the console: live counts per notice, the first-notice clock, dead letters and retry.

A notice is published through the console, sent by the real worker code to a
real SMTP server (aiosmtpd on 127.0.0.1) that refuses one address, and the
console shows what reached whom (R4, R26). SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin import events
from anshin.config import Settings
from anshin.db import make_engine
from anshin.incidents.models import Incident
from anshin.notify import queue
from anshin.notify.console_views import mask_address
from anshin.notify.models import Delivery, OutboxMessage
from anshin.notify.sink import MailSink, SmtpSink, seed_subscribers
from test_console_incidents import _declare, textarea
from test_console_support import client_for, login, seed, text_of

REFUSED = "user1@example.com"


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink(MailSink(reject={REFUSED})) as running:
        yield running


@pytest.fixture
def mail_settings(settings: Settings, sink: SmtpSink) -> Settings:
    """The test's settings sending to the local SMTP sink, retries spaced out (no waiting)."""
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": sink.port,
            "smtp_from": "安心ステータス <status@example.com>",
        }
    )


@pytest.fixture
def client(mail_settings: Settings) -> TestClient:
    seed(mail_settings)
    engine = make_engine(mail_settings.database_url)
    with Session(engine) as session:
        seed_subscribers(session, 3)  # user0..user2@example.com, every component
        session.commit()
    engine.dispose()
    return client_for(mail_settings)


def _db(settings: Settings) -> Session:
    return Session(make_engine(settings.database_url), expire_on_commit=False)


def _publish_first_notice(client: TestClient, settings: Settings, token: str) -> tuple[str, int]:
    """Declare, publish the prefilled first notice; returns the page and the message id."""
    location = _declare(client, settings, token)
    page = client.get(location).text
    data = {
        "kind": "first_notice",
        "status": "investigating",
        "body_ja": textarea(page, "body_ja"),
        "body_en": textarea(page, "body_en"),
        "audience": "public",
        "csrf_token": token,
    }
    assert client.post(f"{location}/updates", data=data).status_code == 303
    with _db(settings) as session:
        message = session.scalars(select(OutboxMessage)).one()
        return location, message.id


def test_counts_move_from_queued_to_sent_and_the_clock_records_the_last_customer(
    client: TestClient, mail_settings: Settings, sink: SmtpSink
) -> None:
    token = login(client, "operator")
    location, message_id = _publish_first_notice(client, mail_settings, token)
    page = client.get(location).text
    counts = re.search(r'<div class="delivery[^"]*" id="delivery-\d+".*?</div>', page, re.S)
    assert counts is not None
    assert f'hx-get="/console/messages/{message_id}/counts"' in counts.group(0)
    assert 'hx-trigger="every 3s"' in counts.group(0)  # polls while anything is queued
    assert "配信待ち 3" in text_of(counts.group(0))
    clock = text_of(page)
    assert "第一報：宣言から" in clock and "お客様へ配信中（3件中0件送信済み）" in clock

    assert queue.get_queue(mail_settings).deliver_now() == 3
    fragment = client.get(f"/console/messages/{message_id}/counts")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    text = text_of(fragment.text)
    assert "送信済み 2" in text and "配信不能 1" in text and "配信待ち 0" in text
    assert "最後のお客様に届いた時刻" in text
    assert "hx-trigger" not in fragment.text  # nothing on its way: polling stops
    assert f"/console/deliveries?state=dead&amp;message={message_id}" in fragment.text
    assert sorted(r.recipients[0] for r in sink.handler.received) == [
        "user0@example.com",
        "user2@example.com",
    ]

    first = client.get(f"{location}/first-notice")
    assert first.status_code == 200
    sentence = text_of(first.text)
    assert re.search(
        r"第一報：宣言から\d+分後に公開、最後のお客様に届いたのは \d\d:\d\d（宣言から\d+分）",
        sentence,
    ), sentence
    assert "hx-trigger" not in first.text
    english = text_of(client.get(f"{location}/first-notice?lang=en").text)
    assert "the last customer had it at" in english


def test_dead_letters_are_listed_masked_and_can_be_retried(
    client: TestClient, mail_settings: Settings, sink: SmtpSink
) -> None:
    token = login(client, "operator")
    _location, message_id = _publish_first_notice(client, mail_settings, token)
    queue.get_queue(mail_settings).deliver_now()
    page = client.get("/console/deliveries")  # dead letters by default
    assert page.status_code == 200
    text = text_of(page.text)
    assert "us•••@example.com" in text and REFUSED not in page.text  # masked
    assert "SMTP 550" in text  # the last error
    with _db(mail_settings) as session:
        dead = session.scalars(select(Delivery).where(Delivery.status == "dead")).one()
    assert f'action="/console/deliveries/{dead.id}/retry"' in page.text
    assert 'href="/console/deliveries"' in page.text  # in the console nav
    focused = client.get(f"/console/deliveries?state=dead&message={message_id}")
    assert "このお知らせの配信不能 1件をすべて再送" in text_of(focused.text)

    # No CSRF token: nothing changes.
    refused = client.post(f"/console/deliveries/{dead.id}/retry", data={"state": "dead"})
    assert refused.status_code == 403
    sink.handler.reject.clear()
    retried = client.post(
        f"/console/deliveries/{dead.id}/retry",
        data={"state": "dead", "message": str(message_id), "csrf_token": token},
    )
    assert retried.status_code == 303
    assert retried.headers["location"] == f"/console/deliveries?state=dead&message={message_id}"
    with _db(mail_settings) as session:
        assert session.get(Delivery, dead.id).status == "pending"  # type: ignore[union-attr]
        actions = [e.action for e in events.history(session, "notify_delivery", dead.id)]
        assert actions == ["notify.delivery.retried"]
    # Retrying it again while it is queued is refused, with the reason on the next page.
    again = client.post(
        f"/console/deliveries/{dead.id}/retry", data={"state": "dead", "csrf_token": token}
    )
    assert again.status_code == 303
    reason = text_of(client.get(again.headers["location"]).text)
    assert "再送できるのは配信不能（" in reason
    assert "この配信の状態は pending です。" in reason
    assert queue.get_queue(mail_settings).deliver_now() == 1
    assert REFUSED in [r.recipients[0] for r in sink.handler.received]
    empty = text_of(client.get("/console/deliveries").text)
    assert "配信不能はありません" in empty


def test_retry_all_of_a_message_and_of_everything(
    client: TestClient, mail_settings: Settings, sink: SmtpSink
) -> None:
    token = login(client, "operator")
    _location, message_id = _publish_first_notice(client, mail_settings, token)
    queue.get_queue(mail_settings).deliver_now()
    done = client.post(
        f"/console/messages/{message_id}/retry-dead",
        data={"state": "dead", "message": str(message_id), "csrf_token": token},
    )
    assert done.status_code == 303
    assert "配信不能の1件をもう一度キューに入れました。" in text_of(
        client.get(done.headers["location"]).text
    )
    queue.get_queue(mail_settings).deliver_now()  # refused again: dead again
    everything = client.post("/console/deliveries/retry-dead", data={"csrf_token": token})
    assert everything.status_code == 303
    with _db(mail_settings) as session:
        statuses = sorted(d.status for d in session.scalars(select(Delivery)))
    assert statuses == ["pending", "sent", "sent"]


def test_bad_input_and_permissions(client: TestClient, mail_settings: Settings) -> None:
    anonymous = client.get("/console/deliveries")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    token = login(client, "operator")
    bogus = client.get("/console/deliveries?state=lost")
    assert bogus.status_code == 422 and "lost" in bogus.text
    not_a_number = client.get("/console/deliveries?message=abc")
    assert not_a_number.status_code == 422 and "整数で入力してください" in not_a_number.text
    assert client.get("/console/deliveries?message=999").status_code == 404
    assert client.get("/console/messages/999/counts").status_code == 404
    missing = client.post("/console/deliveries/999/retry", data={"csrf_token": token})
    assert missing.status_code == 404
    no_message = client.post("/console/messages/999/retry-dead", data={"csrf_token": token})
    assert no_message.status_code == 404
    for state in ("pending", "sent", "failed", "sending", "cancelled"):
        assert client.get(f"/console/deliveries?state={state}").status_code == 200
    english = client.get("/console/deliveries?lang=en")
    assert "No dead letters" in text_of(english.text)
    with _db(mail_settings) as session:
        assert session.scalars(select(Incident)).first() is None


@pytest.mark.parametrize(
    ("kind", "address", "shown"),
    [
        ("email", "operator@example.com", "op•••@example.com"),
        ("email", "a@example.jp", "a•••@example.jp"),
        (
            "webhook",
            "https://hooks.example.com/services/T000/SECRET",
            "https://hooks.example.com/…",
        ),
        ("webhook", "https://user:pw@hooks.example.com/x", "https://hooks.example.com/…"),
        ("email", None, "—"),
    ],
)
def test_recipients_are_masked(kind: str, address: str | None, shown: str) -> None:
    assert mask_address(kind, address) == shown
