"""The public FAQ on the status page and the inquiry form's matching answers (R34).

Real app, real SQLite and PostgreSQL. Published, public ``faq`` articles in
the page's language are shown and searched; drafts, internal articles, other
kinds and the other language never appear — in the page, a search, or the
type-ahead JSON — even when the search's internals return them. Searches
count against a per-client hourly limit of their own; bodies render with raw
HTML escaped; the status page links the FAQ and its fast path is untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from anshin.app import create_app, create_asgi
from anshin.config import Settings
from anshin.knowledge import rules, search
from anshin.knowledge import service as kb
from anshin.ratelimit import SubscribeRequest
from anshin.statuspage import faq

CLIENT = ("198.51.100.9", 40001)
SHOWN_JA = {
    "key": "faq-login-ja",
    "kind": "faq",
    "title": "ログインできないときは",
    "body": "ログインできない場合は、**パスワードの再設定**をお試しください。",
    "state": "published",
    "public": True,
    "locale": "ja",
}
SHOWN_EN = {
    "key": "faq-login-en",
    "kind": "faq",
    "title": "I cannot sign in",
    "body": "If you cannot sign in, reset your password.",
    "state": "published",
    "public": True,
    "locale": "en",
}
# Every one of these shares words with the shown ones and must never be shown.
SECRETS: list[dict[str, Any]] = [
    SHOWN_JA | {"key": "secret-draft", "title": "下書きログイン手順", "state": "draft"},
    SHOWN_JA | {"key": "secret-internal", "title": "社内ログイン裏手順", "public": False},
    SHOWN_JA | {"key": "secret-script", "kind": "script", "title": "電話台本ログイン"},
    SHOWN_JA | {"key": "secret-explain", "kind": "explanation", "title": "説明ログイン障害"},
    SHOWN_JA
    | {
        "key": "secret-avoid",
        "kind": "avoid_expression",
        "title": "ログインは仕様です",
        "alternative": "ログインの現在の動作をご案内します",
    },
    SHOWN_EN | {"key": "secret-en-draft", "title": "Draft sign in steps", "state": "draft"},
]
SECRET_WORDS = (
    "secret-",
    "下書き",
    "社内ログイン",
    "電話台本",
    "説明ログイン",
    "仕様です",
    "Draft",
)


def save(sessions: sessionmaker[Session], values: dict[str, Any]) -> None:
    with sessions() as session:
        kb.save(session, values, actor="lead@example.com")
        session.commit()


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> None:
    for values in (SHOWN_JA, SHOWN_EN, *SECRETS):
        save(sessions, values)


def client_for(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app, client=CLIENT, raise_server_exceptions=False) as test_client:
        yield test_client
    app.state.engine.dispose()


@pytest.fixture
def client(settings: Settings, world: None) -> Iterator[TestClient]:
    yield from client_for(settings)


def leaks(text: str, query: str = "") -> list[str]:
    """Secret words in an answer, leaving out the query the page repeats back."""
    if query:
        text = text.replace(str(escape(query)), "")
    return [word for word in SECRET_WORDS if word in text]


def suggest(client: TestClient, q: str, lang: str = "ja") -> Any:
    return client.get("/faq/suggest", params={"q": q, "lang": lang})


def counted(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(SubscribeRequest)) or 0)


def test_the_page_lists_public_answers_in_the_readers_language(client: TestClient) -> None:
    ja = client.get("/faq", headers={"Accept-Language": "ja"})
    assert ja.status_code == 200
    assert "よくあるご質問" in ja.text and 'id="faq-faq-login-ja"' in ja.text
    assert "<strong>パスワードの再設定</strong>" in ja.text  # Markdown rendered
    assert "I cannot sign in" not in ja.text and leaks(ja.text) == []
    assert ja.headers["cache-control"] == "public, max-age=60"
    assert ja.headers["vary"] == "Accept-Language, Cookie"
    assert "script-src 'self'" in ja.headers["content-security-policy"]
    en = client.get("/faq?lang=en")
    assert "Frequently asked questions" in en.text and "I cannot sign in" in en.text
    assert "ログインできないときは" not in en.text and leaks(en.text) == []
    assert en.headers["cache-control"] == "private, max-age=60"  # it sets the language cookie


def test_a_search_finds_only_public_answers_and_is_never_cached(client: TestClient) -> None:
    found = client.get("/faq", params={"q": "ログイン", "lang": "ja"})
    assert found.status_code == 200 and found.headers["cache-control"] == "no-store"
    assert 'id="faq-faq-login-ja"' in found.text and "1" in found.text
    assert leaks(found.text) == []
    none = client.get("/faq", params={"q": "請求書", "lang": "ja"})
    assert "「請求書」に当てはまる回答は見つかりませんでした。" in none.text
    en = client.get("/faq", params={"q": "sign in", "lang": "en"})
    assert "I cannot sign in" in en.text and leaks(en.text) == []


def test_suggestions_are_the_public_matches_as_json(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    answer = suggest(client, "ログインできない")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    (only,) = answer.json()["results"]
    assert only == {
        "key": "faq-login-ja",
        "title": "ログインできないときは",
        "snippet": "ログインできない場合は、パスワードの再設定をお試しください。",
        "url": "/faq#faq-faq-login-ja",
    }
    english = suggest(client, "cannot sign in", "en").json()["results"]
    assert [r["key"] for r in english] == ["faq-login-en"]
    assert english[0]["url"] == "/faq?lang=en#faq-faq-login-en"
    before = counted(sessions)
    assert suggest(client, "ロ").json() == {"results": []}  # too short to ask: not counted
    assert suggest(client, "  ").json() == {"results": []}
    assert counted(sessions) == before


def test_no_query_ever_shows_a_draft_an_internal_article_or_another_kind(
    client: TestClient,
) -> None:
    queries = [str(v["title"]) for v in SECRETS] + [str(v["body"]) for v in SECRETS]
    queries += ["ログイン", "仕様", "手順", "secret", "draft", "sign in", "電話", "社内"]
    for q in queries:
        q = q[: faq.SUGGEST_MAX]
        for lang in ("ja", "en"):
            page = client.get("/faq", params={"q": q, "lang": lang})
            assert page.status_code == 200, (q, page.text)
            assert leaks(page.text, q) == [], (q, lang)
            hints = suggest(client, q, lang)
            assert hints.status_code == 200 and leaks(hints.text) == [], (q, lang)


def test_the_second_filter_holds_when_the_search_returns_everything(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the index returns (the search's internals get replaced), only R34's articles
    come out: the results are looked up again through the public filter."""
    real = search.search

    def everything(session: Session, query: rules.Query) -> list[search.Hit]:
        wide = rules.Query(text=query.text, kinds=(), locale=None, limit=50)
        return real(session, wide)

    monkeypatch.setattr(faq.search, "search", everything)
    page = client.get("/faq", params={"q": "ログイン", "lang": "ja"})
    assert 'id="faq-faq-login-ja"' in page.text and leaks(page.text) == []
    assert [r["key"] for r in suggest(client, "ログイン").json()["results"]] == ["faq-login-ja"]


