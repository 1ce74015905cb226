"""The knowledge base's console: articles, the form, roles, versions, votes (R17, R32, R22).

Through the real app, with real sessions and CSRF tokens, on SQLite and
PostgreSQL. A refused form comes back with everything typed and the reason in
the reader's language, and changes nothing; markup typed into a title or a body
is shown as text.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from anshin.config import Settings
from anshin.knowledge.models import Article, ArticleVersion
from test_console_support import client_for, count, database, login, seed, text_of

BODY = (
    "ログインできない場合は、**パスワードの再設定**をお試しください。\n\n"
    "- 画面右上の「ログイン」\n- 「パスワードを忘れた方」"
)


def _form(token: str, **values: str | list[str]) -> dict[str, str | list[str]]:
    return {
        "csrf_token": token,
        "kind": "faq",
        "title": "ログインできないときは",
        "body": BODY,
        "locale": "ja",
        "state": "draft",
        **values,
    }


def _article(settings: Settings, key: str) -> Article:
    with database(settings) as session:
        found = session.scalar(select(Article).where(Article.key == key))
        assert found is not None
        return found


def _create(client: TestClient, token: str, **values: str | list[str]) -> str:
    response = client.post("/console/kb", data=_form(token, **values))
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/console/kb/")
    return location.rsplit("/", 1)[1]


def test_an_operator_writes_a_draft_and_a_senior_publishes_it(settings: Settings) -> None:
    seed(settings)
    with client_for(settings) as client:
        token = login(client, "operator")
        assert client.get("/console/kb/new").status_code == 200
        key = _create(
            client, token, key="login-help", components=["ログイン"], tags="ログイン, パスワード"
        )
        assert key == "login-help"
        page = client.get("/console/kb/login-help")
        assert page.status_code == 200
        assert "<strong>パスワードの再設定</strong>" in page.text  # Markdown rendered
        assert "<li>画面右上の「ログイン」</li>" in page.text
        assert "第1版" in text_of(page.text) and "下書き" in text_of(page.text)
        # The operator may not publish: refused with the reason, nothing lost, nothing saved.
        refused = client.post(
            "/console/kb/login-help/edit", data=_form(token, state="published", title="新しい題")
        )
        assert refused.status_code == 403
        assert "記事を公開できるのはシニア以上です" in refused.text
        assert 'value="新しい題"' in refused.text and "パスワードの再設定" in refused.text
        assert _article(settings, "login-help").version == 1
        listed = client.get("/console/kb?state=draft")
        assert "ログインできないときは" in listed.text
    with client_for(settings) as client:
        token = login(client, "senior")
        assert client.get("/console/kb/login-help/edit").status_code == 200
        saved = client.post(
            "/console/kb/login-help/edit",
            data=_form(token, state="published", version="1", tags="ログイン"),
        )
        assert saved.status_code == 303
        page = client.get("/console/kb/login-help")
        assert "公開済み" in text_of(page.text) and "第2版" in text_of(page.text)
        versions = re.findall(r'href="/console/kb/login-help\?version=(\d+)"', page.text)
        assert versions == ["1"]  # the old one links to itself; the current one is the page
        assert "op@example.com" in page.text and "senior@example.com" in page.text  # authors
        old = client.get("/console/kb/login-help?version=1")
        assert old.status_code == 200 and "第1版を表示しています" in text_of(old.text)
        assert client.get("/console/kb/login-help?version=9").status_code == 404
        assert client.get("/console/kb/login-help?version=x").status_code == 422
    with client_for(settings) as client:
        token = login(client, "operator")
        # Published: the operator may neither open the edit form nor save over it.
        assert client.get("/console/kb/login-help/edit").status_code == 403
        page = client.get("/console/kb/login-help")
        assert 'href="/console/kb/login-help/edit"' not in page.text
        refused = client.post("/console/kb/login-help/edit", data=_form(token, state="draft"))
        assert refused.status_code == 403 and "公開済みのため" in refused.text
    article = _article(settings, "login-help")
    assert (article.version, article.state, article.tags) == (2, "published", ["ログイン"])
    assert count(settings, ArticleVersion) == 2


def test_refusals_are_in_the_readers_language_and_keep_every_field(settings: Settings) -> None:
    seed(settings)
    with client_for(settings) as client:
        token = login(client, "senior")
        typed = _form(token, title="", tags="障害, 返金", components=["決済"], public="1")
        ja = client.post("/console/kb", data=typed)
        assert ja.status_code == 422
        assert "件名 は必須です。" in ja.text
        assert BODY.split("\n")[0] in ja.text and 'value="障害, 返金"' in ja.text
        assert 'value="決済" checked' in ja.text and 'name="public" value="1" checked' in ja.text
        en = client.post("/console/kb", data=typed, headers={"Accept-Language": "en"})
        assert en.status_code == 422 and "Title is required." in en.text
        # An expression to avoid names its own fields and needs the alternative (R17).
        avoid = _form(token, kind="avoid_expression", title="仕様です", body="突き放して聞こえる。")
        refused = client.post("/console/kb", data=avoid)
        assert refused.status_code == 422
        assert "避けるべき表現には、代わりに使う推奨表現が必要です。" in refused.text
        assert 'value="仕様です"' in refused.text and "突き放して聞こえる。" in refused.text
        too_long = client.post(
            "/console/kb", data={**avoid, "title": "長" * 201, "alternative": "ご不便を"}
        )
        assert too_long.status_code == 422 and "避けるべき表現 は 200 文字以内に" in too_long.text
        bad_key = client.post("/console/kb", data=_form(token, key="Bad Key!"))
        assert bad_key.status_code == 422 and "キーは英小文字・数字" in bad_key.text
        assert 'value="Bad Key!"' in bad_key.text
        reserved = client.post("/console/kb", data=_form(token, key="new"))
        assert reserved.status_code == 422 and "予約されています" in reserved.text
        bad_kind = client.post("/console/kb", data=_form(token, kind="rumour"))
        assert bad_kind.status_code == 422 and "種類は次のいずれか" in bad_kind.text
        assert count(settings, Article) == 0
        _create(client, token, key="refund", kind="faq")
        twice = client.post("/console/kb", data=_form(token, key="refund"))
        assert twice.status_code == 409 and "キー refund の記事はすでにあります" in twice.text
        # A key left blank is made from the kind and the day.
        made = _create(client, token, key="")
        assert re.fullmatch(r"faq-\d{8}-[0-9a-f]{6}", made)
        listing = client.get("/console/kb?kind=rumour")
        assert listing.status_code == 422 and "種類は次のいずれか" in listing.text
    assert count(settings, Article) == 2


def test_markup_in_titles_and_bodies_is_shown_as_text(settings: Settings) -> None:
    seed(settings)
    title = '<script>alert("t")</script>障害'
    body = "<img src=x onerror=alert(1)> [押す](javascript:alert(2)) <b>太字</b>"
    with client_for(settings) as client:
        token = login(client, "senior")
        _create(client, token, key="xss", title=title, body=body, tags="<i>tag</i>")
        for path in ("/console/kb/xss", "/console/kb", "/console/kb/xss/edit"):
            page = client.get(path).text
            assert "<script>alert" not in page and "<img src=x" not in page, path
            assert "<i>tag</i>" not in page and "<b>太字</b>" not in page, path
            assert "&lt;script&gt;" in page, path
        article = client.get("/console/kb/xss").text
        assert (
            'href="javascript:' not in article and "&lt;img src=x onerror=alert(1)&gt;" in article
        )


def test_a_stale_edit_is_refused_and_kept(settings: Settings) -> None:
    seed(settings)
    with client_for(settings) as client:
        token = login(client, "operator")
        _create(client, token, key="delay")
        first = client.post(
            "/console/kb/delay/edit", data=_form(token, version="1", title="一回目")
        )
        assert first.status_code == 303
        stale = client.post(
            "/console/kb/delay/edit", data=_form(token, version="1", title="二回目")
        )
        assert stale.status_code == 409
        assert "第2版を保存しました" in stale.text and 'value="二回目"' in stale.text
        assert 'name="version" value="2"' in stale.text  # saving again is a deliberate choice
        unchanged = client.post(
            "/console/kb/delay/edit", data=_form(token, version="2", title="一回目")
        )
        assert unchanged.status_code == 303
    article = _article(settings, "delay")
    assert (article.version, article.title) == (2, "一回目")  # no version for no change


def test_votes_and_uses_are_counted(settings: Settings) -> None:
    seed(settings)
    with client_for(settings) as client:
        token = login(client, "senior")
        _create(client, token, key="vote-me", state="published")
    with client_for(settings) as client:
        token = login(client, "operator")
        for choice in ("yes", "no"):
            voted = client.post(
                "/console/kb/vote-me/vote", data={"csrf_token": token, "helpful": choice}
            )
            assert voted.status_code == 303
        bad = client.post(
            "/console/kb/vote-me/vote", data={"csrf_token": token, "helpful": "maybe"}
        )
        assert bad.status_code == 422
        page = client.get("/console/kb/vote-me")
        assert "「役に立たなかった」に投票しています" in text_of(page.text)
        used = client.post("/console/kb/vote-me/used", data={"csrf_token": token})
        assert used.status_code == 200 and used.json() == {"key": "vote-me", "usage_count": 1}
        for bad_id in ("x", "0", str(2**31), "²"):
            refused = client.post(
                "/console/kb/vote-me/used", data={"csrf_token": token, "inquiry_id": bad_id}
            )
            assert refused.status_code == 422, bad_id
        no_csrf = client.post("/console/kb/vote-me/used", data={"inquiry_id": "1"})
        assert no_csrf.status_code == 403
        assert (
            client.post("/console/kb/nothing/used", data={"csrf_token": token}).status_code == 404
        )
    article = _article(settings, "vote-me")
    assert (article.helpful, article.not_helpful, article.usage_count) == (0, 1, 1)
