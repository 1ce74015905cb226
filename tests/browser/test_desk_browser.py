"""The inquiry desk in a real browser (Debian Chromium via Playwright): the queue with its
countdowns, claiming and escalating on the inquiry page, the skill map, the dashboard's waits.

Each page is checked at 1280 px and 390 px for sideways overflow; screenshots go to
docs/screenshots/ with ANSHIN_UPDATE_SCREENSHOTS=1 (inquiry-queue.png, inquiry-detail.png,
skill-map.png, dashboard-inquiries.png, inquiry-queue-pages.png: a queue past 50 rows).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_support import LiveServer
from playwright.sync_api import expect
from sqlalchemy import select
from test_compose_browser import narrow
from test_console_browser import fits, shot, sign_in

from anshin import events
from anshin.inquiries import service
from anshin.inquiries.models import Inquiry
from anshin.inquiries.queues import QUEUE_PAGE_SIZE as SIZE
from anshin.inquiries.service import NewInquiry, TriageValues
from anshin.team import duty
from anshin.team.models import User
from desk_world import SAMPLES, seed_desk

pytestmark = pytest.mark.browser


def _seed(server: LiveServer) -> list[str]:
    with server.session() as session:
        world = seed_desk(session, server.settings)
        for user in session.scalars(select(User).where(User.role.in_(["senior", "operator"]))):
            duty.set_on_duty(session, user, user.id, True)
        session.commit()
        return world.inquiries


def test_queue_claim_and_escalate(live_server: LiveServer, context: Any, shots: Path) -> None:
    refs = _seed(live_server)
    page = context.new_page()
    sign_in(page, live_server, "operator")
    page.get_by_role("link", name="お問い合わせ", exact=True).first.click()
    expect(page.locator("h1")).to_have_text("お問い合わせ")
    rows = page.locator("table.inquiry-queue tbody tr")
    expect(rows).to_have_count(len(SAMPLES))
    # The oldest unanswered level-1 inquiry is overdue: its row and timer are red.
    expect(page.locator("tr.overdue .timer.overdue").first).to_be_visible()
    expect(page.locator("tr.overdue .timer-text").first).to_contain_text("超過")
    shot(page, shots, "inquiry-queue.png")
    narrow(page, "inquiry queue", shots)

    page.get_by_role("link", name="レベル1").click()
    expect(rows).to_have_count(sum(1 for s in SAMPLES if s.level == 1))
    page.locator("select[name=channel]").select_option("email")
    page.get_by_role("button", name="絞り込む").click()
    expect(rows).to_have_count(sum(1 for s in SAMPLES if s.level == 1 and s.channel == "email"))

    ref = refs[[s.name for s in SAMPLES].index("鈴木 一郎")]
    page.get_by_role("link", name=ref).click()
    expect(page.locator("blockquote.original")).to_have_text(SAMPLES[1].text)
    page.get_by_role("button", name="担当する").click()
    expect(page.locator(".flash")).to_have_text("このお問い合わせを担当しました。")
    expect(page.locator("#claim")).to_contain_text("一次対応オペレーター さんが")
    page.get_by_role("button", name="傾聴・共感 へ進める").click()
    expect(page.locator(".stages li.current")).to_have_text("傾聴・共感")
    page.get_by_label("エスカレーション／差し戻し先").select_option("2")
    page.locator("#level-reason").fill("回避策のアプリでもエラーになるとのこと。詳しい説明が必要")
    page.get_by_role("button", name="レベルを変更").click()
    expect(page.locator(".flash")).to_have_text("レベルを変更しました。")
    expect(page.locator("#history")).to_contain_text("L1 → L2")
    # The operator cannot answer at level 2: the claim was let go.
    expect(page.locator("#claim")).to_contain_text("担当者はいません")

    senior = context.browser.new_context(
        viewport={"width": 1280, "height": 860}, locale="ja-JP", timezone_id="Asia/Tokyo"
    ).new_page()
    sign_in(senior, live_server, "senior")
    senior.goto(f"{live_server.url}/console/inquiries/{ref}")
    senior.get_by_role("button", name="担当する").click()
    expect(senior.locator("#claim")).to_contain_text("二次対応シニア さんが")
    # The operator's stale page: claiming now is refused with who holds it.
    page.reload()
    expect(page.get_by_role("button", name="担当する")).to_have_count(0)
    expect(page.locator("#claim")).to_contain_text("二次対応シニア さんが")
    shot(senior, shots, "inquiry-detail.png")
    narrow(senior, "inquiry detail", shots)
    senior.context.close()
    with live_server.session() as session:
        inquiry = session.scalar(select(Inquiry).where(Inquiry.reference == ref))
        assert inquiry is not None and inquiry.level == 2
        actions = [e.action for e in events.history(session, "inquiry", inquiry.id)]
    assert actions[-2:] == ["inquiry.escalated", "inquiry.claimed"]


def test_skill_map_and_dashboard_waits(live_server: LiveServer, context: Any, shots: Path) -> None:
    _seed(live_server)
    page = context.new_page()
    sign_in(page, live_server, "supervisor")
    panel = page.locator("#inquiry-waits")
    expect(panel).to_contain_text("お問い合わせの待ち状況")
    expect(panel.locator(".wait.alert").first).to_contain_text("応援を入れてください")
    expect(panel.locator('[role="alert"]')).to_contain_text("L1")
    panel.scroll_into_view_if_needed()
    shot(page, shots, "dashboard-inquiries.png")
    narrow(page, "dashboard with inquiries", shots)

    page.get_by_role("link", name="スキルマップ").first.click()
    expect(page.locator("h1")).to_have_text("スキルマップ")
    row = page.locator("tr", has_text="二次対応シニア")
    row.locator("summary").click()
    row.get_by_label("レベルの上限").select_option("1")
    row.get_by_label("英語").check()
    row.get_by_role("button", name="保存").click()
    expect(page.locator(".flash")).to_have_text("スキルマップを更新しました。")
    row = page.locator("tr", has_text="二次対応シニア")
    expect(row).to_contain_text("制限中（役割は L2）")
    expect(row).to_contain_text("英語")
    shot(page, shots, "skill-map.png")
    narrow(page, "skill map", shots)


def test_queue_pages_by_fifty(live_server: LiveServer, context: Any, shots: Path) -> None:
    """A queue past one page: 50 rows, then 「次の…件」 brings the rest, and back again."""
    _seed(live_server)
    with live_server.session() as session:
        extra = SIZE - len(SAMPLES) + 7
        for n in range(extra):
            service.receive(
                session,
                live_server.settings,
                NewInquiry(channel="chat", text=f"つながりません（{n}）"),
                actor="test",
                triage=TriageValues(
                    incident_id=None,
                    intent="status_inquiry",
                    level=1,
                    temperature=1,
                    harassment=False,
                ),
            )
        session.commit()
    page = context.new_page()
    sign_in(page, live_server, "operator")
    page.goto(live_server.url + "/console/inquiries")
    rows = page.locator("table.inquiry-queue tbody tr")
    expect(rows).to_have_count(SIZE)
    pager = page.locator("nav.pager")
    expect(pager).to_contain_text(f"{SIZE + 7}件中 1–{SIZE}件")
    # The screen an agent sees at the end of the first page: the last rows and the pager.
    fits(page, "inquiry queue pages")
    pager.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "inquiry-queue-pages.png"))
    narrow(page, "inquiry queue pages", shots)
    pager.get_by_role("link", name="次の7件").click()
    expect(rows).to_have_count(7)
    expect(page).to_have_url(live_server.url + "/console/inquiries?page=2")
    page.locator("nav.pager").get_by_role("link", name=f"前の{SIZE}件").click()
    expect(rows).to_have_count(SIZE)
