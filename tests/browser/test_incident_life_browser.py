"""Correcting an incident's times and reopening it, in a real browser (R1, R5, R7, R22).

A senior opens a resolved incident, corrects its recovery time in the small
form under the record (the event log shows before and after), then reopens it
with the 「再発のお知らせ」 after ticking the box: the components are down again
and the timer counts to the next update. Screenshots for docs/console.md.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from browser_support import LiveServer
from playwright.sync_api import expect
from test_console_browser import shot, sign_in

from anshin.db import utcnow
from anshin.incidents import service
from anshin.timefmt import input_local
from notice_texts import RESOLUTION_JA, notice_en, notice_ja

pytestmark = pytest.mark.browser


def test_correct_the_recovery_time_then_reopen(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    now = utcnow()
    settings = live_server.settings
    with live_server.session() as session:
        incident = service.declare(
            session,
            settings,
            service.IncidentInput(
                title="ログインできない障害",
                title_en="Sign-in failures",
                severity="sev2",
                components=["ログイン"],
            ),
            actor="test",
            now=now - dt.timedelta(hours=2),
        )
        service.publish_update(
            session,
            settings,
            incident,
            body_ja=notice_ja("一部のお客さまがログインできない状態です。"),
            body_en=notice_en("Some customers cannot sign in."),
            actor="test",
            now=now - dt.timedelta(hours=2),
        )
        service.resolve(
            session,
            settings,
            incident,
            body_ja=RESOLUTION_JA + "原因と再発防止策は12月10日までにご報告いたします。",
            actor="test",
            now=now - dt.timedelta(minutes=30),
        )
        session.commit()
        ref = incident.reference
    page = context.new_page()
    sign_in(page, live_server, "senior")
    page.goto(f"{live_server.url}/console/incidents/{ref}")
    page.get_by_text("発生時刻・復旧時刻を訂正する").click()
    recovered = now - dt.timedelta(minutes=45)
    page.locator("#times_resolved_at").fill(input_local(recovered, settings.timezone))
    page.get_by_role("button", name="時刻を保存").click()
    expect(page.locator(".flash")).to_have_text("時刻を訂正しました。")
    expect(page.locator(".events")).to_contain_text("時刻を訂正")
    reopen = page.locator("#reopen")
    expect(reopen).to_contain_text("再開")
    expect(page.locator("#reopen_body_ja")).to_have_value(
        re.compile("再び問題が発生していることを確認いたしました")
    )
    reopen.scroll_into_view_if_needed()
    shot(page, shots, "incident-reopen.png")
    page.get_by_role("button", name="再開して再発のお知らせを公開").click()
    # The browser keeps the unticked form from going out (required box).
    expect(page.locator("#reopen")).to_be_visible()
    reopen.get_by_role("checkbox").check()
    page.get_by_role("button", name="再開して再発のお知らせを公開").click()
    expect(page.locator(".flash")).to_have_text(
        "インシデントを再開し、再発のお知らせを公開しました。"
    )
    expect(page.locator(".timer-big")).to_contain_text("次回続報の期限")
    expect(page.locator(".events")).to_contain_text("再開・再発のお知らせを公開")


def test_an_owed_report_is_a_due_item_on_the_dashboard(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    """The report promised 7 days after a recovery 9 days ago is red on the dashboard; the
    report notice published from the record clears it."""
    now = utcnow()
    settings = live_server.settings
    with live_server.session() as session:
        incident = service.declare(
            session,
            settings,
            service.IncidentInput(title="決済の遅延", severity="sev3", components=["決済"]),
            actor="test",
            now=now - dt.timedelta(days=10),
        )
        service.publish_update(
            session,
            settings,
            incident,
            body_ja=notice_ja("決済に時間がかかっております。"),
            actor="test",
            now=now - dt.timedelta(days=10),
        )
        service.resolve(
            session,
            settings,
            incident,
            body_ja=RESOLUTION_JA + "原因と再発防止策は報告書でご報告いたします。",
            actor="test",
            resolved_at=now - dt.timedelta(days=9),
            now=now - dt.timedelta(days=9),
        )
        session.commit()
        ref = incident.reference
    page = context.new_page()
    sign_in(page, live_server, "operator")
    reports = page.locator("#reports")
    expect(reports).to_contain_text("約束した報告書")
    expect(reports.locator(".timer.overdue")).to_contain_text("報告書の期限")
    shot(page, shots, "dashboard-reports.png")
    expect(reports).to_contain_text(ref)
    reports.get_by_role("link").first.click()
    report = page.locator("#report")
    expect(page.locator("#report_body_ja")).to_have_value(re.compile("報告書を公開いたしました"))
    report.get_by_role("checkbox").check()
    page.get_by_role("button", name="報告書公開のお知らせを公開").click()
    expect(page.locator(".flash")).to_have_text("報告書公開のお知らせを公開しました。")
    page.goto(live_server.url + "/console")
    expect(page.locator("#reports")).to_have_count(0)
