"""A live anshin server and Debian's Chromium for the browser tests.

The server is uvicorn in a background thread on 127.0.0.1 (a free port picked
by the OS) against a temporary SQLite database seeded with one user per role
and a few components. Chromium is Debian's (/usr/bin/chromium) driven by
Playwright; without it the tests are skipped with the reason, unless
ANSHIN_REQUIRE_BROWSER=1 makes its absence a failure.

Screenshots go to a temporary folder; with ANSHIN_UPDATE_SCREENSHOTS=1 they
replace the ones in docs/screenshots/.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, DOCS_SHOTS, LiveServer, seed

from anshin.config import Settings
from anshin.db import Base, import_all_models, make_engine

# Chromium's Japanese UI strings and formats (Debian's chromium-l10n): date inputs
# read 2026/11/22 13:50 only with them.
JA_LOCALE_DATA = Path("/usr/lib/chromium/locales/ja.pak")


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A fresh database and server for one test."""
    import_all_models()
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    settings = Settings(
        database_url=url,
        secret_key="browser-" + uuid.uuid4().hex,
        status_export_dir=None,
        site_name="anshin デモ",
    )
    seed(settings)
    server = LiveServer(settings)
    settings.base_url = server.url
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright, shared by the session."""
    if not CHROMIUM.exists():
        if os.environ.get("ANSHIN_REQUIRE_BROWSER") == "1":
            pytest.fail("/usr/bin/chromium is missing and ANSHIN_REQUIRE_BROWSER=1")
        pytest.skip(
            "/usr/bin/chromium is missing (apt-get install chromium chromium-l10n fonts-noto-cjk)"
        )
    if not JA_LOCALE_DATA.exists() and os.environ.get("ANSHIN_REQUIRE_BROWSER") == "1":
        # Without it Chromium's UI, date inputs included, stays in English (.ci/run installs it).
        pytest.fail(f"{JA_LOCALE_DATA} is missing (apt-get install chromium-l10n)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Japanese UI locale: date and time inputs read 2026/11/22 13:50 (needs chromium-l10n).
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[*CHROMIUM_ARGS, "--lang=ja-JP"],
            env={**os.environ, "LANG": "ja_JP.UTF-8", "LANGUAGE": "ja"},
        )
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A clean browser profile (no cookies) in Japanese, in the team's zone."""
    ctx = browser.new_context(
        viewport={"width": 1280, "height": 860},
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
    )
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: docs/screenshots with ANSHIN_UPDATE_SCREENSHOTS=1, else a temp dir."""
    if os.environ.get("ANSHIN_UPDATE_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        return DOCS_SHOTS
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder


@pytest.fixture
def mail_server(tmp_path: Path) -> Iterator[tuple[LiveServer, Any]]:
    """A live server whose notices really go out: an SMTP sink on 127.0.0.1 that refuses
    ``user1@example.com``, five subscribers, and the embedded delivery worker running."""
    from anshin.notify import queue
    from anshin.notify.sink import MailSink, SmtpSink, seed_subscribers

    import_all_models()
    url = f"sqlite:///{tmp_path / 'browser-mail.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    with SmtpSink(MailSink(reject={"user1@example.com"})) as sink:
        settings = Settings(
            database_url=url,
            secret_key="browser-" + uuid.uuid4().hex,
            status_export_dir=None,
            site_name="anshin デモ",
            smtp_host="127.0.0.1",
            smtp_port=sink.port,
            smtp_from="anshin デモ <status@example.com>",
        )
        seed(settings)
        server = LiveServer(settings)
        settings.base_url = server.url
        with server.session() as session:
            seed_subscribers(session, 5)
            session.commit()
        server.start()
        queue.start_embedded_consumer(settings, workers=1)
        try:
            yield server, sink
        finally:
            queue.stop_embedded_consumer()
            server.stop()
