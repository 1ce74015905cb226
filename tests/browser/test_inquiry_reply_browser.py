"""Replying to inquiries in a real browser (Debian Chromium via Playwright), R21, R26.

The operator holding an inquiry opens its reply page, sees the template drafted
for the customer, sends a text the check refuses (the findings show, nothing is
sent), fixes it and sends. A lead answers everyone who asked about the incident
in one action. Screenshots: docs/screenshots/inquiry-reply.png and
inquiry-reply-all.png (with ANSHIN_UPDATE_SCREENSHOTS=1); each page also at 390 px.
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
from test_console_browser import shot, sign_in

from anshin.incidents import service as incidents
from anshin.inquiries import service
from anshin.inquiries.models import Inquiry
from anshin.inquiries.service import NewInquiry, TriageValues
from anshin.team.models import User

pytestmark = pytest.mark.browser
GOOD = (
    "お問い合わせいただき、ありがとうございます。\n"
    "ログインできない状態が続き、ご不便とご心配をおかけしており、誠に申し訳ございません。\n"
    "現在、復旧に向けて対応しております。状況はステータスページでお知らせいたします。"
)
BAD = "お問い合わせの件、現在調査中です。ステータスページをご確認ください。"
NAMES = ["山田 花子", "佐藤 一郎", "鈴木 美咲", "高橋 健太", "田中 陽子", "伊藤 大輔"]


def _world(server: LiveServer) -> tuple[str, str]:
    """An incident, an email inquiry held by the operator, and a few more on the incident."""
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
        refs = []
        for n, name in enumerate(NAMES):
            inquiry = service.receive(
                session,
                server.settings,
                NewInquiry(
                    channel="email" if n % 3 else "form",
                    text="ログインできません。いつ直りますか。仕事が止まっていて困っています。",
                    customer_name=name,
                    customer_email=f"customer{n}@example.com",
                    subject="ログインできません",
                    mail_message_id=f"<m{n}@customer.example>",
                ),
                actor="seed",
                triage=TriageValues(incident.id, "status_inquiry", 1, 1, False),
            )
            refs.append(inquiry.reference)
        first = session.scalar(select(Inquiry).where(Inquiry.reference == refs[0]))
        assert first is not None
        first.claimed_by_id = operator.id
        session.commit()
        return incident.reference, refs[0]


def test_an_agent_replies_from_the_template_and_the_check_guards_it(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    _incident, ref = _world(live_server)
    page = context.new_page()
    sign_in(page, live_server, "operator")
    page.goto(f"{live_server.url}/console/inquiries/{ref}/reply")
    body = page.locator("#reply_body")
    expect(body).to_have_value(re.compile("山田 花子 様"))
    expect(page.locator("#reply_subject")).to_have_value(re.compile(ref))
    body.fill(BAD)
    page.get_by_role("button", name="チェックして送信").click()
    expect(page.locator('[data-rule="missing-apology"]').first).to_be_visible()
    expect(body).to_have_value(BAD)  # nothing typed is lost
    body.fill(GOOD)
    page.get_by_label("この返信で結果を報告する").check()
    page.get_by_role("button", name="チェックして送信").click()
    expect(page.locator(".flash")).to_contain_text("返信を送信しました")
    expect(page.locator(".conversation")).to_contain_text("ご不便とご心配をおかけしており")
    expect(page.locator(".conversation")).to_contain_text("結果報告")
    shot(page, shots, "inquiry-reply.png")
    narrow(page, "inquiry reply", shots)


def test_a_lead_answers_everyone_who_asked_in_one_action(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    incident_ref, _ref = _world(live_server)
    page = context.new_page()
    sign_in(page, live_server, "senior")
    page.goto(f"{live_server.url}/console/incidents/{incident_ref}/inquiries/reply-all")
    expect(page.get_by_text("対応中のお問い合わせ5件を選択しています。")).to_be_visible()
    expect(page.get_by_text("他の担当者が対応中の1件は対象外です。")).to_be_visible()
    page.locator("#body_ja").fill(
        "現在、ログインできない障害の復旧作業を進めております。"
        "復旧の見込みが立ち次第、改めてご連絡いたします。"
    )
    shot(page, shots, "inquiry-reply-all.png")
    narrow(page, "inquiry reply all", shots)
    page.get_by_role("button", name="チェックして5件に送信").click()
    expect(page.locator(".flash")).to_contain_text("5件のお問い合わせに回答を送りました")
    with live_server.session() as session:
        answered = [
            i.reference
            for i in session.scalars(select(Inquiry))
            if any(m.direction == "out" for m in i.messages)
        ]
    assert len(answered) == 5 and _ref not in answered
