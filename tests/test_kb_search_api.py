"""``GET /api/kb/search`` through the real app: staff only, filters, bad input (issue 9).

SQLite and PostgreSQL. The authorisation matrix (tests/test_authz_matrix.py)
and the hostile-input walk (tests/test_input_fuzz_api.py) cover the route
too; here: what an operator's tool gets back, in the user's language.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from anshin.config import Settings
from anshin.knowledge import service
from anshin.team import service as team_service
from anshin.team.models import User
from test_console_support import client_for, database, seed


@pytest.fixture
def token(settings: Settings) -> str:
    seed(settings)
    with database(settings) as session:
        user = session.scalars(select(User).where(User.role == "operator")).one()
        raw, _ = team_service.create_token(session, user=user, name="t", actor="test")
        service.save(
            session,
            {
                "key": "faq-login",
                "kind": "faq",
                "title": "ログインできない場合",
                "body": "パスワードを**再設定**してから、もう一度ログインしてください。",
                "components": ["ログイン"],
                "state": "published",
                "public": True,
            },
            actor="t",
        )
        service.save(
            session,
            {
                "key": "wa-login",
                "kind": "workaround",
                "title": "ログインの回避策",
                "body": "別のブラウザでお試しください。",
            },
            actor="t",
        )
        service.replace_synonyms(session, [["ログイン", "サインイン"]], actor="t")
        session.commit()
    return raw


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    with client_for(settings) as client:
        yield client


def bearer(token: str, lang: str = "ja") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": lang}


def test_search_answers_ranked_hits_with_marks(api: TestClient, token: str) -> None:
    answer = api.get("/api/kb/search", params={"q": "ｻｲﾝｲﾝできへん"}, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    hits = answer.json()
    assert [h["key"] for h in hits] == ["faq-login", "wa-login"]
    first = hits[0]
    assert set(first) == {"source", "key", "kind", "title", "score", "snippet", "marks", "url"}
    assert first["source"] == "article" and first["kind"] == "faq"
    assert first["url"] == "/console/kb/faq-login"
    assert "**" not in first["snippet"]  # Markdown is gone from snippets
    assert [first["snippet"][a:b] for a, b in first["marks"]] == ["ログイン"]
    assert hits[0]["score"] >= hits[1]["score"]


def test_filters_and_repeated_values(api: TestClient, token: str) -> None:
    def keys(**params: str | list[str]) -> list[str]:
        answer = api.get(
            "/api/kb/search", params={"q": "ログイン", **params}, headers=bearer(token)
        )
        assert answer.status_code == 200, answer.text
        return [h["key"] for h in answer.json()]

    assert keys(kind="workaround") == ["wa-login"]
    assert keys(kind="faq,workaround") == ["faq-login", "wa-login"]
    assert keys(kind=["faq", "script"]) == ["faq-login"]
    assert keys(state="draft") == ["wa-login"]
    assert keys(component="ログイン") == ["faq-login"]
    assert keys(locale="en") == []
    assert keys(limit="1") == ["faq-login"]
    assert keys(source="article,inquiry,incident,update") == ["faq-login", "wa-login"]
    nothing = api.get("/api/kb/search", params={"q": "*"}, headers=bearer(token))
    assert nothing.status_code == 200 and nothing.json() == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "a" * 10_000}, "検索語は200文字以内で入力してください。"),
        ({"q": "あ" * 201}, "検索語は200文字以内で入力してください。"),
        ({"q": "   "}, "検索する言葉を入力してください。"),
        ({"q": "障害", "kind": "memo"}, None),
        ({"q": "障害", "source": "tickets"}, None),
        ({"q": "障害", "limit": "51"}, None),
        ({"q": "障害", "state": "archived"}, None),
        ({"q": "障害", "locale": "fr"}, None),
        ({"q": "障\x00害"}, None),
        ({"q": "障害", "component": "a\x00b"}, None),
    ],
)
def test_bad_input_is_refused_with_a_message(
    api: TestClient, token: str, params: dict[str, str], message: str | None
) -> None:
    answer = api.get("/api/kb/search", params=params, headers=bearer(token))
    assert 400 <= answer.status_code < 500, answer.text
    error = answer.json()["error"]
    assert error["message"]
    if message is not None:
        assert error["message"] == message


def test_staff_only(api: TestClient, token: str) -> None:
    assert api.get("/api/kb/search", params={"q": "ログイン"}).status_code == 401
