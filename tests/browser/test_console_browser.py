"""The console in a real browser (Debian Chromium via Playwright) against a live server.

One end-to-end path (sign in → declare → first notice → update → the text is
on the public status page) and a look at every page a person uses, saved as
screenshots for docs/console.md. Each page is checked for horizontal overflow.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from browser_support import PASSWORD, USERS, LiveServer
from playwright.sync_api import expect

from anshin.db import utcnow
from anshin.incidents import maintenance, service
from anshin.incidents import messages as comms

pytestmark = pytest.mark.browser
UPDATE_TEXT = "認証サーバーの切り替えを行い、一部のお客様はログインできるようになりました。"
# The English update promises the time in the form's next-update field (next-update-mismatch).
UPDATE_EN = (
    "We switched the authentication servers, and some customers can sign in again. "
    "We are sorry for the trouble this is causing. We will post the next update by {time} JST."
)


def fits(page: Any, name: str) -> None:
    """Nothing on the page spills sideways past the window."""
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"


def shot(page: Any, folder: Path, name: str) -> None:
    """Check the page fits, then save a full-page screenshot."""
    fits(page, name)
    page.screenshot(path=str(folder / name), full_page=True)


def sign_in(page: Any, server: LiveServer, role: str) -> None:
    email, name = USERS[role]
    page.goto(server.url + "/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page).to_have_url(server.url + "/console")
    expect(page.locator(".who-name")).to_have_text(name)


def test_sign_in_refuses_a_wrong_password_then_lets_the_user_in(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    page = context.new_page()
    page.goto(live_server.url + "/console")
    expect(page).to_have_url(re.compile(r"/login\?next=/console$"))
    shot(page, shots, "login.png")
    page.get_by_label("メールアドレス").fill(USERS["operator"][0])
    page.get_by_label("パスワード").fill("wrong-password")
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("alert")).to_have_text(
        "メールアドレスまたはパスワードが正しくありません。"
    )
    expect(page.get_by_label("メールアドレス")).to_have_value(USERS["operator"][0])
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page).to_have_url(live_server.url + "/console")
    assert page.evaluate("() => window.htmx && window.htmx.version").startswith("2.")


def test_declare_publish_first_notice_and_update_reach_the_status_page(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    page = context.new_page()
    sign_in(page, live_server, "operator")
    page.get_by_role("navigation").get_by_role("link", name="インシデント宣言").click()
    page.get_by_label("件名（日本語）").fill("ログインできない障害")
    page.get_by_label("件名（英語）").fill("Some customers cannot sign in")
    page.locator("input[name=severity][value=sev1]").check()
    page.get_by_label("概要（日本語）").fill(
        "ログイン画面で「しばらくしてからお試しください」と表示され、ログインできません。"
    )
    page.get_by_label("ログイン").check()
    page.get_by_label("管理画面").check()
    page.get_by_label("推定影響顧客数").fill("1200")
    page.get_by_label("回避策（日本語）").fill("スマートフォンアプリからはログインできます。")
    page.get_by_label("回避策（英語）").fill("You can still sign in from the smartphone app.")
    page.get_by_label("チーム向けメモ").fill("認証DBのフェイルオーバーを検討中。")
    shot(page, shots, "incident-new.png")
    page.get_by_role("button", name="インシデント宣言").click()

    expect(page).to_have_url(re.compile(r"/console/incidents/INC-\d{4}-0001$"))
    expect(page.locator(".flash")).to_contain_text("続けて第一報を公開してください。")
    first_notice = page.locator("#body_ja")
    expect(first_notice).to_have_value(re.compile("ログイン、管理画面がご利用いただけない状態"))
    expect(first_notice).to_have_value(re.compile("復旧の見込み：現在確認中"))
    expect(page.locator(".timer-big")).to_contain_text("第一報の期限")
    before = page.locator(".timer-big .timer-text").inner_text()
    page.wait_for_timeout(1200)
    assert page.locator(".timer-big .timer-text").inner_text() != before  # it ticks
    page.get_by_role("button", name="第一報を公開").click()
    expect(page.locator(".flash")).to_have_text("第一報を公開しました。")

    page.locator("input[name=status][value=identified]").check()
    template = page.locator("#body_ja").input_value()  # the update template, checked
    page.locator("#body_ja").fill(UPDATE_TEXT + "\n" + template)
    promised = page.locator("#next_update_at").input_value()[-5:]  # 2026-12-06T13:45
    page.locator("#body_en").fill(UPDATE_EN.format(time=promised))
    page.get_by_role("button", name="続報を公開").click()
    expect(page.locator(".flash")).to_have_text("続報を公開しました。")
    expect(page.locator(".timeline > li")).to_have_count(2)
    expect(page.locator(".timer-big")).to_contain_text("次回続報の期限")
    shot(page, shots, "incident-detail.png")
    page.goto(page.url + "?lang=en")
    expect(page.locator("h2").first).to_have_text("Publish an update")
    fits(page, "incident detail in English")
    if shots.name == "screenshots" and shots.parent.name != "docs":
        page.screenshot(path=str(shots / "incident-detail-en.png"), full_page=True)
    page.goto(page.url.replace("?lang=en", "?lang=ja"))

    page.goto(live_server.url + "/")
    expect(page.locator("body")).to_contain_text(UPDATE_TEXT)
    expect(page.locator("body")).to_contain_text("ログインできない障害")
    shot(page, shots, "statuspage-ja.png")
    page.goto(live_server.url + "/?lang=en")
    expect(page.locator("body")).to_contain_text("We switched the authentication servers")
    shot(page, shots, "statuspage-en.png")


def test_dashboard_timers_count_down_and_turn_red_when_overdue(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    now = utcnow()
    with live_server.session() as session:
        late = service.declare(
            session,
            live_server.settings,
            service.IncidentInput(
                title="決済が完了しない",
                title_en="Payments fail",
                severity="sev1",
                components=["決済"],
                estimated_affected_customers=3400,
            ),
            actor="seed",
            now=now - dt.timedelta(minutes=22),
        )
        due = service.declare(
            session,
            live_server.settings,
            service.IncidentInput(
                title="メールの到着が遅れている",
                title_en="Emails are delayed",
                severity="sev3",
                components=["メール配信"],
            ),
            actor="seed",
            now=now - dt.timedelta(minutes=4),
        )
        session.commit()
        late_ref, due_ref = late.reference, due.reference
    page = context.new_page()
    sign_in(page, live_server, "operator")
    late_row = page.locator("tr[data-due-row]", has_text=late_ref)
    due_row = page.locator("tr[data-due-row]", has_text=due_ref)
    expect(late_row).to_have_class(re.compile(r"\boverdue\b"))
    expect(due_row).not_to_have_class(re.compile(r"\boverdue\b"))
    expect(late_row.locator(".timer-text")).to_contain_text("超過")
    expect(due_row.locator(".timer-text")).to_contain_text("残り")
    red = late_row.locator(".timer").evaluate("el => getComputedStyle(el).backgroundColor")
    assert red == "rgb(180, 35, 24)"
    before = due_row.locator(".timer-text").inner_text()
    page.wait_for_timeout(1200)
    assert due_row.locator(".timer-text").inner_text() != before
    # A new incident appears when htmx refreshes the list (it polls every 30 s).
    with live_server.session() as session:
        third = service.declare(
            session,
            live_server.settings,
            service.IncidentInput(title="管理画面の表示が遅い", severity="sev2"),
            actor="seed",
            now=utcnow() - dt.timedelta(minutes=1),
        )
        session.commit()
        third_ref = third.reference
    page.evaluate(
        "() => htmx.ajax('GET', '/console/partials/open-incidents',"
        " {target: '#open-incidents', swap: 'outerHTML'})"
    )
    expect(page.locator("tr[data-due-row]")).to_have_count(3)
    page.wait_for_timeout(300)
    # Keep the dashboard screenshot to the two incidents the docs describe.
    with live_server.session() as session:
        third_incident = service.get(session, third_ref)
        service.resolve(
            session,
            live_server.settings,
            third_incident,
            body_ja=comms.compose(
                session, live_server.settings, third_incident, "resolution", "ja", "status_page"
            ).text,
            actor="seed",
        )
        session.commit()
    page.reload()
    expect(page.locator("tr[data-due-row]")).to_have_count(2)
    shot(page, shots, "dashboard.png")


def test_setup_pages_for_seniors_and_admins(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    start = utcnow() + dt.timedelta(days=2)
    with live_server.session() as session:
        maintenance.schedule(
            session,
            live_server.settings,
            title="決済基盤の定期メンテナンス",
            title_en="Scheduled payments maintenance",
            body="この時間帯は決済をご利用いただけません。",
            scheduled_start=start,
            scheduled_end=start + dt.timedelta(hours=2),
            components=["決済"],
            actor="seed",
        )
        session.commit()
    page = context.new_page()
    sign_in(page, live_server, "senior")
    page.get_by_role("navigation").get_by_role("link", name="コンポーネント").click()
    page.get_by_label("名前（日本語）").fill("API")
    page.get_by_label("名前（英語）").fill("API")
    page.get_by_label("グループ").fill("連携")
    page.get_by_role("button", name="コンポーネントを追加").click()
    expect(page.locator(".flash")).to_have_text("コンポーネント「API」を追加しました。")
    shot(page, shots, "components.png")

    page.get_by_role("navigation").get_by_role("link", name="メンテナンス").click()
    expect(page.locator("table.list")).to_contain_text("決済基盤の定期メンテナンス")
    page.get_by_label("件名（日本語）").fill("夜間バックアップ")
    page.get_by_role("button", name="登録").click()
    expect(page.locator(".error").first).to_be_visible()
    expect(page.get_by_label("件名（日本語）")).to_have_value("夜間バックアップ")
    page.goto(live_server.url + "/console/maintenance")
    shot(page, shots, "maintenance.png")

    admin = context.browser.new_context(viewport={"width": 1280, "height": 860}, locale="ja-JP")
    try:
        admin_page = admin.new_page()
        sign_in(admin_page, live_server, "admin")
        admin_page.get_by_role("navigation").get_by_role("link", name="APIトークン").click()
        admin_page.get_by_label("名前").fill("監視アラート")
        admin_page.get_by_role("button", name="トークンを作成").click()
        expect(admin_page.locator("#new-token")).to_have_text(re.compile(r"^anshin_"))
        shot(admin_page, shots, "tokens.png")
    finally:
        admin.close()
