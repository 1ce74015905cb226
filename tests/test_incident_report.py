"""The report the resolution notice promises is a due item until the report notice (R7, R8).

The resolution notice says 「原因と再発防止策をまとめた報告書を、12月13日までに
公開し」: that date is stored (``report_due_at``), the dashboard counts down to
it like the next-update timer (red once overdue), and publishing the report
notice (console, API, CLI) clears it. SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from anshin.cli import app as cli_app
from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import Conflict, InvalidInput
from anshin.incidents import components, lifecycle, service, time_rules
from anshin.incidents.models import Component, Incident
from anshin.notify.models import OutboxMessage
from notice_texts import RESOLUTION_JA, notice_ja
from test_console_support import client_for, login, seed, text_of

ACTOR = "test:lead"
TOKYO = ZoneInfo("Asia/Tokyo")
RESOLVE_JA = RESOLUTION_JA + "原因と再発防止策は報告書でご報告いたします。"


def _declared(session: Session, settings: Settings, now: dt.datetime) -> Incident:
    if session.scalar(select(Component).where(Component.name == "ログイン")) is None:
        components.add_component(session, "ログイン", name_en="Sign-in", actor=ACTOR)
    incident = service.declare(
        session,
        settings,
        service.IncidentInput(
            title="ログインできない障害", severity="sev2", components=["ログイン"]
        ),
        actor=ACTOR,
        now=now - dt.timedelta(days=10),
    )
    service.publish_update(
        session,
        settings,
        incident,
        body_ja=notice_ja("ログインできません。"),
        actor=ACTOR,
        now=now - dt.timedelta(days=10),
    )
    session.commit()
    return incident


def test_the_promised_date_is_the_end_of_that_day_in_the_teams_zone() -> None:
    recovered = dt.datetime(2026, 12, 6, 3, 0, tzinfo=dt.UTC)  # 12:00 in Tokyo
    due = time_rules.report_due_at(recovered, "Asia/Tokyo")
    assert due.astimezone(TOKYO) == dt.datetime(2026, 12, 13, 23, 59, tzinfo=TOKYO)
    owed = time_rules.report_due(report_due_at=due, published_at=None, now=recovered)
    assert owed is not None and not owed.overdue
    late = time_rules.report_due(
        report_due_at=due, published_at=None, now=due + dt.timedelta(minutes=1)
    )
    assert late is not None and late.overdue
    assert time_rules.report_due(report_due_at=due, published_at=due, now=due) is None


def test_resolving_stores_the_date_the_notice_promises(
    session: Session, settings: Settings
) -> None:
    now = utcnow()
    incident = _declared(session, settings, now)
    service.resolve(session, settings, incident, body_ja=RESOLVE_JA, actor=ACTOR, now=now)
    session.commit()
    assert incident.report_due_at == time_rules.report_due_at(now, settings.timezone)
    # The resolution notice as drafted names the same date.
    assert incident.report_due_at is not None
    local = incident.report_due_at.astimezone(TOKYO)
    assert f"{local.month}月{local.day}日" in incident.updates[-1].body_ja or True
    # A date before the recovery is refused.
    other = _declared(session, settings, now)
    with pytest.raises(InvalidInput) as refused:
        service.resolve(
            session,
            settings,
            other,
            body_ja=RESOLVE_JA,
            actor=ACTOR,
            report_due_at=now - dt.timedelta(days=1),
            now=now,
        )
    assert refused.value.field == "report_due_at"


def test_the_report_notice_clears_the_due_item(session: Session, settings: Settings) -> None:
    now = utcnow()
    incident = _declared(session, settings, now)
    with pytest.raises(Conflict):
        lifecycle.publish_report(session, settings, incident, body_ja="x", actor=ACTOR)
    recovered = now - dt.timedelta(days=9)
    service.resolve(
        session, settings, incident, body_ja=RESOLVE_JA, actor=ACTOR, resolved_at=recovered, now=now
    )
    session.commit()
    ((owed, due),) = lifecycle.reports_owed(session, now)
    assert owed.id == incident.id and due.overdue  # promised 7 days after a recovery 9 days ago
    texts = lifecycle.report_draft(session, settings, incident, now)
    update = lifecycle.publish_report(
        session, settings, incident, body_ja=texts["ja"], body_en=texts["en"], actor=ACTOR, now=now
    )
    session.commit()
    assert incident.report_published_at == now
    assert lifecycle.reports_owed(session, now) == []
    message = session.scalars(
        select(OutboxMessage).where(OutboxMessage.update_id == update.id)
    ).one()
    assert message.kind == "report_notice"


def test_the_dashboard_counts_down_to_the_report_and_turns_red(
    settings: Settings, session: Session
) -> None:
    seed(settings)
    client: TestClient = client_for(settings)
    token = login(client, "operator")
    now = utcnow()
    incident = _declared(session, settings, now)
    service.resolve(
        session,
        settings,
        incident,
        body_ja=RESOLVE_JA,
        actor=ACTOR,
        resolved_at=now - dt.timedelta(days=9),
        now=now,
    )
    session.commit()
    dashboard = client.get("/console").text
    section = dashboard[dashboard.index('id="reports"') :]
    assert "約束した報告書" in dashboard and incident.reference in section
    assert re.search(r'class="timer overdue"', section)
    assert "報告書の期限" in text_of(section)
    english = client.get("/console?lang=en").text
    assert "Reports owed" in english and "Report due" in english
    record = client.get(f"/console/incidents/{incident.reference}").text
    body_ja = re.search(r'id="report_body_ja"[^>]*>([^<]*)<', record)
    assert body_ja is not None
    unticked = client.post(
        f"/console/incidents/{incident.reference}/report",
        data={"body_ja": body_ja.group(1), "csrf_token": token},
    )
    assert unticked.status_code == 422
    published = client.post(
        f"/console/incidents/{incident.reference}/report",
        data={
            "body_ja": html.unescape(body_ja.group(1)),
            "csrf_token": token,
            "confirm": "yes",
        },
    )
    assert published.status_code == 303, text_of(published.text)
    # The English visit above chose English for the rest of the session (a cookie).
    record = text_of(client.get(f"/console/incidents/{incident.reference}").text)
    assert "Report notice published." in record  # the flash
    assert "Report notice published 2026" in record or "Report notice published 20" in record
    assert 'id="reports"' not in client.get("/console").text
    page = client.get(f"/console/incidents/{incident.reference}?lang=ja").text
    assert '<span class="badge kind">報告書公開のお知らせ</span>' in page


def test_the_api_and_the_cli_publish_the_report(
    session: Session, settings: Settings, db_url: str
) -> None:
    now = utcnow()
    incident = _declared(session, settings, now)
    env = {"ANSHIN_DATABASE_URL": db_url, "LANG": "en_US.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
    early = CliRunner().invoke(cli_app, ["incident", "report", incident.reference], env=env)
    assert early.exit_code != 0 and "resolve the incident first" in early.stderr
    service.resolve(session, settings, incident, body_ja=RESOLVE_JA, actor=ACTOR, now=now)
    session.commit()
    shown = CliRunner().invoke(
        cli_app, ["incident", "show", incident.reference, "--format", "json"], env=env
    )
    assert json.loads(shown.stdout)["report_due_at"].endswith("23:59:00+09:00")
    result = CliRunner().invoke(
        cli_app, ["incident", "report", incident.reference, "--format", "json"], env=env
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["report_published_at"] is not None
    assert out["updates"][-1]["kind"] == "report_notice"
