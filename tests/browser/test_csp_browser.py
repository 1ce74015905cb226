"""The Content-Security-Policy in a real browser: Chromium reports no violation (issue 7).

The policy allows no inline script or style (anshin.web.headers). Chromium logs
every refused script, style or request to the console and fires a
``securitypolicyviolation`` event; here both are collected while a person's
main pages load — the status page, sign-in, the subscription form, the
dashboard, an incident with its compose box, the template editor with an htmx
preview — and there must be none. htmx and the console's script must still run.
"""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import LiveServer
from playwright.sync_api import expect
from test_console_browser import sign_in

from anshin.incidents import service

pytestmark = pytest.mark.browser

PUBLIC = ["/", "/en/", "/subscribe", "/login"]
CONSOLE = [
    "/console",
    "/console/incidents",
    "/console/incidents/new",
    "/console/components",
    "/console/maintenance",
    "/console/templates",
    "/console/deliveries",
    "/console/subscribers",
    "/console/on-duty",
    "/console/tokens",
    "/console/users",
]


def watch(page: Any) -> list[str]:
    """Every CSP complaint the page makes: console messages and violation events."""
    found: list[str] = []
    page.on(
        "console",
        lambda msg: found.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.on("pageerror", lambda error: found.append(f"page error: {error}"))
    page.expose_function("reportViolation", lambda text: found.append(text))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "window.reportViolation(e.violatedDirective + ' ' + e.blockedURI))"
    )
    return found


def test_the_main_pages_cause_no_csp_violation(live_server: LiveServer, context: Any) -> None:
    with live_server.session() as session:
        incident = service.declare(
            session,
            live_server.settings,
            service.IncidentInput(
                title="ログインできない", severity="sev2", components=["ログイン"]
            ),
            actor="seed",
        )
        session.commit()
        reference = incident.reference
    page = context.new_page()
    violations = watch(page)
    for path in PUBLIC:
        response = page.goto(live_server.url + path)
        assert response is not None and response.ok, path
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
    sign_in(page, live_server, "admin")
    for path in [*CONSOLE, f"/console/incidents/{reference}"]:
        response = page.goto(live_server.url + path)
        assert response is not None and response.ok, path
        page.wait_for_load_state("networkidle")
    # Scripts from files still run: htmx is there, and the console's timer script ticks.
    assert page.evaluate("() => typeof window.htmx") == "object"
    page.goto(live_server.url + "/console")
    timer = page.locator("[data-due] .timer-text").first
    first = timer.inner_text()
    expect(timer).not_to_have_text(first)
    # An htmx request and swap: the template editor's preview.
    page.goto(live_server.url + "/console/templates/update/ja/status_page")
    page.get_by_role("button", name="プレビュー", exact=True).click()
    expect(page.locator("#preview")).to_contain_text("伝え方チェック")
    page.wait_for_load_state("networkidle")
    assert violations == []
