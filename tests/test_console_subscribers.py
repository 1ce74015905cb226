"""The subscribers page (R26): list, search, filters, counts, remove after a confirmation
step, resend a pending confirmation through the outbox to a real SMTP sink. Seniors
and above. SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from anshin import events
from anshin.config import Settings
from anshin.notify import queue, subscribers
from anshin.notify.models import Subscriber
from anshin.notify.sink import MailSink, SmtpSink
from test_console_support import client_for, database, login, seed, text_of


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink(MailSink()) as running:
        yield running


@pytest.fixture
def mail_settings(settings: Settings, sink: SmtpSink) -> Settings:
    return settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": sink.port, "smtp_from": "s@example.com"}
    )


@pytest.fixture
def client(mail_settings: Settings) -> TestClient:
    seed(mail_settings)
    with database(mail_settings) as session:
        subscribers.subscribe_email(
            session, mail_settings, email="tanaka@shop.example.jp", confirmed=True
        )
        subscribers.subscribe_email(session, mail_settings, email="suzuki@corp.example.com")
        subscribers.subscribe_email(
            session, mail_settings, email="lee@corp.example.com", locale="en", confirmed=True
        )
        subscribers.add_webhook(
            session, mail_settings, url="https://hooks.example.com/services/T0/SECRET", actor="t"
        )
        for i in range(55):
            subscribers.subscribe_email(
                session, mail_settings, email=f"bulk{i:02d}@example.org", confirmed=True
            )
        session.commit()
    return client_for(mail_settings)


def _ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="subscriber-(\d+)"', page)]


def _subscriber(settings: Settings, address: str) -> Subscriber:
    with database(settings) as session:
        found = subscribers.find(session, "email", address)
        assert found is not None
        return found


def test_list_search_filters_and_counts(client: TestClient, mail_settings: Settings) -> None:
    login(client, "senior")
    page = client.get("/console/subscribers")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "購読者" in text
    assert "すべて 59" in text and "購読中 58" in text and "確認待ち 1" in text
    assert len(_ids(page.text)) == 50  # a page at a time
    assert "59件中 1–50件" in text
    assert len(_ids(client.get("/console/subscribers?page=2").text)) == 9

    found = client.get("/console/subscribers?q=CORP.example")  # case-insensitive substring
    assert sorted(re.findall(r"\w+@corp\.example\.com", text_of(found.text))) == [
        "lee@corp.example.com",
        "suzuki@corp.example.com",
    ]
    assert "2件の購読者が該当します" in text_of(found.text)
    english = client.get("/console/subscribers?q=corp&locale=en").text
    assert len(_ids(english)) == 1 and "lee@corp.example.com" in english
    pending = client.get("/console/subscribers?status=pending").text
    assert "suzuki@corp.example.com" in pending and len(_ids(pending)) == 1
    hooks = client.get("/console/subscribers?kind=webhook").text
    assert len(_ids(hooks)) == 1
    assert "https://hooks.example.com/…" in text_of(hooks) and "SECRET" not in hooks
    assert "該当する購読者はいません" in text_of(client.get("/console/subscribers?q=nobody").text)
    # Percent and underscore are taken literally.
    assert len(_ids(client.get("/console/subscribers?q=%25").text)) == 0
    assert client.get("/console/subscribers?status=gone").status_code == 422
    assert client.get("/console/subscribers?locale=fr").status_code == 422

    api = client.get("/api/subscribers?q=corp&status=active").json()
    assert [s["address"] for s in api["items"]] == ["lee@corp.example.com"]


def test_remove_asks_first_and_then_deletes(client: TestClient, mail_settings: Settings) -> None:
    token = login(client, "senior")
    target = _subscriber(mail_settings, "tanaka@shop.example.jp")
    listed = client.get("/console/subscribers?q=tanaka").text
    assert f'href="/console/subscribers/{target.id}/remove?q=tanaka"' in listed
    confirm = client.get(f"/console/subscribers/{target.id}/remove?q=tanaka")
    assert confirm.status_code == 200
    text = text_of(confirm.text)
    assert "この購読者を削除しますか？" in text and "tanaka@shop.example.jp" in text
    assert "元に戻すことはできません" in text
    # A POST without the confirmation goes to the confirmation step and deletes nothing.
    skipped = client.post(f"/console/subscribers/{target.id}/remove", data={"csrf_token": token})
    assert skipped.status_code == 303
    assert skipped.headers["location"] == f"/console/subscribers/{target.id}/remove"
    assert _subscriber(mail_settings, "tanaka@shop.example.jp").id == target.id
    no_csrf = client.post(f"/console/subscribers/{target.id}/remove", data={"confirm": "yes"})
    assert no_csrf.status_code == 403
    done = client.post(
        f"/console/subscribers/{target.id}/remove",
        data={"csrf_token": token, "confirm": "yes", "q": "tanaka"},
    )
    assert done.status_code == 303 and done.headers["location"] == "/console/subscribers?q=tanaka"
    after = text_of(client.get(done.headers["location"]).text)
    assert "tanaka@shop.example.jp を削除しました。" in after
    with database(mail_settings) as session:
        assert subscribers.find(session, "email", "tanaka@shop.example.jp") is None
        actions = [e.action for e in events.history(session, "notify_subscriber", target.id)]
        assert "notify.subscriber.deleted" in actions
    assert client.get(f"/console/subscribers/{target.id}/remove").status_code == 404


def test_resend_confirmation_goes_out_through_the_outbox(
    client: TestClient, mail_settings: Settings, sink: SmtpSink
) -> None:
    token = login(client, "senior")
    pending = _subscriber(mail_settings, "suzuki@corp.example.com")
    active = _subscriber(mail_settings, "lee@corp.example.com")
    page = client.get("/console/subscribers?status=pending").text
    assert f'action="/console/subscribers/{pending.id}/resend"' in page
    assert f'action="/console/subscribers/{active.id}/resend"' not in page
    queue.get_queue(mail_settings).deliver_now()  # the first confirmation, from subscribing
    assert len(sink.handler.received) == 1
    # Right after the first mail a second click sends nothing more.
    early = client.post(
        f"/console/subscribers/{pending.id}/resend",
        data={"csrf_token": token, "status": "pending"},
    )
    assert early.status_code == 303 and early.headers["location"] == (
        "/console/subscribers?status=pending"
    )
    assert "1分以内に送信済み" in text_of(client.get(early.headers["location"]).text)
    with database(mail_settings) as session:
        row = session.get(Subscriber, pending.id)
        assert row is not None and row.confirmation_sent_at is not None
        row.confirmation_sent_at = row.confirmation_sent_at.replace(year=2000)
        session.commit()
    again = client.post(f"/console/subscribers/{pending.id}/resend", data={"csrf_token": token})
    assert again.status_code == 303
    assert "suzuki@corp.example.com への確認メールを送信しています。" in text_of(
        client.get("/console/subscribers").text
    )
    queue.get_queue(mail_settings).deliver_now()
    assert [r.recipients[0] for r in sink.handler.received] == ["suzuki@corp.example.com"] * 2
    resent = sink.handler.received[-1].parse()
    body = resent.get_body(("plain",))
    assert body is not None and "/subscribe/confirm/" in body.get_content()
    refused = client.post(f"/console/subscribers/{active.id}/resend", data={"csrf_token": token})
    assert refused.status_code == 303
    assert "確認待ちの購読だけ" in text_of(client.get("/console/subscribers").text)
    with database(mail_settings) as session:
        actions = [e.action for e in events.history(session, "notify_subscriber", pending.id)]
        assert actions.count("notify.subscriber.confirmation_resent") == 1


def test_operators_may_not_see_subscribers(client: TestClient) -> None:
    login(client, "operator")
    assert client.get("/console/subscribers").status_code == 403
    assert client.get("/console/subscribers/1/remove").status_code == 403
    nav = client.get("/console").text
    assert 'href="/console/subscribers"' not in nav


def test_staff_channel_rows_are_not_listed(client: TestClient, mail_settings: Settings) -> None:
    with database(mail_settings) as session:
        session.add(Subscriber(kind="email", address="oncall@example.com", status="staff"))
        session.commit()
        assert session.scalar(select(Subscriber.id).where(Subscriber.status == "staff"))
    login(client, "admin")
    assert "oncall@example.com" not in client.get("/console/subscribers?q=oncall").text
