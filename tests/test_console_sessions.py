"""Console sessions live on the server: a copied cookie stops working (issue 7).

Before, the cookie itself was the session: signing out cleared it in the
browser, but a copy kept passing for 12 hours. Now the cookie names a session
row; sign-out, idle and absolute expiry, and an administrator's change of role
or password or a deactivation end it. Time is driven by setting the stored
timestamps, never by sleeping. Real SQLite and PostgreSQL (``settings``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from anshin.app import create_app
from anshin.config import Settings
from anshin.db import utcnow
from anshin.team import users
from anshin.team.models import ConsoleSession, User
from test_console_support import PASSWORD, USERS, client_for, database, login, seed


@pytest.fixture
def client(settings: Settings) -> TestClient:
    seed(settings)
    return client_for(settings)


def copy_of(client: TestClient, settings: Settings) -> TestClient:
    """A second browser holding a copy of ``client``'s session cookie."""
    other = client_for(settings)
    other.cookies.set("anshin_session", client.cookies["anshin_session"])
    return other


def signed_in(client: TestClient) -> bool:
    return client.get("/console").status_code == 200


def test_a_copied_cookie_is_refused_after_sign_out(client: TestClient, settings: Settings) -> None:
    token = login(client, "operator")
    thief = copy_of(client, settings)
    assert signed_in(thief)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert not signed_in(client)
    assert not signed_in(thief)
    assert thief.get("/api/me").status_code == 401
    with database(settings) as session:
        assert session.scalar(select(ConsoleSession.id)) is None


def _as_admin(settings: Settings, change: Callable[..., object]) -> None:
    with database(settings) as session:
        admin = session.scalar(select(User).where(User.email == USERS["admin"][0]))
        person = session.scalar(select(User).where(User.email == USERS["operator"][0]))
        assert admin is not None and person is not None
        change(session, person, actor=admin.actor)
        session.commit()


@pytest.mark.parametrize(
    "change",
    [
        lambda s, u, actor: users.change_role(s, u, "senior", actor=actor),
        lambda s, u, actor: users.reset_password(s, u, "a-new-password", actor=actor),
        lambda s, u, actor: users.set_active(s, u, False, actor=actor),
    ],
    ids=["role change", "password reset", "deactivation"],
)
def test_an_administrators_change_ends_the_persons_sessions(
    client: TestClient, settings: Settings, change: Callable[..., object]
) -> None:
    login(client, "operator")
    thief = copy_of(client, settings)
    bystander = client_for(settings)
    login(bystander, "senior")
    _as_admin(settings, change)
    assert not signed_in(client)
    assert not signed_in(thief)
    assert signed_in(bystander)  # someone else's session is untouched


def test_idle_sessions_end(client: TestClient, settings: Settings) -> None:
    login(client, "operator")
    with database(settings) as session:
        session.execute(
            update(ConsoleSession).values(last_seen_at=utcnow() - dt.timedelta(minutes=29))
        )
        session.commit()
    assert signed_in(client)  # and the request counts as activity
    with database(settings) as session:
        seen = session.scalar(select(ConsoleSession.last_seen_at))
        assert seen is not None and utcnow() - seen < dt.timedelta(minutes=1)
        session.execute(
            update(ConsoleSession).values(last_seen_at=utcnow() - dt.timedelta(minutes=31))
        )
        session.commit()
    assert not signed_in(client)


def test_sessions_end_at_their_absolute_lifetime_however_busy(
    client: TestClient, settings: Settings
) -> None:
    login(client, "operator")
    with database(settings) as session:
        session.execute(
            update(ConsoleSession).values(created_at=utcnow() - dt.timedelta(hours=11, minutes=59))
        )
        session.commit()
    assert signed_in(client)
    with database(settings) as session:
        session.execute(
            update(ConsoleSession).values(created_at=utcnow() - dt.timedelta(hours=12, minutes=1))
        )
        session.commit()
    assert not signed_in(client)


