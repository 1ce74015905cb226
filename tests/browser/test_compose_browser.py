"""The compose box in a real browser: live check, publish, delivery to a real SMTP server.

Declare an incident, find the first notice prefilled from its template, type a
guess (おそらく) and watch the message check flag it as you type, fix it,
publish, and watch the delivery counts move to "sent" as the embedded worker
sends to a local SMTP sink — one address refused, so a dead letter appears and
is retried from the dead-letters page. Screenshots for docs/console.md; each
page is checked at 1280 px and at 390 px (a phone) for sideways overflow.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browser_support import DOCS_SHOTS, LiveServer
from playwright.sync_api import expect
from test_console_browser import fits, shot, sign_in

pytestmark = pytest.mark.browser
GUESS = "原因はおそらくサーバーの設定ミスです。"


def narrow(page: Any, name: str, folder: Path) -> None:
    """The same page on a 390 px wide phone: nothing spills sideways.

    The phone views are kept with the test's screenshots (not in docs/) to look at.
    """
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(100)
    fits(page, name + " at 390px")
    if folder != DOCS_SHOTS:
        page.screenshot(path=str(folder / (name.replace(" ", "-") + "-390.png")), full_page=True)
    page.set_viewport_size(size)


def test_compose_check_publish_and_watch_delivery(
    mail_server: tuple[LiveServer, Any], context: Any, shots: Path
) -> None:
    server, sink = mail_server
    page = context.new_page()
    sign_in(page, server, "operator")
    page.get_by_role("navigation").get_by_role("link", name="インシデント宣言").click()
    page.get_by_label("件名（日本語）").fill("ログインできない障害")
    page.get_by_label("件名（英語）").fill("Some customers cannot sign in")
    page.locator("input[name=severity][value=sev1]").check()
    page.get_by_label("ログイン").check()
    page.get_by_label("推定影響顧客数").fill("1200")
    page.get_by_role("button", name="インシデント宣言").click()
    expect(page).to_have_url(re.compile(r"/console/incidents/INC-\d{4}-0001$"))

    # The first notice starts from its template, and the template passes the check.
    expect(page.locator(".compose-kind .badge")).to_have_text("第一報")
    body = page.locator("#body_ja")
    expect(body).to_have_value(re.compile("ログインがご利用いただけない状態となっております"))
    expect(page.locator("#check")).to_contain_text("指摘はありません。")
    expect(page.locator("#first-notice")).to_contain_text("宣言から15分以内")
    template = body.input_value()
    # The estimate of affected customers is left out until the lead chooses to publish it.
    assert "1,200" not in template and "1,200" not in page.locator("#body_en").input_value()
    page.get_by_label(re.compile("推定影響顧客数（1,200）を公開する")).check()
    expect(page.locator("#body_ja")).to_have_value(re.compile("推定）：約1,200名"))
    expect(page.locator("#body_en")).to_have_value(re.compile("about 1,200"))
    page.get_by_label(re.compile("推定影響顧客数（1,200）を公開する")).uncheck()
    expect(page.locator("#body_ja")).to_have_value(template)

    # A guess typed into the text is flagged while typing (no submit).
    body.press("End")
    body.press_sequentially(GUESS, delay=15)
    finding = page.locator('#check .finding:has([data-rule="speculation"])')
    expect(finding).to_be_visible()
    # The guess, the technical word and the unconfirmed cause are on the same words of one
    # sentence: one entry, every rule named in Japanese, the words marked once.
    expect(finding.locator("mark")).to_contain_text("おそらくサーバー")
    expect(finding.locator(".finding-rules")).to_contain_text("推測")
    expect(finding.locator(".finding-rules")).to_contain_text("専門用語")
    expect(page.locator("#check")).to_contain_text("シニア以上ができます")
    finding.scroll_into_view_if_needed()
    shot(page, shots, "incident-compose.png")
    narrow(page, "compose box with findings", shots)

    # Fixed: the finding goes away, and the notice is published.
    body.fill(template)
    body.dispatch_event("input")
    expect(page.locator('#check [data-rule="speculation"]')).to_have_count(0)
    expect(page.locator("#check")).to_contain_text("エラーはありません")
    page.get_by_role("button", name="第一報を公開").click()
    expect(page.locator(".flash")).to_have_text("第一報を公開しました。")

    # The counts beside the notice move to sent as the worker delivers (htmx polling).
    counts = page.locator(".timeline .delivery").first
    expect(counts.locator('[data-count="sent"] strong')).to_have_text("4", timeout=20_000)
    expect(counts.locator('[data-count="dead"] strong')).to_have_text("1")
    expect(counts.locator('[data-count="queued"] strong')).to_have_text("0")
    expect(counts).to_contain_text("最後のお客様に届いた時刻")
    expect(page.locator("#first-notice")).to_contain_text(
        re.compile(r"宣言から\d+分後に公開、最後のお客様に届いたのは \d\d:\d\d（宣言から\d+分）")
    )
    assert len(sink.handler.received) == 4
    page.locator("#timeline").scroll_into_view_if_needed()
    shot(page, shots, "incident-delivery.png")
    narrow(page, "incident page after publishing", shots)

    # The dead letter, masked, with its error; retried once the address works again.
    counts.locator("a.dc-dead").click()
    expect(page).to_have_url(re.compile(r"/console/deliveries\?state=dead&message=\d+$"))
    row = page.locator("table.deliveries tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("us•••@example.com")
    expect(row).to_contain_text("SMTP 550")
    shot(page, shots, "dead-letters.png")
    narrow(page, "dead letters", shots)
    sink.handler.reject.clear()
    row.get_by_role("button", name="再送").click()
    expect(page.locator(".flash")).to_have_text("配信をもう一度キューに入れました。")
    expect(page.locator("table.deliveries tbody tr")).to_have_count(0)
    for _ in range(100):  # the worker sends it again within moments
        if len(sink.handler.received) == 5:
            break
        page.wait_for_timeout(200)
    page.goto(server.url + "/console/deliveries?state=sent")
    expect(page.locator("table.deliveries tbody tr")).to_have_count(5)
    assert "user1@example.com" in [r.recipients[0] for r in sink.handler.received]
