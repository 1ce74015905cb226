"""The published status page: what it shows, how it is served, the export dir."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from anshin.app import create_app
from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents import service
from anshin.statuspage import service as statuspage
from status_helpers import ACTOR, FIRST_NOTICE, INTERNAL, UPDATE, build_world


def test_page_shows_public_updates_and_never_internal_notes(
    session: Session, settings: Settings
) -> None:
    build_world(session, settings, utcnow())
    client = TestClient(create_app(settings))
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="ja">' in html
    assert "ログインできない障害" in html
    assert FIRST_NOTICE in html and UPDATE in html
    assert "次回更新予定" in html
    assert "スマートフォンアプリからはログインできます。" in html
    assert INTERNAL not in html and "社内限定" not in html
    assert "決済基盤の定期メンテナンス" in html
    assert "決済の遅延" in html  # history
    assert "一部停止" in html  # sev2 impact on the sign-in component


def test_language_negotiation_serves_the_english_page(session: Session, settings: Settings) -> None:
    build_world(session, settings, utcnow())
    client = TestClient(create_app(settings))
    english = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in english.text
    assert "Sign-in failures" in english.text
    assert "Some customers cannot sign in. We are sorry." in english.text
    assert "Next update by" in english.text
    assert client.get("/en/").text == english.text
    chosen = client.get("/?lang=ja", headers={"Accept-Language": "en"})
    assert '<html lang="ja">' in chosen.text


def test_etag_and_not_modified(session: Session, settings: Settings) -> None:
    build_world(session, settings, utcnow())
    client = TestClient(create_app(settings))
    first = client.get("/api/v2/summary.json")
    tag = first.headers["etag"]
    again = client.get("/api/v2/summary.json", headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""


def test_a_change_is_served_at_once(session: Session, settings: Settings) -> None:
    incident = build_world(session, settings, utcnow())
    client = TestClient(create_app(settings))
    before = client.get("/").text
    service.publish_update(
        session,
        settings,
        incident,
        body_ja="復旧作業の八割が完了しました。ご不便をおかけし申し訳ございません。",
        actor=ACTOR,
    )
    session.commit()
    after = client.get("/").text
    assert before != after
    assert "八割が完了" in after


def test_fresh_database_serves_a_valid_page(settings: Settings) -> None:
    client = TestClient(create_app(settings))
    page = client.get("/")
    assert page.status_code == 200
    assert "すべてのサービスが正常に稼働しています" in page.text
    summary = client.get("/api/v2/summary.json").json()
    assert summary["status"] == {"indicator": "none", "description": "All Systems Operational"}


def test_export_dir_is_written_only_after_commit_with_the_served_bytes(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    export = tmp_path / "export"
    settings.status_export_dir = export
    incident = build_world(session, settings, utcnow())
    assert (export / "index.html").exists()
    assert (export / "static" / "status.css").exists()
    before = (export / "index.html").read_bytes()
    service.publish_update(
        session, settings, incident, body_ja="ロールバックされる続報です。", actor=ACTOR
    )
    session.rollback()
    assert (export / "index.html").read_bytes() == before
    client = TestClient(create_app(settings))
    for path in ("index.html", "en/index.html", "api/v2/summary.json", "history.atom"):
        assert (
            client.get("/" + path.replace("index.html", "")).content == (export / path).read_bytes()
        ), path


def test_export_writes_every_artefact(session: Session, settings: Settings, tmp_path: Path) -> None:
    build_world(session, settings, utcnow())
    written = statuspage.export(session, settings, tmp_path / "out")
    names = {p.relative_to(tmp_path / "out").as_posix() for p in written}
    assert {"index.html", "en/index.html", "history.rss", "api/v2/status.json"} <= names


def test_history_keeps_ninety_days(session: Session, settings: Settings) -> None:
    now = utcnow()
    old = service.declare(
        session,
        settings,
        service.IncidentInput(title="百日前の障害", severity="sev3"),
        actor=ACTOR,
        now=now - dt.timedelta(days=100),
    )
    service.publish_update(
        session, settings, old, body_ja="お知らせ", actor=ACTOR, now=now - dt.timedelta(days=100)
    )
    service.resolve(
        session, settings, old, body_ja="復旧", actor=ACTOR, now=now - dt.timedelta(days=99)
    )
    statuspage.publish(session, settings, now=now)
    session.commit()
    client = TestClient(create_app(settings))
    assert "百日前の障害" not in client.get("/").text
