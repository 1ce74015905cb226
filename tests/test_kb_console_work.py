"""The knowledge base where the work happens: search, the reply panel, "save as article" (R17, R32).

On SQLite and PostgreSQL through the real app: the search box on every console
page, ranked results with marked words (markup in the text escaped), the three
published articles beside an inquiry's reply with their text ready to insert
and the use counted, a reply and an incident update saved as articles linked
back to them, and the synonym list.
"""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from anshin.config import Settings
from anshin.incidents import service as incidents
from anshin.inquiries.models import Inquiry, InquiryMessage
from anshin.knowledge import service as kb
from anshin.knowledge.models import Article, ArticleLink, SynonymGroup
from anshin.team.models import User
from inquiry_world import incident, inquiry
from notice_texts import FIRST_NOTICE_EN, FIRST_NOTICE_JA
from test_console_support import USERS, client_for, count, database, login, seed, text_of

ADVICE = "ログインできない場合は、パスワードの再設定をお試しください。"
LOGIN_FAQ = {
    "key": "login-faq",
    "kind": "faq",
    "title": "ログインできないときの確認",
    "body": f"{ADVICE}\n\n- 再設定のメールを確認",
    "state": "published",
    "tags": ["ログイン"],
    "components": ["ログイン"],
}


def _articles(settings: Settings) -> None:
    with database(settings) as session:
        kb.save(session, LOGIN_FAQ, actor="test")
        for key, kind, state, locale in (
            ("login-draft", "faq", "draft", "ja"),  # a draft: never offered while replying
            ("login-en", "faq", "published", "en"),  # another language
            ("login-avoid", "avoid_expression", "published", "ja"),  # guidance, not an answer
            ("login-script", "script", "published", "ja"),
            ("login-workaround", "workaround", "published", "ja"),
            ("login-explained", "explanation", "published", "ja"),
        ):
            kb.save(
                session,
                {
                    "key": key,
                    "kind": kind,
                    "title": f"ログインできない {key}",
                    "body": "ログインの件",
                    "alternative": "ご不便をおかけしております"
                    if kind == "avoid_expression"
                    else None,
                    "state": state,
                    "locale": locale,
                },
                actor="test",
            )
        session.commit()


@pytest.fixture
def world(settings: Settings) -> dict[str, str]:
    """Users, articles, an incident with an update, an inquiry held by the operator with a reply."""
    seed(settings)
    _articles(settings)
    with database(settings) as session:
        operator = session.scalar(select(User).where(User.email == USERS["operator"][0]))
        on = incident(session, settings)
        incidents.publish_update(
            session,
            settings,
            on,
            body_ja=FIRST_NOTICE_JA,
            body_en=FIRST_NOTICE_EN,
            status="investigating",
            actor="test",
        )
        held = inquiry(session, settings, on, holder=operator)
        session.add(
            InquiryMessage(
                inquiry_id=held.id,
                direction="out",
                channel="email",
                subject="Re: ログインできません",
                body="ご不便をおかけしております。パスワードの再設定で解消することがあります。",
                author="user:1:op@example.com",
            )
        )
        session.commit()
        return {"inquiry": held.reference, "incident": on.reference, "inquiry_id": str(held.id)}


def test_a_search_box_on_every_console_page_leads_to_ranked_marked_results(
    settings: Settings, world: dict[str, str]
) -> None:
    with client_for(settings) as client:
        login(client, "operator")
        for path in (
            "/console",
            "/console/incidents",
            f"/console/inquiries/{world['inquiry']}",
            "/console/kb",
        ):
            page = client.get(path).text
            assert 'action="/console/search"' in page and 'id="top-q"' in page, path
        found = client.get("/console/search", params={"q": "ログインできない"})
        assert found.status_code == 200
        assert 'href="/console/kb/login-faq"' in found.text
        assert "<mark>" in found.text
        assert 'value="ログインできない"' in found.text  # the box keeps the words
        only_scripts = client.get("/console/search", params={"q": "ログイン", "kind": "script"})
        assert "login-script" in only_scripts.text and "login-faq" not in only_scripts.text
        english = client.get("/console/search", params={"q": "ログイン", "locale": "en"})
        assert "login-en" in english.text and "login-faq" not in english.text
        drafts = client.get("/console/search", params={"q": "ログイン", "state": "draft"})
        assert "login-draft" in drafts.text and "login-faq" not in drafts.text
        empty = client.get("/console/search")
        assert empty.status_code == 200 and "件（関連の高い順）" not in empty.text
        long = client.get("/console/search", params={"q": "障害" * 1500})
        assert long.status_code == 422 and "検索語は 200 文字以内に" in long.text
        assert 'value="障害障害' in long.text  # kept, not lost
        english_error = client.get(
            "/console/search", params={"q": "x" * 201}, headers={"Accept-Language": "en"}
        )
        assert "The search must be at most 200 characters." in english_error.text
        bad_kind = client.get("/console/search", params={"q": "ログイン", "kind": "rumour"})
        assert bad_kind.status_code == 422 and "種類は次のいずれか" in bad_kind.text
        nul = client.get("/console/search", params={"q": "ログ\x00イン"})
        assert nul.status_code == 422  # refused before any query (PostgreSQL has no NUL)
        assert client.get("/console/kb/a%00b").status_code == 404
        assert client.get("/console/kb/a%00b/edit").status_code == 404
        operators = client.get("/console/search", params={"q": '"障害" OR NEAR( *'})
        assert operators.status_code == 200  # searched for as text, never executed


