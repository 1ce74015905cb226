"""An administrator manages a person in a real browser: role, password, deactivation (issue 7).

The person is signed in in a browser of their own; the administrator's change
signs them out there at once (server-side sessions). Saves
docs/screenshots/user-manage.png for docs/console.md.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browser_support import PASSWORD, USERS, LiveServer
from playwright.sync_api import expect
from test_console_browser import shot, sign_in

pytestmark = pytest.mark.browser


def test_an_admin_changes_a_role_and_the_person_is_signed_out(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    person = context.browser.new_context(viewport={"width": 1280, "height": 860}, locale="ja-JP")
    try:
        operator = person.new_page()
        sign_in(operator, live_server, "operator")

        page = context.new_page()
        sign_in(page, live_server, "admin")
        page.get_by_role("navigation").get_by_role("link", name="ユーザー").click()
        row = page.locator("tr", has_text=USERS["operator"][0])
        row.get_by_role("link", name="管理").click()
        expect(page.locator("h1")).to_contain_text(USERS["operator"][1])
        expect(page.locator(".page-head")).to_contain_text("現在のログイン: 1 セッション")

        page.get_by_label("役割", exact=True).select_option("senior")
        page.get_by_role("button", name="役割を変更").click()
        expect(page.locator(".flash")).to_contain_text("セッションは終了しました")
        expect(page.locator(".page-head")).to_contain_text("現在のログイン: 0 セッション")

        operator.reload()
        expect(operator).to_have_url(re.compile(r"/login\?next=/console$"))

        page.get_by_label("新しいパスワード").fill("short")
        page.get_by_role("button", name="新しいパスワードを設定").click()
        # The browser's own minlength check keeps the form from being sent.
        expect(page.locator(".flash")).to_contain_text("セッションは終了しました")
        page.get_by_label("新しいパスワード").fill("a-new-password-1")
        page.get_by_role("button", name="新しいパスワードを設定").click()
        expect(page.locator(".flash")).to_contain_text("新しいパスワードを設定しました")
        shot(page, shots, "user-manage.png")

        page.get_by_role("button", name="無効にする").click()
        expect(page.locator(".flash")).to_contain_text("ログインできなくなりました")
        expect(page.get_by_role("button", name="再び有効にする")).to_be_visible()
    finally:
        person.close()


def test_a_person_changes_their_own_password(
    live_server: LiveServer, context: Any, shots: Path
) -> None:
    page = context.new_page()
    sign_in(page, live_server, "operator")
    page.locator(".who-name").click()
    expect(page.locator("h1")).to_have_text("アカウント")
    page.get_by_label("現在のパスワード").fill("not-my-password")
    page.get_by_label("新しいパスワード").fill("a-new-password-1")
    page.get_by_role("button", name="パスワードを変更").click()
    expect(page.locator(".error").first).to_contain_text("現在のパスワードが正しくありません。")
    page.get_by_label("現在のパスワード").fill(PASSWORD)
    page.get_by_label("新しいパスワード").fill("a-new-password-1")
    page.get_by_role("button", name="パスワードを変更").click()
    expect(page.locator(".flash")).to_have_text(
        "パスワードを変更しました。ほかのセッションは終了しました。"
    )
    shot(page, shots, "account.png")
