"""Who may call the staff API: bearer tokens, session cookies with CSRF, roles (R22, R27).

Also components, maintenance and ``/api/me``, on real SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from anshin.app import create_app
from anshin.config import Settings
from anshin.events import Event
from anshin.incidents import components
from anshin.incidents.models import Component, Incident, Maintenance
from anshin.team import service as team_service
from anshin.team.models import User
from session_support import console_cookie


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


@pytest.fixture
def team(sessions: sessionmaker[Session]) -> dict[str, tuple[int, str]]:
    """role -> (user id, bearer token)."""
    out: dict[str, tuple[int, str]] = {}
    with sessions() as session:
        for role in ("operator", "senior", "admin"):
            user = team_service.create_user(
                session, email=f"{role}@example.com", name=role, role=role, password="long enough"
            )
            raw, _ = team_service.create_token(session, user=user, name="ci", actor="test")
            out[role] = (user.id, raw)
        components.add_component(session, "ログイン", group="認証", actor="test")
        components.add_component(session, "通知メール", group="メール配信", actor="test")
        session.commit()
    return out


def bearer(token: str, lang: str = "ja") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": lang}


def session_cookie(
    settings: Settings, sessions: sessionmaker[Session], user_id: int, csrf: str | None = None
) -> str:
    """The cookie the console's login would set: a live server-side session of the user."""
    with sessions() as session:
        return console_cookie(session, settings, user_id, csrf)


def counts(sessions: sessionmaker[Session]) -> tuple[int, int, int, int]:
    with sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(Incident)) or 0,
            session.scalar(select(func.count()).select_from(Component)) or 0,
            session.scalar(select(func.count()).select_from(Maintenance)) or 0,
            session.scalar(select(func.count()).select_from(Event)) or 0,
        )


INCIDENT = {"title": "障害", "severity": "sev3"}


def test_no_or_bad_credentials_are_401_in_the_callers_language(
    client: TestClient, team: dict[str, tuple[int, str]], sessions: sessionmaker[Session]
) -> None:
    before = counts(sessions)
    anonymous = client.post("/api/incidents", json=INCIDENT, headers={"Accept-Language": "en"})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["message"] == "Sign in to continue."
    forged = client.get("/api/incidents", headers=bearer("anshin_forged"))
    assert forged.status_code == 401
    assert forged.json()["error"]["message"] == "続けるにはログインしてください。"
    assert client.get("/api/me").status_code == 401
    assert counts(sessions) == before


def test_me_and_revoked_tokens(
    client: TestClient, team: dict[str, tuple[int, str]], sessions: sessionmaker[Session]
) -> None:
    me = client.get("/api/me", headers=bearer(team["senior"][1]))
    assert me.status_code == 200
    data = me.json()
    assert data["email"] == "senior@example.com" and data["role"] == "senior"
    assert "component.manage" in data["permissions"]
    assert "user.manage" not in data["permissions"]
    operator = client.get("/api/me", headers=bearer(team["operator"][1])).json()
    assert "component.manage" not in operator["permissions"]
    with sessions() as session:
        token = team_service.list_tokens(session)[-1]  # the operator's (newest last)
        assert token.user_id == team["operator"][0]
        assert token.last_used_at is not None
        team_service.revoke_token(session, token.id, actor="test")
        session.commit()
    assert client.get("/api/me", headers=bearer(team["operator"][1])).status_code == 401


