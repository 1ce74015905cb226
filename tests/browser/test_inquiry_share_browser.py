"""Sharing with the departments concerned, and managing them, in a real browser (R21).

An operator opens a technical question escalated to L3 about an incident: the
「関係部署への共有」 panel has 開発部 ticked by the routing; an empty note is refused
beside the field with the ticks kept; with a note and 営業部 added the inquiry is
shared and its history says with whom. An administrator adds a department (a bad
address refused first, what was typed kept) and disables one. Screenshots:
docs/screenshots/inquiry-share.png and departments.png (with ANSHIN_UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from browser_support import LiveServer
from playwright.sync_api import expect
from test_compose_browser import narrow
from test_console_browser import shot, sign_in

from anshin.db import utcnow
from anshin.incidents import service as incidents
from anshin.inquiries import departments, service

pytestmark = pytest.mark.browser
WORDS = (
    "API から注文データを取得すると 500 エラーが返ります。昨日までは問題なく動いていました。"
    "連携しているシステムが止まっているので、原因と回避方法を至急教えてください。"
)


def _world(server: LiveServer) -> str:
    """Three departments (one disabled), an incident on ログイン and a technical question at L3."""
    now = utcnow()
    with server.session() as session:
        add = departments.DepartmentInput
        for data in (
            add("development", "開発部", "Development", "dev-team@example.com",
                intents=["technical_question", "data_concern"]),
            add("billing", "経理・契約部", "Billing and contracts", "billing@example.com",
                intents=["compensation_request"], components=["決済"]),
            add("sales", "営業部（重要顧客担当）", "Sales (key accounts)",
                "key-accounts@example.com", tiers=["important"]),
            add("legal", "法務部", "Legal", "legal@example.com", locale="en"),
        ):  # fmt: skip
            departments.add(session, server.settings, data, actor="seed")
        departments.set_active(session, departments.get(session, "legal"), False, actor="seed")
        incident = incidents.declare(
            session,
            server.settings,
            incidents.IncidentInput(
                title="API の応答エラー", severity="sev2", components=["ログイン"],
                started_at=now - dt.timedelta(hours=1),
            ),
            actor="seed",
        )  # fmt: skip
        inquiry = service.receive(
            session,
            server.settings,
            service.NewInquiry(
                channel="email",
                text=WORDS,
                customer_name="佐藤 花子",
                customer_email="sato@example.com",
                customer_org="株式会社サトウ物流",
                received_at=now - dt.timedelta(minutes=30),
            ),
            actor="seed",
            triage=service.TriageValues(
                incident_id=incident.id,
                intent="technical_question",
                level=3,
                temperature=2,
                harassment=False,
            ),
        )
        session.commit()
        return inquiry.reference


def test_share_an_inquiry_with_the_departments_concerned(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    ref = _world(live_server)
    page = context.new_page()
    sign_in(page, live_server, "operator")
    page.goto(f"{live_server.url}/console/inquiries/{ref}")
    panel = page.locator("#share")
    expect(panel.get_by_role("heading")).to_have_text("関係部署への共有")
    expect(panel.get_by_label("開発部")).to_be_checked()  # R21: technical → development
    expect(panel.get_by_label("経理・契約部")).not_to_be_checked()
    expect(panel.get_by_label("営業部（重要顧客担当）")).not_to_be_checked()
    expect(panel).not_to_contain_text("法務部")  # disabled
    panel.get_by_label("営業部（重要顧客担当）").check()
    note = (
        "API の 500 エラーについて、原因と回避策の確認をお願いします。"
        "お客様は連携システムが止まっており、至急の回答を求めています。"
    )
    panel.get_by_label("関係部署への連絡事項").fill(note)
    shot(page, shots, "inquiry-share.png")
    narrow(page, "inquiry share", shots)
    panel.get_by_label("関係部署への連絡事項").fill("")
    panel.get_by_role("button", name="関係部署に共有").click()
    expect(page.locator("#err-share_note")).to_have_text("関係部署への連絡事項を入力してください。")
    panel = page.locator("#share")
    expect(panel.get_by_label("営業部（重要顧客担当）")).to_be_checked()  # the ticks are kept
    panel.get_by_label("関係部署への連絡事項").fill(note)
    panel.get_by_role("button", name="関係部署に共有").click()
    expect(page.locator(".flash")).to_contain_text("開発部、営業部（重要顧客担当）に共有しました。")
    expect(page.locator("#history")).to_contain_text("関係部署に共有")
    expect(page.locator("#history")).to_contain_text("開発部、営業部（重要顧客担当）")
    expect(page.locator("#conversation")).to_contain_text("API の 500 エラーについて")


def test_departments_page_add_and_disable(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    _world(live_server)
    page = context.new_page()
    sign_in(page, live_server, "admin")
    page.get_by_role("navigation").get_by_role("link", name="関係部署").click()
    expect(page.locator("h1")).to_have_text("関係部署")
    rows = page.locator("table.departments tbody tr")
    expect(rows).to_have_count(4)
    page.get_by_label("キー").fill("support-ops")
    page.get_by_label("名前（日本語）").fill("インフラ運用部")
    page.get_by_label("名前（英語）").fill("Infrastructure operations")
    page.get_by_label("社内メールアドレス").fill("infra@localhost")
    page.get_by_role("group", name="受け取るお問い合わせの意図").get_by_label(
        "技術的な質問"
    ).check()
    page.get_by_role("group", name="…または次のコンポーネントの障害に関するもの").get_by_label(
        "ログイン"
    ).check()
    page.get_by_role("button", name="部署を追加").click()
    expect(page.locator("#err-email")).to_be_visible()
    expect(page.get_by_label("名前（日本語）")).to_have_value("インフラ運用部")
    page.get_by_label("社内メールアドレス").fill("infra-ops@example.com")
    page.get_by_role("button", name="部署を追加").click()
    expect(page.locator(".flash")).to_contain_text("部署「インフラ運用部」を追加しました。")
    expect(rows).to_have_count(5)
    shot(page, shots, "departments.png")
    narrow(page, "departments", shots)
    page.locator("a[href='/console/departments/billing']").click()
    page.get_by_role("button", name="無効にする").click()
    expect(page.locator(".flash")).to_contain_text("部署「経理・契約部」を無効にしました。")
    expect(page.locator("table.departments")).to_contain_text("無効")
