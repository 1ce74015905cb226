"""The published status page: what it shows, how it is served, the export dir."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from anshin.app import create_app
from anshin.cli import app as cli_app
from anshin.config import Settings
from anshin.db import make_engine, utcnow
from anshin.errors import Conflict
from anshin.incidents import components, service
from anshin.statuspage import service as statuspage
from anshin.statuspage.models import PublishState
from anshin.team import service as team_service
from anshin.team.models import User
from notice_texts import FIRST_NOTICE_JA, RESOLUTION_JA, notice_ja
from status_helpers import ACTOR, FIRST_NOTICE, FIRST_NOTICE_EN, INTERNAL, UPDATE, build_world
from test_console_support import client_for, login, seed


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
    assert FIRST_NOTICE_EN in english.text
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
        body_ja=notice_ja("復旧作業の八割が完了しました。"),
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
        session, settings, incident, body_ja=notice_ja("取り消される続報です。"), actor=ACTOR
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
        session,
        settings,
        old,
        body_ja=FIRST_NOTICE_JA,
        actor=ACTOR,
        now=now - dt.timedelta(days=100),
    )
    service.resolve(
        session, settings, old, body_ja=RESOLUTION_JA, actor=ACTOR, now=now - dt.timedelta(days=99)
    )
    statuspage.publish(session, settings, now=now)
    session.commit()
    client = TestClient(create_app(settings))
    assert "百日前の障害" not in client.get("/").text


def _component_names(client: TestClient) -> list[str]:
    response = client.get("/api/v2/components.json")
    assert response.status_code == 200
    return [c["name"] for c in response.json()["components"] if not c["group"]]


def _published_version(settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    with Session(engine) as s:
        version = int(s.scalar(select(PublishState.version)) or 0)
    engine.dispose()
    return version


def test_adding_a_component_republishes_the_page_at_once(
    session: Session, settings: Settings
) -> None:
    """No incident change needed: the new component is on the page after the commit."""
    client = TestClient(create_app(settings))
    assert _component_names(client) == []  # the first request publishes an empty page
    before = _published_version(settings)
    components.add_component(session, "ログイン", actor=ACTOR, group="基盤", settings=settings)
    session.commit()
    assert _published_version(settings) == before + 1
    assert _component_names(client) == ["ログイン"]
    assert "ログイン" in client.get("/").text
    refused = None
    try:
        components.add_component(session, "ログイン", actor=ACTOR, settings=settings)
    except Conflict as exc:
        refused = exc
    session.rollback()
    assert refused is not None and _published_version(settings) == before + 1


def test_components_added_in_the_console_api_and_cli_are_on_the_page(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each caller's session carries the settings (web.deps / cliutil bind them)."""
    seed(settings)  # users, and two components added on a bare session: no page yet
    client = client_for(settings)
    assert _component_names(client) == ["ログイン", "決済"]

    token = login(client, "senior")
    added = client.post("/console/components", data={"name": "問い合わせ窓口", "csrf_token": token})
    assert added.status_code == 303
    assert "問い合わせ窓口" in _component_names(client)

    engine = make_engine(settings.database_url)
    with Session(engine) as s:
        senior = s.scalars(select(User).where(User.role == "senior")).one()
        raw, _ = team_service.create_token(s, user=senior, name="bot", actor=ACTOR)
        s.commit()
    engine.dispose()
    api = client.post(
        "/api/components",
        json={"name": "外部連携API", "group": "連携"},
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert api.status_code == 201, api.text
    assert "外部連携API" in _component_names(client)

    monkeypatch.setenv("ANSHIN_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(cli_app, ["component", "add", "通知メール", "--group", "連携"])
    assert result.exit_code == 0, result.output
    assert "通知メール" in _component_names(client)
    assert "通知メール" in client.get("/").text
