"""The handoff sheet and the harassment path in a real browser (Debian Chromium via Playwright).

A supervisor reads an escalated inquiry's handoff sheet — the customer's words,
the three columns, the disagreements with their reasons — records a refund an
operator was refused, and sets the next step; an operator hands a harassing
caller to a supervisor in one click, and the supervisor's queue shows it with
the evidence to download. Screenshots: docs/screenshots/inquiry-handoff.png and
inquiry-harassment.png (with ANSHIN_UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from browser_support import USERS, LiveServer
from playwright.sync_api import expect
from sqlalchemy import select
from test_compose_browser import narrow
from test_console_browser import shot, sign_in

from anshin.db import utcnow
from anshin.incidents import service as incidents
from anshin.inquiries import service
from anshin.team.models import User

pytestmark = pytest.mark.browser
FIRST_JA = (
    "現在、ログインできない状態が発生しております。ご不便をおかけし、誠に申し訳ございません。"
    "原因は現在確認中です。次回は30分以内にお知らせいたします。"
)
HARASSING = "いい加減にしろ！土下座しに家に来い。来ないならSNSで晒すからな。"
ZONE = ZoneInfo("Asia/Tokyo")


def _world(server: LiveServer) -> tuple[str, str]:
    """An incident started 2 hours ago with its first notice, and an angry inquiry about it
    that says it started an hour earlier, that nobody told them, names 決済, wants a refund."""
    now = utcnow()
    started = now - dt.timedelta(hours=2)
    said = (started - dt.timedelta(hours=1)).astimezone(ZONE)
    words = (
        f"{said.hour}時頃からずっとログインできません！何の連絡もないし、決済も止まっているのでは？"
        "業務が完全に止まっています。今月分は返金してください。"
    )
    with server.session() as session:
        incident = incidents.declare(
            session,
            server.settings,
            incidents.IncidentInput(
                title="ログインできない障害",
                severity="sev2",
                components=["ログイン"],
                started_at=started,
                workaround="スマートフォンアプリからはログインできます。",
            ),
            actor="seed",
            now=started + dt.timedelta(minutes=5),
        )
        incidents.publish_update(
            session,
            server.settings,
            incident,
            body_ja=FIRST_JA,
            actor="seed",
            now=started + dt.timedelta(minutes=10),
        )
        inquiry = service.receive(
            session,
            server.settings,
            service.NewInquiry(
                channel="email",
                text=words,
                customer_name="山田 太郎",
                customer_email="yamada@example.com",
                customer_org="株式会社ヤマダ商事",
                customer_tier="important",
                received_at=now - dt.timedelta(minutes=20),
            ),
            actor="seed",
            triage=service.TriageValues(
                incident_id=incident.id,
                intent="compensation_request",
                level=3,
                temperature=3,
                harassment=False,
            ),
        )
        flagged = service.receive(
            session,
            server.settings,
            service.NewInquiry(
                channel="phone",
                text=HARASSING,
                customer_name="匿名の方",
                customer_phone="090-0000-0000",
                received_at=now - dt.timedelta(minutes=5),
            ),
            actor="seed",
            triage=service.TriageValues(
                incident_id=incident.id,
                intent="complaint",
                level=3,
                temperature=3,
                harassment=True,
            ),
        )
        operator = session.scalars(select(User).where(User.email == USERS["operator"][0])).one()
        flagged.claimed_by_id = operator.id
        flagged.claimed_at = now
        session.commit()
        return inquiry.reference, flagged.reference


def _due(hours: int) -> str:
    return (dt.datetime.now(ZONE) + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def test_handoff_sheet_authority_and_next_step(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    ref, _ = _world(live_server)
    page = context.new_page()
    sign_in(page, live_server, "operator")
    page.goto(f"{live_server.url}/console/inquiries/{ref}/handoff")
    page.get_by_label("種類").select_option("refund")
    page.get_by_label("お約束する内容").fill("今月分の利用料金を全額返金")
    page.locator("#due_at").fill(_due(24))
    page.get_by_role("button", name="お約束を記録").click()
    expect(page.locator("#err-kind")).to_contain_text("レベル 3 以上")
    expect(page.get_by_label("お約束する内容")).to_have_value("今月分の利用料金を全額返金")
    page.get_by_label("種類").select_option("callback")
    page.get_by_label("お約束する内容").fill("本日中に状況を折り返しお電話")
    page.locator("#due_at").fill(_due(3))
    page.get_by_role("button", name="お約束を記録").click()
    expect(page.locator(".flash")).to_contain_text("お約束を記録しました")
    page.locator("form[action$='/logout'] button").click()

    sign_in(page, live_server, "supervisor")
    page.goto(f"{live_server.url}/console/inquiries/{ref}/handoff")
    page.get_by_label("お客様のお願い").fill("今月分の利用料金の返金")
    page.get_by_role("button", name="お願いを記録").click()
    page.locator("select[name=decision]").select_option("alternative")
    page.locator("input[name=alternative]").fill("障害時間分をクレジットで補填")
    page.get_by_role("button", name="判断を記録").click()
    expect(page.locator(".decision-alternative")).to_have_text("代替案をご提案")
    page.get_by_label("種類").select_option("credit")
    page.get_by_label("お約束する内容").fill("障害時間分の利用料金をクレジットで補填")
    page.locator("#due_at").fill(_due(48))
    page.get_by_role("button", name="お約束を記録").click()
    expect(page.locator(".flash")).to_contain_text("お約束を記録しました")
    page.get_by_label("提案する次の対応").fill(
        "決済への影響を技術チームに確認し、結果をお電話でご報告"
    )
    page.locator("#next_action_due_at").fill(_due(4))
    page.get_by_role("button", name="次の対応を保存").click()
    expect(page.locator(".flash")).to_contain_text("次の対応を保存しました")

    flags = page.locator(".disagreements li")
    expect(flags).to_have_count(3)  # start time, no notice, 決済; the refund is now answered
    expect(page.locator(".disagreements")).to_contain_text("頃から発生したとおっしゃっています")
    expect(page.locator(".disagreements")).to_contain_text("連絡がないとおっしゃっています")
    expect(page.locator(".disagreements")).to_contain_text("決済に触れていますが")
    expect(page.locator(".inventory")).to_contain_text(
        "スマートフォンアプリからはログインできます。"
    )
    expect(page.locator(".inventory")).to_contain_text(FIRST_JA)
    expect(page.locator("#commitments tbody tr")).to_have_count(2)
    shot(page, shots, "inquiry-handoff.png")
    narrow(page, "inquiry handoff", shots)

    text = page.request.get(f"{live_server.url}/console/inquiries/{ref}/handoff.txt").text()
    assert "== 食い違い ==" in text and "障害時間分の利用料金をクレジットで補填" in text


def test_harassment_handover_queue_and_evidence(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    _, flagged = _world(live_server)
    page = context.new_page()
    sign_in(page, live_server, "operator")
    page.goto(f"{live_server.url}/console/inquiries/{flagged}/handoff")
    expect(page.locator(".badge-harass")).to_be_visible()
    page.get_by_role("button", name="スーパーバイザーに引き継ぐ").click()
    expect(page.locator(".flash")).to_contain_text("スーパーバイザーに引き継ぎました")
    page.locator("form[action$='/logout'] button").click()

    sign_in(page, live_server, "supervisor")
    page.goto(f"{live_server.url}/console/inquiries/harassment")
    expect(page.locator("h1")).to_have_text("カスハラ対応キュー")
    expect(page.locator("tbody").first).to_contain_text(flagged)
    expect(page.locator("tbody").first).to_contain_text("土下座しに家に来い")
    expect(page.locator("table").nth(1)).to_contain_text("一次対応オペレーター")
    expect(page.get_by_role("link", name="スクリプト").first).to_be_visible()
    shot(page, shots, "inquiry-harassment.png")
    narrow(page, "inquiry harassment", shots)
    with page.expect_download() as download:
        page.get_by_role("link", name="JSON").click()
    saved = json.loads(Path(download.value.path()).read_text("utf-8"))
    assert saved["original_text"] == HARASSING
    assert saved["history"][-1]["action"] == "inquiry.handed_to_supervisor"
    page.get_by_role("link", name="スクリプト").first.click()
    expect(page.locator("textarea").first).to_contain_text("警告の読み上げ文")
