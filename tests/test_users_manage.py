"""An administrator manages people and tokens: role, deactivation, password, token expiry.

Console (``/console/users/{id}``), API (``/api/users``) and CLI (``anshin
user role|deactivate|activate|password``) each end the person's sessions
(issue 7, R22). Tokens may be given an expiry and are refused after it. Real
SQLite and PostgreSQL (``settings``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from anshin.cli import app as cli
from anshin.config import Settings
from anshin.db import utcnow
from anshin.events import Event
from anshin.team import service as team_service
from anshin.team.models import ApiToken, User
from test_console_support import (
    PASSWORD,
    USERS,
    client_for,
    database,
    login,
    page_csrf,
    seed,
    text_of,
)


@pytest.fixture
def admin(settings: Settings) -> TestClient:
    seed(settings)
    client = client_for(settings)
    login(client, "admin")
    return client


def user_id(settings: Settings, role: str) -> int:
    with database(settings) as session:
        found = session.scalar(select(User.id).where(User.email == USERS[role][0]))
        assert found is not None
        return found


def test_console_role_change_deactivation_and_password_reset_end_sessions(
    admin: TestClient, settings: Settings
) -> None:
    person = client_for(settings)
    login(person, "operator")
    target = user_id(settings, "operator")
    page = admin.get(f"/console/users/{target}")
    assert page.status_code == 200
    assert "現在のログイン: 1 セッション" in text_of(page.text)
    token = page_csrf(admin, f"/console/users/{target}")
    changed = admin.post(
        f"/console/users/{target}/role", data={"role": "senior", "csrf_token": token}
    )
    assert changed.status_code == 303
    assert person.get("/console").status_code == 303  # signed out
    followed = admin.get(changed.headers["location"])
    assert "セッションは終了しました" in text_of(followed.text)
    login(person, "operator")
    short = admin.post(
        f"/console/users/{target}/password", data={"password": "short", "csrf_token": token}
    )
    assert short.status_code == 422
    assert "パスワードは 8 文字以上にしてください。" in text_of(short.text)
    assert person.get("/console").status_code == 200  # a refusal changes nothing
    reset = admin.post(
        f"/console/users/{target}/password",
        data={"password": "another-password", "csrf_token": token},
    )
    assert reset.status_code == 303
    assert person.get("/console").status_code == 303
    with database(settings) as session:
        assert team_service.authenticate(session, USERS["operator"][0], "another-password")
    off = admin.post(f"/console/users/{target}/active", data={"active": "0", "csrf_token": token})
    assert off.status_code == 303
    assert "無効" in text_of(admin.get(f"/console/users/{target}").text)
    with database(settings) as session:
        actions = set(session.scalars(select(Event.action).where(Event.entity_type == "user")))
    assert {"user.role_changed", "user.password_reset", "user.deactivated"} <= actions


def test_the_last_administrator_cannot_be_demoted_or_deactivated(
    admin: TestClient, settings: Settings
) -> None:
    me = user_id(settings, "admin")
    token = page_csrf(admin, f"/console/users/{me}")
    refused = admin.post(f"/console/users/{me}/active", data={"active": "0", "csrf_token": token})
    assert refused.status_code == 409
    assert "有効な管理者が少なくとも1人必要です。" in text_of(refused.text)
    demoted = admin.post(
        f"/console/users/{me}/role", data={"role": "operator", "csrf_token": token}
    )
    assert demoted.status_code == 409
    assert admin.get("/console/users").status_code == 200  # still an admin, still signed in


def test_only_admins_reach_the_user_pages(settings: Settings) -> None:
    seed(settings)
    client = client_for(settings)
    token = login(client, "supervisor")
    target = user_id(settings, "operator")
    assert client.get(f"/console/users/{target}").status_code == 403
    posted = client.post(
        f"/console/users/{target}/role", data={"role": "admin", "csrf_token": token}
    )
    assert posted.status_code == 403


def test_the_api_changes_people_and_ends_their_sessions(
    admin: TestClient, settings: Settings
) -> None:
    with database(settings) as session:
        owner = session.scalar(select(User).where(User.email == USERS["admin"][0]))
        assert owner is not None
        raw, _ = team_service.create_token(session, user=owner, name="ops", actor="test")
        session.commit()
    api = TestClient(admin.app)
    bearer = {"Authorization": f"Bearer {raw}", "Accept-Language": "en"}
    person = client_for(settings)
    login(person, "operator")
    target = user_id(settings, "operator")
    listed = api.get("/api/users", headers=bearer).json()["users"]
    assert {u["email"] for u in listed} == {email for email, _ in USERS.values()}
    assert "password_hash" not in listed[0]
    patched = api.patch(f"/api/users/{target}", json={"role": "supervisor"}, headers=bearer)
    assert patched.status_code == 200 and patched.json()["role"] == "supervisor"
    assert person.get("/console").status_code == 303
    unknown = api.patch(f"/api/users/{target}", json={"role": "boss"}, headers=bearer)
    assert unknown.status_code == 422 and "Unknown role" in unknown.json()["error"]["message"]
    short = api.post(f"/api/users/{target}/password", json={"password": "x"}, headers=bearer)
    assert short.status_code == 422
    missing = api.patch("/api/users/999", json={"active": False}, headers=bearer)
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "No such user."
    off = api.patch(f"/api/users/{target}", json={"active": False}, headers=bearer)
    assert off.json()["active"] is False
    with database(settings) as session:
        operator = session.get(User, target)
        assert operator is not None
        raw_op, _ = team_service.create_token(session, user=operator, name="op", actor="test")
        session.commit()
    assert api.get("/api/me", headers={"Authorization": f"Bearer {raw_op}"}).status_code == 401


def test_tokens_expire_and_show_their_creator(admin: TestClient, settings: Settings) -> None:
    token = page_csrf(admin, "/console/tokens")
    bad = admin.post(
        "/console/tokens", data={"name": "x", "expires_in_days": "0", "csrf_token": token}
    )
    assert bad.status_code == 422
    assert "1〜3650 の日数" in text_of(bad.text)
    created = admin.post(
        "/console/tokens", data={"name": "監視", "expires_in_days": "30", "csrf_token": token}
    )
    assert created.status_code == 201
    raw = created.text.split('id="new-token">', 1)[1].split("<", 1)[0]
    api = TestClient(admin.app)
    assert api.get("/api/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    with database(settings) as session:
        stored = session.scalar(select(ApiToken).where(ApiToken.name == "監視"))
        assert stored is not None and stored.expires_at is not None
        assert dt.timedelta(days=29) < stored.expires_at - utcnow() <= dt.timedelta(days=30)
        assert stored.creator == USERS["admin"][0]
        session.execute(update(ApiToken).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
        session.commit()
    assert api.get("/api/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    listing = text_of(admin.get("/console/tokens").text)
    assert "期限切れ" in listing and USERS["admin"][0] in listing and "作成者" in listing


@pytest.fixture
def run(settings: Settings) -> Any:
    seed(settings)
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        env = {"ANSHIN_DATABASE_URL": settings.database_url, "LANG": "en_US.UTF-8", "LC_ALL": ""}
        return runner.invoke(cli, list(args), env=env)

    return invoke


def test_the_cli_changes_people_and_ends_their_sessions(run: Any, settings: Settings) -> None:
    person = client_for(settings)
    login(person, "operator")
    email = USERS["operator"][0]
    role = run("user", "role", email, "senior")
    assert role.exit_code == 0, role.output
    assert "their sessions were ended" in role.stdout
    assert person.get("/console").status_code == 303
    login(person, "operator")  # the same person (a senior now) signs in again
    assert run("user", "deactivate", email).exit_code == 0
    assert person.get("/console").status_code == 303
    listed = json.loads(run("user", "list", "--format", "json").stdout)
    assert [u["active"] for u in listed if u["email"] == email] == [False]
    assert run("user", "activate", email).exit_code == 0
    new = run("user", "password", email, "--password", "fresh-password")
    assert new.exit_code == 0, new.output
    with database(settings) as session:
        assert team_service.authenticate(session, email, "fresh-password") is not None
        assert team_service.authenticate(session, email, PASSWORD) is None
    missing = run("user", "role", "ghost@example.com", "admin")
    assert missing.exit_code == 1 and "No user with this email" in missing.stderr
    last = run("user", "deactivate", USERS["admin"][0])
    assert last.exit_code == 1 and "administrator must remain" in last.stderr
    expiring = run(
        "token", "create", "--user", email, "--name", "ci", "--expires-in-days", "7",
        "--format", "json",
    )  # fmt: skip
    assert expiring.exit_code == 0, expiring.output
    assert json.loads(expiring.stdout)["expires_at"]
    assert (
        run("token", "create", "--user", email, "--name", "ci", "--expires-in-days", "x").exit_code
        == 2
    )
