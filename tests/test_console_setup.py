"""Components and maintenance windows in the console (R10): seniors change, everyone sees."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import make_engine
from anshin.incidents.models import Component, Maintenance
from test_console_support import client_for, count, login, seed, text_of


@pytest.fixture
def client(settings: Settings) -> TestClient:
    seed(settings)
    return client_for(settings)


def _local(delta: dt.timedelta) -> str:
    when = (dt.datetime.now(dt.UTC) + delta).astimezone(dt.timezone(dt.timedelta(hours=9)))
    return f"{when:%Y-%m-%dT%H:%M}"


def _components(settings: Settings) -> dict[str, Component]:
    with Session(make_engine(settings.database_url)) as session:
        return {c.name: c for c in session.scalars(select(Component))}


def test_operator_sees_components_but_cannot_add(client: TestClient, settings: Settings) -> None:
    token = login(client, "operator")
    page = client.get("/console/components")
    assert page.status_code == 200
    assert "ログイン" in page.text and "正常稼働" in page.text
    assert "コンポーネントの追加はシニア以上が行えます。" in page.text
    refused = client.post("/console/components", data={"name": "API", "csrf_token": token})
    assert refused.status_code == 403
    assert count(settings, Component) == 2


def test_senior_adds_a_component_in_a_group(client: TestClient, settings: Settings) -> None:
    token = login(client, "senior")
    assert client.post("/console/components", data={"name": "API"}).status_code == 403
    added = client.post(
        "/console/components",
        data={"name": "API", "name_en": "API", "group": "連携", "csrf_token": token},
    )
    assert added.status_code == 303
    page = text_of(client.get("/console/components").text)
    assert "コンポーネント「API」を追加しました。" in page and "連携" in page
    duplicate = client.post(
        "/console/components", data={"name": "API", "group": "新グループ", "csrf_token": token}
    )
    assert duplicate.status_code == 409
    assert "新グループ" in duplicate.text  # what was typed is kept
    assert "既に" in duplicate.text or "すでに" in duplicate.text
    blank = client.post("/console/components", data={"name": " ", "csrf_token": token})
    assert blank.status_code == 422 and 'id="err-name"' in blank.text
    assert count(settings, Component) == 3


def test_senior_schedules_starts_and_completes_maintenance(
    client: TestClient, settings: Settings
) -> None:
    token = login(client, "senior")
    login_id = _components(settings)["ログイン"].id
    scheduled = client.post(
        "/console/maintenance",
        data={
            "title": "認証基盤の定期メンテナンス",
            "scheduled_start": _local(dt.timedelta(hours=1)),
            "scheduled_end": _local(dt.timedelta(hours=2)),
            "components": [str(login_id)],
            "body": "この間はログインできません。",
            "csrf_token": token,
        },
    )
    assert scheduled.status_code == 303
    page = client.get("/console/maintenance").text
    reference = re.search(r"MNT-\d{4}-\d{4}", page)
    assert reference is not None and "認証基盤の定期メンテナンス" in page
    ref = reference.group(0)
    started = client.post(
        f"/console/maintenance/{ref}/status", data={"status": "in_progress", "csrf_token": token}
    )
    assert started.status_code == 303
    assert _components(settings)["ログイン"].status == "under_maintenance"
    done = client.post(
        f"/console/maintenance/{ref}/status", data={"status": "completed", "csrf_token": token}
    )
    assert done.status_code == 303
    assert _components(settings)["ログイン"].status == "operational"
    again = client.post(
        f"/console/maintenance/{ref}/status", data={"status": "in_progress", "csrf_token": token}
    )
    assert again.status_code == 409


def test_bad_maintenance_input_keeps_the_values(client: TestClient, settings: Settings) -> None:
    token = login(client, "senior")
    login_id = _components(settings)["ログイン"].id
    response = client.post(
        "/console/maintenance",
        data={
            "title": "夜間メンテナンス",
            "scheduled_start": _local(dt.timedelta(hours=3)),
            "scheduled_end": _local(dt.timedelta(hours=2)),
            "components": [str(login_id)],
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    assert "夜間メンテナンス" in response.text
    assert f'value="{login_id}" checked' in response.text
    assert 'id="err-scheduled_end"' in response.text
    missing = client.post(
        "/console/maintenance", data={"title": "", "scheduled_start": "", "csrf_token": token}
    )
    assert missing.status_code == 422
    for name in ("title", "scheduled_start", "scheduled_end"):
        assert f'id="err-{name}"' in missing.text
    assert count(settings, Maintenance) == 0


def test_operator_cannot_schedule_maintenance(client: TestClient, settings: Settings) -> None:
    token = login(client, "operator")
    page = client.get("/console/maintenance")
    assert "メンテナンスの登録はシニア以上が行えます。" in page.text
    refused = client.post(
        "/console/maintenance",
        data={
            "title": "x",
            "scheduled_start": _local(dt.timedelta(hours=1)),
            "scheduled_end": _local(dt.timedelta(hours=2)),
            "csrf_token": token,
        },
    )
    assert refused.status_code == 403
    assert count(settings, Maintenance) == 0
