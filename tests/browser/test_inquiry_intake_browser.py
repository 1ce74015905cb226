"""Inquiries coming in, in a real browser: the public form with real mail, and the phone form (R18).

A customer follows 「お問い合わせ」 from the status page, forgets the text
(refused in Japanese, what was typed kept), sends the inquiry, reads the
reference and what happens next, and gets the acknowledgement mail with the
same reference from a local SMTP sink (aiosmtpd, delivered by the embedded
worker). The form in English too. An operator takes a call: the cursor starts
in the text, Enter in a one-line field saves, the reference to read out
appears above a fresh form, and Ctrl+Enter saves from the text. Screenshots
for README.md and docs/; each page is checked at 1280 px and 390 px.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_support import LiveServer
from playwright.sync_api import expect
from sqlalchemy import select
from test_compose_browser import narrow
from test_console_browser import shot, sign_in
from test_subscribe_browser import mail_to, plain_text

from anshin.incidents import service
from anshin.inquiries.models import Inquiry

pytestmark = pytest.mark.browser
ADDRESS = "hanako@example.com"


def inquiries(server: LiveServer) -> list[Inquiry]:
    with server.session() as session:
        rows = list(session.scalars(select(Inquiry).order_by(Inquiry.id)))
        session.expunge_all()
        return rows


def declare(server: LiveServer, title: str, title_en: str, component: str) -> str:
    with server.session() as session:
        incident = service.declare(
            session,
            server.settings,
            service.IncidentInput(
                title=title, title_en=title_en, severity="sev2", components=[component]
            ),
            actor="seed",
        )
        session.commit()
        return incident.reference


def test_a_customer_sends_the_form_and_gets_the_reference_by_mail(
    mail_server: tuple[LiveServer, Any], context: Any, shots: Path
) -> None:
    server, sink = mail_server
    page = context.new_page()
    page.goto(server.url + "/")
    page.get_by_role("link", name="お問い合わせ").click()
    expect(page).to_have_url(server.url + "/inquiry")
    expect(page.locator("h1")).to_have_text("お問い合わせ")
    expect(page.get_by_label("この欄は空のままにしてください")).not_to_be_in_viewport()
    expect(page.get_by_label("日本語")).to_be_checked()
    expect(
        page.get_by_label("お問い合わせに関係する障害の続報を、復旧までメールで受け取る")
    ).to_be_checked()

    page.get_by_label("メールアドレス").fill(ADDRESS)
    page.get_by_label("お名前").fill("山田 花子")
    page.get_by_label("会社名・団体名").fill("株式会社サンプル")
    page.get_by_label("お問い合わせ内容").fill(
        "朝9時ごろからログインできません。「認証に失敗しました」と表示されます。\n"
        "今日の午後に請求書を出す必要があるので、いつ直るか教えてください。"
    )
    shot(page, shots, "inquiry-form.png")
    narrow(page, "inquiry form", shots)

    # Forgot the text: refused in Japanese with a 4xx, the rest still there. (The
    # browser's own check is skipped so the server's answer is what is seen.)
    page.get_by_label("お問い合わせ内容").fill("   ")
    page.evaluate("document.querySelector('form.inquiry-form').noValidate = true")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="送信する").click()
    assert answer.value.status == 422
    expect(page.get_by_role("alert")).to_have_text(
        "本文が空です。お問い合わせの内容を入力してください。"
    )
    expect(page.get_by_label("メールアドレス")).to_have_value(ADDRESS)
    expect(page.get_by_label("お問い合わせ内容")).to_be_focused()
    assert inquiries(server) == []

    page.get_by_label("お問い合わせ内容").fill(
        "朝9時ごろからログインできません。いつ直るか教えてください。"
    )
    page.get_by_role("button", name="送信する").click()
    expect(page.locator("h1")).to_have_text("お問い合わせを受け付けました")
    (inquiry,) = inquiries(server)
    expect(page.locator("#reference")).to_have_text(inquiry.reference)
    expect(page.locator("main")).to_contain_text(f"受付確認のメールを {ADDRESS} にお送りしています")
    expect(page.locator("main")).to_contain_text("までにご回答いたします")
    shot(page, shots, "inquiry-thanks.png")
    narrow(page, "inquiry thanks", shots)

    mail = mail_to(sink, ADDRESS, 1, page)
    assert mail["Subject"] == f"【anshin デモ】お問い合わせを受け付けました（{inquiry.reference}）"
    body = plain_text(mail)
    assert "山田 花子 様" in body and f"お問い合わせ番号：{inquiry.reference}" in body


def test_the_form_in_english(live_server: LiveServer, context: Any, shots: Path) -> None:
    page = context.new_page()
    page.goto(live_server.url + "/inquiry?lang=en")
    expect(page.locator("h1")).to_have_text("Contact support")
    expect(page.get_by_label("English")).to_be_checked()
    page.get_by_label("Email address").fill("jane@example.com")
    page.get_by_label("Your name").fill("Jane Doe")
    page.get_by_label("What happened?").fill(
        "Since 9 am I cannot sign in: 'authentication failed'."
    )
    shot(page, shots, "inquiry-form-en.png")
    narrow(page, "inquiry form en", shots)
    page.get_by_role("button", name="Send inquiry").click()
    expect(page.locator("h1")).to_have_text("We have received your inquiry")
    (inquiry,) = inquiries(live_server)
    assert inquiry.locale == "en"
    expect(page.locator("#reference")).to_have_text(inquiry.reference)


def test_an_operator_takes_calls_without_leaving_the_keyboard(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    reference = declare(live_server, "ログインできない障害", "Sign-in failures", "ログイン")
    page = context.new_page()
    sign_in(page, live_server, "operator")
    page.get_by_role("link", name="電話受付").click()
    expect(page).to_have_url(live_server.url + "/console/inquiries/phone")
    text = page.get_by_label("お客様のお話の内容")
    expect(text).to_be_focused()  # typing starts at once
    expect(page.get_by_label("関係するインシデント")).to_have_value(
        str(_incident_id(live_server, reference))
    )

    page.keyboard.type("ログインできない。午後の会議で使うので、いつ直るか知りたい")
    page.keyboard.press("Tab")
    page.keyboard.type("佐藤 一郎")
    page.keyboard.press("Tab")
    page.keyboard.type("03-1234-5678")
    page.keyboard.press("Tab")
    page.keyboard.type("サンプル商事")
    page.keyboard.press("Enter")  # Enter in a one-line field saves
    expect(page.locator("#taken-ref")).to_be_visible()
    (first,) = inquiries(live_server)
    expect(page.locator("#taken-ref")).to_have_text(first.reference)
    expect(page.locator(".taken")).to_contain_text(reference)
    expect(text).to_have_value("")
    expect(text).to_be_focused()  # the next call can start at once
    assert first.channel == "phone" and first.customer_org == "サンプル商事"
    page.keyboard.type("請求画面も遅い気がする")
    shot(page, shots, "inquiry-phone.png")
    narrow(page, "inquiry phone", shots)

    page.keyboard.press("Control+Enter")  # saves from the text itself
    expect(page.locator("#taken-ref")).not_to_have_text(first.reference)
    second = inquiries(live_server)[1]
    expect(page.locator("#taken-ref")).to_have_text(second.reference)
    assert second.original_text == "請求画面も遅い気がする"


def _incident_id(server: LiveServer, reference: str) -> int:
    from anshin.incidents.models import Incident

    with server.session() as session:
        found = session.scalars(select(Incident).where(Incident.reference == reference)).one()
        return found.id
