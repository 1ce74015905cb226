"""``POST /api/inquiries`` and ``GET /api/inquiries/{ref}`` on real SQLite and PostgreSQL (R18).

Each refusal is checked for its status, its message in the caller's language,
and a database with nothing stored.
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
from anshin.events import Event
from anshin.inquiries.models import Inquiry, InquiryMessage
from anshin.notify.models import OutboxMessage
from anshin.team import service as team_service


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


@pytest.fixture
def token(sessions: sessionmaker[Session]) -> str:
    """An operator's token: the lowest console role may post inquiries."""
    with sessions() as session:
        user = team_service.create_user(
            session,
            email="widget@example.com",
            name="Chat widget",
            role="operator",
            password="long enough",
        )
        raw, _ = team_service.create_token(session, user=user, name="widget", actor="test")
        session.commit()
    return raw


def bearer(token: str, lang: str = "ja") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": lang}


def counts(sessions: sessionmaker[Session]) -> dict[str, Any]:
    with sessions() as session:
        return {
            "inquiries": session.scalar(select(func.count()).select_from(Inquiry)),
            "messages": session.scalar(select(func.count()).select_from(InquiryMessage)),
            "outbox": session.scalar(select(func.count()).select_from(OutboxMessage)),
            "inquiry events": session.scalar(
                select(func.count()).select_from(Event).where(Event.entity_type == "inquiry")
            ),
        }


def test_a_chat_inquiry_is_stored_triaged_and_acknowledged(
    client: TestClient, token: str, sessions: sessionmaker[Session]
) -> None:
    body = {
        "text": "ログインできません😡 いつ直りますか",
        "customer": {
            "name": "山田 花子",
            "email": "hanako@example.com",
            "phone": "090-1234-5678",
            "organisation": "株式会社サンプル",
            "tier": "important",
        },
        "locale": "ja",
        "subject": "ログイン",
        "keep_informed": False,
        "received_at": "2026-01-05T10:00:00+09:00",
        "conversation": "conv-1",
    }
    created = client.post("/api/inquiries", json=body, headers=bearer(token))
    assert created.status_code == 201, created.text
    answer = created.json()
    assert answer["reference"].startswith("Q-2026-")
    assert answer["incident"] is None
    assert (answer["level"], answer["intent"]) == (1, "unrelated")  # no triage installed
    assert answer["acknowledged"] is True
    # Level 1, important: 15 minutes (policy.toml), given in the team's zone.
    assert answer["first_response_due_at"] == "2026-01-05T10:15:00+09:00"

    got = client.get(f"/api/inquiries/{answer['reference']}", headers=bearer(token))
    assert got.status_code == 200
    stored = got.json()
    assert stored["text"] == body["text"]
    assert stored["customer"]["organisation"] == "株式会社サンプル"
    assert stored["keep_informed"] is False
    assert stored["channel"] == "chat"
    assert [m["direction"] for m in stored["messages"]] == ["in", "out"]
    assert stored["messages"][1]["kind"] == "inquiry_ack"
    assert stored["first_responded_at"] is None
    with sessions() as session:
        first = session.scalars(select(InquiryMessage).order_by(InquiryMessage.id)).first()
        assert first is not None and first.data == {"conversation": "conv-1"}


