"""Serving the stored page: the fast path and the router agree byte for byte; conditional
requests; language choice; freshness across processes; never a 500."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from anshin.app import create_app
from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents import service
from anshin.statuspage import service as statuspage
from anshin.statuspage import serving
from anshin.statuspage.models import PublishState
from anshin.statuspage.views import ARTEFACT_PATHS, StatusPageFastPath
from notice_texts import notice_ja
from status_helpers import ACTOR, FIRST_NOTICE, build_world

MakeApp = Callable[..., FastAPI]


@pytest.fixture
def make_app(settings: Settings) -> Iterator[MakeApp]:
    """Apps on the test's database, with or without the fast-path middleware."""
    apps: list[FastAPI] = []

    def make(*, fast: bool = True, config: Settings | None = None) -> FastAPI:
        app = create_app(config or settings)
        wrapped = any(m.cls is StatusPageFastPath for m in app.user_middleware)
        if fast and not wrapped:
            app.add_middleware(StatusPageFastPath)
        apps.append(app)
        return app

    yield make
    for app in apps:
        cache = getattr(app.state, "status_cache", None)
        if cache is not None:
            cache.close()
        app.state.engine.dispose()


def _paths() -> list[str]:
    return ["/", "/en/", *("/" + p for p in ARTEFACT_PATHS)]


def test_fast_path_and_router_serve_the_same_bytes_and_headers(
    session: Session, settings: Settings, make_app: MakeApp
) -> None:
    build_world(session, settings, utcnow())
    fast = TestClient(make_app(fast=True))
    routed = TestClient(make_app(fast=False))
    outer_app = StatusPageFastPath(make_app(fast=False))  # wrapping the app from outside
    outer = TestClient(outer_app)
    assert outer_app.state.settings is settings
    stored = statuspage.stored(session)
    for path in _paths():
        a, b, c = fast.get(path), routed.get(path), outer.get(path)
        assert a.status_code == b.status_code == c.status_code == 200, path
        assert a.content == b.content == c.content, path
        assert a.headers["etag"] == c.headers["etag"], path
        artefact = {"/": "index.html", "/en/": "en/index.html"}.get(path, path.lstrip("/"))
        assert a.content == stored[artefact].body, path
        for header in ("content-type", "etag", "cache-control", "content-length"):
            assert a.headers[header] == b.headers[header], (path, header)
        assert int(a.headers["content-length"]) == len(a.content)
        assert a.headers["cache-control"] == "public, max-age=10"
        assert "set-cookie" not in a.headers, "the public page sets no session cookie"


def test_head_conditional_requests_and_methods(
    session: Session, settings: Settings, make_app: MakeApp
) -> None:
    build_world(session, settings, utcnow())
    client = TestClient(make_app())
    for path in ("/", "/api/v2/status.json", "/history.rss"):
        full = client.get(path)
        head = client.head(path)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == str(len(full.content))
        assert head.headers["etag"] == full.headers["etag"]
        tag = full.headers["etag"]
        for candidate in (tag, f"W/{tag}", f'"nope", {tag}', "*"):
            again = client.get(path, headers={"If-None-Match": candidate})
            assert again.status_code == 304, candidate
            assert again.content == b"" and again.headers["etag"] == tag
        assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    refused = client.post("/api/v2/summary.json")
    assert refused.status_code == 405
    assert client.get("/api/v2/nothing-here.json").status_code == 404


def test_json_and_feeds_may_be_read_from_other_sites_the_page_varies_by_language(
    session: Session, settings: Settings, make_app: MakeApp
) -> None:
    build_world(session, settings, utcnow())
    client = TestClient(make_app())
    assert client.get("/api/v2/summary.json").headers["access-control-allow-origin"] == "*"
    assert client.get("/history.atom").headers["access-control-allow-origin"] == "*"
    page = client.get("/")
    assert "access-control-allow-origin" not in page.headers
    assert page.headers["vary"] == "Accept-Language, Cookie"
    assert "vary" not in client.get("/en/").headers
    assert client.get("/", headers={"If-None-Match": page.headers["etag"]}).headers["vary"]


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "lang"),
    [
        ("", None, None, "ja"),
        ("", None, "en-US,en;q=0.9", "en"),
        ("", None, "ja,en;q=0.8", "ja"),
        ("", None, "fr-FR,en;q=0.5,ja;q=0.4", "en"),
        ("", "en", None, "en"),
        ("", "en", "ja", "en"),
        ("", "ja", "en", "ja"),
        ("?lang=en", "ja", "ja", "en"),
        ("?lang=ja", "en", "en", "ja"),
        ("?lang=xx", None, "en", "en"),
    ],
)
def test_language_is_picked_by_query_then_cookie_then_accept_language(
    session: Session,
    settings: Settings,
    make_app: MakeApp,
    query: str,
    cookie: str | None,
    accept: str | None,
    lang: str,
) -> None:
    build_world(session, settings, utcnow())
    client = TestClient(make_app())
    if cookie:
        client.cookies.set("anshin_lang", cookie)
    headers = {"Accept-Language": accept} if accept else {}
    page = client.get("/" + query, headers=headers)
    assert page.status_code == 200
    assert f'<html lang="{lang}">' in page.text


