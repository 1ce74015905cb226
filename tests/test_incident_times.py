"""Start and recovery times as facts people correct (R1, R7), SQLite and PostgreSQL.

The start of an outage was fixed once declared, and the recovery time was
whenever someone clicked publish. Now both can be corrected (service, API,
CLI, console), each change is an event with the times before and after, and
the resolution notice takes the actual recovery time (now by default).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from anshin.app import create_app
from anshin.cli import app as cli_app
from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import InvalidInput
from anshin.events import Event
from anshin.incidents import components, lifecycle, service
from anshin.incidents.models import Component, Incident
from anshin.team import service as team_service
from notice_texts import RESOLUTION_JA
from test_console_support import client_for, login, seed, text_of

ACTOR = "test:lead"
RESOLVE_JA = RESOLUTION_JA + "原因と再発防止策は12月10日までにご報告いたします。"


def _declare(session: Session, settings: Settings, now: dt.datetime) -> Incident:
    if session.scalar(select(Component).where(Component.name == "ログイン")) is None:
        components.add_component(session, "ログイン", name_en="Sign-in", actor=ACTOR)
    incident = service.declare(
        session,
        settings,
        service.IncidentInput(
            title="ログインできない障害",
            severity="sev2",
            components=["ログイン"],
            started_at=now - dt.timedelta(hours=2),
            detected_at=now - dt.timedelta(hours=1),
        ),
        actor=ACTOR,
        now=now - dt.timedelta(minutes=50),
    )
    session.commit()
    return incident


def _events(session: Session, incident: Incident) -> list[Event]:
    return list(
        session.scalars(
            select(Event).where(
                Event.entity_id == incident.id, Event.action == "incident.times_corrected"
            )
        )
    )


def test_the_resolution_takes_the_actual_recovery_time(
    session: Session, settings: Settings
) -> None:
    now = utcnow()
    incident = _declare(session, settings, now)
    recovered = now - dt.timedelta(minutes=20)
    service.resolve(
        session, settings, incident, body_ja=RESOLVE_JA, actor=ACTOR, resolved_at=recovered, now=now
    )
    session.commit()
    assert incident.resolved_at == recovered
    assert incident.updates[-1].published_at == now  # published now, recovered earlier


def test_the_recovery_time_defaults_to_now(session: Session, settings: Settings) -> None:
    now = utcnow()
    incident = _declare(session, settings, now)
    service.resolve(session, settings, incident, body_ja=RESOLVE_JA, actor=ACTOR, now=now)
    assert incident.resolved_at == now


@pytest.mark.parametrize(
    ("offset", "message"),
    [
        (dt.timedelta(hours=-3), "The recovery time cannot be before the start time."),
        (dt.timedelta(minutes=10), "The recovery time cannot be in the future."),
    ],
)
def test_a_recovery_before_the_start_or_in_the_future_is_refused(
    session: Session, settings: Settings, offset: dt.timedelta, message: str
) -> None:
    now = utcnow()
    incident = _declare(session, settings, now)
    with pytest.raises(InvalidInput) as refused:
        service.resolve(
            session,
            settings,
            incident,
            body_ja=RESOLVE_JA,
            actor=ACTOR,
            resolved_at=now + offset,
            now=now,
        )
    assert refused.value.msgid == message and refused.value.field == "resolved_at"
    session.rollback()
    assert session.get(Incident, incident.id).status == "investigating"  # type: ignore[union-attr]


def test_correcting_times_records_before_and_after(session: Session, settings: Settings) -> None:
    now = utcnow()
    incident = _declare(session, settings, now)
    service.resolve(session, settings, incident, body_ja=RESOLVE_JA, actor=ACTOR, now=now)
    session.commit()
    old_start, old_recovery = incident.started_at, incident.resolved_at
    new_start = now - dt.timedelta(hours=3)
    new_recovery = now - dt.timedelta(minutes=30)
    lifecycle.correct_times(
        session,
        settings,
        incident,
        started_at=new_start,
        resolved_at=new_recovery,
        actor=ACTOR,
        now=now,
    )
    session.commit()
    assert (incident.started_at, incident.resolved_at) == (new_start, new_recovery)
    (event,) = _events(session, incident)
    assert event.before == {
        "started_at": old_start.isoformat(),
        "resolved_at": old_recovery.isoformat() if old_recovery else None,
    }
    assert event.after == {
        "started_at": new_start.isoformat(),
        "resolved_at": new_recovery.isoformat(),
    }
    # Nothing changed: no event.
    lifecycle.correct_times(session, settings, incident, started_at=new_start, actor=ACTOR)
    assert len(_events(session, incident)) == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"started_at": dt.timedelta(minutes=10)}, "started_at", "future"),
        ({"started_at": dt.timedelta(minutes=-30)}, "started_at", "detection"),
        ({"resolved_at": dt.timedelta(minutes=-5)}, "resolved_at", "resolved incident"),
    ],
)
def test_bad_corrections_are_refused(
    session: Session, settings: Settings, changes: dict[str, dt.timedelta], field: str, message: str
) -> None:
    now = utcnow()
    incident = _declare(session, settings, now)
    before = (incident.started_at, incident.resolved_at)
    with pytest.raises(InvalidInput) as refused:
        lifecycle.correct_times(
            session,
            settings,
            incident,
            actor=ACTOR,
            now=now,
            **{key: now + delta for key, delta in changes.items()},
        )
    assert refused.value.field == field and message in refused.value.msgid
    session.rollback()
    assert (incident.started_at, incident.resolved_at) == before
    assert _events(session, incident) == []


# --- the API ------------------------------------------------------------------------------


@pytest.fixture
def api(settings: Settings, session: Session) -> Any:
    user = team_service.create_user(
        session, email="op@example.com", name="Op", role="operator", password="correct horse"
    )
    token, _ = team_service.create_token(session, user=user, name="t", actor="test")
    session.commit()
    app = create_app(settings)
    with TestClient(app) as client:
        yield client, token
    app.state.engine.dispose()


def test_the_api_corrects_times_and_resolves_with_a_recovery_time(
    session: Session, settings: Settings, api: Any
) -> None:
    client, token = api
    now = utcnow()
    incident = _declare(session, settings, now)
    ref = incident.reference
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "ja"}
    started = (now - dt.timedelta(hours=4)).astimezone(dt.timezone(dt.timedelta(hours=9)))
    answer = client.post(
        f"/api/incidents/{ref}/times", json={"started_at": started.isoformat()}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert dt.datetime.fromisoformat(answer.json()["started_at"]) == started
    assert answer.json()["started_at"].endswith("+09:00")  # the documented zone
    # A recovery time on an open incident: a clear 422 in the caller's language.
    refused = client.post(
        f"/api/incidents/{ref}/times",
        json={"resolved_at": now.isoformat()},
        headers={**headers, "Accept-Language": "en"},
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "resolved_at"
    assert "Only a resolved incident" in refused.json()["error"]["message"]
    too_early = client.post(
        f"/api/incidents/{ref}/resolve",
        json={"body_ja": RESOLVE_JA, "resolved_at": (now - dt.timedelta(hours=5)).isoformat()},
        headers=headers,
    )
    assert too_early.status_code == 422
    assert (
        too_early.json()["error"]["message"] == "復旧時刻を発生時刻より前にすることはできません。"
    )
    recovered = now - dt.timedelta(minutes=15)
    resolved = client.post(
        f"/api/incidents/{ref}/resolve",
        json={"body_ja": RESOLVE_JA, "resolved_at": recovered.isoformat()},
        headers=headers,
    )
    assert resolved.status_code == 200, resolved.text
    assert dt.datetime.fromisoformat(resolved.json()["resolved_at"]) == recovered


def test_the_cli_corrects_times(session: Session, settings: Settings, db_url: str) -> None:
    now = utcnow()
    incident = _declare(session, settings, now)
    runner = CliRunner()
    env = {"ANSHIN_DATABASE_URL": db_url, "LANG": "ja_JP.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
    started = (now - dt.timedelta(hours=5)).isoformat()
    result = runner.invoke(
        cli_app,
        ["incident", "times", incident.reference, "--started-at", started, "--format", "json"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert dt.datetime.fromisoformat(shown["started_at"]) == dt.datetime.fromisoformat(started)
    future = (now + dt.timedelta(minutes=30)).isoformat()
    result = runner.invoke(
        cli_app, ["incident", "times", incident.reference, "--started-at", future], env=env
    )
    assert result.exit_code in (1, 2)
    assert len(result.stderr.strip().splitlines()) == 1  # one line, no traceback
    assert "--started-at" in result.stderr


# --- the console -------------------------------------------------------------------------


def test_the_console_resolves_with_a_recovery_time_and_corrects_times(
    settings: Settings, session: Session
) -> None:
    seed(settings)
    client: TestClient = client_for(settings)
    token = login(client, "operator")
    now = utcnow()
    incident = _declare(session, settings, now)
    location = f"/console/incidents/{incident.reference}"
    page = client.get(f"{location}?kind=resolution").text
    assert 'name="resolved_at" type="datetime-local"' in page  # defaults to now
    local = (now - dt.timedelta(minutes=25)).astimezone(dt.timezone(dt.timedelta(hours=9)))
    resolved = client.post(
        f"{location}/resolve",
        data={
            "body_ja": RESOLVE_JA,
            "resolved_at": f"{local:%Y-%m-%dT%H:%M}",
            "csrf_token": token,
            "confirm": "yes",
        },
    )
    assert resolved.status_code == 303, text_of(resolved.text)
    session.expire_all()
    stored = session.get(Incident, incident.id)
    assert stored is not None and stored.resolved_at == local.replace(second=0, microsecond=0)
    # A recovery before the start is refused beside its field, in Japanese.
    start_local = stored.started_at.astimezone(local.tzinfo)
    before_start = start_local - dt.timedelta(hours=1)
    refused = client.post(
        f"{location}/times",
        data={
            "started_at": f"{start_local:%Y-%m-%dT%H:%M}",
            "resolved_at": f"{before_start:%Y-%m-%dT%H:%M}",
            "csrf_token": token,
        },
    )
    assert refused.status_code == 422
    assert "復旧時刻を発生時刻より前にすることはできません。" in text_of(refused.text)
    later = local + dt.timedelta(minutes=5)
    corrected = client.post(
        f"{location}/times",
        data={
            "started_at": f"{start_local:%Y-%m-%dT%H:%M}",
            "resolved_at": f"{later:%Y-%m-%dT%H:%M}",
            "csrf_token": token,
        },
    )
    assert corrected.status_code == 303, text_of(corrected.text)
    record = text_of(client.get(location).text)
    assert "時刻を訂正しました。" in record
    assert "時刻を訂正" in record and f"{later:%H:%M}" in record
