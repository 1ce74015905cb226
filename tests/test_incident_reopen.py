"""Reopening a resolved incident that came back (R5, R7, R22), SQLite and PostgreSQL.

A senior or above reopens: the components go down again, the status is back
to investigating or identified, the recovery time is cleared, every subscriber
gets the ``reopened`` notice (checked like any other), the event is recorded,
and the update cadence starts again.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from anshin.app import create_app
from anshin.cli import app as cli_app
from anshin.comms.kinds import KINDS, MessageKind
from anshin.comms.lint import check
from anshin.comms.service import DEFAULTS_DIR
from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import Conflict, Forbidden
from anshin.events import Event
from anshin.incidents import cadence, components, lifecycle, service
from anshin.incidents.models import Component, Incident
from anshin.notify.models import OutboxMessage
from anshin.team import service as team_service
from notice_texts import RESOLUTION_JA, notice_ja
from test_console_support import client_for, login, seed, text_of

ACTOR = "test:lead"
RESOLVE_JA = RESOLUTION_JA + "原因と再発防止策は12月10日までにご報告いたします。"


def _resolved(session: Session, settings: Settings, now: dt.datetime) -> Incident:
    if session.scalar(select(Component).where(Component.name == "ログイン")) is None:
        components.add_component(session, "ログイン", name_en="Sign-in", actor=ACTOR)
    incident = service.declare(
        session,
        settings,
        service.IncidentInput(
            title="ログインできない障害", severity="sev2", components=["ログイン"]
        ),
        actor=ACTOR,
        now=now - dt.timedelta(hours=2),
    )
    service.publish_update(
        session,
        settings,
        incident,
        body_ja=notice_ja("ログインできません。"),
        actor=ACTOR,
        now=now - dt.timedelta(hours=2),
    )
    service.resolve(
        session,
        settings,
        incident,
        body_ja=RESOLVE_JA,
        actor=ACTOR,
        now=now - dt.timedelta(hours=1),
    )
    session.commit()
    return incident


def _component(session: Session) -> Component:
    session.expire_all()
    return session.scalars(select(Component).where(Component.name == "ログイン")).one()


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_the_reopened_templates_exist_and_pass_the_check(locale: str) -> None:
    assert MessageKind.REOPENED in KINDS
    for channel in ("status_page", "email", "short"):
        assert (DEFAULTS_DIR / locale / f"reopened.{channel}.txt").is_file()
    text = (DEFAULTS_DIR / locale / "reopened.status_page.txt").read_text()
    findings = check(text, kind="reopened", locale=locale)
    assert [f for f in findings if f.severity != "info"] == []


def test_a_senior_reopens_a_resolved_incident(session: Session, settings: Settings) -> None:
    now = utcnow()
    incident = _resolved(session, settings, now)
    assert _component(session).status == "operational"
    texts, next_at = lifecycle.reopen_draft(session, settings, incident, now)
    update = lifecycle.reopen(
        session,
        settings,
        incident,
        body_ja=texts["ja"],
        body_en=texts["en"],
        status="identified",
        actor=ACTOR,
        actor_role="senior",
        now=now,
    )
    session.commit()
    assert (incident.status, incident.resolved_at) == ("identified", None)
    assert update.kind == "reopened" and update.next_update_at == next_at
    assert _component(session).status == "partial_outage"  # down again (sev2)
    # The cadence restarts: the next update is owed by the time the notice promised.
    due = cadence.due(settings, incident, now)
    assert due is not None and due.due_at == next_at
    message = session.scalars(
        select(OutboxMessage).where(OutboxMessage.update_id == update.id)
    ).one()
    assert message.kind == "reopened"
    event = session.scalars(
        select(Event).where(Event.entity_id == incident.id, Event.action == "incident.reopened")
    ).one()
    assert event.before is not None and event.before["status"] == "resolved"
    assert event.after is not None and event.after["status"] == "identified"
    # It can be resolved again.
    service.resolve(session, settings, incident, body_ja=RESOLVE_JA, actor=ACTOR)
    assert incident.status == "resolved"


def test_only_a_senior_reopens_and_only_a_resolved_incident(
    session: Session, settings: Settings
) -> None:
    now = utcnow()
    incident = _resolved(session, settings, now)
    texts, _ = lifecycle.reopen_draft(session, settings, incident, now)
    with pytest.raises(Forbidden):
        lifecycle.reopen(
            session, settings, incident, body_ja=texts["ja"], actor=ACTOR, actor_role="operator"
        )
    lifecycle.reopen(
        session, settings, incident, body_ja=texts["ja"], actor=ACTOR, actor_role="senior", now=now
    )
    with pytest.raises(Conflict):
        lifecycle.reopen(
            session, settings, incident, body_ja=texts["ja"], actor=ACTOR, actor_role="senior"
        )


def _api_client(settings: Settings, session: Session) -> tuple[TestClient, dict[str, str]]:
    tokens: dict[str, str] = {}
    for role in ("operator", "senior"):
        user = team_service.create_user(
            session,
            email=f"{role}@example.com",
            name=role,
            role=role,
            password="correct horse",
        )
        tokens[role], _ = team_service.create_token(session, user=user, name="t", actor="test")
    session.commit()
    return TestClient(create_app(settings)), tokens


def test_the_api_reopens_for_seniors_with_the_template(
    session: Session, settings: Settings
) -> None:
    now = utcnow()
    incident = _resolved(session, settings, now)
    client, tokens = _api_client(settings, session)
    url = f"/api/incidents/{incident.reference}/reopen"
    refused = client.post(url, json={}, headers={"Authorization": f"Bearer {tokens['operator']}"})
    assert refused.status_code == 403
    answer = client.post(
        url,
        json={"status": "investigating"},
        headers={"Authorization": f"Bearer {tokens['senior']}", "Accept-Language": "en"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "investigating" and body["resolved_at"] is None
    assert body["updates"][-1]["kind"] == "reopened"
    again = client.post(
        url,
        json={},
        headers={"Authorization": f"Bearer {tokens['senior']}", "Accept-Language": "en"},
    )
    assert again.status_code == 409
    assert again.json()["error"]["message"] == "Only a resolved incident can be reopened."


def test_the_cli_reopens(session: Session, settings: Settings, db_url: str) -> None:
    incident = _resolved(session, settings, utcnow())
    env = {"ANSHIN_DATABASE_URL": db_url, "LANG": "en_US.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
    result = CliRunner().invoke(
        cli_app, ["incident", "reopen", incident.reference, "--format", "json"], env=env
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "investigating"
    result = CliRunner().invoke(cli_app, ["incident", "reopen", incident.reference], env=env)
    assert result.exit_code != 0
    assert "Only a resolved incident can be reopened." in result.stderr


def test_the_console_reopens_after_the_box_is_ticked(settings: Settings, session: Session) -> None:
    seed(settings)
    incident = _resolved(session, settings, utcnow())
    location = f"/console/incidents/{incident.reference}"
    operator: TestClient = client_for(settings)
    login(operator, "operator")
    assert 'id="reopen"' not in operator.get(location).text  # seniors only
    client: TestClient = client_for(settings)
    token = login(client, "senior")
    page = client.get(location).text
    assert 'id="reopen"' in page and "再開して再発のお知らせを公開" in page
    form = {
        "status": "investigating",
        "body_ja": re.search(r'id="reopen_body_ja"[^>]*>([^<]*)<', page).group(1),  # type: ignore[union-attr]
        "body_en": "",
        "next_update_at": re.search(  # type: ignore[union-attr]
            r'id="reopen_next_update_at"[^>]*value="([^"]+)"', page
        ).group(1),
        "csrf_token": token,
    }
    form["body_ja"] = html.unescape(form["body_ja"])
    unticked = client.post(f"{location}/reopen", data=form)
    assert unticked.status_code == 422
    assert "確認のチェックを入れてください" in text_of(unticked.text)
    reopened = client.post(f"{location}/reopen", data={**form, "confirm": "yes"})
    assert reopened.status_code == 303, text_of(reopened.text)
    after = text_of(client.get(location).text)
    assert "インシデントを再開し、再発のお知らせを公開しました。" in after
    assert "再開・再発のお知らせを公開" in after  # the event log
    assert '<span class="badge kind">再発のお知らせ</span>' in client.get(location).text
    session.expire_all()
    assert session.get(Incident, incident.id).status == "investigating"  # type: ignore[union-attr]
