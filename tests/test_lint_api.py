"""``POST /api/lint`` through the real app with an operator's API token (the route needs a
signed-in operator, issue 7), and what a malformed word list in ``ANSHIN_LINT_EXTRA_DIR`` does."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from anshin.app import create_app
from anshin.comms.lint import EXTRA_DIR_ENV, LexiconError
from anshin.comms.lint_api import TEXT_MAX, avoid_expressions
from anshin.config import Settings
from anshin.team import service as team_service
from test_console_support import client_for, login, seed, text_of

GOOD = (
    "本日14:05頃より、ログインできない障害が発生しております。"
    "ご不便をおかけし申し訳ございません。次回は15:30までにご連絡いたします。"
)


@pytest.fixture()
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture()
def token(sessions: sessionmaker[Session]) -> str:
    """An operator's API token: the least a caller of the message check needs."""
    with sessions() as session:
        user = team_service.create_user(
            session, email="op@example.com", name="op", role="operator", password="long enough"
        )
        raw, _ = team_service.create_token(session, user=user, name="editor", actor="test")
        session.commit()
    return raw


@pytest.fixture()
def client(app: FastAPI, token: str) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


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
        ({"text": "x", "kind": "tweet"}, "Unknown template kind: tweet. Choose one of: first"),
        ({"text": "x", "kind": "update", "locale": "fr"}, "Unknown language: fr. Choose one of"),
        ({"text": "x" * (TEXT_MAX + 1), "kind": "update"}, "Too long."),
        ({"kind": "update"}, "This field is required."),
    ],
)
def test_invalid_requests_are_422_with_a_clear_message(
    client: TestClient, payload: dict[str, object], complaint: str
) -> None:
    response = client.post("/api/lint", json=payload, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert complaint in response.text


def test_text_at_the_limit_is_accepted(client: TestClient) -> None:
    response = client.post("/api/lint", json={"text": "あ" * TEXT_MAX, "kind": "report_notice"})
    assert response.status_code == 200


def test_knowledge_base_expressions_come_through_the_dependency(
    app: FastAPI, client: TestClient
) -> None:
    def from_knowledge_base() -> Sequence[tuple[str, str]]:
        return [("対応中です", "現在、決済画面の復旧作業を行っております")]

    app.dependency_overrides[avoid_expressions] = from_knowledge_base
    response = client.post(
        "/api/lint", json={"text": "引き続き対応中です。", "kind": "report_notice"}
    )
    findings = response.json()["findings"]
    assert [f["rule"] for f in findings] == ["avoid-expression"]
    assert "決済画面" in findings[0]["suggestion"]


# Word-list files in ANSHIN_LINT_EXTRA_DIR that are malformed, each with what the
# error must say: the file, and the entry or key at fault (shared with the CLI tests).
MALFORMED: list[tuple[str, bytes, tuple[str, ...]]] = [
    (
        "unknown-key.toml",
        'locale = "ja"\n[[jargon]]\nwords = ["テナント"]\nalternativ = "x"\n'.encode(),
        ("unknown-key.toml [[jargon]] #1", "alternativ"),
    ),
    (
        "markers.toml",
        'locale = "ja"\nmarkers = ["ご不自由"]\n'.encode(),
        ("markers.toml", "'markers' must be a table"),
    ),
    (
        "limits.toml",
        b'locale = "en"\n[limits]\nlong_sentence_info = true\n',
        ("limits.toml", "long_sentence_info"),
    ),
    (
        "pattern.toml",
        'locale = "ja"\n[[speculation]]\npattern = "(と思います"\n'.encode(),
        ("pattern.toml [[speculation]] #1", "invalid pattern"),
    ),
    ("syntax.toml", b'locale = "ja"\n[[jargon]\n', ("syntax.toml",)),
    ("sjis.toml", 'locale = "ja"\n# 障害\n'.encode("shift_jis"), ("sjis.toml", "UTF-8")),
    ("no-locale.toml", b'[[jargon]]\nwords = ["x"]\n', ("no-locale.toml", "'locale'")),
]


@pytest.mark.parametrize(("name", "content", "named"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_extra_file_stops_the_app_from_starting(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    content: bytes,
    named: tuple[str, ...],
) -> None:
    extra = tmp_path / "lint-extra"
    extra.mkdir()
    (extra / name).write_bytes(content)
    monkeypatch.setenv(EXTRA_DIR_ENV, str(extra))
    with pytest.raises(LexiconError) as raised:
        create_app(settings)
    for words in named:
        assert words in str(raised.value)


def _write(path: Path, text: str) -> None:
    """Rewrite a data file so the lexicon cache (size + mtime) surely sees the change."""
    path.write_text(text, encoding="utf-8")
    stamp = time.time() + 1
    os.utime(path, (stamp, stamp))


def test_a_file_broken_while_running_is_503_naming_it_then_fixed_is_200(
    settings: Settings, token: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = tmp_path / "lint-extra"
    extra.mkdir()
    data = extra / "team.toml"
    _write(data, 'locale = "ja"\n[[jargon]]\nwords = ["テナント"]\n')
    monkeypatch.setenv(EXTRA_DIR_ENV, str(extra))
    client = TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"})
    payload = {"text": "テナントの設定を見直しています。", "kind": "report_notice"}
    first = client.post("/api/lint", json=payload)
    assert first.status_code == 200
    assert [f["rule"] for f in first.json()["findings"]] == ["jargon"]  # the extra file is used

    _write(data, 'locale = "ja"\n[[jargon]]\nword = ["テナント"]\n')
    broken = client.post("/api/lint", json=payload)
    assert broken.status_code == 503
    error = broken.json()["error"]
    assert error["code"] == "WordListsUnavailable"
    assert error["message"].startswith("伝え方チェックの語彙ファイルを読み込めません: ")
    assert "team.toml [[jargon]] #1" in error["message"] and "'word'" in error["message"]
    english = client.post("/api/lint", json=payload, headers={"Accept-Language": "en"})
    assert english.status_code == 503
    assert english.json()["error"]["message"].startswith(
        "The message check could not load its word lists: "
    )

    _write(data, 'locale = "ja"\n[[jargon]]\nwords = ["テナント", "ワークスペース"]\n')
    fixed = client.post("/api/lint", json=payload)
    assert fixed.status_code == 200 and fixed.json()["findings"]


def test_a_console_page_that_checks_a_message_answers_503_too(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The template editor's preview runs the check: a page in the user's language, not 500."""
    extra = tmp_path / "lint-extra"
    extra.mkdir()
    monkeypatch.setenv(EXTRA_DIR_ENV, str(extra))
    seed(settings)
    client = client_for(settings)
    login(client, "operator")
    page = "/console/templates/first_notice/ja/status_page"
    assert client.get(page).status_code == 200
    _write(extra / "broken.toml", 'locale = "ja"\nmarkers = "ご不自由"\n')
    response = client.get(page)
    assert response.status_code == 503
    shown = text_of(response.text)
    assert "伝え方チェックの語彙ファイルを読み込めません" in shown
    assert "broken.toml" in shown and "'markers' must be a table" in shown


def test_findings_come_in_the_order_of_the_text(client: TestClient) -> None:
    text = "早急に対応します。おそらくDNSの問題です。委託先のサーバー不具合によるものです。"
    response = client.post("/api/lint", json={"text": text, "kind": "update"})
    starts = [f["start"] for f in response.json()["findings"]]
    assert len(starts) >= 4
    assert starts == sorted(starts)


def test_anonymous_and_wrong_credentials_are_refused_before_the_check(app: FastAPI) -> None:
    anonymous = TestClient(app)
    payload = {"text": GOOD, "kind": "update"}
    response = anonymous.post("/api/lint", json=payload, headers={"Accept-Language": "en"})
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Sign in to continue."
    wrong = anonymous.post("/api/lint", json=payload, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_a_signed_in_console_session_needs_its_csrf_token(settings: Settings) -> None:
    seed(settings)
    client = client_for(settings)
    csrf = login(client, "operator")
    payload = {"text": GOOD, "kind": "update"}
    assert client.post("/api/lint", json=payload).status_code == 403
    response = client.post("/api/lint", json=payload, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200
    assert response.json() == {"findings": [], "has_errors": False}


@pytest.mark.parametrize(
    "extra", [{"txt": "typo"}, {"facts": {"recovery_confirmed": True, "eta": "soon"}}]
)
def test_unknown_fields_are_422(client: TestClient, extra: dict[str, object]) -> None:
    response = client.post("/api/lint", json={"text": GOOD, "kind": "update", **extra})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["message"] == "不明な項目です。"
