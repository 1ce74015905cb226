"""The message-template pages in a real browser: the list, and editing one text (R11).

A senior opens the Japanese first-notice mail, types a guess (おそらく) into the
body and watches the live message check flag it while typing (htmx, no
submit), previews the draft on the "recovery confirmed" sample facts, takes the
guess out, saves a new version with a reason, and finds it in the version
history next to the shipped default. Screenshots for README.md and
docs/templates.md; each page is checked at 1280 px and at 390 px (a phone).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browser_support import LiveServer
from playwright.sync_api import expect
from test_compose_browser import narrow
from test_console_browser import shot, sign_in

from anshin.comms import service as comms
from anshin.comms.kinds import KINDS

pytestmark = pytest.mark.browser
GUESS = "原因はおそらくサーバーの設定ミスです。"
NOTE = "お詫びの言い方を改めました。"


def test_template_list_edit_live_check_preview_and_save(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    page = context.new_page()
    sign_in(page, live_server, "senior")
    page.get_by_role("navigation").get_by_role("link", name="文面テンプレート").click()
    expect(page).to_have_url(live_server.url + "/console/templates")
    expect(page.locator("h1")).to_have_text("文面テンプレート")
    first = page.locator("#kind-first_notice")
    expect(first.locator("h2")).to_contain_text("第一報")
    # every kind has its panel: with the reopened notice and the two harassment scripts
    expect(page.locator("section.panel[id^=kind-]")).to_have_count(len(KINDS))
    email_ja = first.locator("tbody tr", has_text="日本語").filter(has_text="メール")
    expect(email_ja).to_have_count(1)
    expect(email_ja.locator("td").nth(1)).to_have_text("メール")  # the channel, not an address
    expect(email_ja).to_contain_text("既定の文面")

    email_ja.get_by_role("link", name="開く").click()
    expect(page).to_have_url(live_server.url + "/console/templates/first_notice/ja/email")
    expect(page.locator("h1")).to_have_text("第一報 · 日本語 · メール")
    preview = page.locator("#preview")
    expect(preview).to_contain_text("伝え方チェック")
    expect(preview).to_contain_text("指摘はありません。")
    body = page.locator("#body")
    shipped = body.input_value()
    subject = page.locator("#subject").input_value()
    assert "{{" in shipped and subject

    # A guess typed into the text is flagged while typing (htmx, nothing submitted).
    anchor = "全力で取り組んでおります。"
    at = shipped.index(anchor) + len(anchor)
    body.focus()
    body.evaluate("(el, at) => el.setSelectionRange(at, at)", at)
    page.keyboard.type(GUESS, delay=15)
    expect(body).to_have_value(shipped[:at] + GUESS + shipped[at:])
    finding = preview.locator('.finding:has([data-rule="speculation"])')
    expect(finding).to_be_visible()
    expect(finding.locator("mark")).to_contain_text("おそらく")
    expect(finding.locator(".finding-rules")).to_contain_text("推測")  # named in Japanese
    message = preview.locator(".preview").last
    expect(message).to_contain_text(GUESS)
    # The draft is rendered on sample facts: the variables are filled in, no braces left.
    expect(message).to_contain_text("復旧の見込み：")
    assert "{{" not in message.inner_text()
    finding.scroll_into_view_if_needed()
    shot(page, shots, "template-edit.png")
    narrow(page, "template edit with a finding", shots)
    with live_server.session() as session:  # typing saved nothing
        assert comms.get_active(session, "first_notice", "ja", "email").is_default

    # Saving it is refused like a notice (every operator would start from it), text kept.
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="新しい版として保存").click()
    assert answer.value.status == 422
    expect(page.locator("main")).to_contain_text("このテンプレートは伝え方チェックを通りません")
    expect(page.locator("#body")).to_have_value(re.compile("おそらく"))
    with live_server.session() as session:
        assert comms.get_active(session, "first_notice", "ja", "email").is_default

    # The guess taken out, previewed on other facts with the button: no findings.
    body.fill(shipped)
    page.get_by_label("プレビューに使う内容").select_option("confirmed")
    page.get_by_role("button", name="プレビュー", exact=True).click()
    expect(preview.locator('[data-rule="speculation"]')).to_have_count(0)
    expect(message).not_to_contain_text("おそらく")
    expect(preview).to_contain_text("指摘はありません。")

    # Save a new version with a reason: the history shows it above the shipped default.
    edited = shipped.replace("誠に申し訳ございません", "大変申し訳ございません", 1)
    assert edited != shipped
    body.fill(edited)
    page.get_by_label("変更の理由").fill(NOTE)
    page.get_by_role("button", name="新しい版として保存").click()
    expect(page.locator(".flash")).to_have_text("第 1 版として保存しました。")
    expect(page.locator("#body")).to_have_value(re.compile("大変申し訳ございません"))
    history = page.locator("section.panel", has_text="版の履歴").locator("tbody tr")
    expect(history).to_have_count(2)
    expect(history.nth(0)).to_contain_text("第 1 版")
    expect(history.nth(0)).to_contain_text(NOTE)
    expect(history.nth(0)).to_contain_text("使用中")
    expect(history.nth(1)).to_contain_text("既定の文面")
    expect(history.nth(1).get_by_role("button", name="この版に戻す")).to_be_visible()
    page.locator("section.panel", has_text="版の履歴").scroll_into_view_if_needed()
    shot(page, shots, "template-versions.png")
    narrow(page, "template versions", shots)

    # Back on the list, the edited text shows its version, who changed it and when.
    page.locator(".page-head").get_by_role("link", name="文面テンプレート").click()  # breadcrumb
    expect(page).to_have_url(re.compile(r"/console/templates(#kind-first_notice)?$"))
    expect(email_ja).to_contain_text("第 1 版")
    expect(email_ja).to_contain_text("senior@example.com")
    expect(email_ja.locator("td").nth(4)).to_contain_text(re.compile(r"\d{4}/\d\d/\d\d \d\d:\d\d"))
    page.evaluate("() => window.scrollTo(0, 0)")
    shot(page, shots, "templates.png")
    narrow(page, "templates", shots)
