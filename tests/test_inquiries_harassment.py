"""The harassment path (R25): supervisor queue, evidence that does not change, handover."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from anshin.cli import app as cli_app
from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents import service as incidents
from anshin.inquiries import commitments, harassment, service
from anshin.inquiries.models import InquiryMessage
from handoff_world import inquiry, user
from test_console_support import client_for, login, page_csrf, seed

WORDS = "ふざけるな！土下座しに家に来い。来ないならSNSで晒すからな。"


@pytest.fixture
def flagged(settings: Settings, session: Session) -> str:
    seed(settings)
    found = service.receive(
        session,
        settings,
        service.NewInquiry(
            channel="phone", text=WORDS, customer_name="匿名", customer_phone="090-0000-0000"
        ),
        actor="test:intake",
        triage=service.TriageValues(
            incident_id=None, intent="complaint", level=3, temperature=3, harassment=True
        ),
    )
    session.commit()
    return found.reference


def test_evidence_is_the_stored_words_and_unchanged_by_edits_elsewhere(
    flagged: str, settings: Settings, session: Session
) -> None:
    record = inquiry(session, flagged)
    record.messages.append(
        InquiryMessage(
            direction="in", channel="phone", body="二度目の電話: 同じ要求", author="匿名"
        )
    )
    session.commit()
    before = harassment.evidence(session, inquiry(session, flagged))
    assert before["original_text"] == WORDS
    assert [m["text"] for m in before["inbound"]] == [WORDS, "二度目の電話: 同じ要求"]
    assert before["history"][0]["action"] == "inquiry.received"
    # Edits elsewhere: a reply, a request, the next step, the temperature, another incident.
    record = inquiry(session, flagged)
    record.messages.append(
        InquiryMessage(direction="out", channel="phone", body="警告を読み上げ", author="sv")
    )
    record.temperature = 2
    commitments.add_request(session, record, "土下座", actor="test")
    commitments.set_next_action(
        session, record, "対応終了を通知", utcnow() + dt.timedelta(hours=1), actor="test"
    )
    incidents.declare(
        session, settings, incidents.IncidentInput(title="別件", severity="sev3"), actor="test"
    )
    session.commit()
    after = harassment.evidence(session, inquiry(session, flagged))
    assert after["original_text"] == before["original_text"]
    assert after["inbound"] == before["inbound"]
    assert after["history"][: len(before["history"])] == before["history"]  # only appended to
    assert (
        harassment.evidence_json(session, inquiry(session, flagged))
        == json.dumps(after, ensure_ascii=False, indent=2) + "\n"
    )


def test_supervisor_queue_evidence_download_and_one_click_handover(
    flagged: str, settings: Settings, session: Session
) -> None:
    operator = user(session, "operator")
    record = inquiry(session, flagged)
    record.claimed_by_id = operator.id
    record.claimed_at = utcnow()
    record.level = 1
    session.commit()
    with client_for(settings) as client:
        login(client, "senior")
        token = page_csrf(client, f"/console/inquiries/{flagged}/handoff")
        refused = client.post(
            f"/console/inquiries/{flagged}/hand-to-supervisor", data={"csrf_token": token}
        )
        assert refused.status_code == 403  # someone else holds it
        assert client.get("/console/inquiries/harassment").status_code == 403
        assert client.get(f"/console/inquiries/{flagged}/evidence").status_code == 403
        client.post("/logout", data={"csrf_token": token})

        login(client, "operator")
        token = page_csrf(client, f"/console/inquiries/{flagged}/handoff")
        handed = client.post(
            f"/console/inquiries/{flagged}/hand-to-supervisor", data={"csrf_token": token}
        )
        assert handed.status_code == 303
        client.post("/logout", data={"csrf_token": token})

        login(client, "supervisor")
        queue = client.get("/console/inquiries/harassment")
        assert queue.status_code == 200
        assert flagged in queue.text and "土下座しに家に来い" in queue.text
        assert "一次対応オペレーター" in queue.text  # handled one today
        download = client.get(f"/console/inquiries/{flagged}/evidence?format=json")
        assert download.status_code == 200
        assert "attachment" in download.headers["content-disposition"]
        assert download.json()["original_text"] == WORDS
        text = client.get(f"/console/inquiries/{flagged}/evidence?format=text")
        assert WORDS in text.text and "inquiry.handed_to_supervisor" in text.text
        assert client.get(f"/console/inquiries/{flagged}/evidence?format=xml").status_code == 422
    record = inquiry(session, flagged)
    assert (record.level, record.claimed_by_id, record.harassment) == (3, None, True)
    assert harassment.handled_today(session, settings) == [("一次対応オペレーター", 1)]


@pytest.fixture
def run(db_url: str) -> Any:
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        env = {
            "ANSHIN_DATABASE_URL": db_url,
            "LANG": "en_US.UTF-8",
            "LC_ALL": "",
            "LC_MESSAGES": "",
        }
        return runner.invoke(cli_app, list(args), env=env)

    return invoke


def test_evidence_and_handover_on_the_command_line(flagged: str, run: Any) -> None:
    shown = run("inquiry", "evidence", flagged)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["original_text"] == WORDS
    text = run("inquiry", "evidence", flagged, "--format", "text")
    assert "--- original_text ---" in text.stdout and WORDS in text.stdout
    handed = run("inquiry", "hand-over", flagged, "--as", "op@example.com")
    assert handed.exit_code == 0 and f"{flagged} was handed to a supervisor." in handed.stdout
    assert run("inquiry", "evidence", "Q-1999-000009").exit_code == 1
