"""One inquiry from the public form to closed, in a real browser (Debian Chromium, Playwright).

The whole desk on one page (R18-R27): a customer writes from the status page's
form and gets the acknowledgement by mail (aiosmtpd on 127.0.0.1, delivered by
the embedded worker); the inquiry waits in the level-1 queue with its incident;
an operator claims it and escalates it to level 2 with a reason (the handoff
note lands in the conversation); a senior claims it, records a callback
promise, the customer's request and our decision, replies from the drafted,
checked template (the customer gets that mail, in their thread), sees a
published update forwarded to the customer, and moves the flow through to
resolved and shared with a note: the inquiry is closed. Leads reach the
inquiries from the incident's record, supervisors the harassment queue from
the queues' tabs. Screenshots: docs/screenshots/inquiry-flow-*.png (with
ANSHIN_UPDATE_SCREENSHOTS=1); the inquiry page is also checked at 390 px.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from browser_support import LiveServer
from playwright.sync_api import expect
from sqlalchemy import select
from test_compose_browser import narrow
from test_console_browser import shot, sign_in
from test_inquiry_intake_browser import declare
from test_subscribe_browser import mail_to, plain_text

from anshin import events
from anshin.incidents import service as incidents
from anshin.incidents.models import Incident
from anshin.inquiries.models import Inquiry

pytestmark = pytest.mark.browser
ADDRESS = "hanako@example.com"
WORDS = "朝9時ごろからログインできません。いつ直るか教えてください。"
UPDATE_JA = (
    "ログインできない障害について、原因を特定し、復旧作業を進めております。"
    "ご不便をおかけし、誠に申し訳ございません。次回は30分以内にお知らせいたします。"
)
ZONE = ZoneInfo("Asia/Tokyo")


def _in(hours: int) -> str:
    return (dt.datetime.now(ZONE) + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def _inquiry(server: LiveServer, reference: str) -> tuple[Inquiry, list[str]]:
    with server.session() as session:
        found = session.scalars(select(Inquiry).where(Inquiry.reference == reference)).one()
        actions = [e.action for e in events.history(session, "inquiry", found.id)]
        _ = found.commitments, found.requests, found.messages
        session.expunge_all()
        return found, actions


def _second_agent(context: Any, server: LiveServer, role: str) -> Any:
    page = context.browser.new_context(
        viewport={"width": 1280, "height": 860}, locale="ja-JP", timezone_id="Asia/Tokyo"
    ).new_page()
    page.set_default_timeout(10_000)
    sign_in(page, server, role)
    return page


def test_one_inquiry_from_the_public_form_to_closed(
    mail_server: tuple[LiveServer, Any], context: Any, shots: Path
) -> None:
    server, sink = mail_server
    incident_ref = declare(server, "ログインできない障害", "Sign-in failures", "ログイン")

    # The customer writes from the status page and gets the reference by mail.
    customer = context.new_page()
    customer.goto(server.url + "/")
    customer.get_by_role("link", name="お問い合わせ").click()
    customer.get_by_label("メールアドレス").fill(ADDRESS)
    customer.get_by_label("お名前").fill("山田 花子")
    customer.get_by_label("お問い合わせ内容").fill(WORDS)
    customer.get_by_role("button", name="送信する").click()
    expect(customer.locator("h1")).to_have_text("お問い合わせを受け付けました")
    ref = customer.locator("#reference").inner_text().strip()
    assert ref.startswith("Q-")
    ack = mail_to(sink, ADDRESS, 1, customer)
    assert ref in str(ack["Subject"])

    # It waits in the level-1 queue with its incident; an operator claims it.
    operator = _second_agent(context, server, "operator")
    operator.goto(server.url + "/console/inquiries?level=1")
    row = operator.locator("table.inquiry-queue tbody tr", has_text=ref)
    expect(row).to_contain_text(incident_ref)
    expect(row).to_contain_text("山田 花子")
    row.get_by_role("link", name=ref).click()
    expect(operator.locator("blockquote.original")).to_have_text(WORDS)
    expect(operator.locator("#triage")).to_contain_text(incident_ref)
    operator.get_by_role("button", name="担当する").click()
    expect(operator.locator(".flash")).to_have_text("このお問い合わせを担当しました。")
    # The reply box is on the page, drafted from the template for this customer.
    expect(operator.locator("#reply_body")).to_have_value(re.compile("山田 花子 様"))
    expect(operator.get_by_role("button", name="チェックして送信")).to_be_enabled()
    operator.get_by_role("button", name="傾聴・共感 へ進める").click()
    expect(operator.locator(".stages li.current")).to_have_text("傾聴・共感")
    operator.get_by_label("エスカレーション／差し戻し先").select_option("2")
    operator.locator("#level-reason").fill("業務への影響が大きく、詳しい説明が必要")
    operator.get_by_role("button", name="レベルを変更").click()
    expect(operator.locator(".flash")).to_have_text("レベルを変更しました。")
    expect(operator.locator("#history")).to_contain_text("L1 → L2")
    expect(operator.locator("#claim")).to_contain_text("担当者はいません")
    # The handoff note is in the conversation; the sheet's summary links to the whole sheet.
    expect(operator.locator("#conversation .msg-note")).to_contain_text(f"引き継ぎシート {ref}")
    expect(operator.get_by_role("link", name="引き継ぎシート全体を開く")).to_be_visible()
    operator.context.close()

    # A senior takes it: the claim, a callback promise, the request and our decision.
    senior = _second_agent(context, server, "senior")
    senior.goto(f"{server.url}/console/inquiries?level=2")
    senior.get_by_role("link", name=ref).first.click()
    senior.get_by_role("button", name="担当する").click()
    expect(senior.locator("#claim")).to_contain_text("二次対応シニア さんが")
    senior.locator("#kind").select_option("callback")
    senior.locator("#description").fill("本日17時までに状況をお電話でご連絡")
    senior.locator("#due_at").fill(_in(3))
    senior.get_by_role("button", name="お約束を記録").click()
    expect(senior.locator(".flash")).to_contain_text("お約束を記録しました")
    expect(senior).to_have_url(f"{server.url}/console/inquiries/{ref}")  # back on one page
    expect(senior.locator("#commitments tbody tr")).to_have_count(1)
    expect(senior.locator("#commitments")).to_contain_text("折り返しのご連絡")
    senior.locator("#request-text").fill("復旧したらすぐにメールで知らせてほしい")
    senior.get_by_role("button", name="お願いを記録").click()
    expect(senior).to_have_url(f"{server.url}/console/inquiries/{ref}")
    senior.locator("#requests select[name=decision]").select_option("accepted")
    senior.get_by_role("button", name="判断を記録").click()
    expect(senior.locator(".decision-accepted")).to_have_text("お受けした")

    # The reply from the drafted, checked template, reporting the result.
    senior.get_by_role("button", name="事実確認 へ進める").click()
    senior.get_by_role("button", name="解決策提示 へ進める").click()
    expect(senior.locator(".stages li.current")).to_have_text("解決策提示")
    expect(senior.locator("#reply_body")).to_have_value(re.compile("山田 花子 様"))
    senior.get_by_label("この返信で結果を報告する").check()
    senior.get_by_role("button", name="チェックして送信").click()
    expect(senior.locator(".flash")).to_contain_text("返信を送信しました")
    expect(senior).to_have_url(f"{server.url}/console/inquiries/{ref}")
    reply = mail_to(sink, ADDRESS, 2, senior)
    assert ref in str(reply["Subject"])
    assert "山田 花子 様" in plain_text(reply)
    expect(senior.locator("#conversation")).to_contain_text("山田 花子 様")
    senior.locator("#reply").scroll_into_view_if_needed()
    shot(senior, shots, "inquiry-flow-working.png")
    narrow(senior, "inquiry flow working", shots)

    # A published update reaches the customer who is still waiting (R26).
    with server.session() as session:
        incident = session.scalars(select(Incident).where(Incident.reference == incident_ref)).one()
        incidents.publish_update(
            session, server.settings, incident, body_ja=UPDATE_JA, actor="lead"
        )
        session.commit()
    forwarded = mail_to(sink, ADDRESS, 3, senior)
    assert ref in str(forwarded["Subject"]) and UPDATE_JA in plain_text(forwarded)

    # The callback is kept; the flow goes through to resolved and shared: closed.
    senior.reload()
    expect(senior.locator("#history")).to_contain_text("障害の続報を転送")
    senior.locator("#commitments").get_by_role("button", name="完了にする").click()
    expect(senior.locator("#commitments .state-kept")).to_be_visible()
    senior.get_by_role("button", name="結果報告・実行 へ進める").click()
    expect(senior.locator(".stages li.current")).to_have_text("結果報告・実行")
    senior.get_by_label("チームへのメモ").fill(
        "ログイン障害の状況確認。結果報告済み。復旧時にメールで連絡する約束あり。"
    )
    senior.get_by_role("button", name="社内共有 へ進める").click()
    expect(senior.locator(".stages li.current")).to_have_text("社内共有")
    expect(senior.locator(".page-head .st-resolved")).to_contain_text("完了")
    expect(senior.locator("#reply")).to_have_count(0)  # nothing more to answer
    shot(senior, shots, "inquiry-flow-closed.png")
    narrow(senior, "inquiry flow closed", shots)

    # From the incident's record, a lead reaches its inquiries and the reply to all.
    senior.goto(f"{server.url}/console/incidents/{incident_ref}")
    panel = senior.locator("#incident-inquiries")
    expect(panel).to_contain_text("累計 1件")
    panel.get_by_role("link", name="お問い合わせの皆様へ一括回答").click()
    expect(senior).to_have_url(f"{server.url}/console/incidents/{incident_ref}/inquiries/reply-all")
    senior.go_back()
    senior.locator("#incident-inquiries").get_by_role(
        "link", name="紐付くお問い合わせを開く"
    ).click()
    expect(senior.locator("select[name=incident]")).to_have_value(incident_ref)
    senior.context.close()

    inquiry, actions = _inquiry(server, ref)
    assert inquiry.closed_at is not None and inquiry.stage == "shared" and inquiry.level == 2
    assert [c.kind for c in inquiry.commitments] == ["callback"]
    assert [r.decision for r in inquiry.requests] == ["accepted"]
    for expected in (
        "inquiry.acknowledged",
        "inquiry.claimed",
        "inquiry.escalated",
        "inquiry.commitment_added",
        "inquiry.request_decided",
        "inquiry.replied",
        "inquiry.update_forwarded",
        "inquiry.commitment_kept",
    ):
        assert expected in actions, expected
    assert actions.count("inquiry.stage_changed") == 5


def test_queue_tabs_lead_a_supervisor_to_the_harassment_queue(
    live_server: LiveServer, context: Any
) -> None:
    page = context.new_page()
    sign_in(page, live_server, "supervisor")
    page.goto(live_server.url + "/console/inquiries")
    page.get_by_role("link", name="カスハラ対応キュー").click()
    expect(page.locator("h1")).to_have_text("カスハラ対応キュー")
    expect(page.locator('nav.tabs a[aria-current="page"]')).to_have_text("カスハラ対応キュー")
    page.locator("form[action$='/logout'] button").click()
    sign_in(page, live_server, "operator")
    page.goto(live_server.url + "/console/inquiries")
    expect(page.locator("nav.tabs")).to_contain_text("未担当")
    expect(page.get_by_role("link", name="カスハラ対応キュー")).to_have_count(0)
