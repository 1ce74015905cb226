"""Replying through the console, the API and the CLI (R21, R23, R26), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from anshin.cli import app as cli_app
from anshin.config import Settings
from anshin.inquiries.models import Inquiry, InquiryMessage
from anshin.notify.models import OutboxMessage
from anshin.team.models import User
from inquiry_world import BAD_JA, GOOD_JA, incident, inquiry
from test_console_support import USERS, client_for, count, database, login, seed, text_of


@pytest.fixture
def world(settings: Settings) -> dict[str, str]:
    """Seeded users, an incident and three inquiries on it (one held by the operator)."""
    seed(settings)
    with database(settings) as session:
        operator = session.scalar(select(User).where(User.email == USERS["operator"][0]))
        on = incident(session, settings)
        held = inquiry(session, settings, on, holder=operator)
        free = inquiry(session, settings, on, email="free@example.com", name="佐藤 一郎")
        english = inquiry(session, settings, on, email="en@example.com", name="Pat", locale="en")
        session.commit()
        return {
            "incident": on.reference,
            "held": held.reference,
            "free": free.reference,
            "english": english.reference,
        }


def _out(settings: Settings, reference: str) -> list[InquiryMessage]:
    with database(settings) as session:
        found = session.scalar(select(Inquiry).where(Inquiry.reference == reference))
        assert found is not None
        return [m for m in found.messages if m.direction == "out"]


def test_the_console_reply_page_sends_the_checked_text(
    settings: Settings, world: dict[str, str]
) -> None:
    with client_for(settings) as client:
        token = login(client, "operator")
        page = client.get(f"/console/inquiries/{world['held']}/reply")
        assert page.status_code == 200
        assert "山田 花子 様" in page.text and world["held"] in text_of(page.text)
        refused = client.post(
            f"/console/inquiries/{world['held']}/reply",
            data={"csrf_token": token, "body": BAD_JA},
        )
        assert refused.status_code == 422
        assert BAD_JA in refused.text and 'data-rule="missing-apology"' in refused.text
        assert count(settings, OutboxMessage) == 0
        sent = client.post(
            f"/console/inquiries/{world['held']}/reply",
            data={"csrf_token": token, "body": GOOD_JA, "reports_result": "1"},
        )
        assert sent.status_code == 303
    (message,) = _out(settings, world["held"])
    assert message.body == GOOD_JA and message.reports_result
    assert count(settings, OutboxMessage) == 1


def test_the_console_refuses_a_reply_from_someone_not_holding_the_claim(
    settings: Settings, world: dict[str, str]
) -> None:
    with client_for(settings) as client:
        token = login(client, "senior")
        page = client.get(f"/console/inquiries/{world['held']}/reply")
        assert page.status_code == 200
        assert '<button class="btn" type="submit" disabled>' in page.text  # not the holder
        refused = client.post(
            f"/console/inquiries/{world['held']}/reply",
            data={"csrf_token": token, "body": GOOD_JA},
        )
        assert refused.status_code == 409
    assert _out(settings, world["held"]) == []


def test_the_api_drafts_and_sends_a_reply(settings: Settings, world: dict[str, str]) -> None:
    with client_for(settings) as client:
        token = login(client, "operator")
        headers = {"X-CSRF-Token": token}
        draft = client.get(f"/api/inquiries/{world['held']}/reply-draft")
        assert draft.status_code == 200 and draft.json()["kind"] == "inquiry_reply"
        assert world["held"] in draft.json()["subject"]
        refused = client.post(
            f"/api/inquiries/{world['held']}/reply", json={"body": BAD_JA}, headers=headers
        )
        assert refused.status_code == 422
        assert refused.json()["error"]["findings"]["ja"]
        sent = client.post(
            f"/api/inquiries/{world['held']}/reply",
            json={"body": GOOD_JA, "next_action": "明日10時に状況確認", "next_action_due_at": None},
            headers=headers,
        )
        assert sent.status_code == 201, sent.text
        assert sent.json()["outbox_message_id"] and sent.json()["first_responded_at"]
        assert sent.json()["mail_message_id"].startswith("<anshin.delivery.")
        other = client.post(
            f"/api/inquiries/{world['free']}/reply", json={"body": GOOD_JA}, headers=headers
        )
        assert other.status_code == 409  # nobody claimed it: claim before replying


def test_reply_all_through_the_console_and_the_api(
    settings: Settings, world: dict[str, str]
) -> None:
    base = f"/console/incidents/{world['incident']}/inquiries/reply-all"
    with client_for(settings) as client:
        login(client, "operator")
        assert client.get(base).status_code == 403  # a lead's action
    with client_for(settings) as client:
        token = login(client, "senior")
        page = client.get(base)
        assert page.status_code == 200
        assert "3" in text_of(page.text) and world["english"] in page.text
        refused = client.post(base, data={"csrf_token": token, "body_ja": "復旧作業中です。"})
        assert refused.status_code == 422  # an English reader needs the English answer
        assert count(settings, OutboxMessage) == 0
        empty = client.post(base, data={"csrf_token": token, "body_ja": "x", "intent": "complaint"})
        assert empty.status_code == 422 and 'role="alert"' in empty.text
        assert count(settings, OutboxMessage) == 0
        sent = client.post(
            base,
            data={
                "csrf_token": token,
                "body_ja": "復旧作業を進めております。",
                "body_en": "We are restoring the service.",
                "include_claimed": "1",
            },
        )
        assert sent.status_code == 303, sent.text
        api = client.post(
            f"/api/incidents/{world['incident']}/inquiries/reply",
            json={"body_ja": "続報です。", "body_en": "More news.", "intent": "status_inquiry"},
            headers={"X-CSRF-Token": token},
        )
        assert api.status_code == 200, api.text
        assert sorted(api.json()["sent"]) == sorted([world["free"], world["english"]])
        assert api.json()["held"] == [world["held"]]
    for ref in (world["held"], world["free"], world["english"]):
        assert _out(settings, ref)


def test_the_cli_replies_to_all_and_refuses_an_empty_selection(
    settings: Settings, world: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANSHIN_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ANSHIN_SECRET_KEY", settings.secret_key or "x" * 40)
    body, body_en = tmp_path / "body.txt", tmp_path / "body_en.txt"
    body.write_text("復旧作業を進めております。", encoding="utf-8")
    body_en.write_text("We are restoring the service.", encoding="utf-8")
    runner = CliRunner()
    ref = world["incident"]
    empty = runner.invoke(
        cli_app,
        ["--lang", "en", "inquiry", "reply-all", ref, "--intent", "complaint", "--file", str(body)],
    )
    assert empty.exit_code == 1 and "nothing was sent" in empty.output
    bad = runner.invoke(cli_app, ["inquiry", "reply-all", ref, "--intent", "nonsense"])
    assert bad.exit_code == 2 and "status_inquiry" in bad.output
    done = runner.invoke(
        cli_app,
        [
            "inquiry",
            "reply-all",
            ref,
            "--file",
            str(body),
            "--file-en",
            str(body_en),
            "--format",
            "json",
        ],
    )
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    assert sorted(result["sent"]) == sorted([world["free"], world["english"]])
    assert result["held"] == [world["held"]]
    with database(settings) as session:
        sent = session.scalar(
            select(func.count())
            .select_from(InquiryMessage)
            .where(InquiryMessage.direction == "out")
        )
    assert sent == 2
