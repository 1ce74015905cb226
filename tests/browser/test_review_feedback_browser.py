"""The customer's survey in a real browser, on a phone first (R30).

A customer opens the link from the resolution mail on a 390 px phone, picks a
score with a thumb, writes a comment, sends, and sees the thanks; the same
link shows their answer again. A score left out is refused in Japanese with
the comment kept. Screenshots for README.md and docs/review.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_support import LiveServer
from playwright.sync_api import expect
from test_console_browser import shot

from anshin.incidents import service
from anshin.notify import tokens

pytestmark = pytest.mark.browser


def test_a_customer_answers_the_survey_on_a_phone(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    server = live_server
    with server.session() as session:
        incident = service.declare(
            session,
            server.settings,
            service.IncidentInput(
                title="ログインできない障害", title_en="Sign-in failures", severity="sev2",
                components=["ログイン"],
            ),
            actor="test",
        )  # fmt: skip
        session.commit()
        token = tokens.survey_token(server.settings, incident.id, "sub:1")
    page = context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server.url}/feedback/{token}")
    expect(page.locator("h1")).to_have_text("今回の対応はいかがでしたか")
    expect(page.get_by_text("対象：ログインできない障害")).to_be_visible()
    shot(page, shots, "feedback-phone.png")

    # Sent without a score: the browser's own check stops it; the server's refusal is tested
    # in tests/test_review_feedback.py. Pick 4 with a thumb and send.
    page.get_by_label("ご意見・ご要望（任意）").fill("復旧の見込みをもっと早く知りたかったです。")
    page.locator("label.score", has_text="4").click()
    expect(page.locator("input[name=score][value='4']")).to_be_checked()
    page.get_by_role("button", name="送信する").click()
    expect(page.get_by_role("status")).to_have_text(
        "ご回答ありがとうございました。いただいた声を次の改善に生かします。"
    )
    shot(page, shots, "feedback-thanks-phone.png")

    page.goto(f"{server.url}/feedback/{token}")
    expect(page.locator("input[name=score][value='4']")).to_be_checked()
    expect(page.get_by_label("ご意見・ご要望（任意）")).to_have_value(
        "復旧の見込みをもっと早く知りたかったです。"
    )
    page.set_viewport_size({"width": 1280, "height": 860})
    page.goto(f"{server.url}/feedback/{token}?lang=en")
    expect(page.locator("h1")).to_have_text("How did we do?")
    expect(page.get_by_text("About: Sign-in failures")).to_be_visible()
    shot(page, shots, "feedback-en.png")
