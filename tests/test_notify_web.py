"""Public subscribe pages and the staff JSON API, through HTTP (R26; RFC 8058).

Double opt-in end to end: the form, the confirmation mail received by a real
SMTP server, the link in it; one-click unsubscribe with no cookie; tampered
tokens, bad addresses, duplicates and missing CSRF are refused in the reader's
language and change nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from anshin.app import create_app
from anshin.config import Settings
from anshin.db import utcnow
from anshin.events import Event
from anshin.incidents import components
from anshin.notify import models, queue, ratelimit, service, tokens
from anshin.notify.models import Delivery, Subscriber
from anshin.notify.service import MessageTexts
from anshin.notify.sink import MailSink, SmtpSink
from anshin.team import service as team_service

assert models


def make_app(settings: Settings) -> FastAPI:
    """The real app, every router and middleware mounted."""
    return create_app(settings)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink(MailSink()) as running:
        yield running


@pytest.fixture
def web_settings(settings: Settings, sink: SmtpSink) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allowed_networks": ["127.0.0.1/32"],  # the test receivers listen here
            "smtp_port": sink.port,
            "site_name": "安心テスト",
            "smtp_from": "s@example.com",
        }
    )


@pytest.fixture
def client(web_settings: Settings) -> Iterator[TestClient]:
    app = make_app(web_settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


@pytest.fixture
def component_ids(sessions: sessionmaker[Session]) -> list[int]:
    with sessions() as session:
        login = components.add_component(session, "ログイン", actor="t", name_en="Login")
        pay = components.add_component(session, "決済", actor="t", name_en="Payments")
        session.commit()
        return [login.id, pay.id]


@pytest.fixture
def staff(sessions: sessionmaker[Session]) -> dict[str, str]:
    """role -> bearer token."""
    out: dict[str, str] = {}
    with sessions() as session:
        for role in ("operator", "senior"):
            user = team_service.create_user(
                session, email=f"{role}@example.com", name=role, role=role, password="long enough"
            )
            out[role], _ = team_service.create_token(session, user=user, name="ci", actor="t")
        session.commit()
    return out


def csrf(client: TestClient, lang: str = "ja") -> str:
    page = client.get("/subscribe", headers={"Accept-Language": lang})
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def subscriber_rows(sessions: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with sessions() as session:
        return [
            (s.address, s.status, s.locale)
            for s in session.scalars(select(Subscriber).order_by(Subscriber.id))
        ]


def drain(settings: Settings) -> None:
    queue.get_queue(settings).deliver_now()


def test_form_in_both_languages(client: TestClient, component_ids: list[int]) -> None:
    ja = client.get("/subscribe", headers={"Accept-Language": "ja"})
    assert "障害・メンテナンス情報のメール配信" in ja.text and "ログイン" in ja.text
    assert 'name="components"' in ja.text and 'name="csrf_token"' in ja.text
    en = client.get("/subscribe?lang=en")
    assert "Subscribe to status updates" in en.text and "Payments" in en.text


def test_double_opt_in_end_to_end(
    client: TestClient,
    web_settings: Settings,
    sink: SmtpSink,
    sessions: sessionmaker[Session],
    component_ids: list[int],
) -> None:
    token = csrf(client)
    sent = client.post(
        "/subscribe",
        data={
            "csrf_token": token,
            "email": " Taro@Example.com ",
            "locale": "ja",
            "components": [str(component_ids[0])],
        },
    )
    assert sent.status_code == 200, sent.text
    assert "確認メールをお送りしました" in sent.text and "taro@example.com" in sent.text
    assert subscriber_rows(sessions) == [("taro@example.com", "pending", "ja")]

    drain(web_settings)
    assert sink.handler.accepted() == 1
    mail = sink.handler.received[0].parse()
    assert mail["Subject"] == "【安心テスト】配信登録の確認のお願い"
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(r"http://127\.0\.0\.1:8000(/subscribe/confirm/\S+)", body)
    assert link, body

    with sessions() as session:  # nobody is mailed before confirming
        message = service.fan_out(
            session, web_settings, kind="update", texts={"ja": MessageTexts("件名", "本文")}
        )
        session.commit()
        assert message.recipients == 0

    confirmed = client.get(link.group(1))
    assert confirmed.status_code == 200 and "登録が完了しました" in confirmed.text
    assert subscriber_rows(sessions) == [("taro@example.com", "active", "ja")]
    again = client.get(link.group(1))  # opening the link twice is harmless
    assert again.status_code == 200
    with sessions() as session:
        subscriber = session.scalars(select(Subscriber)).one()
        assert subscriber.component_ids == [component_ids[0]]
        actions = [
            e.action
            for e in session.scalars(select(Event).where(Event.entity_type == "notify_subscriber"))
        ]
        assert actions == ["notify.subscriber.subscribed", "notify.subscriber.confirmed"]


@pytest.mark.parametrize(
    ("lang", "email", "status", "text"),
    [
        ("ja", "not-an-address", 422, "メールアドレスの形式になっていません"),
        ("en", "not-an-address", 422, "is not a valid email address"),
        ("ja", "", 422, "メールアドレスを入力してください"),
    ],
)
def test_bad_addresses_are_refused_in_the_readers_language(
    client: TestClient,
    sessions: sessionmaker[Session],
    lang: str,
    email: str,
    status: int,
    text: str,
) -> None:
    token = csrf(client, lang)
    response = client.post(
        "/subscribe",
        data={"csrf_token": token, "email": email, "locale": "ja"},
        headers={"Accept-Language": lang},
    )
    assert response.status_code == status
    assert text in response.text
    assert f'value="{email}"' in response.text  # the form keeps what was typed
    assert subscriber_rows(sessions) == []


def test_duplicates_unknown_components_and_missing_csrf_change_nothing(
    client: TestClient, sessions: sessionmaker[Session], component_ids: list[int]
) -> None:
    token = csrf(client)
    first = client.post("/subscribe", data={"csrf_token": token, "email": "a@example.com"})
    assert first.status_code == 200
    before = subscriber_rows(sessions)
    unknown = client.post(
        "/subscribe",
        data={"csrf_token": token, "email": "b@example.com", "components": ["99999"]},
    )
    assert unknown.status_code == 422 and "登録されていません" in unknown.text
    forged = TestClient(client.app).post("/subscribe", data={"email": "c@example.com"})
    assert forged.status_code == 403
    assert subscriber_rows(sessions) == before
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 1


def confirmation_link(sink: SmtpSink, index: int) -> str:
    body = sink.handler.received[index].parse().get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(r"http://127\.0\.0\.1:8000(/subscribe/confirm/\S+)", body)
    assert link, body
    return link.group(1)


def test_english_readers_can_subscribe_on_the_page_and_through_the_api(
    client: TestClient,
    web_settings: Settings,
    sink: SmtpSink,
    sessions: sessionmaker[Session],
    staff: dict[str, str],
) -> None:
    """Issue 7 point 1: choosing English was a 422 「日本語の文面が必要です」."""
    token = csrf(client, "en")
    sent = client.post(
        "/subscribe",
        data={"csrf_token": token, "email": "reader@example.com", "locale": "en"},
        headers={"Accept-Language": "en"},
    )
    assert sent.status_code == 200, sent.text
    assert "a confirmation mail is on its way" in sent.text
    api_sent = client.post(
        "/api/subscribers",
        json={"kind": "email", "email": "api-reader@example.com", "locale": "en"},
        headers={"Authorization": f"Bearer {staff['senior']}"},
    )
    assert api_sent.status_code == 201, api_sent.text
    assert subscriber_rows(sessions) == [
        ("reader@example.com", "pending", "en"),
        ("api-reader@example.com", "pending", "en"),
    ]
    drain(web_settings)
    assert sink.handler.accepted() == 2
    mail = sink.handler.received[0].parse()
    assert mail["Subject"] == "[安心テスト] Please confirm your subscription"
    assert mail["Content-Language"] == "en"
    # The link in the mail is a real link, in one well-formed document that wraps on a phone.
    markup = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert markup.count("<html") == 1 and markup.count("<body") == 1
    assert re.search(r'<a href="http://127\.0\.0\.1:8000/subscribe/confirm/[^"]+">', markup)
    assert "overflow-wrap:anywhere" in markup
    assert client.get(confirmation_link(sink, 0)).status_code == 200
    assert subscriber_rows(sessions)[0] == ("reader@example.com", "active", "en")


def test_the_form_does_not_tell_whether_an_address_is_subscribed(
    client: TestClient,
    web_settings: Settings,
    sink: SmtpSink,
    sessions: sessionmaker[Session],
) -> None:
    """Issue 7 point 7: new, pending and confirmed addresses get the same answer."""
    token = csrf(client)

    def ask(email: str) -> Response:
        return client.post("/subscribe", data={"csrf_token": token, "email": email, "locale": "ja"})

    new = ask("new@example.com")
    drain(web_settings)
    assert client.get(confirmation_link(sink, 0)).status_code == 200
    assert subscriber_rows(sessions) == [("new@example.com", "active", "ja")]
    pending = ask("pending@example.com")
    confirmed = ask("New@example.com")
    fresh = ask("fresh@example.com")
    answers = [
        (r.status_code, r.text.replace(address, "ADDRESS"))
        for r, address in (
            (new, "new@example.com"),
            (pending, "pending@example.com"),
            (confirmed, "new@example.com"),
            (fresh, "fresh@example.com"),
        )
    ]
    assert {status for status, _ in answers} == {200}
    assert len({text for _, text in answers}) == 1
    assert "確認メールをお送りしました" in answers[0][1]
    # The confirmed address changed nothing and got no mail; asking again while
    # pending sends a new confirmation mail with a link that works.
    again = ask("pending@example.com")
    assert again.status_code == 200 and again.text.replace("pending@example.com", "A") == (
        pending.text.replace("pending@example.com", "A")
    )
    drain(web_settings)
    to = [m.parse()["To"] for m in sink.handler.received]
    assert to == [
        "new@example.com",
        "pending@example.com",
        "fresh@example.com",
        "pending@example.com",
    ]
    assert client.get(confirmation_link(sink, 3)).status_code == 200
    assert subscriber_rows(sessions) == [
        ("new@example.com", "active", "ja"),
        ("pending@example.com", "active", "ja"),
        ("fresh@example.com", "pending", "ja"),
    ]
    with sessions() as session:
        actions = [
            e.action
            for e in session.scalars(
                select(Event).where(Event.entity_type == "notify_subscriber").order_by(Event.id)
            )
        ]
    assert actions.count("notify.subscriber.confirmation_resent") == 1


def test_resending_is_bounded_by_the_per_client_limit(
    client: TestClient, web_settings: Settings, sink: SmtpSink
) -> None:
    token = csrf(client)
    limit = web_settings.subscribe_rate_per_hour
    answers = [
        client.post(
            "/subscribe", data={"csrf_token": token, "email": "p@example.com", "locale": "ja"}
        ).status_code
        for _ in range(limit + 1)
    ]
    assert answers == [200] * limit + [429]
    drain(web_settings)
    assert sink.handler.accepted() == limit


def test_one_click_unsubscribe_and_tampered_tokens(
    client: TestClient, web_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session:
        from anshin.notify import subscribers

        sub = subscribers.subscribe_email(
            session, web_settings, email="u@example.com", confirmed=True, actor="t"
        )
        session.commit()
        token = tokens.unsubscribe_token(web_settings, sub.id, sub.address)

    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200 and "u@example.com" in page.text
    assert subscriber_rows(sessions) == [("u@example.com", "active", "ja")]  # GET changes nothing

    tampered = token[:-3] + ("xyz" if not token.endswith("xyz") else "abc")
    for method in ("get", "post"):
        bad = getattr(client, method)(f"/unsubscribe/{tampered}", headers={"Accept-Language": "en"})
        assert bad.status_code == 400
        assert "This link is not valid" in bad.text
    bad_confirm = client.get(f"/subscribe/confirm/{tampered}")
    assert bad_confirm.status_code == 400 and "このリンクは無効です" in bad_confirm.text
    assert subscriber_rows(sessions) == [("u@example.com", "active", "ja")]

    # RFC 8058: the mail provider POSTs this body, with no cookie and no CSRF token.
    provider = TestClient(client.app)
    done = provider.post(
        f"/unsubscribe/{token}",
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200 and "配信を停止しました" in done.text
    assert subscriber_rows(sessions) == [("u@example.com", "unsubscribed", "ja")]
    assert provider.post(f"/unsubscribe/{token}").status_code == 200  # twice is fine


def test_staff_api_webhooks_counts_retry_and_roles(
    client: TestClient,
    web_settings: Settings,
    staff: dict[str, str],
    sessions: sessionmaker[Session],
    engine: Engine,
) -> None:
    senior = {"Authorization": f"Bearer {staff['senior']}"}
    operator = {"Authorization": f"Bearer {staff['operator']}", "Accept-Language": "en"}
    assert client.get("/api/subscribers").status_code == 401
    assert client.get("/api/subscribers", headers=operator).status_code == 403

    created = client.post(
        "/api/subscribers",
        json={"kind": "webhook", "url": "http://127.0.0.1:9/hook", "format": "slack"},
        headers=senior,
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    assert secret and len(secret) >= 32
    hook_id = created.json()["subscriber"]["id"]
    listed = client.get("/api/subscribers?kind=webhook", headers=senior).json()
    assert listed["total"] == 1 and "secret" not in listed["items"][0]
    duplicate = client.post(
        "/api/subscribers",
        json={"kind": "webhook", "url": "http://127.0.0.1:9/hook"},
        headers={**senior, "Accept-Language": "en"},
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["message"] == "This webhook URL is already registered."
    bad = client.post("/api/subscribers", json={"kind": "email", "email": "nope"}, headers=senior)
    assert bad.status_code == 422 and "メールアドレス" in bad.json()["error"]["message"]

    email = client.post(
        "/api/subscribers",
        json={"kind": "email", "email": "staff-added@example.com", "confirmed": True},
        headers=senior,
    )
    assert email.status_code == 201 and email.json()["subscriber"]["status"] == "active"

    with sessions() as session:
        message = service.fan_out(
            session, web_settings, kind="update", texts={"ja": MessageTexts("件名", "本文")}
        )
        session.commit()
    short = web_settings.model_copy(update={"delivery_max_attempts": 1})
    queue.get_queue(short).deliver_now()  # the webhook port refuses: one attempt, dead
    counts = client.get(f"/api/messages/{message.id}/deliveries", headers=operator).json()
    assert counts["counts"]["sent"] == 1 and counts["counts"]["dead"] == 1
    dead = client.get(
        f"/api/messages/{message.id}/deliveries?status=dead", headers=operator
    ).json()["items"]
    assert len(dead) == 1 and dead[0]["last_error"]
    retried = client.post(f"/api/deliveries/{dead[0]['id']}/retry", headers=operator)
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    again = client.post(f"/api/deliveries/{dead[0]['id']}/retry", headers=operator)
    assert again.status_code == 409
    assert client.post("/api/deliveries/999999/retry", headers=operator).status_code == 404

    assert client.delete(f"/api/subscribers/{hook_id}", headers=operator).status_code == 403
    assert client.delete(f"/api/subscribers/{hook_id}", headers=senior).status_code == 204
    assert client.delete(f"/api/subscribers/{hook_id}", headers=senior).status_code == 404
    listed_messages = client.get("/api/messages", headers=operator).json()["items"]
    assert listed_messages[0]["id"] == message.id


def test_csv_import_export_over_the_api(
    client: TestClient,
    staff: dict[str, str],
    sessions: sessionmaker[Session],
    component_ids: list[int],
) -> None:
    senior = {"Authorization": f"Bearer {staff['senior']}", "Content-Type": "text/csv"}
    good = "email,locale,components,status\na@example.com,ja,ログイン,active\nb@example.com,en,,\n"
    done = client.post("/api/subscribers/import", content=good.encode(), headers=senior)
    assert done.status_code == 200 and done.json() == {"created": 2, "updated": 0, "unchanged": 0}
    bad = (
        "email,locale,components,status\n"
        "c@example.com,ja,,\n"
        "broken,ja,,\n"
        "d@example.com,fr,,\n"
        "e@example.com,ja,存在しない,\n"
        "c@example.com,ja,,\n"
    )
    refused = client.post(
        "/api/subscribers/import", content=bad.encode(), headers={**senior, "Accept-Language": "en"}
    )
    assert refused.status_code == 422
    lines = [d["line"] for d in refused.json()["error"]["details"]]
    assert lines == [3, 4, 5, 6]
    assert "Nothing was changed" in refused.json()["error"]["message"]
    assert [r[0] for r in subscriber_rows(sessions)] == ["a@example.com", "b@example.com"]
    exported = client.get("/api/subscribers/export", headers=senior)
    assert exported.status_code == 200
    assert exported.text.splitlines() == [
        "email,locale,components,status",
        "a@example.com,ja,ログイン,active",
        "b@example.com,en,,active",
    ]


def _subscribe(client: TestClient, email: str, lang: str = "ja") -> Response:
    return client.post(
        "/subscribe",
        data={"csrf_token": csrf(client, lang), "email": email, "locale": lang},
        headers={"Accept-Language": lang},
    )


def test_subscribe_requests_are_limited_per_client_address_and_hour(
    web_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    """Counted in the database: two app instances (two processes' worth) share one limit."""
    limited = web_settings.model_copy(update={"subscribe_rate_per_hour": 2})
    first_app, second_app = make_app(limited), make_app(limited)
    one = TestClient(first_app, client=("198.51.100.7", 40001))
    same_address_elsewhere = TestClient(second_app, client=("198.51.100.7", 40002))
    other = TestClient(first_app, client=("203.0.113.9", 40003))

    assert _subscribe(one, "not-an-address").status_code == 422  # refused: does not count
    assert _subscribe(one, "a@example.com").status_code == 200
    assert _subscribe(same_address_elsewhere, "b@example.com").status_code == 200
    refused = _subscribe(one, "c@example.com")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "3600"
    shown = refused.text
    assert "しばらくしてから再度お試しください" in shown
    assert "お使いのネットワークから多くの配信登録のお申し込みがありました" in shown
    assert 'href="/"' in shown  # the status page needs no subscription
    english = _subscribe(same_address_elsewhere, "d@example.com", lang="en")
    assert english.status_code == 429
    assert "Please try again later" in english.text
    assert _subscribe(other, "e@example.com").status_code == 200  # another address

    assert [row[0] for row in subscriber_rows(sessions)] == [
        "a@example.com",
        "b@example.com",
        "e@example.com",
    ]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 3
        stored = session.scalars(select(models.SubscribeRequest.client)).all()
    assert len(stored) == 3 and not any("198.51.100.7" in c or "203.0.113" in c for c in stored)
    for app in (first_app, second_app):
        app.state.engine.dispose()


def test_requests_older_than_an_hour_no_longer_count_and_are_deleted(
    web_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    limited = web_settings.model_copy(update={"subscribe_rate_per_hour": 1})
    app = make_app(limited)
    client = TestClient(app, client=("198.51.100.7", 40001))
    key = ratelimit.client_key(limited, "198.51.100.7")
    with sessions() as session:
        earlier = utcnow() - dt.timedelta(minutes=61)
        ratelimit.check_and_count(session, limited, key, earlier)
        session.commit()
    assert _subscribe(client, "a@example.com").status_code == 200
    with sessions() as session:
        times = session.scalars(select(models.SubscribeRequest.created_at)).all()
    assert len(times) == 1 and times[0] > utcnow() - dt.timedelta(minutes=5)  # old row gone
    assert _subscribe(client, "b@example.com").status_code == 429
    unlimited = make_app(limited.model_copy(update={"subscribe_rate_per_hour": 0}))
    free = TestClient(unlimited, client=("198.51.100.7", 40001))
    assert _subscribe(free, "b@example.com").status_code == 200  # 0 turns the limit off
    for each in (app, unlimited):
        each.state.engine.dispose()


def test_a_webhook_inside_the_network_is_refused_in_the_users_language(
    client: TestClient, staff: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    senior = {"Authorization": f"Bearer {staff['senior']}"}
    body = {"kind": "webhook", "url": "http://10.0.0.5/hook"}
    ja = client.post("/api/subscribers", json=body, headers=senior)
    assert ja.status_code == 422
    assert "社内・ローカルのネットワーク" in ja.json()["error"]["message"]
    assert "10.0.0.5" in ja.json()["error"]["message"]
    en = client.post("/api/subscribers", json=body, headers={**senior, "Accept-Language": "en"})
    assert en.status_code == 422
    assert en.json()["error"]["message"].startswith(
        "The webhook URL leads to an address inside a private or local network (10.0.0.5)."
    )
    metadata = {"kind": "webhook", "url": "http://169.254.169.254/latest/meta-data/"}
    assert client.post("/api/subscribers", json=metadata, headers=senior).status_code == 422
    assert subscriber_rows(sessions) == []
