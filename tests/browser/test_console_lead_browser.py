"""What a lead uses in the console, in a real browser (Debian Chromium via Playwright):
the dashboard on a 390 px phone, who was notified per notice (as a supervisor and as an
operator), the subscribers page, the incident list with its filters, the confirmation
before resolving, the no-news warning and the on-duty page.

Each page is checked at 1280 px and at 390 px for sideways overflow; screenshots go to
docs/screenshots/ with ANSHIN_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from typing import Any

import pytest
from browser_support import LiveServer
from playwright.sync_api import expect
from sqlalchemy import func, select
from test_compose_browser import narrow
from test_console_browser import fits, shot, sign_in

from anshin.db import make_engine, utcnow
from anshin.incidents import nudges, service
from anshin.incidents.models import IncidentUpdate
from anshin.notify import subscribers
from anshin.notify.models import Delivery, OutboxMessage

pytestmark = pytest.mark.browser
LONG_TITLE = "一部のお客様がクレジットカード決済を完了できず、お支払い画面から先へ進めない事象"
FIRST_JA = (
    "現在、一部のお客様がクレジットカード決済を完了できない事象が発生しております。"
    "ご不便をおかけし、誠に申し訳ございません。原因は現在確認中です。"
    "次回は30分以内にお知らせいたします。"
)


def _declare(server: LiveServer, title: str, minutes_ago: int, **facts: Any) -> str:
    with server.session() as session:
        incident = service.declare(
            session,
            server.settings,
            service.IncidentInput(title=title, **facts),
            actor="seed",
            now=utcnow() - dt.timedelta(minutes=minutes_ago),
        )
        session.commit()
        return incident.reference


def _publish(server: LiveServer, ref: str, minutes_ago: int) -> int:
    """A public first notice published ``minutes_ago``; returns its outbox message id."""
    with server.session() as session:
        incident = service.get(session, ref)
        update = service.publish_update(
            session,
            server.settings,
            incident,
            body_ja=FIRST_JA,
            body_en=(
                "Some customers cannot complete card payments. We are sorry for the trouble. "
                "We are still checking why. We will post the next update within 30 minutes."
            ),
            actor="seed",
            now=utcnow() - dt.timedelta(minutes=minutes_ago),
        )
        session.commit()
        message_id = session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.update_id == update.id)
        )
        assert message_id is not None
        return int(message_id)


def _phone(context: Any) -> Any:
    phone = context.browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        device_scale_factor=1,
    )
    phone.set_default_timeout(10_000)
    return phone


def test_the_dashboard_on_a_phone_shows_cards_with_the_countdown_first(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    late = _declare(
        live_server,
        LONG_TITLE,
        22,
        title_en="Some customers cannot complete card payments",
        severity="sev1",
        components=["決済"],
        estimated_affected_customers=3400,
    )
    _declare(live_server, "メールの到着が遅れている", 4, severity="sev3", components=["メール配信"])
    phone = _phone(context)
    try:
        page = phone.new_page()
        sign_in(page, live_server, "operator")
        cards = page.locator("tr[data-due-row]")
        expect(cards).to_have_count(2)
        fits(page, "dashboard at 390px")
        for index in range(2):
            card = cards.nth(index)
            title = card.locator("td.title a")
            timer = card.locator(".timer")
            box_title = title.bounding_box()
            box_timer = timer.bounding_box()
            assert box_title is not None and box_timer is not None
            lines = int(title.evaluate("el => el.getClientRects().length"))  # its line boxes
            line = float(title.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)"))
            # A title wraps as text does: a few full lines, never a column of single characters.
            assert 1 <= lines <= 3, f"the title takes {lines} lines"
            assert box_title["height"] <= 3.5 * line
            cell = card.locator("td.title").bounding_box()
            assert cell is not None and cell["width"] >= 300
            # The countdown comes first and lies inside the screen.
            assert box_timer["y"] < box_title["y"]
            assert box_timer["x"] >= 0 and box_timer["x"] + box_timer["width"] <= 390
        first_timer = cards.first.locator(".timer").bounding_box()
        assert first_timer is not None and first_timer["y"] + first_timer["height"] <= 844
        expect(cards.first).to_contain_text(late)
        expect(cards.first.locator(".timer-text")).to_contain_text("超過")
        page.screenshot(path=str(shots / "dashboard-phone.png"), full_page=True)
    finally:
        phone.close()
    # On a wide screen it stays a table.
    page = context.new_page()
    sign_in(page, live_server, "operator")
    expect(page.locator("table.open-incidents thead")).to_be_visible()
    fits(page, "dashboard at 1280px")


def _wait_delivered(server: LiveServer, message_id: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with server.session() as session:
            waiting = session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(
                    Delivery.message_id == message_id,
                    Delivery.status.in_(("pending", "sending", "failed")),
                )
            )
        if not waiting:
            return
        time.sleep(0.2)
    raise AssertionError("the notice was not delivered in time")


def test_who_was_notified_as_a_supervisor_and_as_an_operator(
    mail_server: tuple[LiveServer, Any], context: Any, shots: Path
) -> None:
    server, _sink = mail_server
    ref = _declare(server, LONG_TITLE, 6, severity="sev2", components=["決済"])
    message_id = _publish(server, ref, 2)
    _wait_delivered(server, message_id)

    page = context.new_page()
    sign_in(page, server, "supervisor")
    page.goto(f"{server.url}/console/incidents/{ref}")
    page.get_by_role("link", name="配信先").first.click()
    expect(page).to_have_url(f"{server.url}/console/messages/{message_id}/deliveries")
    rows = page.locator("tr[id^=delivery-row-]")
    expect(rows).to_have_count(5)
    dead = page.locator("tr.state-dead")
    expect(dead).to_contain_text("user1@example.com")  # whole, for a supervisor
    expect(dead).to_contain_text("SMTP 550")
    expect(page.locator("tr.state-sent").first).to_contain_text("送信済み")
    shot(page, shots, "recipients-supervisor.png")
    narrow(page, "who was notified, supervisor", shots)

    operator = context.browser.new_context(viewport={"width": 1280, "height": 860}, locale="ja-JP")
    try:
        op_page = operator.new_page()
        sign_in(op_page, server, "operator")
        op_page.goto(f"{server.url}/console/messages/{message_id}/deliveries")
        expect(op_page.locator("tr.state-dead")).to_contain_text("us•••@example.com")
        expect(op_page.locator("body")).not_to_contain_text("user1@example.com")
        expect(op_page.locator(".hint").first).to_contain_text("一部を伏せて表示")
        shot(op_page, shots, "recipients-operator.png")
        narrow(op_page, "who was notified, operator", shots)
    finally:
        operator.close()


def test_the_subscribers_page_finds_removes_and_resends(
    mail_server: tuple[LiveServer, Any], context: Any, shots: Path
) -> None:
    server, sink = mail_server
    with server.session() as session:
        for address, confirmed, locale in (
            ("tanaka@shop.example.jp", True, "ja"),
            ("suzuki@corp.example.com", False, "ja"),
            ("lee@corp.example.com", True, "en"),
        ):
            subscribers.subscribe_email(
                session, server.settings, email=address, confirmed=confirmed, locale=locale
            )
        session.commit()
    page = context.new_page()
    sign_in(page, server, "senior")
    page.get_by_role("navigation").get_by_role("link", name="購読者").click()
    expect(page.locator("tr[id^=subscriber-]")).to_have_count(8)  # five seeded and three
    page.get_by_label("アドレスに含む文字").fill("corp")
    page.get_by_role("button", name="検索").click()
    expect(page.locator("tr[id^=subscriber-]")).to_have_count(2)
    expect(page.locator(".result-count")).to_have_text("2件の購読者が該当します。")
    shot(page, shots, "subscribers.png")
    narrow(page, "subscribers", shots)

    pending = page.locator("tr", has_text="suzuki@corp.example.com")
    time.sleep(1.1)  # the first confirmation mail is older than a second (resend waits a minute)
    with server.session() as session:
        found = subscribers.find(session, "email", "suzuki@corp.example.com")
        assert found is not None and found.confirmation_sent_at is not None
        found.confirmation_sent_at = found.confirmation_sent_at - dt.timedelta(minutes=5)
        session.commit()
    pending.get_by_role("button", name="確認メールを再送").click()
    expect(page.locator(".flash")).to_have_text(
        "suzuki@corp.example.com への確認メールを送信しています。"
    )
    expect(page.get_by_label("アドレスに含む文字")).to_have_value("corp")  # the search is kept

    page.locator("tr", has_text="lee@corp.example.com").get_by_role("link", name="削除").click()
    expect(page.locator("h1")).to_have_text("この購読者を削除しますか？")
    shot(page, shots, "subscriber-remove.png")
    narrow(page, "remove a subscriber", shots)
    page.get_by_role("button", name="削除する").click()
    expect(page.locator(".flash")).to_have_text("lee@corp.example.com を削除しました。")
    expect(page.locator("tr[id^=subscriber-]")).to_have_count(1)

    def mails_to_suzuki() -> int:
        return sum("suzuki@corp.example.com" in r.recipients for r in sink.handler.received)

    # The first confirmation and the resent one: wait for the second, not merely for any.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and mails_to_suzuki() < 2:
        time.sleep(0.2)
    assert mails_to_suzuki() == 2


def test_the_incident_list_searches_and_filters(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    payment = _declare(
        live_server,
        LONG_TITLE,
        60,
        title_en="Card payments fail",
        severity="sev1",
        components=["決済"],
    )
    _declare(
        live_server, "メールの到着が遅れている", 30, severity="sev3", components=["メール配信"]
    )
    _declare(live_server, "管理画面の表示が遅い", 10, severity="sev2", components=["管理画面"])
    _publish(live_server, payment, 50)
    page = context.new_page()
    sign_in(page, live_server, "operator")
    page.get_by_role("navigation").get_by_role("link", name="インシデント一覧").click()
    expect(page.locator("table.incident-list tbody tr")).to_have_count(3)
    page.get_by_label("キーワード").fill("決済 お支払い")
    page.get_by_label("重大度").select_option("sev1")
    page.get_by_label("状態").select_option("open")
    today = utcnow().astimezone(dt.timezone(dt.timedelta(hours=9))).date().isoformat()
    page.locator("#since").fill(today)
    page.get_by_role("button", name="検索").click()
    expect(page.locator("table.incident-list tbody tr")).to_have_count(1)
    expect(page.locator("table.incident-list")).to_contain_text(payment)
    expect(page.get_by_label("キーワード")).to_have_value("決済 お支払い")
    shot(page, shots, "incidents.png")
    narrow(page, "incident list", shots)
    page.get_by_label("キーワード").fill("存在しない語")
    page.get_by_role("button", name="検索").click()
    expect(page.locator(".empty")).to_contain_text("該当するインシデントはありません")


def test_resolving_asks_first_and_no_news_warns_after_real_news(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    ref = _declare(live_server, LONG_TITLE, 20, severity="sev2", components=["決済"])
    _publish(live_server, ref, 3)
    page = context.new_page()
    sign_in(page, live_server, "operator")
    page.goto(f"{live_server.url}/console/incidents/{ref}")
    panel = page.locator("#no-news")
    expect(panel.locator(".no-news-warning")).to_contain_text("3分前に公開したばかりです")
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=str(shots / "no-news-warning.png"))
    # Unticked, the browser itself keeps the form from going out (no script needed).
    panel.get_by_role("button", name="「続報なし（引き続き対応中）」を公開").click()
    assert panel.locator("input[name=confirm]").evaluate("el => !el.checkValidity()")
    with live_server.session() as session:
        assert session.scalar(select(func.count()).select_from(IncidentUpdate)) == 1

    page.get_by_role("link", name="復旧報告を書く").click()
    expect(page.locator(".compose-kind .badge")).to_have_text("復旧報告")
    publish = page.get_by_role("button", name="解決にして復旧報告を公開")
    publish.click()  # not ticked: the server refuses and keeps the texts
    expect(page.locator("#err-confirm")).to_contain_text("確認のチェックを入れてください")
    expect(page.locator("#body_ja")).to_have_value(re.compile("復旧いたしました"))
    box = page.locator("#compose")
    box.locator(".confirm-check").scroll_into_view_if_needed()
    shot(page, shots, "confirm-resolve.png")
    narrow(page, "resolve confirmation", shots)
    box.locator("input[name=confirm]").check()
    page.get_by_role("button", name="解決にして復旧報告を公開").click()
    expect(page.locator(".flash")).to_have_text(re.compile("解決にし"))
    with live_server.session() as session:
        assert service.get(session, ref).status == "resolved"


def test_the_on_duty_page(live_server: LiveServer, context: Any, shots: Path) -> None:
    live_server.settings.staff_webhook_url = "https://hooks.example.com/services/T0/B0/SECRET"
    page = context.new_page()
    sign_in(page, live_server, "senior")
    page.get_by_role("navigation").get_by_role("link", name="当番").click()
    mine = page.locator("li.duty", has_text="二次対応シニア")
    mine.get_by_role("button", name="当番に入る").click()
    expect(page.locator(".flash")).to_have_text(
        "二次対応シニア さんを当番にしました。期限の通知が届きます。"
    )
    expect(page.locator("li.duty", has_text="二次対応シニア")).to_contain_text("当番")
    expect(
        page.locator("li.duty", has_text="一次対応オペレーター").get_by_role("button")
    ).to_have_count(0)
    ref = _declare(live_server, "管理画面の表示が遅い", 17, severity="sev2")
    engine = make_engine(live_server.settings.database_url)
    try:
        (sent,) = nudges.sweep(engine, live_server.settings)  # what the sweeper runs every minute
    finally:
        engine.dispose()
    assert sent.reference == ref and sent.kind == "overdue" and sent.recipients == 2
    page.reload()
    expect(page.locator(".events li")).to_contain_text(ref)
    expect(page.locator(".events li")).to_contain_text("期限超過")
    shot(page, shots, "on-duty.png")
    narrow(page, "on duty", shots)
