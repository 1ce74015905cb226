"""The staff JSON API on real SQLite and PostgreSQL: incidents, updates, resolve (R1-R7).

Every refusal is checked twice: the status and message in the caller's
language, and a database exactly as it was before the request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from anshin.app import create_app
from anshin.config import Settings
from anshin.events import Event
from anshin.incidents import components
from anshin.incidents.models import Component, Incident, IncidentUpdate, Maintenance
from anshin.team import service as team_service
from notice_texts import RESOLUTION_EN, RESOLUTION_JA, notice_en, notice_ja

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


@pytest.fixture
def tokens(sessions: sessionmaker[Session]) -> dict[str, str]:
    """An operator's bearer token (roles are tested in test_api_auth.py), and two components."""
    raw: dict[str, str] = {}
    with sessions() as session:
        user = team_service.create_user(
            session,
            email="operator@example.com",
            name="Operator",
            role="operator",
            password="correct horse",
        )
        raw["operator"], _ = team_service.create_token(session, user=user, name="t", actor="test")
        components.add_component(session, "ログイン", group="認証", name_en="Login", actor="test")
        components.add_component(session, "決済", group="決済", name_en="Payments", actor="test")
        session.commit()
    return raw


def bearer(token: str, lang: str = "ja") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": lang}


def state(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """Everything a refused request must leave untouched."""
    with sessions() as session:
        incidents = session.scalars(select(Incident).order_by(Incident.id)).all()
        return {
            "incidents": [
                (
                    i.reference,
                    i.title,
                    i.status,
                    i.severity,
                    i.estimated_affected_customers,
                    i.estimated_recovery_at,
                    i.updated_at,
                    sorted((c.component_id, c.impact) for c in i.components),
                )
                for i in incidents
            ],
            "updates": session.scalar(select(func.count()).select_from(IncidentUpdate)),
            "events": session.scalar(select(func.count()).select_from(Event)),
            "components": session.execute(select(Component.name, Component.status)).all(),
            "maintenances": session.scalar(select(func.count()).select_from(Maintenance)),
        }


def declare(client: TestClient, token: str, **fields: Any) -> dict[str, Any]:
    body = {
        "title": "ログインできない障害",
        "severity": "sev2",
        "summary": "一部のお客様がログインできません。",
        "components": ["ログイン"],
        "estimated_affected_customers": 1200,
        "internal_notes": "担当: 認証チーム",
        **fields,
    }
    response = client.post("/api/incidents", json=body, headers=bearer(token))
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_declare_returns_the_record_with_offsets_and_the_first_notice_timer(
    client: TestClient, tokens: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    before = dt.datetime.now(dt.UTC)
    data = declare(client, tokens["operator"])
    assert data["reference"].startswith("INC-")
    assert data["status"] == "investigating"
    assert data["internal_notes"] == "担当: 認証チーム"
    assert data["components"] == [
        {
            "id": 1,
            "name": "ログイン",
            "name_en": "Login",
            "impact": "partial_outage",
            "status": "partial_outage",
        }
    ]
    declared = dt.datetime.fromisoformat(data["declared_at"])
    assert data["declared_at"].endswith("+09:00")
    assert declared >= before.replace(microsecond=0)
    due = data["due"]
    assert due["kind"] == "first_notice"
    assert dt.datetime.fromisoformat(due["due_at"]) == declared + dt.timedelta(minutes=15)
    assert 880 <= due["seconds_left"] <= 900
    assert due["overdue"] is False
    assert data["next_update_at"] is None
    with sessions() as session:
        event = session.scalars(select(Event).where(Event.action == "incident.declared")).one()
        assert event.actor == "user:1:operator@example.com"


def test_naive_times_are_read_in_the_team_zone(client: TestClient, tokens: dict[str, str]) -> None:
    started_local = (dt.datetime.now(TOKYO) - dt.timedelta(hours=1)).replace(
        second=0, microsecond=0, tzinfo=None
    )
    data = declare(client, tokens["operator"], started_at=started_local.isoformat())
    assert data["started_at"] == started_local.isoformat() + "+09:00"
    utc = declare(
        client,
        tokens["operator"],
        title="二件目",
        started_at=(started_local.replace(tzinfo=TOKYO)).astimezone(dt.UTC).isoformat(),
    )
    assert utc["started_at"] == data["started_at"]


def test_list_get_and_filter(client: TestClient, tokens: dict[str, str]) -> None:
    first = declare(client, tokens["operator"])
    second = declare(client, tokens["operator"], title="決済の障害", components=["決済"])
    resolved = client.post(
        f"/api/incidents/{first['reference']}/resolve",
        json={"body_ja": "復旧いたしました。ご迷惑をおかけし申し訳ございませんでした。"},
        headers=bearer(tokens["operator"]),
    )
    assert resolved.status_code == 200, resolved.text
    everything = client.get("/api/incidents", headers=bearer(tokens["operator"])).json()
    assert [i["reference"] for i in everything["incidents"]] == [
        second["reference"],
        first["reference"],
    ]
    open_only = client.get("/api/incidents?status=open", headers=bearer(tokens["operator"]))
    assert [i["reference"] for i in open_only.json()["incidents"]] == [second["reference"]]
    done = client.get("/api/incidents?status=resolved", headers=bearer(tokens["operator"]))
    assert [i["reference"] for i in done.json()["incidents"]] == [first["reference"]]
    one = client.get(
        f"/api/incidents/{second['reference'].lower()}", headers=bearer(tokens["operator"])
    )
    assert one.status_code == 200
    assert one.json()["title"] == "決済の障害"
    bad = client.get("/api/incidents?status=later", headers=bearer(tokens["operator"], "en"))
    assert bad.status_code == 422
    assert bad.json()["error"]["message"].startswith("Unknown filter: later.")
    missing = client.get("/api/incidents/INC-1999-0001", headers=bearer(tokens["operator"]))
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "該当するインシデントがありません: INC-1999-0001"


def test_patch_changes_only_the_fields_sent(
    client: TestClient, tokens: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    data = declare(client, tokens["operator"], impact="major_outage", cause="調査中")
    ref = data["reference"]
    recovery = (dt.datetime.now(TOKYO) + dt.timedelta(hours=2)).replace(microsecond=0)
    response = client.patch(
        f"/api/incidents/{ref}",
        json={
            "estimated_affected_customers": 3000,
            "estimated_recovery_at": recovery.isoformat(),
            "components": ["ログイン", "決済"],
        },
        headers=bearer(tokens["operator"]),
    )
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["estimated_affected_customers"] == 3000
    assert dt.datetime.fromisoformat(patched["estimated_recovery_at"]) == recovery
    assert patched["title"] == data["title"]
    assert patched["cause"] == "調査中"
    assert patched["internal_notes"] == "担当: 認証チーム"
    assert {(c["name"], c["impact"]) for c in patched["components"]} == {
        ("ログイン", "major_outage"),
        ("決済", "major_outage"),
    }
    cleared = client.patch(
        f"/api/incidents/{ref}",
        json={"estimated_recovery_at": None, "cause": None},
        headers=bearer(tokens["operator"]),
    ).json()
    assert cleared["estimated_recovery_at"] is None
    assert cleared["cause"] is None
    assert cleared["estimated_affected_customers"] == 3000
    with sessions() as session:
        edits = session.scalars(select(Event).where(Event.action == "incident.edited")).all()
        assert len(edits) == 2
        assert (
            edits[0].before is not None and edits[0].before["estimated_affected_customers"] == 1200
        )


def test_updates_first_notice_then_update_then_no_news(
    client: TestClient, tokens: dict[str, str]
) -> None:
    ref = declare(client, tokens["operator"])["reference"]
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)).replace(microsecond=0)
    at = f"{soon.astimezone(TOKYO):%H:%M}"
    first = client.post(
        f"/api/incidents/{ref}/updates",
        json={
            "body_ja": notice_ja("ログインできない事象が発生しております。", next_at=at),
            "body_en": notice_en("Some customers cannot sign in.", next_at=at),
            "next_update_at": soon.isoformat(),
        },
        headers=bearer(tokens["operator"]),
    )
    assert first.status_code == 201, first.text
    data = first.json()
    assert data["updates"][-1]["kind"] == "first_notice"
    assert dt.datetime.fromisoformat(data["next_update_at"]) == soon
    assert data["due"]["kind"] == "update"
    assert dt.datetime.fromisoformat(data["due"]["due_at"]) == soon
    assert 1700 < data["due"]["seconds_left"] <= 1800
    internal = client.post(
        f"/api/incidents/{ref}/updates",
        json={"body_ja": "決済代行会社に確認中", "audience": "internal", "status": "identified"},
        headers=bearer(tokens["operator"]),
    ).json()
    assert internal["updates"][-1]["audience"] == "internal"
    assert internal["updates"][-1]["next_update_at"] is None
    assert internal["status"] == "identified"
    assert internal["next_update_at"] == data["next_update_at"]
    no_news = client.post(
        f"/api/incidents/{ref}/updates", json={"no_news": True}, headers=bearer(tokens["operator"])
    )
    assert no_news.status_code == 201, no_news.text
    last = no_news.json()["updates"][-1]
    assert last["kind"] == "no_news_update"
    assert "引き続き" in last["body_ja"]
    assert last["body_en"].startswith("We are still working")
    promised = dt.datetime.fromisoformat(last["next_update_at"])
    # The cadence's time down to the quarter hour: never later, at most 15 minutes earlier.
    early = dt.datetime.fromisoformat(last["published_at"]) + dt.timedelta(minutes=60) - promised
    assert dt.timedelta(0) <= early < dt.timedelta(minutes=15)
    assert promised.minute % 15 == 0 or early == dt.timedelta(0)
    assert f"{promised:%H:%M}" in last["body_ja"]


def test_no_news_draft(client: TestClient, tokens: dict[str, str]) -> None:
    ref = declare(client, tokens["operator"], severity="sev1")["reference"]
    draft = client.get(f"/api/incidents/{ref}/no-news-draft", headers=bearer(tokens["operator"]))
    assert draft.status_code == 200
    data = draft.json()
    next_at = dt.datetime.fromisoformat(data["next_update_at"])
    assert data["next_update_at"].endswith("+09:00")
    # sev1: the cadence's 30 minutes, down to the quarter hour (a time a person writes).
    assert 14 * 60 < (next_at - dt.datetime.now(dt.UTC)).total_seconds() <= 30 * 60
    assert next_at.minute % 15 == 0 and next_at.second == 0
    assert "引き続き" in data["body_ja"] and f"{next_at:%H:%M}" in data["body_ja"]
    assert "still working" in data["body_en"]


def test_resolve_then_no_more_updates(
    client: TestClient, tokens: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    ref = declare(client, tokens["operator"])["reference"]
    resolved = client.post(
        f"/api/incidents/{ref}/resolve",
        json={"body_ja": RESOLUTION_JA, "body_en": RESOLUTION_EN},
        headers=bearer(tokens["operator"]),
    )
    assert resolved.status_code == 200, resolved.text
    data = resolved.json()
    assert data["status"] == "resolved"
    assert data["due"] is None and data["next_update_at"] is None
    assert data["components"][0]["status"] == "operational"
    before = state(sessions)
    late = client.post(
        f"/api/incidents/{ref}/updates",
        json={"body_ja": "追加のお知らせ"},
        headers=bearer(tokens["operator"], "en"),
    )
    assert late.status_code == 409
    assert "already resolved" in late.json()["error"]["message"]
    again = client.post(
        f"/api/incidents/{ref}/resolve",
        json={"body_ja": "再度"},
        headers=bearer(tokens["operator"]),
    )
    assert again.status_code == 409
    assert "すでに復旧済み" in again.json()["error"]["message"]
    patch = client.patch(
        f"/api/incidents/{ref}", json={"title": "変更"}, headers=bearer(tokens["operator"])
    )
    assert patch.status_code == 409
    assert state(sessions) == before


BAD_DECLARATIONS: list[tuple[str, dict[str, Any], int, str, str]] = [
    ("oversized title", {"title": "あ" * 201}, 422, "title", "長すぎます"),
    ("oversized summary", {"summary": "x" * 5001}, 422, "summary", "長すぎます"),
    ("empty title", {"title": "   "}, 422, "title", "必須項目です"),
    ("unknown severity", {"severity": "sev9"}, 422, "severity", "不明な重大度です: sev9"),
    ("unknown component", {"components": ["存在しない"]}, 422, "components", "存在しない"),
    ("unknown impact", {"impact": "exploded"}, 422, "component_status", "exploded"),
    ("negative customers", {"estimated_affected_customers": -1}, 422, "", ""),
    ("unknown field", {"colour": "red"}, 422, "", ""),
    ("not a time", {"started_at": "yesterday"}, 422, "", ""),
    (
        "detected before started",
        {
            "started_at": "2026-01-01T10:00:00+09:00",
            "detected_at": "2026-01-01T09:00:00+09:00",
        },
        422,
        "detected_at",
        "検知日時",
    ),
]


@pytest.mark.parametrize(
    ("case", "fields", "status", "field", "text"),
    BAD_DECLARATIONS,
    ids=[c[0] for c in BAD_DECLARATIONS],
)
def test_bad_declarations_change_nothing(
    client: TestClient,
    tokens: dict[str, str],
    sessions: sessionmaker[Session],
    case: str,
    fields: dict[str, Any],
    status: int,
    field: str,
    text: str,
) -> None:
    declare(client, tokens["operator"])
    before = state(sessions)
    body = {"title": "障害", "severity": "sev2", **fields}
    response = client.post("/api/incidents", json=body, headers=bearer(tokens["operator"]))
    assert response.status_code == status, response.text
    error = response.json()["error"]
    if field:
        assert error["field"] == field
        assert text in error["message"]
    else:
        assert error["code"] == "InvalidInput"
        assert error["message"].startswith("入力内容に誤りがあります")
        assert error["details"]
    assert state(sessions) == before


def test_bad_updates_change_nothing(
    client: TestClient, tokens: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    ref = declare(client, tokens["operator"])["reference"]
    now = dt.datetime.now(dt.UTC)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"body_en": "English only"}, 422, "必須項目です"),
        ({"body_ja": "   "}, 422, "必須項目です"),
        ({"body_ja": "あ" * 5001}, 422, "長すぎます"),
        (
            {"body_ja": "続報", "next_update_at": (now - dt.timedelta(minutes=5)).isoformat()},
            422,
            "現在より後",
        ),
        (
            {"body_ja": "続報", "next_update_at": (now + dt.timedelta(hours=3)).isoformat()},
            422,
            "60 分",
        ),
        ({"body_ja": "続報", "status": "fixed"}, 422, "不明な状態です: fixed"),
        ({"body_ja": "続報", "audience": "everyone"}, 422, "不明な公開範囲です"),
    ]
    before = state(sessions)
    for body, status, text in cases:
        response = client.post(
            f"/api/incidents/{ref}/updates", json=body, headers=bearer(tokens["operator"])
        )
        assert response.status_code == status, (body, response.text)
        assert text in response.json()["error"]["message"], (body, response.text)
        assert state(sessions) == before, body
    english = client.post(
        f"/api/incidents/{ref}/updates",
        json={"body_ja": "続報", "next_update_at": (now - dt.timedelta(minutes=5)).isoformat()},
        headers=bearer(tokens["operator"], "en"),
    )
    assert english.json()["error"]["message"] == "The next update time must be in the future."
    resolve_empty = client.post(
        f"/api/incidents/{ref}/resolve", json={"body_ja": ""}, headers=bearer(tokens["operator"])
    )
    assert resolve_empty.status_code == 422
    bad_patch = client.patch(
        f"/api/incidents/{ref}",
        json={"severity": "critical"},
        headers=bearer(tokens["operator"]),
    )
    assert bad_patch.status_code == 422
    assert bad_patch.json()["error"]["field"] == "severity"
    unknown_component = client.patch(
        f"/api/incidents/{ref}", json={"components": ["無い"]}, headers=bearer(tokens["operator"])
    )
    assert unknown_component.status_code == 422
    garbage = client.post(
        f"/api/incidents/{ref}/updates",
        content=b"{not json",
        headers={**bearer(tokens["operator"]), "Content-Type": "application/json"},
    )
    assert garbage.status_code == 422
    assert state(sessions) == before
