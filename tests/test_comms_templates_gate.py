"""Templates are gated like notices (issue 7): every operator starts from them.

A senior could save a first-notice template with two error findings, and
then every operator's prefilled notice failed the check. Now saving a text
whose rendering on the sample facts has an error finding is refused with the
findings (API, console, CLI) and nothing is written, unless a reason is
given, which the version's event keeps. SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from anshin.cli import app as cli_app
from anshin.comms import service
from anshin.comms.models import MessageTemplateVersion
from anshin.config import Settings
from anshin.db import make_engine, make_sessionmaker
from anshin.events import Event
from test_comms_templates_web import GOOD, KEY, _token, _with_template_routes
from test_console_support import client_for, csrf_from, login, seed, text_of

# A guess about the cause and a vague deadline: two error findings on any facts.
BAD = (
    "{{ components_text }}がご利用いただけません。おそらくサーバーの不具合です。"
    "ご不便をおかけし、誠に申し訳ございません。\n"
    "早急に復旧いたします。"
)
REASON = "Legal asked for this exact wording."


@pytest.fixture
def client(settings: Settings) -> TestClient:
    seed(settings)
    return _with_template_routes(client_for(settings))


def versions(settings: Settings) -> list[MessageTemplateVersion]:
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session:
        rows = list(session.scalars(select(MessageTemplateVersion)))
        session.expunge_all()
    engine.dispose()
    return rows


def edit_events(settings: Settings) -> list[Event]:
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session:
        rows = list(session.scalars(select(Event).where(Event.action == "template.edited")))
        session.expunge_all()
    engine.dispose()
    return rows


def test_the_api_refuses_a_template_that_fails_the_check_unless_a_reason_is_given(
    client: TestClient, settings: Settings
) -> None:
    senior = _token(settings, "senior")
    refused = client.put(KEY, json={"body": BAD}, headers=senior)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert "伝え方チェック" in error["message"] and error["field"] == "body"
    rules_found = {f["rule"] for f in error["findings"] if f["severity"] == "error"}
    assert len(rules_found) >= 2, error["findings"]
    english = client.put(KEY, json={"body": BAD}, headers={**senior, "Accept-Language": "en"})
    assert english.json()["error"]["message"].startswith("On the sample facts this template")
    assert versions(settings) == []

    saved = client.put(KEY, json={"body": BAD, "override_reason": REASON}, headers=senior)
    assert saved.status_code == 200, saved.text
    (event,) = edit_events(settings)
    assert event.after["check_overridden"]["reason"] == REASON
    assert set(event.after["check_overridden"]["rules"]) == rules_found

    good = client.put(KEY, json={"body": GOOD}, headers=senior)
    assert good.status_code == 200
    assert "check_overridden" not in edit_events(settings)[-1].after


def test_the_console_shows_the_refusal_and_keeps_the_text(
    client: TestClient, settings: Settings
) -> None:
    login(client, "senior")
    url = "/console/templates/first_notice/ja/status_page"
    token = csrf_from(client.get(url).text)
    refused = client.post(url, data={"body": BAD, "note": "", "csrf_token": token})
    assert refused.status_code == 422
    shown = text_of(refused.text)
    assert "伝え方チェックを通りません" in shown and "それでも保存する理由" in shown
    assert "おそらくサーバーの不具合です" in refused.text  # nothing typed is lost
    assert versions(settings) == []
    saved = client.post(url, data={"body": BAD, "override_reason": REASON, "csrf_token": token})
    assert saved.status_code == 303
    assert len(versions(settings)) == 1


def test_the_cli_refuses_and_saves_with_a_reason(settings: Settings, tmp_path: Path) -> None:
    seed(settings)
    folder = tmp_path / "ja"
    folder.mkdir()
    path = folder / "first_notice.status_page.txt"
    path.write_text(BAD, "utf-8")
    env = {"ANSHIN_DATABASE_URL": settings.database_url, "LANG": "ja_JP.UTF-8", "LC_ALL": ""}
    runner = CliRunner()
    refused = runner.invoke(cli_app, ["template", "edit", str(path)], env=env)
    assert refused.exit_code != 0
    assert "伝え方チェックを通りません" in refused.output
    assert versions(settings) == []
    saved = runner.invoke(
        cli_app, ["template", "edit", str(path), "--override-reason", REASON], env=env
    )
    assert saved.exit_code == 0, saved.output
    assert len(versions(settings)) == 1


def test_every_shipped_template_saves_without_a_reason_in_both_languages(
    settings: Settings,
) -> None:
    """The shipped set passes the gate it ships with, in ja and en."""
    for kind, locale, channel in service.rules.all_keys():
        default = service.load_default(kind, locale, channel)
        findings = service.sample_findings(
            settings, kind, locale, channel, default.source, service.utcnow()
        )
        assert not [f for f in findings if f.severity == "error"], (kind, locale, channel)
