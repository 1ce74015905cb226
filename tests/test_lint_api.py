"""``POST /api/lint``, mounted into a bare FastAPI app as the main app will mount it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from anshin.comms.lint_api import TEXT_MAX, avoid_expressions, router

GOOD = (
    "本日14:05頃より、ログインできない障害が発生しております。"
    "ご不便をおかけし申し訳ございません。次回は15:30までにご連絡いたします。"
)


@pytest.fixture()
def app() -> FastAPI:
    application = FastAPI()
    application.include_router(router)
    return application


@pytest.fixture()
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


def test_clean_text(client: TestClient) -> None:
    response = client.post("/api/lint", json={"text": GOOD, "kind": "update", "locale": "ja"})
    assert response.status_code == 200
    assert response.json() == {"findings": [], "has_errors": False}


def test_findings_with_offsets_into_the_submitted_text(client: TestClient) -> None:
    text = "ＤＮＳの問題で、おそらく15時に復旧します。"
    response = client.post("/api/lint", json={"text": text, "kind": "report_notice"})
    assert response.status_code == 200
    body = response.json()
    assert body["has_errors"] is True
    underlined = {f["rule"]: text[f["start"] : f["end"]] for f in body["findings"]}
    assert underlined == {"jargon": "ＤＮＳ", "speculation": "おそらく"}
    assert set(body["findings"][0]) == {"rule", "severity", "start", "end", "message", "suggestion"}


def test_locale_defaults_to_japanese_and_english_is_answered_in_english(client: TestClient) -> None:
    ja = client.post("/api/lint", json={"text": "たぶん直ります。", "kind": "report_notice"})
    assert "推測" in ja.json()["findings"][0]["message"]
    en = client.post(
        "/api/lint",
        json={"text": "It will probably work.", "kind": "report_notice", "locale": "en"},
    )
    assert "is a guess" in en.json()["findings"][0]["message"]


def test_facts_enable_the_unconfirmed_as_fact_rule(client: TestClient) -> None:
    text = "15時に復旧します。"
    plain = client.post("/api/lint", json={"text": text, "kind": "report_notice"})
    assert plain.json()["findings"] == []
    with_facts = client.post(
        "/api/lint",
        json={"text": text, "kind": "report_notice", "facts": {"recovery_confirmed": False}},
    )
    assert [f["rule"] for f in with_facts.json()["findings"]] == ["unconfirmed-as-fact"]


@pytest.mark.parametrize(
    ("payload", "complaint"),
    [
        ({"text": "x", "kind": "tweet"}, "unknown kind 'tweet'"),
        ({"text": "x", "kind": "update", "locale": "fr"}, "unknown locale 'fr'"),
        ({"text": "x" * (TEXT_MAX + 1), "kind": "update"}, "20000"),
        ({"kind": "update"}, "Field required"),
    ],
)
def test_invalid_requests_are_422_with_a_clear_message(
    client: TestClient, payload: dict[str, object], complaint: str
) -> None:
    response = client.post("/api/lint", json=payload)
    assert response.status_code == 422
    assert complaint in response.text


def test_text_at_the_limit_is_accepted(client: TestClient) -> None:
    response = client.post("/api/lint", json={"text": "あ" * TEXT_MAX, "kind": "report_notice"})
    assert response.status_code == 200


def test_knowledge_base_expressions_come_through_the_dependency(app: FastAPI) -> None:
    def from_knowledge_base() -> Sequence[tuple[str, str]]:
        return [("対応中です", "現在、決済画面の復旧作業を行っております")]

    app.dependency_overrides[avoid_expressions] = from_knowledge_base
    response = TestClient(app).post(
        "/api/lint", json={"text": "引き続き対応中です。", "kind": "report_notice"}
    )
    findings = response.json()["findings"]
    assert [f["rule"] for f in findings] == ["avoid-expression"]
    assert "決済画面" in findings[0]["suggestion"]
