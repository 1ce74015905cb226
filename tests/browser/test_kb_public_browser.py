"""The public FAQ and the inquiry form's matching answers in a real browser (R34).

A customer follows 「よくあるご質問」 from the status page, reads the answers,
searches them in Japanese and then in English; a draft and an internal answer
never show. On the inquiry form the answers matching what the customer types
appear under the text box (``/static/faq-suggest.js``, allowed by the
Content-Security-Policy: no inline script), open in a new tab, and leave the
text as typed. Without JavaScript the form still sends. Each page is checked
at 1280 px and on a 390 px phone; screenshots for README.md and
docs/knowledge-faq.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_support import LiveServer
from playwright.sync_api import expect
from test_console_browser import fits, shot
from test_csp_browser import watch

from anshin.knowledge import service as kb

pytestmark = pytest.mark.browser

ANSWERS: list[dict[str, Any]] = [
    {
        "key": "faq-login",
        "title": "ログインできないときは",
        "body": (
            "「認証に失敗しました」と表示されてログインできない場合は、次をお試しください。\n\n"
            "1. パスワードの再設定（ログイン画面の「パスワードをお忘れの方」）\n"
            "2. ブラウザーのキャッシュとCookieの削除\n\n"
            "障害が起きているときは、[ステータスページ](/)でお知らせしています。"
        ),
        "tags": ["ログイン", "サインイン"],
    },
    {
        "key": "faq-refund",
        "title": "障害で使えなかった期間の返金はありますか",
        "body": (
            "ご利用いただけなかった時間に応じて、利用規約に基づき返金または減額いたします。"
            "対象と手続きは、復旧後にメールでご案内します。"
        ),
    },
    {
        "key": "faq-payment",
        "title": "決済が失敗した・二重に請求されたときは",
        "body": (
            "決済が失敗した場合、請求は確定していません。**二重に請求された**場合は、"
            "お問い合わせフォームから請求日と金額をお知らせください。確認のうえ返金します。"
        ),
    },
    {
        "key": "faq-login-en",
        "title": "I cannot sign in",
        "body": (
            "If sign-in fails with *Authentication failed*, reset your password from the "
            "sign-in page, then clear your browser's cookies. During an outage the "
            "[status page](/?lang=en) says what is known."
        ),
        "locale": "en",
    },
    {
        "key": "faq-refund-en",
        "title": "Will I get a refund for the outage?",
        "body": "Time the service could not be used is refunded under the terms of service.",
        "locale": "en",
    },
]
HIDDEN: list[dict[str, Any]] = [
    {
        "key": "draft-login",
        "title": "ログインできない（下書き）",
        "body": "ログイン",
        "state": "draft",
    },
    {
        "key": "internal-login",
        "title": "ログイン障害の社内手順",
        "body": "ログイン",
        "public": False,
    },
]


def seed_answers(server: LiveServer) -> None:
    with server.session() as session:
        for values in ANSWERS + HIDDEN:
            kb.save(
                session,
                {"kind": "faq", "state": "published", "public": True, **values},
                actor="lead@example.com",
            )
        session.commit()


def phone(page: Any, folder: Path, name: str) -> None:
    """The same page on a 390 px phone: nothing spills sideways; kept as a screenshot."""
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(100)
    fits(page, name)
    page.screenshot(path=str(folder / name), full_page=True)
    page.set_viewport_size(size)


def test_the_faq_is_read_and_searched_in_japanese_and_english(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    seed_answers(live_server)
    page = context.new_page()
    violations = watch(page)
    page.goto(live_server.url + "/")
    phone(page, shots, "faq-link-statuspage-phone.png")  # the header's links wrap on a phone
    page.get_by_role("link", name="よくあるご質問").click()
    expect(page).to_have_url(live_server.url + "/faq")
    expect(page.locator("h1")).to_have_text("よくあるご質問")
    expect(page.locator(".faq-item h2")).to_have_count(3)
    expect(page.locator(".faq-item ol li")).to_have_count(2)  # the Markdown list
    expect(page.get_by_text("ログインできない（下書き）")).to_have_count(0)
    expect(page.get_by_text("ログイン障害の社内手順")).to_have_count(0)
    shot(page, shots, "faq-ja.png")

    page.get_by_label("回答を検索").fill("返金")
    page.get_by_label("回答を検索").press("Enter")
    expect(page.locator(".faq-count")).to_contain_text("「返金」の回答")
    titles = page.locator(".faq-item h2")
    expect(titles.first).to_be_visible()
    found = titles.all_inner_texts()
    assert "障害で使えなかった期間の返金はありますか" in found
    assert all("下書き" not in t and "社内" not in t for t in found)
    shot(page, shots, "faq-search-ja.png")
    phone(page, shots, "faq-search-phone.png")
    page.get_by_role("link", name="すべてのご質問を表示").click()
    expect(page.locator(".faq-item h2")).to_have_count(3)
    phone(page, shots, "faq-phone.png")

    # English: the status page's language switch, then its FAQ link.
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="English").click()
    page.get_by_role("link", name="FAQ").click()
    expect(page).to_have_url(live_server.url + "/faq?lang=en")
    expect(page.locator("h1")).to_have_text("Frequently asked questions")
    expect(page.locator(".faq-item h2")).to_have_count(2)
    page.get_by_label("Search the answers").fill("refund")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".faq-item h2")).to_have_text(["Will I get a refund for the outage?"])
    expect(page.locator(".faq-count")).to_contain_text("1 answer for “refund”")
    shot(page, shots, "faq-en.png")
    page.get_by_label("Search the answers").fill("invoice")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".faq-count")).to_contain_text("No answer matches “invoice”.")
    assert violations == []


def test_the_inquiry_form_shows_matching_answers_as_the_customer_types(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    seed_answers(live_server)
    page = context.new_page()
    violations = watch(page)  # the Content-Security-Policy allows the script: no complaint
    failed: list[str] = []  # answers of 400 and above, the browser's own favicon.ico aside
    page.on(
        "response",
        lambda r: failed.append(r.url) if r.status >= 400 and "favicon" not in r.url else None,
    )
    page.goto(live_server.url + "/inquiry")
    box = page.locator("#faq-suggest")
    expect(box).to_be_hidden()
    text = page.get_by_label("お問い合わせ内容")
    text.press_sequentially("朝からログインできません", delay=30)
    expect(box).to_be_visible()
    expect(box.locator("h2")).to_have_text("こちらの回答がお役に立つかもしれません")
    links = box.get_by_role("link")
    expect(links.first).to_have_text("ログインできないときは")
    assert all("下書き" not in t and "社内" not in t for t in links.all_inner_texts())
    page.get_by_label("メールアドレス").fill("hanako@example.com")
    shot(page, shots, "inquiry-form-faq-ja.png")
    phone(page, shots, "inquiry-form-faq-phone.png")

    # The answer opens in a new tab, at its place on the FAQ page; the text stays.
    with context.expect_page() as opened:
        links.first.click()
    answer = opened.value
    answer.wait_for_load_state()
    assert answer.url.endswith("/faq#faq-faq-login")
    expect(answer.locator("#faq-faq-login h2")).to_be_in_viewport()
    answer.close()
    expect(text).to_have_value("朝からログインできません")

    # Typing something no answer matches hides the box again.
    text.fill("")
    text.press_sequentially("請求書の宛名", delay=30)
    expect(box).to_be_hidden()
    assert failed == []

    # English.
    page.goto(live_server.url + "/inquiry?lang=en")
    page.get_by_label("What happened?").press_sequentially("I cannot sign in", delay=30)
    expect(box.get_by_role("link").first).to_have_text("I cannot sign in")
    expect(box.locator("h2")).to_have_text("These answers may help")
    shot(page, shots, "inquiry-form-faq-en.png")
    assert violations == []


def test_without_javascript_the_form_still_sends(browser: Any, live_server: LiveServer) -> None:
    seed_answers(live_server)
    ctx = browser.new_context(java_script_enabled=False, locale="ja-JP")
    try:
        page = ctx.new_page()
        page.goto(live_server.url + "/inquiry")
        expect(page.locator("#faq-suggest")).to_be_hidden()
        page.get_by_label("お問い合わせ内容").fill("ログインできません")
        page.get_by_label("メールアドレス").fill("taro@example.com")
        page.get_by_role("button", name="送信").click()
        expect(page.locator(".reference")).to_contain_text("Q-")
        page.goto(live_server.url + "/faq?q=ログイン")
        expect(page.locator(".faq-item h2").first).to_have_text("ログインできないときは")
    finally:
        ctx.close()