def test_unpublishing_takes_an_answer_down_at_once(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    assert "ログインできないときは" in client.get("/faq?lang=ja").text
    save(sessions, SHOWN_JA | {"public": False})
    assert "ログインできないときは" not in client.get("/faq?lang=ja").text
    assert suggest(client, "ログインできない").json() == {"results": []}
    save(sessions, SHOWN_JA | {"public": True, "state": "draft"})
    assert "ログインできないときは" not in client.get("/faq", params={"q": "ログイン"}).text


def test_bodies_are_rendered_safely(client: TestClient, sessions: sessionmaker[Session]) -> None:
    save(
        sessions,
        SHOWN_JA
        | {
            "key": "faq-markup",
            "title": "<img src=x onerror=alert(1)>",
            "body": "<script>alert(1)</script> [押す](javascript:alert(1)) [手順](https://example.com/x)",
        },
    )
    page = client.get("/faq?lang=ja").text
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'href="javascript' not in page and "[押す](javascript:alert(1))" in page  # as text
    assert '<a href="https://example.com/x">手順</a>' in page
    answer = suggest(client, "手順")
    assert answer.headers["content-type"] == "application/json"  # never read as a page
    (hint,) = [r for r in answer.json()["results"] if r["key"] == "faq-markup"]
    # Plain text (the script sets it as text, never as markup): the Markdown link is gone.
    assert hint["snippet"].startswith("<script>alert(1)</script> [押す](javascript:alert(1)) 手順")


@pytest.mark.parametrize(
    ("q", "status"),
    [
        ("あ" * (faq.SUGGEST_MAX + 1), 422),
        ("a\x00b", 422),
        ('"ログイン" OR NEAR(', 200),
        ("*", 200),
        ("ログイン'; DROP TABLE kb_articles; --", 200),
    ],
)
def test_bad_queries_get_a_clear_answer(client: TestClient, q: str, status: int) -> None:
    answer = client.get("/faq/suggest", params={"q": q}, headers={"Accept-Language": "ja"})
    assert answer.status_code == status
    if status == 422:
        error = answer.json()["error"]
        assert error["field"] == "q" and re.search("[ぁ-んァ-ン]", error["message"])
    page = client.get("/faq", params={"q": q}, headers={"Accept-Language": "en"})
    assert page.status_code == status
    if status == 422:
        assert 'class="error" role="alert"' in page.text and 'aria-invalid="true"' in page.text
    if len(q) > faq.SUGGEST_MAX:
        assert "Type at most 100 characters to search." in page.text
    assert leaks(page.text, q) == []


def test_searches_have_an_hourly_limit_per_client_of_their_own(
    settings: Settings, world: None, sessions: sessionmaker[Session]
) -> None:
    limited = settings.model_copy(update={"faq_search_rate_per_hour": 3})
    for client in client_for(limited):
        for _ in range(2):
            assert suggest(client, "ログイン").status_code == 200
        assert client.get("/faq", params={"q": "ログイン"}).status_code == 200
        refused = suggest(client, "ログイン")
        assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
        assert "多くの検索" in refused.json()["error"]["message"]
        page = client.get("/faq", params={"q": "ログイン", "lang": "en"})
        assert page.status_code == 429 and "Many searches" in page.text
        # The list itself, and the inquiry form, are not searches: still served.
        assert client.get("/faq").status_code == 200
        assert client.get("/inquiry").status_code == 200
    assert counted(sessions) == 3


def test_the_status_page_links_the_faq_and_its_fast_path_is_untouched(
    settings: Settings, world: None
) -> None:
    asgi = create_asgi(settings)
    with TestClient(asgi) as fast:
        ja = fast.get("/")
        en = fast.get("/en/")
        assert ja.status_code == 200 and 'href="/faq"' in ja.text
        assert en.status_code == 200 and 'href="/faq?lang=en"' in en.text
        assert fast.get("/faq").status_code == 200  # the app behind the fast path answers it


def test_the_inquiry_form_carries_the_type_ahead(client: TestClient) -> None:
    form = client.get("/inquiry").text
    assert '<section id="faq-suggest"' in form and " hidden " in form
    assert '<script src="/static/faq-suggest.js" defer></script>' in form
    assert 'href="/faq"' in form
    script = client.get("/static/faq-suggest.js")
    assert script.status_code == 200
    assert f"var most = {faq.SUGGEST_MAX};" in script.text  # the server's limit
    assert "innerHTML" not in script.text  # answers go in as text, never markup
    assert "/faq/suggest?lang=" in script.text


def test_the_script_is_the_one_in_the_package() -> None:
    static = Path(faq.__file__).resolve().parent.parent / "web" / "static" / "faq-suggest.js"
    assert static.is_file()


# The hidden and shown titles' characters, their words, and search syntax a user might type.
QUERY_PIECES = [
    *sorted({c for v in (*SECRETS, SHOWN_JA, SHOWN_EN) for c in str(v["title"]) + " "}),
    *("ログイン", "手順", "Draft", "sign", "in", "*", '"', "OR", "NEAR(", "%", "_"),
]


@hyp_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    words=st.lists(
        st.sampled_from(QUERY_PIECES),
        min_size=1,
        max_size=12,
    ),
    locale=st.sampled_from(["ja", "en"]),
)
def test_any_search_returns_public_answers_only(
    session: Session, world: None, words: list[str], locale: str
) -> None:
    """Queries built from the hidden articles' own words and search syntax: the service
    behind both routes returns only R34's articles, in the asked language."""
    text = "".join(words).strip()
    if not text:
        return
    allowed = {"ja": {"faq-login-ja"}, "en": {"faq-login-en"}}[locale]
    found = faq.find(session, text[: faq.SUGGEST_MAX], locale, faq.PAGE_LIMIT)
    assert {answer.key for answer in found} <= allowed, text