def test_defaults_chat_channel_and_request_language(client: TestClient, token: str) -> None:
    created = client.post(
        "/api/inquiries", json={"text": "Is it down?"}, headers=bearer(token, "en")
    )
    assert created.status_code == 201
    assert created.json()["acknowledged"] is False  # no address, no chat webhook set
    got = client.get(f"/api/inquiries/{created.json()['reference']}", headers=bearer(token))
    assert (got.json()["channel"], got.json()["locale"]) == ("chat", "en")
    form = client.post(
        "/api/inquiries", json={"text": "x", "channel": "form"}, headers=bearer(token)
    )
    assert form.status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "field", "ja", "en"),
    [
        ({"text": ""}, 422, "text", "本文が空です", "the text is empty"),
        ({"text": "  \n "}, 422, "text", "本文が空です", "the text is empty"),
        ({}, 422, "text", "必須", "required"),
        ({"text": "x" * 50_001}, 422, "text", "50000", "50000"),
        (
            {"text": "x", "customer": {"tier": "gold"}},
            422,
            "customer_tier",
            "standard",
            "standard or important",
        ),
        ({"text": "x", "customer": {"tier": 3}}, 422, None, "", ""),
        ({"text": "x", "customer": {"email": "nope"}}, 422, "email", "メールアドレス", "email"),
        ({"text": "x", "channel": "phone"}, 422, "channel", "chat", "chat or form"),
        ({"text": "x", "locale": "fr"}, 422, "locale", "ja", "ja or en"),
        ({"text": "x", "surprise": 1}, 422, None, "", ""),
        ({"text": "a\x00b"}, 422, None, "NUL", "NUL"),
        ({"text": "x", "customer": {"name": "n" * 201}}, 422, "customer_name", "200", "200"),
        ({"text": "x", "conversation": "c" * 201}, 422, "conversation", "200", "200"),
        ({"text": "x", "received_at": "2099-01-01T00:00:00"}, 422, None, "", ""),
        ({"text": "x", "received_at": 1700000000}, 422, None, "", ""),
    ],
)
def test_bad_input_is_refused_in_both_languages_and_stores_nothing(
    client: TestClient,
    token: str,
    sessions: sessionmaker[Session],
    body: dict[str, Any],
    status: int,
    field: str | None,
    ja: str,
    en: str,
) -> None:
    before = counts(sessions)
    for lang, words in (("ja", ja), ("en", en)):
        response = client.post("/api/inquiries", json=body, headers=bearer(token, lang))
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert words in error["message"] or words in str(error), (lang, error)
        if field is not None:
            assert error.get("field") == field or field in str(error), error
    assert counts(sessions) == before


def test_a_megabyte_of_text_is_refused_and_nothing_stored(
    client: TestClient, token: str, sessions: sessionmaker[Session]
) -> None:
    before = counts(sessions)
    huge = client.post("/api/inquiries", json={"text": "あ" * 2**20}, headers=bearer(token))
    assert huge.status_code == 413
    just_under = client.post(
        "/api/inquiries", json={"text": "x" * 1_000_000}, headers=bearer(token)
    )
    assert just_under.status_code == 422
    assert counts(sessions) == before


def test_without_a_token_nothing_is_taken(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    before = counts(sessions)
    response = client.post("/api/inquiries", json={"text": "つながらない"})
    assert response.status_code == 401
    wrong = client.post(
        "/api/inquiries", json={"text": "x"}, headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 401
    assert client.get("/api/inquiries/Q-2026-000001").status_code == 401
    assert counts(sessions) == before


def test_unknown_reference_is_a_404_in_the_callers_language(client: TestClient, token: str) -> None:
    missing = client.get("/api/inquiries/Q-1999-000001", headers=bearer(token))
    assert missing.status_code == 404
    assert "Q-1999-000001" in missing.json()["error"]["message"]
    english = client.get("/api/inquiries/Q-1999-000001", headers=bearer(token, "en"))
    assert english.json()["error"]["message"] == "No such inquiry: Q-1999-000001."


def test_received_at_without_offset_is_in_the_team_zone(client: TestClient, token: str) -> None:
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).astimezone(
        dt.timezone(dt.timedelta(hours=9))
    )
    naive = when.replace(tzinfo=None, microsecond=0).isoformat()
    created = client.post(
        "/api/inquiries", json={"text": "x", "received_at": naive}, headers=bearer(token)
    )
    got = client.get(f"/api/inquiries/{created.json()['reference']}", headers=bearer(token))
    assert got.json()["received_at"] == naive + "+09:00"