def test_cookie_sessions_need_the_csrf_header_for_writes(
    client: TestClient,
    team: dict[str, tuple[int, str]],
    settings: Settings,
    sessions: sessionmaker[Session],
) -> None:
    cookie = session_cookie(settings, sessions, team["operator"][0], "k" * 43)
    client.cookies.set("anshin_session", cookie)
    assert client.get("/api/incidents").status_code == 200
    assert client.get("/api/me").json()["email"] == "operator@example.com"
    before = counts(sessions)
    refused = client.post("/api/incidents", json=INCIDENT, headers={"Accept-Language": "en"})
    assert refused.status_code == 403
    assert "expired" in refused.json()["error"]["message"]
    wrong = client.post("/api/incidents", json=INCIDENT, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    assert counts(sessions) == before
    accepted = client.post("/api/incidents", json=INCIDENT, headers={"X-CSRF-Token": "k" * 43})
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["created_by"] == f"user:{team['operator'][0]}:operator@example.com"
    # A bearer request carries no cookie and needs no CSRF token.
    client.cookies.clear()
    via_token = client.post("/api/incidents", json=INCIDENT, headers=bearer(team["operator"][1]))
    assert via_token.status_code == 201


def test_components_need_senior_to_add(
    client: TestClient, team: dict[str, tuple[int, str]], sessions: sessionmaker[Session]
) -> None:
    listed = client.get("/api/components", headers=bearer(team["operator"][1])).json()
    assert [(c["name"], c["group"], c["status"]) for c in listed["components"]] == [
        ("ログイン", "認証", "operational"),
        ("通知メール", "メール配信", "operational"),
    ]
    body = {"name": "決済", "name_en": "Payments", "group": "決済"}
    before = counts(sessions)
    refused = client.post("/api/components", json=body, headers=bearer(team["operator"][1], "en"))
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "Your role does not allow this."
    assert counts(sessions) == before
    added = client.post("/api/components", json=body, headers=bearer(team["senior"][1]))
    assert added.status_code == 201, added.text
    assert added.json()["name_en"] == "Payments"
    duplicate = client.post("/api/components", json=body, headers=bearer(team["admin"][1]))
    assert duplicate.status_code == 409
    long_name = client.post(
        "/api/components", json={"name": "x" * 201}, headers=bearer(team["senior"][1])
    )
    assert long_name.status_code == 422
    assert counts(sessions)[1] == before[1] + 1


def test_maintenance_schedule_and_status(
    client: TestClient, team: dict[str, tuple[int, str]], sessions: sessionmaker[Session]
) -> None:
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).replace(microsecond=0)
    body = {
        "title": "メール配信の定期メンテナンス",
        "body": "メンテナンスを実施いたします。",
        "scheduled_start": start.isoformat(),
        "scheduled_end": (start + dt.timedelta(hours=2)).isoformat(),
        "components": ["通知メール"],
    }
    refused = client.post("/api/maintenances", json=body, headers=bearer(team["operator"][1]))
    assert refused.status_code == 403
    created = client.post("/api/maintenances", json=body, headers=bearer(team["senior"][1]))
    assert created.status_code == 201, created.text
    window = created.json()
    assert window["status"] == "scheduled" and window["components"] == ["通知メール"]
    assert dt.datetime.fromisoformat(window["scheduled_start"]) == start
    assert window["scheduled_start"].endswith("+09:00")
    ref = window["reference"]
    listed = client.get("/api/maintenances", headers=bearer(team["operator"][1])).json()
    assert [m["reference"] for m in listed["maintenances"]] == [ref]
    before = counts(sessions)
    backwards = {**body, "scheduled_end": (start - dt.timedelta(hours=1)).isoformat()}
    bad = client.post("/api/maintenances", json=backwards, headers=bearer(team["senior"][1]))
    assert bad.status_code == 422
    assert bad.json()["error"]["message"] == "終了日時は開始日時より後にしてください。"
    skip = client.post(
        f"/api/maintenances/{ref}/status",
        json={"status": "verifying"},
        headers=bearer(team["senior"][1]),
    )
    assert skip.status_code == 409
    assert counts(sessions) == before
    going = client.post(
        f"/api/maintenances/{ref}/status",
        json={"status": "in_progress"},
        headers=bearer(team["senior"][1]),
    )
    assert going.status_code == 200 and going.json()["status"] == "in_progress"
    status_now = client.get("/api/components", headers=bearer(team["operator"][1])).json()
    assert {c["name"]: c["status"] for c in status_now["components"]}["通知メール"] == (
        "under_maintenance"
    )
    done = client.post(
        f"/api/maintenances/{ref}/status",
        json={"status": "completed"},
        headers=bearer(team["senior"][1]),
    )
    assert done.json()["completed_at"] is not None
    assert client.get("/api/maintenances", headers=bearer(team["operator"][1])).json() == {
        "maintenances": []
    }


def test_openapi_docs_list_every_route(client: TestClient) -> None:
    assert client.get("/api/docs").status_code == 200
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/incidents",
        "/api/incidents/{ref}",
        "/api/incidents/{ref}/updates",
        "/api/incidents/{ref}/resolve",
        "/api/incidents/{ref}/no-news-draft",
        "/api/components",
        "/api/maintenances",
        "/api/maintenances/{ref}/status",
        "/api/me",
    ):
        assert path in paths, path


def test_inactive_user_cookie_is_refused(
    client: TestClient,
    team: dict[str, tuple[int, str]],
    settings: Settings,
    sessions: sessionmaker[Session],
) -> None:
    cookie = session_cookie(settings, sessions, team["operator"][0])
    client.cookies.set("anshin_session", cookie)
    assert client.get("/api/me").status_code == 200
    with sessions() as session:
        user = session.get(User, team["operator"][0])
        assert user is not None
        user.active = False
        session.commit()
    client.cookies.set("anshin_session", cookie)
    assert client.get("/api/me").status_code == 401
