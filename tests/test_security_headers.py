"""Security headers on every kind of answer (issue 7): console pages, API, status page (the
app's route and ``anshin serve``'s fast path), static files, error pages and refusals.

No page carries an inline script or style: the policy allows none, so a browser
would refuse to run one (tests/browser/test_csp_browser.py checks that Chromium
reports no violation on the main pages).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from anshin.app import create_app, create_asgi
from anshin.config import Settings
from anshin.web.headers import CSP
from test_console_support import client_for, login, seed

EXPECTED = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


def assert_secured(response: httpx.Response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get_list(name) == [value], (name, response.url)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    seed(settings)
    with client_for(settings) as test_client:
        yield test_client


def test_the_policy_allows_no_inline_script_or_framing() -> None:
    assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
    assert "script-src 'self';" in CSP and "style-src 'self';" in CSP
    assert "frame-ancestors 'none'" in CSP


def test_every_kind_of_answer_carries_the_headers(client: TestClient) -> None:
    anonymous = [
        client.get("/login"),
        client.get("/"),  # the status page through the app
        client.get("/en/"),
        client.get("/api/v2/summary.json"),
        client.get("/static/console.css"),
        client.get("/static/console.js"),
        client.get("/subscribe"),
        client.get("/console"),  # redirect to sign-in
        client.get("/api/incidents"),  # 401 JSON
        client.get("/no-such-page"),  # 404 page
        client.post("/api/lint", content=b"x" * (2 * 2**20)),  # 413
    ]
    assert [r.status_code for r in anonymous] == [
        200, 200, 200, 200, 200, 200, 200, 303, 401, 404, 413,
    ]  # fmt: skip
    login(client, "admin")
    signed_in = [
        client.get("/console"),
        client.get("/console/incidents"),
        client.get("/api/me"),
        client.get("/api/subscribers/export"),
        client.get("/console/incidents/INC-1999-0001"),  # 404 page with navigation
    ]
    assert [r.status_code for r in signed_in] == [200, 200, 200, 200, 404]
    for response in anonymous + signed_in:
        assert_secured(response)


def test_pages_carry_no_inline_script_or_style(client: TestClient) -> None:
    login(client, "admin")
    for path in ("/login", "/", "/subscribe", "/console", "/console/incidents/new",
                 "/console/templates/update/ja/email", "/console/users"):  # fmt: skip
        page = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), path
        assert "<style" not in page and " style=" not in page, path
        assert not re.search(r"\son[a-z]+=", page), path


def test_the_api_docs_allow_their_cdn_and_only_their_own_inline_script(
    client: TestClient,
) -> None:
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    policy = docs.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "https://cdn.jsdelivr.net" in policy
    assert len(re.findall(r"'sha256-[A-Za-z0-9+/=]+'", policy)) == docs.text.count("<script>")
    assert docs.headers["x-frame-options"] == "DENY"


def test_the_status_page_fast_path_carries_them_once(settings: Settings) -> None:
    """``anshin serve`` answers the status page before the app's middleware: same headers."""
    app = create_asgi(settings)

    async def get(path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await http.get(path)

    for path in ("/", "/en/", "/api/v2/status.json", "/history.atom", "/login"):
        # In a thread of its own: a browser test's Playwright may hold this thread's loop.
        with ThreadPoolExecutor(1) as pool:
            response = pool.submit(asyncio.run, get(path)).result()
        assert response.status_code == 200, path
        assert_secured(response)
    create_app(settings).state.engine.dispose()


def test_the_documented_nginx_site_sends_the_same_policy() -> None:
    """nginx serves the exported status page itself: its headers must be the app's."""
    docs = (Path(__file__).resolve().parents[1] / "docs" / "status-page.md").read_text()
    assert docs.count(f'add_header Content-Security-Policy "{CSP}" always;') == 2
