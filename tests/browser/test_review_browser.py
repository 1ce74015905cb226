"""The review page in a real browser (Debian Chromium via Playwright), R30/R31.

An operator opens a resolved incident's record, follows the way to its review,
reads the metrics, the gaps in words and the timeline in Japan time, and
follows a gap to one of the inquiries behind it. Screenshot:
docs/screenshots/review-page.png (with ANSHIN_UPDATE_SCREENSHOTS=1); the page
must fit a laptop and a phone without spilling sideways.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browser_support import LiveServer
from playwright.sync_api import expect
from test_compose_browser import narrow
from test_console_browser import shot, sign_in

from review_world import world

pytestmark = pytest.mark.browser


def test_an_operator_reads_the_review_and_follows_a_gap(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    with live_server.session() as session:
        on, ups = world(session, live_server.settings)
        ref = on.reference
    page = context.new_page()
    sign_in(page, live_server, "operator")
    page.goto(f"{live_server.url}/console/incidents/{ref}")
    page.get_by_role("link", name="振り返りを開く").click()
    expect(page).to_have_url(f"{live_server.url}/console/incidents/{ref}/review")
    expect(page.get_by_role("heading", level=1)).to_contain_text("振り返り")
    gaps = page.locator("#gaps li.gap")
    expect(gaps).to_have_count(4)
    expect(gaps.first).to_contain_text(
        "10:00–11:30：状況のお問い合わせ4件が復旧の時期を尋ねましたが、"
        "復旧見込みを示した更新はありませんでした"
    )
    expect(page.locator("#metrics")).to_contain_text("宣言から最初の公開告知まで")
    expect(page.locator("#review-timeline")).to_contain_text("2026/12/01 10:05 (JST)")
    page.set_viewport_size({"width": 1366, "height": 900})
    shot(page, shots, "review-page.png")
    narrow(page, "review page", shots)
    # A gap names the updates the customers could read: the link lands on that update.
    first = page.locator("#gaps li.gap").first
    first.get_by_role("link", name=f"#{ups['first'].id} 10:05 第一報").click()
    expect(page).to_have_url(re.compile(rf"#update-{ups['first'].id}$"))
    # …and the inquiries behind it: the first leads to that inquiry's page.
    link = page.locator("#gaps li.gap").first.locator("a.mono").first
    inquiry_ref = link.inner_text()
    link.click()
    expect(page).to_have_url(f"{live_server.url}/console/inquiries/{inquiry_ref}")
