"""R5 on the public page in a real browser: a promised next update that has passed reads late.

The incident's update promised the next one 10 minutes ago; the page a
customer opens says 「次回の更新が予定時刻（HH:MM）を過ぎています」 in red
(and "The next update, due at HH:MM, is late" in English), never the past
time as upcoming. Screenshots for docs/status-page.md.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from browser_support import LiveServer
from playwright.sync_api import expect
from test_console_browser import shot

from anshin.db import utcnow
from anshin.incidents import service
from anshin.statuspage import service as statuspage
from anshin.timefmt import clock_local
from notice_texts import notice_en, notice_ja

pytestmark = pytest.mark.browser


def test_a_passed_promise_reads_late_on_the_public_page(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    now = utcnow()
    published = now - dt.timedelta(minutes=40)
    promised = (now - dt.timedelta(minutes=10)).replace(second=0, microsecond=0)
    at = clock_local(promised, live_server.settings.timezone)
    with live_server.session() as session:
        incident = service.declare(
            session,
            live_server.settings,
            service.IncidentInput(
                title="ログインできない障害",
                title_en="Sign-in failures",
                severity="sev2",
                components=["ログイン"],
            ),
            actor="test",
            now=published - dt.timedelta(minutes=5),
        )
        service.publish_update(
            session,
            live_server.settings,
            incident,
            body_ja=notice_ja("一部のお客さまがログインできない状態です。", next_at=at),
            body_en=notice_en("Some customers cannot sign in.", next_at=at),
            next_update_at=promised,
            actor="test",
            now=published,
        )
        statuspage.publish(session, live_server.settings, now=now)
        session.commit()
    page = context.new_page()
    page.goto(live_server.url + "/")
    late = page.locator(".next-late")
    expect(late).to_have_text(f"次回の更新が予定時刻（{at}）を過ぎています")
    expect(page.locator(".next-current")).to_have_count(1)
    color = late.evaluate("e => getComputedStyle(e).color")
    assert color == "rgb(197, 48, 48)"  # the page's critical red
    shot(page, shots, "statuspage-late.png")
    page.goto(live_server.url + "/?lang=en")
    expect(page.locator(".next-late")).to_have_text(f"The next update, due at {at}, is late")
    shot(page, shots, "statuspage-late-en.png")
