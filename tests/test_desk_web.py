"""The desk through the real app: the queue and inquiry pages, their forms, the JSON API,
the skill map and the dashboard's waits (R19-R23, R28). SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from anshin import events
from anshin.config import Settings
from anshin.inquiries.models import Inquiry
from anshin.team import service as team_service
from anshin.team.models import AgentSkill, User
from desk_world import SAMPLES, World, seeded
from test_console_support import client_for, database, login, text_of


@pytest.fixture
def world(settings: Settings) -> World:
    return seeded(settings)


@pytest.fixture
def tokens(settings: Settings, world: World) -> dict[str, str]:
    out: dict[str, str] = {}
    with database(settings) as session:
        for user in session.scalars(select(User)):
            out[user.role], _ = team_service.create_token(
                session, user=user, name="t", actor="test"
            )
        session.commit()
    return out


@pytest.fixture
def api(settings: Settings, world: World) -> Iterator[TestClient]:
    with client_for(settings) as client:
        yield client


def bearer(token: str, lang: str = "en") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": lang}


def by_ref(world: World, **match: object) -> str:
    for ref, sample in zip(world.inquiries, SAMPLES, strict=True):
        if all(getattr(sample, k) == v for k, v in match.items()):
            return ref
    raise AssertionError(match)


def test_queue_page_lists_levels_filters_and_timers(settings: Settings, world: World) -> None:
    client = client_for(settings)
    login(client, "operator")
    page = client.get("/console/inquiries?level=3")
    assert page.status_code == 200
    text = text_of(page.text)
    for ref, sample in zip(world.inquiries, SAMPLES, strict=True):
        assert (ref in text) == (sample.level == 3)
    assert "data-due=" in page.text and 'class="overdue"' not in page.text
    assert "スーパーバイザー" in text  # who holds the harassing one
    # Level 1's oldest waited 70 minutes for a 30-minute first response: red.
    assert '<tr data-due-row class="overdue">' in client.get("/console/inquiries?level=1").text
    filtered = text_of(client.get("/console/inquiries?channel=phone&intent=complaint").text)
    assert by_ref(world, name="渡辺 大輔") in filtered
    assert by_ref(world, name="佐藤 花子") not in filtered
    mine = text_of(client.get("/console/inquiries?view=mine").text)
    assert by_ref(world, holder="operator") in mine and by_ref(world, holder="senior") not in mine
    bad = client.get("/console/inquiries?level=9")
    assert bad.status_code == 422 and "レベルは 1、2、3 のいずれかです。" in text_of(bad.text)


def test_inquiry_page_shows_words_triage_and_places_for_other_panels(
    settings: Settings, world: World
) -> None:
    client = client_for(settings)
    login(client, "senior")
    ref = by_ref(world, name="渡辺 大輔")
    page = client.get(f"/console/inquiries/{ref}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "対応が遅すぎる。何度電話させるんだ。責任者を出せ。" in text
    assert "責任者を出せ」→ 苦情" in text  # the triage's reasons
    assert f"{ref}/claim" in page.text and f"{ref}/level" in page.text
    assert client.get("/console/inquiries/Q-1999-000001").status_code == 404


def test_claim_on_the_page_then_the_loser_sees_who_and_since(
    settings: Settings, world: World
) -> None:
    ref = by_ref(world, name="佐藤 花子")
    first, second = client_for(settings), client_for(settings)
    token_a, token_b = login(first, "operator"), login(second, "senior")
    done = first.post(f"/console/inquiries/{ref}/claim", data={"csrf_token": token_a})
    assert done.status_code == 303
    lost = second.post(f"/console/inquiries/{ref}/claim", data={"csrf_token": token_b})
    assert lost.status_code == 409
    assert "一次対応オペレーター" in text_of(lost.text)
    # A senior is a lead up to level 2: take over with a reason.
    refused = second.post(
        f"/console/inquiries/{ref}/takeover", data={"csrf_token": token_b, "reason": ""}
    )
    assert refused.status_code == 422
    taken = second.post(
        f"/console/inquiries/{ref}/takeover",
        data={"csrf_token": token_b, "reason": "長時間の保留のため"},
    )
    assert taken.status_code == 303
    with database(settings) as session:
        inquiry = session.scalar(select(Inquiry).where(Inquiry.reference == ref))
        assert inquiry is not None
        senior = session.scalar(select(User).where(User.role == "senior"))
        assert senior is not None and inquiry.claimed_by_id == senior.id


def test_escalate_stage_and_triage_from_the_page(settings: Settings, world: World) -> None:
    ref = by_ref(world, name="鈴木 一郎")
    client = client_for(settings)
    token = login(client, "operator")
    assert (
        client.post(f"/console/inquiries/{ref}/claim", data={"csrf_token": token}).status_code
        == 303
    )
    moved = client.post(
        f"/console/inquiries/{ref}/stage", data={"csrf_token": token, "stage": "listening"}
    )
    assert moved.status_code == 303
    wrong = client.post(
        f"/console/inquiries/{ref}/stage", data={"csrf_token": token, "stage": "resolved"}
    )
    assert wrong.status_code == 409
    fixed = client.post(
        f"/console/inquiries/{ref}/triage",
        data={"csrf_token": token, "field": "temperature", "value": "3", "reason": "再度の電話"},
    )
    assert fixed.status_code == 303
    no_reason = client.post(
        f"/console/inquiries/{ref}/level", data={"csrf_token": token, "level": "2", "reason": ""}
    )
    assert no_reason.status_code == 422 and 'id="err-level_reason"' in no_reason.text
    up = client.post(
        f"/console/inquiries/{ref}/level",
        data={"csrf_token": token, "level": "2", "reason": "回避策が効かないとのこと"},
    )
    assert up.status_code == 303
    with database(settings) as session:
        inquiry = session.scalar(select(Inquiry).where(Inquiry.reference == ref))
        assert inquiry is not None
        assert (inquiry.level, inquiry.temperature, inquiry.claimed_by_id) == (2, 3, None)
        actions = [e.action for e in events.history(session, "inquiry", inquiry.id)]
    assert actions[-4:] == [
        "inquiry.claimed",
        "inquiry.stage_changed",
        "inquiry.triage_corrected",
        "inquiry.escalated",
    ]


def test_api_queue_claim_race_and_escalation(
    api: TestClient, tokens: dict[str, str], world: World, settings: Settings
) -> None:
    listed = api.get("/api/inquiries?level=1", headers=bearer(tokens["operator"]))
    assert listed.status_code == 200
    rows = listed.json()["inquiries"]
    assert {r["level"] for r in rows} == {1}
    dues = [r["due_at"] for r in rows]
    assert dues == sorted(dues)
    assert (
        api.get("/api/inquiries?channel=fax", headers=bearer(tokens["operator"])).status_code == 422
    )

    ref = by_ref(world, name="小林 さやか")
    # Two agents race through the API: exactly one wins, the other learns who and since when.
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(
            pool.map(
                lambda role: api.post(f"/api/inquiries/{ref}/claim", headers=bearer(tokens[role])),
                ["operator", "senior"],
            )
        )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409]
    loser = next(a for a in answers if a.status_code == 409).json()
    winner = next(a for a in answers if a.status_code == 200).json()
    assert loser["error"]["holder"]["name"] == winner["holder"]["name"]
    assert loser["error"]["since"]

    holder_role = "operator" if winner["holder"]["name"] == "一次対応オペレーター" else "senior"
    up = api.post(
        f"/api/inquiries/{ref}/escalate",
        headers=bearer(tokens[holder_role]),
        json={"level": 2, "reason": "請求の詳細確認が必要"},
    )
    assert up.status_code == 200 and up.json()["level"] == 2
    assert up.json()["history"][-1]["action"] == "inquiry.escalated"
    down = api.post(
        f"/api/inquiries/{ref}/deescalate",
        headers=bearer(tokens["operator"]),
        json={"level": 1, "reason": "x"},
    )
    assert down.status_code == 409
    down = api.post(
        f"/api/inquiries/{ref}/deescalate",
        headers=bearer(tokens["senior"]),
        json={"level": 1, "reason": "操作方法の案内で足ります"},
    )
    assert down.status_code == 200 and down.json()["level"] == 1
    bad = api.post(
        f"/api/inquiries/{ref}/escalate",
        headers=bearer(tokens["senior"]),
        json={"level": "2", "reason": "r"},
    )
    assert bad.status_code == 422
    shown = api.get(f"/api/inquiries/{ref}", headers=bearer(tokens["operator"]))
    assert shown.json()["original_text"].startswith("請求書のPDF")


def test_api_takeover_release_and_stage(
    api: TestClient, tokens: dict[str, str], world: World
) -> None:
    ref = by_ref(world, holder="operator")
    assert (
        api.post(f"/api/inquiries/{ref}/release", headers=bearer(tokens["senior"])).status_code
        == 200
    )  # a lead may release
    assert (
        api.post(f"/api/inquiries/{ref}/claim", headers=bearer(tokens["operator"])).status_code
        == 200
    )
    refused = api.post(
        f"/api/inquiries/{ref}/takeover", headers=bearer(tokens["operator"]), json={"reason": "r"}
    )
    assert refused.status_code == 403
    taken = api.post(
        f"/api/inquiries/{ref}/takeover",
        headers=bearer(tokens["supervisor"]),
        json={"reason": "担当者が退勤"},
    )
    assert taken.status_code == 200 and taken.json()["holder"]["name"] == "スーパーバイザー"
    held = api.post(
        f"/api/inquiries/{ref}/stage",
        headers=bearer(tokens["operator"]),
        json={"stage": "listening"},
    )
    assert held.status_code == 409
    moved = api.post(
        f"/api/inquiries/{ref}/stage",
        headers=bearer(tokens["supervisor"]),
        json={"stage": "listening"},
    )
    assert moved.status_code == 200 and moved.json()["stage"] == "listening"
    unknown = api.post(
        f"/api/inquiries/{ref}/stage", headers=bearer(tokens["supervisor"]), json={"stage": "done"}
    )
    assert unknown.status_code == 422


def test_skill_map_page_and_edits(settings: Settings, world: World) -> None:
    viewer = client_for(settings)
    token = login(viewer, "operator")
    page = viewer.get("/console/skills")
    assert page.status_code == 200 and "二次対応シニア" in text_of(page.text)
    with database(settings) as session:
        senior = session.scalar(select(User).where(User.role == "senior"))
        assert senior is not None
        senior_id = senior.id
    denied = viewer.post(
        f"/console/skills/{senior_id}", data={"csrf_token": token, "max_level": "1"}
    )
    assert denied.status_code == 403
    lead = client_for(settings)
    token = login(lead, "supervisor")
    too_high = lead.post(
        f"/console/skills/{senior_id}",
        data={"csrf_token": token, "max_level": "3", "languages": "ja"},
    )
    assert too_high.status_code == 422
    done = lead.post(
        f"/console/skills/{senior_id}",
        data={"csrf_token": token, "max_level": "1", "languages": ["ja", "en"]},
    )
    assert done.status_code == 303
    with database(settings) as session:
        row = session.get(AgentSkill, senior_id)
        assert row is not None
        assert (row.max_level, row.languages, row.incident_capable) == (1, ["ja", "en"], False)


def test_dashboard_shows_waits_and_warns_past_the_threshold(
    settings: Settings, world: World
) -> None:
    client = client_for(settings)
    login(client, "supervisor")
    page = client.get("/console")
    assert page.status_code == 200
    text = text_of(page.text)
    assert 'id="inquiry-waits"' in page.text
    # Level 1's oldest unanswered inquiry waited 70 minutes: past its 10-minute threshold.
    assert "L1" in text and "70" in text
    assert 'class="wait alert" href="/console/inquiries?level=1"' in page.text


DESK_ROUTES = {
    ("GET", "/console/inquiries"): "operator",
    ("GET", "/console/inquiries/{ref}"): "operator",
    ("POST", "/console/inquiries/{ref}/claim"): "operator",
    ("POST", "/console/inquiries/{ref}/release"): "operator",
    ("POST", "/console/inquiries/{ref}/takeover"): "senior",
    ("POST", "/console/inquiries/{ref}/level"): "operator",
    ("POST", "/console/inquiries/{ref}/stage"): "operator",
    ("POST", "/console/inquiries/{ref}/triage"): "operator",
    ("GET", "/console/skills"): "operator",
    ("POST", "/console/skills/{user_id}"): "supervisor",
    ("GET", "/api/inquiries"): "operator",
    ("GET", "/api/inquiries/{ref}"): "operator",
    ("POST", "/api/inquiries/{ref}/claim"): "operator",
    ("POST", "/api/inquiries/{ref}/release"): "operator",
    ("POST", "/api/inquiries/{ref}/takeover"): "senior",
    ("POST", "/api/inquiries/{ref}/escalate"): "operator",
    ("POST", "/api/inquiries/{ref}/deescalate"): "operator",
    ("POST", "/api/inquiries/{ref}/stage"): "operator",
}


def test_every_desk_route_is_in_the_authorisation_matrix_with_its_role(
    settings: Settings,
) -> None:
    """The matrix (tests/test_authz_matrix.py) derives each route's role from its alias:
    the desk's routes must be there, each with the lowest role that may ever use it."""
    from anshin.app import create_app
    from route_table import api_routes
    from test_authz_matrix import minimum_role

    found = {
        (method, r.path): minimum_role(r)
        for r in api_routes(create_app(settings))
        for method in r.methods - {"HEAD"}
        if (method, r.path) in DESK_ROUTES
    }
    assert found == DESK_ROUTES
