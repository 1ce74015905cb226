"""The signing key: no public fallback, one generated key per installation (issue 7).

Earlier versions signed with the constant ``DEV_SECRET`` when
``ANSHIN_SECRET_KEY`` was unset: anyone could forge an admin cookie or an
unsubscribe link. Now the key is the configured one, or a random one kept in
the database and shared by every process; ``anshin serve`` refuses a public or
short key off loopback. Real SQLite and PostgreSQL (``db_url``).
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from anshin.app import create_app
from anshin.cli import app as cli
from anshin.config import DEV_SECRET, Settings
from anshin.db import make_engine, make_sessionmaker
from anshin.instance.models import InstanceSetting
from anshin.instance.secret import KEY_NAME, is_loopback
from anshin.notify import subscribers, tokens
from anshin.notify.models import Subscriber
from anshin.team import service as team_service
from session_support import console_cookie, signed_cookie
from test_console_support import password_hash


@pytest.fixture
def unset(monkeypatch: pytest.MonkeyPatch, db_url: str) -> str:
    """The database URL, with ANSHIN_SECRET_KEY unset as on a fresh install."""
    monkeypatch.delenv("ANSHIN_SECRET_KEY", raising=False)
    return db_url


def _admin_and_subscriber(url: str) -> tuple[int, int, str]:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        admin = team_service.create_user(
            session, email="admin@example.com", name="Admin", role="admin", password="x" * 12
        )
        admin.password_hash = password_hash()
        subscriber = subscribers.subscribe_email(
            session,
            Settings(database_url=url, secret_key="seed-only-" + "k" * 30),
            email="reader@example.com",
            confirmed=True,
            actor="test",
        )
        session.commit()
        ids = (admin.id, subscriber.id, subscriber.address)
    engine.dispose()
    return ids


def _stored(url: str) -> str | None:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        value = session.scalar(
            select(InstanceSetting.value).where(InstanceSetting.name == KEY_NAME)
        )
    engine.dispose()
    return value


def test_a_cookie_signed_with_the_old_constant_signs_nobody_in(unset: str) -> None:
    admin_id, _sub, _addr = _admin_and_subscriber(unset)
    app = create_app(Settings(database_url=unset))
    assert app.state.settings.secret_key not in ("", DEV_SECRET)
    forged_old = signed_cookie(DEV_SECRET, {"user_id": admin_id, "csrf": "c" * 43})
    with TestClient(app, follow_redirects=False) as client:
        client.cookies.set("anshin_session", forged_old)
        assert client.get("/api/me").status_code == 401
        assert client.get("/console/users").status_code == 303
        refused = client.post(
            "/api/components", json={"name": "x"}, headers={"X-CSRF-Token": "c" * 43}
        )
        assert refused.status_code == 401
    app.state.engine.dispose()


def test_a_cookie_signed_with_the_real_key_but_no_session_signs_nobody_in(
    settings: Settings,
) -> None:
    admin_id, _sub, _addr = _admin_and_subscriber(settings.database_url)
    app = create_app(settings)
    forged = signed_cookie(settings.secret_key, {"user_id": admin_id, "sid": "made-up"})
    with TestClient(app) as client:
        client.cookies.set("anshin_session", forged)
        assert client.get("/api/me").status_code == 401
    app.state.engine.dispose()


def test_an_unsubscribe_link_signed_with_the_old_constant_is_refused(unset: str) -> None:
    _admin, subscriber_id, address = _admin_and_subscriber(unset)
    forged = tokens.unsubscribe_token(Settings(secret_key=DEV_SECRET), subscriber_id, address)
    app = create_app(Settings(database_url=unset))
    with TestClient(app) as client:
        response = client.post(f"/unsubscribe/{forged}", headers={"Accept-Language": "en"})
        assert response.status_code == 400
        assert "This link is not valid" in response.text
        # The installation's own link still works.
        real = tokens.unsubscribe_token(app.state.settings, subscriber_id, address)
        assert client.post(f"/unsubscribe/{real}").status_code == 200
    app.state.engine.dispose()
    engine = make_engine(unset)
    with make_sessionmaker(engine)() as session:
        assert session.get(Subscriber, subscriber_id).status == "unsubscribed"  # type: ignore[union-attr]
    engine.dispose()


def test_two_apps_on_one_database_share_the_generated_key(unset: str) -> None:
    admin_id, subscriber_id, address = _admin_and_subscriber(unset)
    first = create_app(Settings(database_url=unset))
    second = create_app(Settings(database_url=unset))
    key = first.state.settings.secret_key
    assert len(key) >= 32 and key == second.state.settings.secret_key == _stored(unset)
    with make_sessionmaker(first.state.engine)() as session:
        cookie = console_cookie(session, first.state.settings, admin_id)
    with TestClient(second) as client:
        client.cookies.set("anshin_session", cookie)
        assert client.get("/api/me").json()["email"] == "admin@example.com"
    # A CLI process prints links the server accepts.
    link = tokens.unsubscribe_token(Settings(database_url=unset), subscriber_id, address)
    assert tokens.read_unsubscribe_token(second.state.settings, link)[0] == subscriber_id
    first.state.engine.dispose()
    second.state.engine.dispose()


def test_a_key_set_in_the_environment_wins(unset: str, monkeypatch: pytest.MonkeyPatch) -> None:
    create_app(Settings(database_url=unset)).state.engine.dispose()  # one is generated
    monkeypatch.setenv("ANSHIN_SECRET_KEY", "from-the-environment-" + "e" * 20)
    app = create_app(Settings(database_url=unset))
    assert app.state.settings.secret_key == "from-the-environment-" + "e" * 20
    assert _stored(unset) != app.state.settings.secret_key
    app.state.engine.dispose()


@pytest.mark.parametrize("key", [DEV_SECRET, "change-me", "short-key"])
def test_serve_refuses_a_public_or_short_key_off_loopback(key: str) -> None:
    env = {"ANSHIN_SECRET_KEY": key, "LANG": "C.UTF-8"}
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"], env=env)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "ANSHIN_SECRET_KEY" in lines[0]
    assert "Traceback" not in result.output


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1") and not is_loopback("::")