def test_the_limits_are_settings(settings: Settings) -> None:
    short = settings.model_copy(update={"session_idle_minutes": 5})
    seed(short)
    client = client_for(short)
    login(client, "operator")
    with database(short) as session:
        session.execute(
            update(ConsoleSession).values(last_seen_at=utcnow() - dt.timedelta(minutes=6))
        )
        session.commit()
    assert not signed_in(client)


def test_a_post_records_activity_in_its_own_transaction(
    client: TestClient, settings: Settings
) -> None:
    token = login(client, "senior")
    with database(settings) as session:
        session.execute(
            update(ConsoleSession).values(last_seen_at=utcnow() - dt.timedelta(minutes=10))
        )
        session.commit()
    added = client.post("/console/components", data={"name": "決済2", "csrf_token": token})
    assert added.status_code == 303, added.text
    with database(settings) as session:
        seen = session.scalar(select(ConsoleSession.last_seen_at))
        assert seen is not None and utcnow() - seen < dt.timedelta(minutes=1)


def test_the_cookie_is_httponly_lax_and_secure_over_https(settings: Settings) -> None:
    seed(settings)
    for base, secure in (("http://testserver", False), ("https://testserver", True)):
        client = TestClient(create_app(settings), base_url=base, follow_redirects=False)
        cookie = client.get("/login").headers["set-cookie"].lower()
        assert cookie.startswith("anshin_session=")
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert ("; secure" in cookie) is secure, cookie
        login(client, "operator")  # the browser sends a Secure cookie back over HTTPS
        assert signed_in(client)


def test_a_setting_marks_the_cookie_secure_behind_a_proxy(settings: Settings) -> None:
    client = client_for(settings.model_copy(update={"session_cookie_secure": True}))
    assert "; secure" in client.get("/login").headers["set-cookie"].lower()


def test_a_post_that_only_reads_records_activity_too(
    client: TestClient, settings: Settings
) -> None:
    """The template editor's live preview never commits; typing in it still counts."""
    token = login(client, "operator")
    with database(settings) as session:
        session.execute(
            update(ConsoleSession).values(last_seen_at=utcnow() - dt.timedelta(minutes=10))
        )
        session.commit()
    preview = client.post(
        "/console/templates/update/ja/email/preview",
        data={
            "subject": "【続報】{{ title }}",
            "body": "引き続き対応しております。",
            "csrf_token": token,
        },
    )
    assert preview.status_code == 200, preview.text
    with database(settings) as session:
        seen = session.scalar(select(ConsoleSession.last_seen_at))
        assert seen is not None and utcnow() - seen < dt.timedelta(minutes=1)


def test_changing_ones_own_password_ends_the_other_sessions(
    client: TestClient, settings: Settings
) -> None:
    token = login(client, "operator")
    thief = copy_of(client, settings)
    other = client_for(settings)
    login(other, "operator")
    wrong = client.post(
        "/console/account/password",
        data={
            "current_password": "guess-guess",
            "new_password": "a-new-password",
            "csrf_token": token,
        },
    )
    assert wrong.status_code == 422
    assert "現在のパスワードが正しくありません。" in wrong.text
    assert signed_in(thief) and signed_in(other)  # a refusal changes nothing
    short = client.post(
        "/console/account/password",
        data={"current_password": PASSWORD, "new_password": "short", "csrf_token": token},
    )
    assert short.status_code == 422 and "パスワードは 8 文字以上にしてください。" in short.text
    changed = client.post(
        "/console/account/password",
        data={"current_password": PASSWORD, "new_password": "a-new-password", "csrf_token": token},
    )
    assert changed.status_code == 303, changed.text
    assert "パスワードを変更しました。" in client.get(changed.headers["location"]).text
    assert signed_in(client)  # this browser goes on in a new session
    assert not signed_in(thief)
    assert not signed_in(other)
