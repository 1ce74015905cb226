"""Who was notified: every delivery of a notice, for real (R4, R22, R26).

A first notice is published through the console to 60 subscribers and sent by
the real worker code to a real SMTP server (aiosmtpd on 127.0.0.1) that
refuses one address. The console page and ``GET /api/messages/{id}/deliveries``
list every delivery — sent, dead — a page at a time, with the recipient's
address in full for supervisors and above and masked for operators, the sent
time, the attempts, the last attempt and the error stored for it. SQLite and
PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import make_engine
from anshin.notify import queue
from anshin.notify.models import Delivery
from anshin.notify.sink import MailSink, SmtpSink, seed_subscribers
from test_console_deliveries import _publish_first_notice
from test_console_support import client_for, database, login, seed, text_of

REFUSED = "user1@example.com"
SUBSCRIBERS = 60


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink(MailSink(reject={REFUSED})) as running:
        yield running


@pytest.fixture
def mail_settings(settings: Settings, sink: SmtpSink) -> Settings:
    return settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": sink.port, "smtp_from": "s@example.com"}
    )


@pytest.fixture
def published(mail_settings: Settings) -> tuple[TestClient, int, str]:
    """A first notice to 60 subscribers, sent: (an operator's client, message id, page)."""
    seed(mail_settings)
    engine = make_engine(mail_settings.database_url)
    with Session(engine) as session:
        seed_subscribers(session, SUBSCRIBERS)
        session.commit()
    client = client_for(mail_settings)
    token = login(client, "operator")
    location, message_id = _publish_first_notice(client, mail_settings, token)
    assert queue.get_queue(mail_settings).deliver_now() == SUBSCRIBERS
    engine.dispose()
    return client, message_id, location


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr id="delivery-row-\d+".*?</tr>', page, re.S)


def test_operators_see_every_delivery_masked_a_page_at_a_time(
    published: tuple[TestClient, int, str], mail_settings: Settings
) -> None:
    client, message_id, location = published
    record = client.get(location).text
    assert f'href="/console/messages/{message_id}/deliveries"' in record  # from the notice

    page = client.get(f"/console/messages/{message_id}/deliveries")
    assert page.status_code == 200
    rows = _rows(page.text)
    assert len(rows) == 50  # the first page
    text = text_of(page.text)
    assert "配信先" in text
    assert "60件中 1–50件" in text
    assert "us•••@example.com" in text
    assert "user0@example.com" not in page.text and REFUSED not in page.text
    assert "一部を伏せて表示" in text
    sent_row = text_of(rows[0])
    assert "送信済み" in sent_row and re.search(r"\d{4}/\d\d/\d\d \d\d:\d\d", sent_row)

    second = client.get(f"/console/messages/{message_id}/deliveries?page=2").text
    assert len(_rows(second)) == 10
    dead = client.get(f"/console/messages/{message_id}/deliveries?state=dead").text
    (dead_row,) = _rows(dead)
    dead_text = text_of(dead_row)
    assert "配信不能" in dead_text and "SMTP 550" in dead_text
    with database(mail_settings) as session:
        refused = session.scalars(select(Delivery).where(Delivery.status == "dead")).one()
    assert refused.last_attempt_at is not None and refused.attempts == 1
    english = text_of(client.get(f"/console/messages/{message_id}/deliveries?lang=en").text)
    assert "Who was notified" in english and "Last attempt" in english

    assert client.get(f"/console/messages/{message_id}/deliveries?state=lost").status_code == 422
    assert client.get(f"/console/messages/{message_id}/deliveries?page=x").status_code == 422
    assert client.get("/console/messages/9999/deliveries").status_code == 404


def test_supervisors_see_full_addresses(
    published: tuple[TestClient, int, str], mail_settings: Settings
) -> None:
    _client, message_id, _location = published
    supervisor = client_for(mail_settings)
    login(supervisor, "supervisor")
    page = supervisor.get(f"/console/messages/{message_id}/deliveries?state=dead").text
    assert REFUSED in text_of(page)
    assert "一部を伏せて表示" not in text_of(page)
    dead_letters = supervisor.get(f"/console/deliveries?state=dead&message={message_id}").text
    assert REFUSED in text_of(dead_letters)  # the dead-letter list follows the same rule


def test_the_api_lists_every_delivery_by_default_with_addresses_by_role(
    published: tuple[TestClient, int, str], mail_settings: Settings
) -> None:
    client, message_id, _location = published
    listed = client.get(f"/api/messages/{message_id}/deliveries").json()
    assert listed["counts"]["sent"] == SUBSCRIBERS - 1 and listed["counts"]["dead"] == 1
    assert listed["total"] == SUBSCRIBERS and len(listed["items"]) == SUBSCRIBERS
    assert listed["addresses"] == "masked"
    assert {item["recipient"] for item in listed["items"]} >= {"us•••@example.com"}
    assert not any("user0@" in item["recipient"] for item in listed["items"])
    first = listed["items"][0]
    assert first["status"] == "sent" and first["sent_at"] and first["last_attempt_at"]
    assert first["recipient_kind"] == "email"

    window = client.get(f"/api/messages/{message_id}/deliveries?limit=10&offset=55").json()
    assert window["total"] == SUBSCRIBERS and len(window["items"]) == 5
    dead = client.get(f"/api/messages/{message_id}/deliveries?status=dead").json()
    assert dead["total"] == 1 and dead["items"][0]["last_error"].startswith("SMTP 550")
    bad = client.get(f"/api/messages/{message_id}/deliveries?status=lost")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"
    assert client.get(f"/api/messages/{message_id}/deliveries?limit=0").status_code == 422

    supervisor = client_for(mail_settings)
    login(supervisor, "supervisor")
    full = supervisor.get(f"/api/messages/{message_id}/deliveries?status=dead").json()
    assert full["addresses"] == "full" and full["items"][0]["recipient"] == REFUSED
