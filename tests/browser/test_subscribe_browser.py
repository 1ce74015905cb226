"""The public subscription pages in a real browser, with real mail (R26; RFC 8058).

A customer follows 「更新情報を受け取る」 from the status page, mistypes the
address (refused in Japanese, the typed values kept), subscribes to one
service, and gets the confirmation mail from a local SMTP sink (aiosmtpd via
``anshin.notify.sink``, delivered by the embedded worker). The link in that mail
confirms the subscription; the first notice of an incident on that service
then arrives with an unsubscribe link, which asks first and then stops the
mail. The form in English too. Screenshots for README.md and docs/delivery.md;
each page is checked at 1280 px and at 390 px (a phone).
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from browser_support import LiveServer
from playwright.sync_api import expect
from sqlalchemy import select
from test_compose_browser import narrow
from test_console_browser import fits, shot

from anshin.incidents import messages as comms
from anshin.incidents import service
from anshin.notify.models import Subscriber

pytestmark = pytest.mark.browser
ADDRESS = "customer@example.com"
TYPO = "customer@example"  # a browser's type=email accepts it; the server wants a domain with a dot


def mail_to(sink: Any, address: str, count: int, page: Any) -> EmailMessage:
    """The ``count``-th mail the sink accepted for ``address`` (waits up to 20 s)."""
    for _ in range(100):
        mails = [m for m in sink.handler.received if address in m.recipients]
        if len(mails) >= count:
            return mails[count - 1].parse()
        page.wait_for_timeout(200)
    raise AssertionError(f"mail number {count} to {address} did not arrive")


def plain_text(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def subscriber(server: LiveServer) -> Subscriber:
    with server.session() as session:
        found = session.scalars(select(Subscriber).where(Subscriber.address == ADDRESS)).one()
        session.expunge(found)
        return found


def test_subscribe_confirm_from_the_mail_and_unsubscribe_from_a_notice(
    mail_server: tuple[LiveServer, Any], context: Any, shots: Path
) -> None:
    server, sink = mail_server
    page = context.new_page()
    page.goto(server.url + "/")
    page.get_by_role("link", name="更新情報を受け取る").click()
    expect(page).to_have_url(server.url + "/subscribe")
    expect(page.locator("h1")).to_have_text("障害・メンテナンス情報のメール配信")
    expect(page.get_by_label("日本語")).to_be_checked()
    shot(page, shots, "subscribe.png")
    narrow(page, "subscribe", shots)

    # A mistyped address: refused in Japanese with a 4xx, everything typed still there.
    page.get_by_label("メールアドレス").fill(TYPO)
    page.get_by_label("決済").check()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="登録する").click()
    assert answer.value.status == 422
    expect(page.get_by_role("alert")).to_have_text(
        f"{TYPO} はメールアドレスの形式になっていません。入力内容をご確認ください。"
    )
    expect(page.get_by_label("メールアドレス")).to_have_value(TYPO)
    expect(page.get_by_label("決済")).to_be_checked()
    expect(page.get_by_label("ログイン")).not_to_be_checked()
    shot(page, shots, "subscribe-error.png")
    narrow(page, "subscribe with an error", shots)

    # Corrected: the "check your mailbox" page, and a real confirmation mail.
    page.get_by_label("メールアドレス").fill(ADDRESS)
    page.get_by_role("button", name="登録する").click()
    expect(page.locator("h1")).to_have_text("確認メールをお送りしました")
    expect(page.locator("main")).to_contain_text(
        f"{ADDRESS} がまだ登録されていなければ、確認メールをお送りしました。"
    )
    shot(page, shots, "subscribe-sent.png")
    narrow(page, "subscribe sent", shots)
    assert subscriber(server).status == "pending"
    sent_text = page.locator("main").inner_text()
    # No mail yet? Asking again with the same address: the same page, a new mail.
    page.goto(server.url + "/subscribe")
    page.get_by_label("メールアドレス").fill(ADDRESS)
    page.get_by_role("button", name="登録する").click()
    expect(page.locator("h1")).to_have_text("確認メールをお送りしました")
    assert page.locator("main").inner_text() == sent_text
    mail_to(sink, ADDRESS, 1, page)
    confirmation = mail_to(sink, ADDRESS, 2, page)
    assert confirmation["Subject"] == "【anshin デモ】配信登録の確認のお願い"
    found = re.search(r"http://127\.0\.0\.1:\d+/subscribe/confirm/\S+", plain_text(confirmation))
    assert found, plain_text(confirmation)
    html_part = confirmation.get_body(preferencelist=("html",))
    assert html_part is not None and f'<a href="{found.group(0)}">' in str(html_part.get_content())

    # The link in the mail confirms the subscription.
    page.goto(found.group(0))
    expect(page.locator("h1")).to_have_text("登録が完了しました")
    expect(page.locator("main")).to_contain_text(
        "今後、障害・メンテナンス情報をメールでお届けします。"
    )
    shot(page, shots, "subscribe-confirmed.png")
    narrow(page, "subscribe confirmed", shots)
    assert subscriber(server).status == "active"
    # A confirmed address gets the same answer as a new one, and no mail.
    page.goto(server.url + "/subscribe")
    page.get_by_label("メールアドレス").fill(ADDRESS)
    page.get_by_role("button", name="登録する").click()
    assert page.locator("main").inner_text() == sent_text
    assert subscriber(server).status == "active"

    # The first notice of an incident on the chosen service arrives with an unsubscribe link.
    with server.session() as session:
        incident = service.declare(
            session,
            server.settings,
            service.IncidentInput(
                title="決済が完了しない",
                title_en="Payments fail",
                severity="sev2",
                components=["決済"],
            ),
            actor="seed",
        )
        body = comms.compose(
            session, server.settings, incident, "first_notice", "ja", "status_page"
        ).text
        service.publish_update(session, server.settings, incident, body_ja=body, actor="seed")
        session.commit()
    notice = mail_to(sink, ADDRESS, 3, page)  # after the two confirmation mails
    assert str(notice["Subject"]).startswith("【第1報】障害発生のお知らせ：決済が完了しない（")
    text = plain_text(notice)
    leave = re.search(
        r"配信の停止をご希望の場合は、こちらのリンクを開いてください:\n(http://\S+/unsubscribe/\S+)",
        text,
    )
    assert leave, text
    assert f"<{leave.group(1)}>" in str(notice["List-Unsubscribe"])

    # Opening the link asks first (a link scanner's GET changes nothing); the button stops mail.
    page.goto(leave.group(1))
    expect(page.locator("h1")).to_have_text("配信を停止する")
    expect(page.locator("main")).to_contain_text(f"{ADDRESS} への配信を停止しますか？")
    shot(page, shots, "unsubscribe.png")
    narrow(page, "unsubscribe", shots)
    assert subscriber(server).status == "active"
    page.get_by_role("button", name="配信を停止する").click()
    expect(page.locator("h1")).to_have_text("配信を停止しました")
    expect(page.get_by_role("link", name="もう一度登録する")).to_be_visible()
    fits(page, "unsubscribed")
    narrow(page, "unsubscribed", shots)
    assert subscriber(server).status == "unsubscribed"


def test_subscribe_form_in_english_and_back_to_japanese(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    page = context.new_page()
    page.goto(live_server.url + "/subscribe?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Subscribe to status updates")
    expect(page.get_by_label("Email address")).to_be_visible()
    expect(page.get_by_label("English")).to_be_checked()  # mails in the reader's language
    expect(page.get_by_label("Payments")).to_be_visible()  # services by their English names
    expect(page.get_by_role("button", name="Subscribe")).to_be_visible()
    shot(page, shots, "subscribe-en.png")
    narrow(page, "subscribe in English", shots)

    # A refusal reads in English too.
    page.get_by_label("Email address").fill(TYPO)
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("alert")).to_have_text(f"{TYPO} is not a valid email address.")
    expect(page.get_by_label("Email address")).to_have_value(TYPO)

    # Corrected, with English chosen: subscribed (this was a 422 「日本語の文面が必要です」).
    page.get_by_label("Email address").fill("reader@example.com")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Subscribe").click()
    assert answer.value.status == 200
    expect(page.locator("h1")).to_have_text("Check your inbox")
    expect(page.locator("main")).to_contain_text("a confirmation mail is on its way")
    page.goto(live_server.url + "/subscribe?lang=en")

    # The language switch goes back to Japanese, and the choice is remembered.
    page.get_by_role("link", name="日本語").click()
    expect(page.locator("h1")).to_have_text("障害・メンテナンス情報のメール配信")
    page.goto(live_server.url + "/subscribe")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
