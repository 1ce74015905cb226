"""Handoff sheet, requests, commitments and the authority matrix (R24, R27)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from anshin.cli import app as cli_app
from anshin.config import Settings
from anshin.db import make_engine
from anshin.errors import Conflict, InvalidInput
from anshin.events import Event
from anshin.incidents import service as incidents
from anshin.inquiries import commitments, handoff, missed
from anshin.inquiries.models import Commitment, InquiryMessage
from anshin.notify.models import OutboxMessage
from anshin.team import service as team_service
from handoff_world import NOW, World, build, inquiry, user
from test_console_support import client_for, login, page_csrf

LATER = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
DUE_TEXT = (LATER + dt.timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M")  # Asia/Tokyo
REFUSED = "Only level 3 or above may commit to this; escalate the inquiry."


@pytest.fixture
def world(settings: Settings, session: Session) -> World:
    return build(settings, session)


def test_sheet_has_the_three_columns_and_highlights_disagreements(
    world: World, settings: Settings, session: Session
) -> None:
    sheet = handoff.build(session, settings, inquiry(session, world.inquiry), locale="en", now=NOW)
    assert sheet.words[0].text.startswith("今朝9時頃から")
    assert sheet.temperature == 3 and sheet.temperature_label == "furious"
    confirmed = {f.label: f.value for f in sheet.confirmed}
    assert confirmed["Status"] == "Investigating"
    assert confirmed["Affected components"] == "Login"
    assert "Workaround" in confirmed
    assert not any("Cause" in label for label in confirmed)  # not confirmed: not a fact
    assert [s.source for s in sheet.told] == [f"{world.incident} · First notice"]
    topics = {f.topic: f for f in sheet.flags}
    assert set(topics) == {"started_at", "notice", "component", "compensation"}
    assert "started around 09:00" in topics["started_at"].reason
    assert "10:00" in topics["started_at"].reason
    assert topics["started_at"].quote.startswith("9時頃から")
    assert "1 notice(s)" in topics["notice"].reason
    assert "決済" in topics["component"].reason
    assert topics["compensation"].quote == "返金"


def test_confirmed_cause_and_a_promised_refund_change_the_sheet(
    world: World, settings: Settings, session: Session
) -> None:
    record = inquiry(session, world.inquiry)
    incidents.get(session, world.incident).cause_confirmed = True
    commitments.add_commitment(
        session,
        settings,
        record,
        by=user(session, "supervisor"),
        kind="refund",
        description="今月分を全額返金",
        due_at=LATER,
    )
    session.commit()
    sheet = handoff.build(session, settings, inquiry(session, world.inquiry), locale="ja")
    confirmed = {f.label: f.value for f in sheet.confirmed}
    assert confirmed["原因（確定）"] == "認証サーバーの証明書更新の失敗"
    assert "compensation" not in {f.topic for f in sheet.flags}
    assert sheet.commitments[0].state_label == "未完了"


def test_no_disagreement_when_the_words_match_the_record(
    settings: Settings, session: Session, world: World
) -> None:
    from anshin.inquiries import service

    calm = service.receive(
        session,
        settings,
        service.NewInquiry(
            channel="form", text="10時頃からログインできません。状況を教えてください。"
        ),
        actor="test",
        triage=service.TriageValues(
            incident_id=incidents.get(session, world.incident).id,
            intent="status_inquiry",
            level=1,
            temperature=1,
            harassment=False,
        ),
    )
    session.commit()
    assert handoff.build(session, settings, calm).flags == []


def test_requests_are_decided_with_the_alternative_text(world: World, session: Session) -> None:
    record = inquiry(session, world.inquiry)
    row = commitments.add_request(session, record, "今月分の返金", actor="test")
    with pytest.raises(InvalidInput) as refused:
        commitments.decide_request(session, record, row.id, "alternative", actor="test")
    assert refused.value.field == "alternative"
    commitments.decide_request(
        session, record, row.id, "alternative", alternative="障害時間分のクレジット", actor="test"
    )
    session.commit()
    record = inquiry(session, world.inquiry)
    assert (record.requests[0].decision, record.requests[0].alternative) == (
        "alternative",
        "障害時間分のクレジット",
    )
    actions = [e.action for e in session.scalars(select(Event).order_by(Event.id))]
    assert actions[-2:] == ["inquiry.request_added", "inquiry.request_decided"]


def test_the_authority_matrix_in_the_service(
    world: World, settings: Settings, session: Session
) -> None:
    record = inquiry(session, world.inquiry)
    for role, kind in (
        ("operator", "refund"),
        ("operator", "investigation_result"),
        ("senior", "credit"),
    ):
        with pytest.raises(Conflict):
            commitments.add_commitment(
                session, settings, record, by=user(session, role), kind=kind,
                description="約束", due_at=LATER,
            )  # fmt: skip
    commitments.add_commitment(
        session, settings, record, by=user(session, "operator"), kind="callback",
        description="15時までに折り返しお電話", due_at=LATER,
    )  # fmt: skip
    commitments.add_commitment(
        session, settings, record, by=user(session, "supervisor"), kind="refund",
        description="今月分を返金", due_at=LATER, owner=user(session, "senior"),
    )  # fmt: skip
    session.commit()
    held = inquiry(session, world.inquiry)
    held.claimed_by_id = user(session, "supervisor").id
    with pytest.raises(Conflict) as refused:
        commitments.add_commitment(
            session, settings, held, by=user(session, "operator"), kind="callback",
            description="折り返し", due_at=LATER,
        )  # fmt: skip
    assert refused.value.field == "claim"
    session.rollback()
    assert [(c.kind, c.owner_name) for c in inquiry(session, world.inquiry).commitments] == [
        ("callback", "一次対応オペレーター"),
        ("refund", "二次対応シニア"),
    ]


def test_the_authority_matrix_in_the_console(world: World, settings: Settings) -> None:
    with client_for(settings) as client:
        login(client, "operator")
        path = f"/console/inquiries/{world.inquiry}/handoff"
        token = page_csrf(client, path)
        form = {
            "csrf_token": token,
            "kind": "refund",
            "description": "今月分を返金",
            "due_at": DUE_TEXT,
        }
        refused = client.post(f"/console/inquiries/{world.inquiry}/commitments", data=form)
        assert refused.status_code == 409
        assert "レベル 3 以上" in refused.text  # ja: the console's default language
        assert "今月分を返金" in refused.text  # what was typed is kept
        client.post("/logout", data={"csrf_token": token})
        login(client, "supervisor")
        form["csrf_token"] = page_csrf(client, path)
        done = client.post(f"/console/inquiries/{world.inquiry}/commitments", data=form)
        assert done.status_code == 303
        shown = client.get(path)
        assert "今月分を返金" in shown.text and 'class="disagree"' in shown.text
    with sessionmaker(make_engine(settings.database_url))() as session:
        assert [c.kind for c in session.scalars(select(Commitment))] == ["refund"]


def _token(settings: Settings, role: str) -> str:
    with sessionmaker(make_engine(settings.database_url))() as session:
        raw, _ = team_service.create_token(
            session, user=user(session, role), name=role, actor="test"
        )
        session.commit()
    return raw


def test_the_authority_matrix_in_the_api(world: World, settings: Settings) -> None:
    body = {"kind": "refund", "description": "今月分を返金", "due_at": DUE_TEXT + ":00+09:00"}
    with TestClient(client_for(settings).app) as client:
        path = f"/api/inquiries/{world.inquiry}/commitments"
        op = {"Authorization": f"Bearer {_token(settings, 'operator')}", "Accept-Language": "en"}
        refused = client.post(path, json=body, headers=op)
        assert refused.status_code == 409
        assert refused.json()["error"]["message"] == REFUSED
        sv = {"Authorization": f"Bearer {_token(settings, 'supervisor')}"}
        made = client.post(path, json=body, headers=sv)
        assert made.status_code == 201, made.text
        assert made.json()["state"] == "open"
        kept = client.post(f"{path}/{made.json()['id']}/kept", headers=sv)
        assert kept.json()["state"] == "kept"
        sheet = client.get(f"/api/inquiries/{world.inquiry}/handoff", headers=op).json()
        assert {d["topic"] for d in sheet["disagreements"]} == {"started_at", "notice", "component"}
        assert sheet["commitments"][0]["state"] == "kept"


@pytest.fixture
def run(db_url: str) -> Any:
    runner = CliRunner()

    def invoke(*args: str, lang: str = "en_US.UTF-8") -> Result:
        env = {"ANSHIN_DATABASE_URL": db_url, "LANG": lang, "LC_ALL": "", "LC_MESSAGES": ""}
        return runner.invoke(cli_app, list(args), env=env)

    return invoke


def test_the_authority_matrix_in_the_cli(world: World, run: Any, session: Session) -> None:
    args = ("inquiry", "commit", world.inquiry, "--kind", "refund", "--description", "返金",
            "--due", DUE_TEXT)  # fmt: skip
    refused = run(*args, "--as", "op@example.com")
    assert refused.exit_code == 1
    assert refused.stderr.strip() == f"--kind: {REFUSED}"
    done = run(*args, "--as", "sv@example.com", "--format", "json")
    assert done.exit_code == 0, done.output
    assert '"kind": "refund"' in done.stdout
    unknown = run(*args, "--as", "nobody@example.com")
    assert unknown.exit_code == 1 and "No user with this email" in unknown.stderr
    sheet = run("inquiry", "handoff", world.inquiry, lang="ja_JP.UTF-8")
    assert sheet.exit_code == 0, sheet.output
    assert "食い違い" in sheet.stdout and "今朝9時頃から" in sheet.stdout
    assert run("inquiry", "handoff", "Q-1999-000001").exit_code == 1


def test_handoff_text_route_and_next_step(world: World, settings: Settings) -> None:
    with client_for(settings) as client:
        login(client, "operator")
        path = f"/console/inquiries/{world.inquiry}"
        token = page_csrf(client, f"{path}/handoff")
        missing = client.post(
            f"{path}/next-action", data={"csrf_token": token, "next_action": "折り返し"}
        )
        assert missing.status_code == 422
        request = client.post(f"{path}/requests", data={"csrf_token": token, "text": "返金"})
        assert request.status_code == 303
        no_text = client.post(
            f"{path}/requests/1", data={"csrf_token": token, "decision": "alternative"}
        )
        assert no_text.status_code == 422 and "ご提案する代替案を入力してください。" in no_text.text
        saved = client.post(
            f"{path}/next-action",
            data={
                "csrf_token": token,
                "next_action": "決済の影響を確認して折り返す",
                "next_action_due_at": DUE_TEXT,
            },
        )
        assert saved.status_code == 303
        text = client.get(f"{path}/handoff.txt", headers={"Accept-Language": "en"})
        assert text.status_code == 200
        assert "決済の影響を確認して折り返す" in text.text
        assert "The customer says it started around 09:00" in text.text


def test_missed_commitments_are_swept_once_with_an_alert_and_shown(
    world: World, settings: Settings, session: Session, sessions: sessionmaker[Session]
) -> None:
    record = inquiry(session, world.inquiry)
    lead = user(session, "supervisor")
    lead.on_duty = True
    made = commitments.add_commitment(
        session, settings, record, by=lead, kind="callback",
        description="11:30までに折り返し", due_at=NOW + dt.timedelta(minutes=30), now=NOW,
    )  # fmt: skip
    session.commit()
    engine = session.get_bind()
    assert missed.sweep(engine, settings, now=NOW).marked == ()  # not due yet
    late = NOW + dt.timedelta(hours=1)
    assert missed.sweep(engine, settings, now=late).marked == (made.id,)
    assert missed.sweep(engine, settings, now=late).marked == ()  # once only
    with sessions() as fresh:
        row = fresh.get(Commitment, made.id)
        assert row is not None and row.state == "missed"
        events = fresh.scalars(
            select(Event).where(Event.action == "inquiry.commitment_missed")
        ).all()
        assert len(events) == 1
        alerts = fresh.scalars(select(OutboxMessage).where(OutboxMessage.kind == "staff_nudge"))
        assert [a.data["reference"] for a in alerts] == [world.inquiry]
    with client_for(settings) as client:
        login(client, "operator")
        dashboard = client.get("/console")
        assert "missed-commitments" in dashboard.text and world.inquiry in dashboard.text
        # Kept late is kept: it leaves the dashboard.
        token = page_csrf(client, f"/console/inquiries/{world.inquiry}/handoff")
        kept = client.post(
            f"/console/inquiries/{world.inquiry}/commitments/{made.id}/kept",
            data={"csrf_token": token},
        )
        assert kept.status_code == 303
        assert "missed-commitments" not in client.get("/console").text


def test_an_inbound_message_after_receipt_is_in_the_customers_words(
    world: World, settings: Settings, session: Session
) -> None:
    record = inquiry(session, world.inquiry)
    record.messages.append(
        InquiryMessage(
            direction="in", channel="email", body="まだ使えません。", author="山田 太郎",
            at=NOW,
        )
    )  # fmt: skip
    session.commit()
    sheet = handoff.build(session, settings, inquiry(session, world.inquiry), locale="en")
    assert [s.source for s in sheet.words] == ["original", "later"]


def test_escalating_stores_the_handoff_sheet_as_an_internal_note(
    world: World, settings: Settings, session: Session
) -> None:
    from anshin.inquiries import escalation

    record = inquiry(session, world.inquiry)
    record.level = 2
    session.commit()
    record = inquiry(session, world.inquiry)
    escalation.escalate(session, settings, record, user(session, "supervisor"), 3, "返金の判断")
    session.commit()
    notes = [m for m in inquiry(session, world.inquiry).messages if m.kind == "handoff_sheet"]
    assert len(notes) == 1 and notes[0].direction == "note"
    assert "食い違い" in notes[0].body and "今朝9時頃から" in notes[0].body