def test_search_results_escape_what_anyone_typed(settings: Settings, world: dict[str, str]) -> None:
    with database(settings) as session:
        kb.save(
            session,
            {
                "key": "markup",
                "kind": "faq",
                "title": "<script>alert(1)</script>返金",
                "body": "返金 <img src=x onerror=alert(1)> の手続き",
                "state": "published",
            },
            actor="test",
        )
        session.commit()
    with client_for(settings) as client:
        login(client, "operator")
        page = client.get("/console/search", params={"q": "返金"}).text
        assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
        assert "<mark>返金</mark>" in page


def test_the_reply_panel_offers_three_published_answers_and_counts_the_one_used(
    settings: Settings, world: dict[str, str]
) -> None:
    with client_for(settings) as client:
        token = login(client, "operator")
        page = client.get(f"/console/inquiries/{world['inquiry']}")
        assert page.status_code == 200
        panel = page.text.split("data-kb-panel", 1)[1].split("</aside>", 1)[0]
        keys = [
            k
            for k in ("login-faq", "login-script", "login-workaround", "login-explained")
            if f'data-key="{k}"' in panel
        ]
        # Which three of the four published answers rank first is the search's business.
        assert len(keys) == 3
        for hidden in ("login-draft", "login-en", "login-avoid"):
            assert f'data-key="{hidden}"' not in panel, hidden
        for key in keys:
            insert = html.unescape(panel.split(f'data-key="{key}" data-text="', 1)[1].split('"')[0])
            # Markdown read as the plain lines of a reply.
            assert insert == (
                f"{ADVICE}\n\n・再設定のメールを確認" if key == "login-faq" else "ログインの件"
            )
        assert (
            f'data-inquiry="{world["inquiry_id"]}"' in panel and 'data-target="reply_body"' in panel
        )
        assert "0回使用" in panel
        # The reply page shows the same panel.
        assert "data-kb-panel" in client.get(f"/console/inquiries/{world['inquiry']}/reply").text
        used = client.post(
            f"/console/kb/{keys[0]}/used",
            data={"inquiry_id": world["inquiry_id"]},
            headers={"X-CSRF-Token": token, "Accept": "application/json"},
        )
        assert used.status_code == 200 and used.json()["usage_count"] == 1
        article_page = client.get(f"/console/kb/{keys[0]}").text
        assert (
            "1回" in text_of(article_page)
            and f"/console/inquiries/{world['inquiry']}" in article_page
        )
    with database(settings) as session:
        link = session.scalar(select(ArticleLink))
        assert link is not None
        assert (link.target_type, str(link.target_id), link.relation) == (
            "inquiry",
            world["inquiry_id"],
            "used",
        )


