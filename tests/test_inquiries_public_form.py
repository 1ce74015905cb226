"""The public inquiry form ``/inquiry`` on real SQLite and PostgreSQL (R18).

No sign-in, no CSRF token; a honeypot and a per-client hourly limit counted in
the database instead. An accepted post shows the reference and what happens
next, in Japanese or English; a refused one shows the form again and stores
nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from anshin.app import create_app
from anshin.config import Settings
from anshin.db import utcnow
from anshin.inquiries import limits
from anshin.inquiries.models import Inquiry
from anshin.notify import ratelimit
from anshin.notify.models import Delivery, OutboxMessage
from anshin.ratelimit import SubscribeRequest
from anshin.timefmt import format_local


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app, client=("198.51.100.7", 40001)) as test_client:
        yield test_client
    app.state.engine.dispose()


def post(client: TestClient, lang: str = "ja", **fields: Any) -> Any:
    data = {
        "text": "ログインできません。エラー E-401 が出ます",
        "email": "taro@example.com",
        "name": "山田 太郎",
        "organisation": "株式会社サンプル",
        "phone": "03-1234-5678",
        "locale": lang,
        "keep_informed": "1",
        "homepage": "",
    }
    data.update(fields)
    return client.post("/inquiry", data=data, headers={"Accept-Language": lang})


def stored(sessions: sessionmaker[Session]) -> list[Inquiry]:
    with sessions() as session:
        rows = session.scalars(select(Inquiry).order_by(Inquiry.id)).all()
        session.expunge_all()
        return list(rows)


def test_the_form_is_served_in_japanese_and_english(client: TestClient) -> None:
    ja = client.get("/inquiry", headers={"Accept-Language": "ja"})
    assert ja.status_code == 200
    assert "<h1>お問い合わせ</h1>" in ja.text
    assert 'name="homepage"' in ja.text and 'tabindex="-1"' in ja.text
    assert "csrf_token" not in ja.text
    en = client.get("/inquiry?lang=en")
    assert "<h1>Contact support</h1>" in en.text
    assert 'action="/inquiry?lang=en"' in en.text


def test_a_post_is_stored_acknowledged_and_thanked_with_the_reference(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings
) -> None:
    answer = post(client)
    assert answer.status_code == 200, answer.text
    (inquiry,) = stored(sessions)
    assert inquiry.channel == "form"
    assert inquiry.original_text == "ログインできません。エラー E-401 が出ます"
    assert (inquiry.customer_org, inquiry.customer_phone) == ("株式会社サンプル", "03-1234-5678")
    assert inquiry.keep_informed is True
    assert inquiry.contact_id is not None
    assert f'<p class="reference" id="reference">{inquiry.reference}</p>' in answer.text
    assert "taro@example.com" in answer.text
    due = inquiry.first_response_due_at
    assert due is not None
    assert format_local(due, settings.timezone, "ja") in answer.text
    assert "お問い合わせを受け付けました" in answer.text
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 1


def test_english_thanks_and_english_acknowledgement(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    answer = post(client, "en", text="I cannot sign in", keep_informed="")
    assert answer.status_code == 200
    assert "We have received your inquiry" in answer.text
    assert "What happens next" in answer.text
    assert "each update on it" not in answer.text  # did not ask to be kept informed
    (inquiry,) = stored(sessions)
    assert (inquiry.locale, inquiry.keep_informed) == ("en", False)
    with sessions() as session:
        message = session.scalars(select(OutboxMessage)).one()
        assert list(message.texts) == ["en"]
        assert message.texts["en"]["subject"].endswith(f"({inquiry.reference})")


@pytest.mark.parametrize(
    ("fields", "status", "ja", "en"),
    [
        ({"text": "  "}, 422, "本文が空です", "the text is empty"),
        ({"email": ""}, 422, "メールアドレスを入力してください", "Enter your email address."),
        ({"email": "nope"}, 422, "メールアドレスの形式", "not a valid email address"),
        ({"text": "x" * 50_001}, 422, "50000 文字以内", "at most 50000 characters"),
        ({"name": "n" * 201}, 422, "200 文字以内", "at most 200 characters"),
        ({"locale": "fr"}, 422, "ja または en", "ja or en"),
    ],
)
def test_a_refused_post_shows_the_form_again_and_stores_nothing(
    client: TestClient,
    sessions: sessionmaker[Session],
    fields: dict[str, str],
    status: int,
    ja: str,
    en: str,
) -> None:
    for lang, words in (("ja", ja), ("en", en)):
        answer = post(client, lang, **fields)
        assert answer.status_code == status
        assert words in answer.text, (lang, answer.text[:2000])
        assert 'aria-invalid="true"' in answer.text or fields.get("locale")
        if "text" not in fields:
            assert "ログインできません" in answer.text  # what was typed is kept
    assert stored(sessions) == []
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(SubscribeRequest)) == 0


def test_the_honeypot_answers_like_a_person_and_stores_nothing(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    answer = post(client, homepage="http://spam.example/")
    assert answer.status_code == 200
    assert "お問い合わせを受け付けました" in answer.text
    assert 'class="reference"' not in answer.text
    assert stored(sessions) == []
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert session.scalar(select(func.count()).select_from(SubscribeRequest)) == 0


def test_posts_are_limited_per_client_and_hour_across_app_instances(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    limited = settings.model_copy(update={"inquiry_rate_per_hour": 2, "subscribe_rate_per_hour": 1})
    first, second = create_app(limited), create_app(limited)
    one = TestClient(first, client=("198.51.100.7", 40001))
    same_address_elsewhere = TestClient(second, client=("198.51.100.7", 40002))
    other = TestClient(first, client=("203.0.113.9", 40003))
    assert post(one, text="").status_code == 422  # refused: does not count
    assert post(one).status_code == 200
    assert post(same_address_elsewhere).status_code == 200
    refused = post(one)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "3600"
    assert "多くのお問い合わせが送られています" in refused.text
    english = post(same_address_elsewhere, "en")
    assert english.status_code == 429
    assert "Many inquiries have come from your network" in english.text
    assert post(other).status_code == 200
    assert len(stored(sessions)) == 3
    # The form counts under keys of its own: the subscribe form's limit is untouched.
    with sessions() as session:
        key = ratelimit.client_key(limited, "198.51.100.7")
        ratelimit.check_and_count(session, limited, key, utcnow())
        session.commit()
    for app in (first, second):
        app.state.engine.dispose()


def test_old_posts_stop_counting_and_zero_turns_the_limit_off(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    limited = settings.model_copy(update={"inquiry_rate_per_hour": 1})
    key = limits.form_client(limited, "198.51.100.7")
    with sessions() as session:
        limits.check_and_count(session, limited, key, utcnow() - dt.timedelta(minutes=61))
        session.commit()
    app = create_app(limited)
    client = TestClient(app, client=("198.51.100.7", 40001))
    assert post(client).status_code == 200
    assert post(client).status_code == 429
    free_app = create_app(limited.model_copy(update={"inquiry_rate_per_hour": 0}))
    free = TestClient(free_app, client=("198.51.100.7", 40001))
    assert post(free).status_code == 200
    for each in (app, free_app):
        each.state.engine.dispose()


def test_the_status_page_links_to_the_form(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert 'href="/inquiry"' in page.text
    english = client.get("/en/")
    assert 'href="/inquiry?lang=en"' in english.text
