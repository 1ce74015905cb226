"""The knowledge base in a real browser (Debian Chromium via Playwright), R17, R32.

A senior writes and publishes an article; an operator searches in a customer's
words from the box in the header, opens the inquiry, sees the three best
published articles beside the reply, inserts one in one click (its usage count
goes up) and saves a reply that worked as an article linked back to it.
Screenshots: docs/screenshots/kb-*.png (with ANSHIN_UPDATE_SCREENSHOTS=1); each
page also at 390 px.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browser_support import USERS, LiveServer
from playwright.sync_api import expect
from sqlalchemy import select
from test_compose_browser import narrow
from test_console_browser import fits, shot, sign_in

from anshin.incidents import service as incidents
from anshin.inquiries import service
from anshin.inquiries.models import InquiryMessage
from anshin.inquiries.service import NewInquiry, TriageValues
from anshin.knowledge import service as kb
from anshin.knowledge.models import Article, ArticleLink
from anshin.team.models import User

pytestmark = pytest.mark.browser
CUSTOMER = (
    "昨日からログインできへん。パスワード入れても弾かれる。仕事にならんのやけど、いつ直るん？"
)
REPLY = (
    "ご不便をおかけしており、誠に申し訳ございません。\n"
    "パスワードの再設定で解消することがございます。画面右上の「ログイン」から"
    "「パスワードを忘れた方」をお選びください。"
)
FAQ_BODY = (
    "ログインできない場合は、まず**パスワードの再設定**をお試しください。\n\n"
    "- 画面右上の「ログイン」を押す\n- 「パスワードを忘れた方」を選ぶ\n"
    "- 届いたメールのリンクから新しいパスワードを設定する"
)
OTHERS = (
    (
        "login-phone-script",
        "script",
        "お電話でログインできないと言われたら",
        "お名前とご登録のメールアドレスを伺い、ログイン画面の表示を確認します。",
    ),
    (
        "login-app-workaround",
        "workaround",
        "アプリからログインできない場合の回避策",
        "ブラウザからはログインできます。アプリの更新をお待ちください。",
    ),
    (
        "login-outage-explained",
        "explanation",
        "障害でログインできなかった方への説明",
        "認証サーバーの障害で、ログインできない状態が続いておりました。",
    ),
    ("login-draft", "faq", "ログインの下書き", "まだ公開されていない下書きです。"),
)


def _world(server: LiveServer) -> tuple[str, int]:
    """An incident, the customer's inquiry held by the operator with one reply, and articles."""
    with server.session() as session:
        incident = incidents.declare(
            session,
            server.settings,
            incidents.IncidentInput(
                title="ログインできない障害",
                title_en="Sign-in failures",
                severity="sev2",
                components=["ログイン"],
            ),
            actor="seed",
        )
        operator = session.scalar(select(User).where(User.email == USERS["operator"][0]))
        assert operator is not None
        inquiry = service.receive(
            session,
            server.settings,
            NewInquiry(
                channel="email",
                text=CUSTOMER,
                customer_name="山田 花子",
                customer_email="hanako@example.com",
                subject="ログインできへん",
                mail_message_id="<kb1@customer.example>",
            ),
            actor="seed",
            triage=TriageValues(incident.id, "status_inquiry", 1, 2, False),
        )
        inquiry.claimed_by_id = operator.id
        reply = InquiryMessage(
            inquiry_id=inquiry.id,
            direction="out",
            channel="email",
            subject="Re: ログインできへん",
            body=REPLY,
            author=operator.actor,
        )
        session.add(reply)
        for key, kind, title, body in OTHERS:
            state = "draft" if key == "login-draft" else "published"
            kb.save(
                session,
                {"key": key, "kind": kind, "title": title, "body": body, "state": state},
                actor="seed",
            )
        session.commit()
        return inquiry.reference, reply.id