@pytest.mark.parametrize("outer", [False, True])
def test_choosing_a_language_is_remembered(
    session: Session, settings: Settings, make_app: MakeApp, outer: bool
) -> None:
    build_world(session, settings, utcnow())
    app = make_app(fast=not outer)
    client = TestClient(StatusPageFastPath(app) if outer else app)
    chosen = client.get("/?lang=en", headers={"Accept-Language": "ja"})
    assert '<html lang="en">' in chosen.text
    assert "anshin_lang=en" in chosen.headers["set-cookie"]
    later = client.get("/", headers={"Accept-Language": "ja"})
    assert '<html lang="en">' in later.text
    assert client.get("/en", follow_redirects=False).headers["location"] == "/en/"
    assert 'action="/login"' in client.get("/login").text  # everything else reaches the app


def test_a_change_committed_by_another_process_is_served_at_once(
    session: Session, settings: Settings, make_app: MakeApp
) -> None:
    incident = build_world(session, settings, utcnow())
    client = TestClient(make_app())
    before = client.get("/api/v2/summary.json")
    body = notice_ja("別のサーバーからの続報です。")
    script = textwrap.dedent(
        f"""
        from anshin.config import Settings
        from anshin.db import make_engine, make_sessionmaker
        from anshin.incidents import service
        settings = Settings(database_url={settings.database_url!r}, secret_key="x")
        engine = make_engine(settings.database_url)
        with make_sessionmaker(engine)() as session:
            incident = service.get(session, {incident.reference!r})
            service.publish_update(session, settings, incident,
                body_ja={body!r}, actor="other-process")
            session.commit()
        engine.dispose()
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    time.sleep(serving.PROBE_WINDOW_SECONDS + 0.05)
    after = client.get("/api/v2/summary.json")
    assert after.headers["etag"] != before.headers["etag"]
    assert after.json()["incidents"][0]["incident_updates"][0]["body"] == body
    assert body in client.get("/").text


def test_a_fresh_database_publishes_once_under_concurrent_first_requests(
    settings: Settings, sessions: sessionmaker[Session], make_app: MakeApp
) -> None:
    app = make_app()
    results: list[int] = []

    def visit() -> None:
        with TestClient(app) as client:
            response = client.get("/api/v2/status.json")
            results.append(response.status_code)

    threads = [threading.Thread(target=visit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == [200] * 6
    with sessions() as check:
        assert statuspage.version(check) == 1
    page = TestClient(app).get("/")
    assert page.status_code == 200 and "すべてのサービスが正常に稼働しています" in page.text


def test_a_stale_page_is_republished_by_a_request(
    session: Session, settings: Settings, make_app: MakeApp
) -> None:
    old = utcnow() - serving.REFRESH_AFTER - dt.timedelta(minutes=1)
    statuspage.publish(session, settings, now=old)
    session.commit()
    client = TestClient(make_app())
    assert client.get("/").status_code == 200
    session.expire_all()
    state = session.scalar(select(PublishState))
    assert state is not None and state.version == 2
    assert utcnow() - state.published_at < dt.timedelta(minutes=1)


def test_the_page_held_is_served_while_the_database_cannot_answer(
    session: Session, settings: Settings, engine: Engine, make_app: MakeApp
) -> None:
    build_world(session, settings, utcnow())
    session.close()
    client = TestClient(make_app())
    before = client.get("/")
    assert before.status_code == 200
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE status_publish_state RENAME TO status_publish_away"))
    try:
        time.sleep(serving.PROBE_WINDOW_SECONDS + 0.05)
        during = client.get("/")
        assert during.status_code == 200 and during.content == before.content
        # A process that holds nothing yet says so briefly, in both languages: never a 500.
        other = TestClient(make_app(), raise_server_exceptions=False)
        missing = other.get("/")
        assert missing.status_code == 503
        assert missing.headers["retry-after"] == "10"
        assert "しばらくしてから" in missing.text and "try again shortly" in missing.text
        assert other.head("/api/v2/status.json").status_code == 503
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE status_publish_away RENAME TO status_publish_state"))


def test_each_publish_of_this_process_is_seen_by_the_next_request(
    session: Session, settings: Settings, make_app: MakeApp
) -> None:
    incident = build_world(session, settings, utcnow())
    client = TestClient(make_app())
    for n in range(3):
        client.get("/api/v2/summary.json")
        body = notice_ja(f"続報 {n} です。")
        service.publish_update(session, settings, incident, body_ja=body, actor=ACTOR)
        session.commit()
        latest = client.get("/api/v2/summary.json").json()["incidents"][0]
        assert latest["incident_updates"][0]["body"] == body
    assert FIRST_NOTICE in client.get("/").text