def test_a_reply_saved_as_an_article_links_back_to_it(
    settings: Settings, world: dict[str, str]
) -> None:
    with database(settings) as session:
        held = session.scalar(select(Inquiry).where(Inquiry.reference == world["inquiry"]))
        assert held is not None
        reply = next(m for m in held.messages if m.direction == "out")
        reply_id = reply.id
    before = count(settings, Article)
    with client_for(settings) as client:
        token = login(client, "operator")
        page = client.get(f"/console/inquiries/{world['inquiry']}").text
        assert f'name="source" value="reply:{reply_id}"' in page
        assert 'action="/console/kb/new"' in page
        form = client.post(
            "/console/kb/new",
            data={
                "csrf_token": token,
                "source": [f"reply:{reply_id}", f"inquiry:{world['inquiry_id']}"],
                "title": "Re: ログインできません",
                "body": "ご不便をおかけしております。パスワードの再設定で解消することがあります。",
                "locale": "ja",
                "kind": "explanation",
            },
        )
        assert form.status_code == 200
        assert 'value="Re: ログインできません"' in form.text and world["inquiry"] in form.text
        assert count(settings, Article) == before  # the form only: nothing saved yet
        bad = client.post(
            "/console/kb/new", data={"csrf_token": token, "source": "inquiry:99999999999"}
        )
        assert bad.status_code == 422 and "記事の元になった記録を読み取れません" in bad.text
        saved = client.post(
            "/console/kb",
            data={
                "csrf_token": token,
                "source": [f"reply:{reply_id}", f"inquiry:{world['inquiry_id']}"],
                "kind": "explanation",
                "title": "パスワードの再設定で解消した説明",
                "body": "ご不便をおかけしております。パスワードの再設定で解消することがあります。",
                "locale": "ja",
                "state": "draft",
            },
        )
        assert saved.status_code == 303
        article = client.get(saved.headers["location"]).text
        assert f'href="/console/inquiries/{world["inquiry"]}#msg-{reply_id}"' in article
        assert f'href="/console/inquiries/{world["inquiry"]}"' in article
    with database(settings) as session:
        links = {(row.target_type, row.relation) for row in session.scalars(select(ArticleLink))}
    assert links == {("reply", "source"), ("inquiry", "source")}


def test_an_incident_update_saved_as_an_article_links_back_to_it(
    settings: Settings, world: dict[str, str]
) -> None:
    with database(settings) as session:
        update = incidents.get(session, world["incident"]).updates[0]
        update_id, incident_id = update.id, update.incident_id
    with client_for(settings) as client:
        token = login(client, "operator")
        page = client.get(f"/console/incidents/{world['incident']}").text
        assert f'id="update-{update_id}"' in page
        assert page.count(f'name="source" value="update:{update_id}"') == 2  # Japanese, English
        form = client.post(
            "/console/kb/new",
            data={
                "csrf_token": token,
                "source": [f"update:{update_id}", f"incident:{incident_id}"],
                "title": "ログインできない障害",
                "body": FIRST_NOTICE_JA,
                "locale": "ja",
            },
        )
        assert form.status_code == 200 and world["incident"] in form.text
        saved = client.post(
            "/console/kb",
            data={
                "csrf_token": token,
                "source": [f"update:{update_id}", f"incident:{incident_id}"],
                "kind": "explanation",
                "title": "ログインできない障害の第一報",
                "body": FIRST_NOTICE_JA,
                "state": "draft",
            },
        )
        assert saved.status_code == 303
        article = client.get(saved.headers["location"]).text
        assert f'href="/console/incidents/{world["incident"]}#update-{update_id}"' in article


def test_the_synonym_list_is_edited_by_a_senior(settings: Settings, world: dict[str, str]) -> None:
    with client_for(settings) as client:
        token = login(client, "operator")
        page = client.get("/console/kb/synonyms")
        assert page.status_code == 200 and "readonly" in page.text
        refused = client.post(
            "/console/kb/synonyms", data={"csrf_token": token, "synonyms": "a, b"}
        )
        assert refused.status_code == 403
    with client_for(settings) as client:
        token = login(client, "senior")
        text = "ログイン, サインイン、ログオン\n\n返金 / 払い戻し\n"
        saved = client.post("/console/kb/synonyms", data={"csrf_token": token, "synonyms": text})
        assert saved.status_code == 303
        page = client.get("/console/kb/synonyms").text
        assert "ログイン, サインイン, ログオン\n返金, 払い戻し" in page
        bad = "障害, 不具合\n\nエラー"
        refused = client.post("/console/kb/synonyms", data={"csrf_token": token, "synonyms": bad})
        assert refused.status_code == 422
        assert "3 行目: 1 行には異なる語を 2 個から 20 個まで書いてください。" in refused.text
        assert "障害, 不具合\n\nエラー</textarea>" in refused.text
    with database(settings) as session:
        assert kb.synonym_groups(session) == [
            ["ログイン", "サインイン", "ログオン"],
            ["返金", "払い戻し"],
        ]
    assert count(settings, SynonymGroup) == 2
