"""A database that cannot store (read-only, full) or cannot be reached in time (issue 7).

Reads with an API token still work — they write nothing, and the token's
last-use time is best effort — while writes answer 503 with Retry-After and a
message in the caller's language (JSON under /api/, the error page elsewhere),
with nothing half-written. The command line says it in one line with exit 1.
Real databases throughout: a SQLite file opened read-only (``mode=ro``), a
SQLite file with no room to grow (``PRAGMA max_page_count``), a PostgreSQL
database set read-only (``default_transaction_read_only``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, func, make_url, select, text, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from anshin.app import create_app
from anshin.cli import app as cli
from anshin.config import Settings
from anshin.db import (
    Base,
    import_all_models,
    make_engine,
    make_sessionmaker,
    normalise_url,
    utcnow,
)
from anshin.events import Event
from anshin.i18n import translate
from anshin.incidents import components
from anshin.incidents.models import Component, Incident
from anshin.team import service as team_service
from anshin.team.models import ApiToken, ConsoleSession
from anshin.web.errors import STORAGE_MESSAGE
from session_support import console_cookie
from test_console_support import PASSWORD, USERS, csrf_from, page_csrf, password_hash

JA = translate("ja", STORAGE_MESSAGE)
EN = translate("en", STORAGE_MESSAGE)
INCIDENT = {"title": "決済の障害", "severity": "sev2", "summary": "決済が失敗しています。" * 300}


def seed(settings: Settings) -> str:
    """A senior with a password and a bearer token, and one component; returns the token."""
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session:
        user = team_service.create_user(
            session,
            email=USERS["senior"][0],
            name=USERS["senior"][1],
            role="senior",
            password=PASSWORD,
        )
        user.password_hash = password_hash()
        raw, _ = team_service.create_token(session, user=user, name="監視", actor="test")
        components.add_component(session, "ログイン", name_en="Login", actor="test")
        session.commit()
    engine.dispose()
    return raw


def counts(url: str) -> dict[str, int]:
    """Rows that matter, read on a connection of its own with full rights."""
    engine = make_engine(url)
    with Session(engine) as session:
        found = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Incident, Component, Event)
        }
    engine.dispose()
    return found


def bearer(token: str, lang: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": lang}


def assert_storage_503(response: Any, lang: str) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["error"]["code"] == "StorageUnavailable"
    assert body["error"]["message"] == (JA if lang == "ja" else EN)


def reads_work_and_writes_are_refused(client: TestClient, token: str, url: str) -> None:
    before = counts(url)
    listed = client.get("/api/components", headers=bearer(token, "ja"))
    assert listed.status_code == 200, listed.text
    assert [c["name"] for c in listed.json()["components"]] == ["ログイン"]
    assert client.get("/api/me", headers=bearer(token, "en")).status_code == 200
    assert client.get("/api/incidents", headers=bearer(token, "ja")).status_code == 200
    assert_storage_503(
        client.post("/api/incidents", json=INCIDENT, headers=bearer(token, "ja")), "ja"
    )
    added = client.post("/api/components", json={"name": "決済"}, headers=bearer(token, "en"))
    assert_storage_503(added, "en")
    assert counts(url) == before


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    import_all_models()
    url = f"sqlite:///{tmp_path / 'stored.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return Settings(database_url=url, secret_key="storage-test-secret", status_export_dir=None)


def read_only(settings: Settings) -> Settings:
    """The same SQLite file opened read-only, as a read-only mount or file would be."""
    path = make_url(settings.database_url).database
    return settings.model_copy(update={"database_url": f"sqlite:///file:{path}?mode=ro&uri=true"})


def test_a_read_only_sqlite_database_serves_reads_and_refuses_writes_with_503(
    sqlite_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    token = seed(sqlite_settings)
    # A console session from before the database went read-only, last seen a while ago.
    engine = make_engine(sqlite_settings.database_url)
    with make_sessionmaker(engine)() as session:
        senior = team_service.get_user_by_email(session, USERS["senior"][0])
        assert senior is not None
        cookie = console_cookie(session, sqlite_settings, senior.id)
        session.execute(
            update(ConsoleSession).values(last_seen_at=utcnow() - dt.timedelta(minutes=5))
        )
        session.commit()
    engine.dispose()
    app = create_app(read_only(sqlite_settings))
    caplog.set_level(logging.WARNING, logger="anshin")
    with TestClient(app, follow_redirects=False) as client:
        reads_work_and_writes_are_refused(client, token, sqlite_settings.database_url)
        # The console: signing in has to store its session, so it is refused like a write.
        login_token = csrf_from(client.get("/login").text)
        signed_in = client.post(
            "/login",
            data={"email": USERS["senior"][0], "password": PASSWORD, "csrf_token": login_token},
        )
        assert signed_in.status_code == 503, signed_in.text
        # The earlier session still reads (its last-seen time is best effort); a form
        # that writes gets the error page.
        client.cookies.clear()
        client.cookies.set("anshin_session", cookie)
        assert client.get("/console").status_code == 200
        form = {"name": "決済", "csrf_token": page_csrf(client, "/console/components")}
        page = client.post("/console/components", data=form, headers={"Accept-Language": "ja"})
        assert page.status_code == 503
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["retry-after"]
        assert JA in page.text
    app.state.engine.dispose()
    errors = [r for r in caplog.records if r.getMessage().startswith("storage error")]
    assert errors, "the operator is told the cause"
    assert "readonly database" in errors[0].getMessage()
    assert all(r.exc_info is None for r in errors), "one line, no traceback"
    # The token's and the session's last use could not be written; the reads did not fail.
    engine = make_engine(sqlite_settings.database_url)
    with Session(engine) as session:
        assert session.scalar(select(ApiToken.last_used_at)) is None
        seen = session.scalar(select(ConsoleSession.last_seen_at))
        assert seen is not None and utcnow() - seen > dt.timedelta(minutes=4)
    engine.dispose()


def test_a_full_sqlite_database_refuses_writes_with_503_and_keeps_nothing_half_written(
    sqlite_settings: Settings,
) -> None:
    token = seed(sqlite_settings)
    app = create_app(sqlite_settings)
    url = sqlite_settings.database_url
    with make_engine(url).connect() as conn:
        pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())

    @event.listens_for(app.state.engine, "connect")
    def no_room(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA max_page_count={pages}")

    with TestClient(app) as client:
        before = counts(url)
        declared = client.post("/api/incidents", json=INCIDENT, headers=bearer(token, "ja"))
        assert_storage_503(declared, "ja")
        assert counts(url) == before
        listed = client.get("/api/components", headers=bearer(token, "en"))
        assert listed.status_code == 200
    app.state.engine.dispose()


def test_the_command_line_says_a_storage_error_in_one_line(sqlite_settings: Settings) -> None:
    seed(sqlite_settings)
    env = {"ANSHIN_DATABASE_URL": read_only(sqlite_settings).database_url, "LANG": "C.UTF-8"}
    result = CliRunner().invoke(cli, ["component", "add", "決済"], env=env)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "readonly database" in lines[0] and "Nothing was changed" in lines[0]
    assert "Traceback" not in result.output
    listed = CliRunner().invoke(cli, ["component", "list"], env=env)
    assert listed.exit_code == 0, listed.output


@pytest.fixture
def pg_read_only(pg_server_url: str | None) -> Iterator[tuple[Settings, str]]:
    """This run's PostgreSQL database, seeded, then set read-only for new connections.

    Returns the settings and the seeded token; the setting is reset afterwards.
    """
    if pg_server_url is None:
        pytest.skip("needs ANSHIN_TEST_DATABASE_URL (set in CI)")
    import_all_models()
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    cleaner = make_engine(pg_server_url)
    with cleaner.begin() as conn:  # a clean database, as the db_url fixture gives
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    cleaner.dispose()
    settings = Settings(database_url=pg_server_url, secret_key="storage-test-secret")
    token = seed(settings)
    name = make_url(normalise_url(pg_server_url)).database
    admin = create_engine(normalise_url(pg_server_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
        yield settings, token
    finally:
        with admin.connect() as conn:
            conn.execute(text("SET default_transaction_read_only = off"))
            conn.execute(text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))
        admin.dispose()


def test_a_read_only_postgresql_database_serves_reads_and_refuses_writes_with_503(
    pg_read_only: tuple[Settings, str],
) -> None:
    settings, token = pg_read_only
    app = create_app(settings)
    with TestClient(app) as client:
        reads_work_and_writes_are_refused(client, token, settings.database_url)
        with app.state.sessions() as session:
            assert session.execute(text("SHOW transaction_read_only")).scalar() == "on"
    app.state.engine.dispose()