def _write_article(page: Any, server: LiveServer, shots: Path) -> None:
    """A senior writes the FAQ from the knowledge base's page and publishes it."""
    sign_in(page, server, "senior")
    page.get_by_role("navigation").get_by_role("link", name="ナレッジベース").click()
    expect(page.get_by_role("heading", name="ナレッジベース")).to_be_visible()
    page.get_by_role("link", name="新しい記事").click()
    page.locator("#kind").select_option("faq")
    page.locator("#title").fill("ログインできないときの確認")
    page.locator("#body").fill(FAQ_BODY)
    page.locator("#tags").fill("ログイン, パスワード")
    page.locator('input[name=components][value="ログイン"]').check()
    # Saved without the title first: refused beside the field, everything typed kept.
    page.locator("#title").fill("")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator("#err-title")).to_have_text("件名 は必須です。")
    expect(page.locator("#body")).to_have_value(FAQ_BODY)
    page.locator("#title").fill("ログインできないときの確認")
    page.locator('input[name=state][value="published"]').check()
    shot(page, shots, "kb-form.png")
    narrow(page, "kb form", shots)
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("記事を保存しました（第1版）")
    expect(page.locator(".kb-markdown strong")).to_have_text("パスワードの再設定")
    expect(page.locator(".kb-markdown li")).to_have_count(3)
    # The same form shows an expression to avoid with its own labels.
    page.goto(server.url + "/console/kb/new")
    page.locator("#kind").select_option("avoid_expression")
    expect(page.get_by_text("避けるべき理由", exact=True)).to_be_visible()
    expect(page.get_by_label("代わりに書く表現")).to_be_visible()
    page.locator("#title").fill("仕様です")
    page.locator("#body").fill("お客様の困りごとを突き放して聞こえ、怒りを強めます。")
    page.get_by_label("代わりに書く表現").fill(
        "現在の動作では〜となっております。ご不便をおかけし申し訳ございません。"
    )
    shot(page, shots, "kb-avoid.png")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator("h1")).to_have_text("「仕様です」")
    page.goto(server.url + "/console/kb")
    expect(page.locator(".kb-list tbody tr")).to_have_count(6)
    shot(page, shots, "kb-list.png")
    narrow(page, "kb list", shots)
    page.goto(server.url + "/console/kb/synonyms")
    page.locator("#synonyms").fill(
        "ログイン, サインイン, ログオン\n返金, 払い戻し\n障害, 不具合, エラー"
    )
    page.get_by_role("button", name="リストを保存").click()
    expect(page.locator(".flash")).to_contain_text("同義語リストを保存しました（3グループ）")
    shot(page, shots, "kb-synonyms.png")
    page.get_by_role("button", name="ログアウト").click()


def test_an_agent_finds_inserts_and_saves_answers_from_the_knowledge_base(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    ref, reply_id = _world(live_server)
    page = context.new_page()
    _write_article(page, live_server, shots)

    # An operator searches with the customer's words from the box every page carries.
    sign_in(page, live_server, "operator")
    page.locator("#top-q").fill("ログインできへん")
    page.locator("#top-q").press("Enter")
    expect(page).to_have_url(re.compile(r"/console/search\?q="))
    results = page.locator(".kb-hit")
    expect(results.first).to_be_visible()
    expect(page.locator(".kb-hits")).to_contain_text("ログインできないときの確認")
    expect(page.locator(".kb-hit mark").first).to_be_visible()
    shot(page, shots, "kb-search.png")
    narrow(page, "kb search", shots)

    # The inquiry: the three best published answers beside the reply, one inserted in a click.
    page.goto(f"{live_server.url}/console/inquiries/{ref}")
    panel = page.locator("[data-kb-panel]")
    expect(panel.locator(".kb-suggestion")).to_have_count(3)
    expect(panel).not_to_contain_text("ログインの下書き")
    expect(panel).not_to_contain_text("仕様です")
    first = panel.locator(".kb-suggestion").first
    key = first.get_attribute("data-key")
    assert key
    body = page.locator("#reply_body")
    before = body.input_value()
    first.get_by_role("button", name="返信に挿入").click()
    expect(first.locator("[data-kb-usage]")).to_have_text("1回使用")
    expect(panel.locator("[data-kb-status]")).to_contain_text("返信に挿入しました")
    inserted = body.input_value()
    assert inserted.startswith(before.rstrip("\n")) and len(inserted) > len(before)
    with live_server.session() as session:
        article = session.scalar(select(Article).where(Article.key == key))
        assert article is not None and article.usage_count == 1
        assert session.scalar(select(ArticleLink).where(ArticleLink.relation == "used"))
        text = kb.get(session, key).title
    assert text in page.locator(".kb-suggestion").first.inner_text()
    page.locator("#reply").scroll_into_view_if_needed()
    fits(page, "kb reply panel")
    page.locator("#reply").screenshot(path=str(shots / "kb-reply-panel.png"))
    narrow(page, "kb reply panel", shots)

    # A reply that worked becomes an article, linked back to the reply and the inquiry.
    page.locator(f"#msg-{reply_id}").get_by_role("button", name="記事として保存").click()
    expect(page.locator("#title")).to_have_value("Re: ログインできへん")
    expect(page.locator("#body")).to_have_value(REPLY)
    expect(page.locator(".kb-from")).to_contain_text(ref)
    page.locator("#title").fill("パスワードの再設定で解消したときの返信")
    shot(page, shots, "kb-save-as.png")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("記事を保存しました")
    expect(page.locator("#sources")).to_contain_text(ref)
    page.locator("#sources").get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/console/inquiries/{ref}"))
    page.goto(f"{live_server.url}/console/kb/{key}")
    expect(page.locator(".kb-usage")).to_have_text("1回")
    shot(page, shots, "kb-article.png")
    narrow(page, "kb article", shots)
