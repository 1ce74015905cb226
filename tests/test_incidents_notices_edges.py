"""The message check on publish, at the edges: the staff API and the command line.

A refused text answers 422 with the findings (API) or exits 1 with one line per
finding (CLI); only a senior's override with a reason gets it through, and the
database is as it was after every refusal (R3, R12–R16).
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from anshin import events
from anshin.app import create_app
from anshin.cli import app as cli_app
from anshin.config import Settings
from anshin.events import Event
from anshin.incidents import components, detail, service
from anshin.incidents.models import IncidentUpdate
from anshin.notify import subscribers
from anshin.notify.models import Delivery, OutboxMessage
from anshin.team import service as team_service
from notice_texts import FIRST_NOTICE_JA, SPECULATIVE_JA

REASON = "Legal asked for this exact wording; the lead reviewed it."


def state(sessions: sessionmaker[Session]) -> tuple[int, ...]:
    """What a refused publish must leave untouched."""
    with sessions() as session:
        return tuple(
            int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (IncidentUpdate, OutboxMessage, Delivery, Event)
        )


def overrides(sessions: sessionmaker[Session], reference: str) -> list[tuple[str, Any]]:
    with sessions() as session:
        incident = service.get(session, reference)
        return [
            (e.actor, e.after)
            for e in events.history(session, "incident", incident.id)
            if e.action == "message.check_overridden"
        ]


@pytest.fixture
def reference(sessions: sessionmaker[Session], settings: Settings) -> str:
    """An open incident on the sign-in component with one subscriber to tell."""
    with sessions() as session:
        login = components.add_component(session, "ログイン", name_en="Sign-in", actor="test")
        subscribers.subscribe_email(
            session,
            settings,
            email="ja@example.com",
            component_ids=[login.id],
            confirmed=True,
            actor="test",
        )
        incident = service.declare(
            session,
            settings,
            service.IncidentInput(
                title="ログインできない障害", severity="sev2", components=["ログイン"]
            ),
            actor="test",
        )
        session.commit()
        return incident.reference


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


@pytest.fixture
def tokens(sessions: sessionmaker[Session]) -> dict[str, tuple[str, str]]:
    """Bearer token and event-log name of an operator and a senior."""
    found: dict[str, tuple[str, str]] = {}
    with sessions() as session:
        for role in ("operator", "senior"):
            user = team_service.create_user(
                session,
                email=f"{role}@example.com",
                name=role.title(),
                role=role,
                password="correct horse",
            )
            raw, _ = team_service.create_token(session, user=user, name="t", actor="test")
            found[role] = (raw, user.actor)
        session.commit()
    return found


def bearer(token: str, lang: str = "ja") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": lang}


def test_api_answers_422_with_the_findings_and_only_a_senior_may_override(
    client: TestClient,
    tokens: dict[str, tuple[str, str]],
    sessions: sessionmaker[Session],
    reference: str,
) -> None:
    url = f"/api/incidents/{reference}/updates"
    operator, _ = tokens["operator"]
    senior, senior_actor = tokens["senior"]
    before = state(sessions)

    refused = client.post(url, json={"body_ja": SPECULATIVE_JA}, headers=bearer(operator))
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "MessageCheckFailed"
    assert error["field"] == "body_ja"
    assert "伝え方チェック" in error["message"]
    found = error["findings"]["ja"]
    guesses = [item for item in found if item["rule"] == "speculation"]
    assert guesses and all(item["severity"] == "error" for item in guesses)
    assert "おそらく" in [SPECULATIVE_JA[item["start"] : item["end"]] for item in guesses]
    assert all(item["message"] and item["suggestion"] for item in guesses)
    assert state(sessions) == before

    english = client.post(url, json={"body_ja": SPECULATIVE_JA}, headers=bearer(operator, "en"))
    assert english.status_code == 422
    assert english.json()["error"]["message"].startswith("The message check found problems")

    forbidden = client.post(
        url,
        json={"body_ja": SPECULATIVE_JA, "override_reason": REASON},
        headers=bearer(operator),
    )
    assert forbidden.status_code == 403, forbidden.text
    assert forbidden.json()["error"]["field"] == "override_reason"
    assert state(sessions) == before

    published = client.post(
        url,
        json={"body_ja": SPECULATIVE_JA, "override_reason": REASON},
        headers=bearer(senior),
    )
    assert published.status_code == 201, published.text
    last = published.json()["updates"][-1]
    assert last["kind"] == "first_notice" and last["body_ja"] == SPECULATIVE_JA
    ((actor, after),) = overrides(sessions, reference)
    assert actor == senior_actor
    assert after["reason"] == REASON and set(after["findings"]["ja"]) == {"speculation"}
    updates, messages, deliveries, _ = state(sessions)
    assert (updates, messages, deliveries) == (1, 1, 1)


def test_each_override_names_its_update_and_the_page_pairs_them_by_that_id(
    client: TestClient,
    tokens: dict[str, tuple[str, str]],
    sessions: sessionmaker[Session],
    reference: str,
) -> None:
    """Issue 7 point 6: pairing by event order put an override on the wrong update."""
    senior, senior_actor = tokens["senior"]
    url = f"/api/incidents/{reference}/updates"
    for reason in (REASON, "Second wording agreed with legal."):
        published = client.post(
            url,
            json={"body_ja": SPECULATIVE_JA, "override_reason": reason},
            headers=bearer(senior),
        )
        assert published.status_code == 201, published.text
    with sessions() as session:
        incident = service.get(session, reference)
        first, second = (u.id for u in incident.public_updates)
        history = events.history(session, "incident", incident.id)
        recorded = [e for e in history if e.action == "message.check_overridden"]
        assert [e.after["update_id"] for e in recorded] == [first, second]
        # Events of two publishes that interleaved (two seniors at once): both
        # overrides first, then both updates. Each still lands on its own update.
        others = [e for e in history if e not in recorded]
        shuffled = [*reversed(recorded), *others]
        paired = detail.overrides(incident, shuffled)
    assert {k: v.reason for k, v in paired.items()} == {
        first: REASON,
        second: "Second wording agreed with legal.",
    }
    assert paired[first].actor == senior_actor and paired[first].rules == ["speculation"]
    # Overrides recorded before they named their update still show, on the update
    # whose event followed each of them.
    unnamed = [
        Event(
            actor=e.actor,
            entity_type=e.entity_type,
            entity_id=e.entity_id,
            action=e.action,
            after={k: v for k, v in e.after.items() if k != "update_id"},
        )
        if e.action == "message.check_overridden"
        else e
        for e in history
    ]
    old_style = detail.overrides(incident, unnamed)
    assert {k: v.reason for k, v in old_style.items()} == {
        first: REASON,
        second: "Second wording agreed with legal.",
    }


def test_api_publishes_a_good_text_for_an_operator(
    client: TestClient,
    tokens: dict[str, tuple[str, str]],
    sessions: sessionmaker[Session],
    reference: str,
) -> None:
    operator, _ = tokens["operator"]
    published = client.post(
        f"/api/incidents/{reference}/updates",
        json={"body_ja": FIRST_NOTICE_JA},
        headers=bearer(operator),
    )
    assert published.status_code == 201, published.text
    assert overrides(sessions, reference) == []
    updates, messages, deliveries, _ = state(sessions)
    assert (updates, messages, deliveries) == (1, 1, 1)


@pytest.fixture
def run(db_url: str) -> Any:
    runner = CliRunner()

    def invoke(*args: str, lang: str = "ja_JP.UTF-8") -> Result:
        env = {"ANSHIN_DATABASE_URL": db_url, "LANG": lang, "LC_ALL": "", "LC_MESSAGES": ""}
        return runner.invoke(cli_app, list(args), env=env)

    return invoke


def test_cli_prints_each_finding_and_publishes_with_a_reason(
    run: Any, sessions: sessionmaker[Session], reference: str
) -> None:
    before = state(sessions)
    refused = run("incident", "update", reference, "--body-ja", SPECULATIVE_JA)
    assert refused.exit_code == 1, refused.output
    assert refused.stdout == ""
    lines = refused.stderr.strip().splitlines()
    assert lines[0].startswith("--body-ja: 伝え方チェックで、公開前に直すべき点が見つかりました。")
    speculation = [line for line in lines[1:] if line.startswith("  [ja] error speculation: ")]
    assert speculation and all("→" in line for line in speculation)
    assert all(line.startswith("  [ja] ") for line in lines[1:])
    assert "Traceback" not in refused.output
    assert state(sessions) == before

    published = run(
        "incident", "update", reference, "--body-ja", SPECULATIVE_JA,
        "--override-reason", REASON, "--format", "json",
    )  # fmt: skip
    assert published.exit_code == 0, published.output
    data = json.loads(published.stdout)
    assert data["updates"][-1]["body_ja"] == SPECULATIVE_JA
    ((actor, after),) = overrides(sessions, reference)
    assert actor == f"cli:{getpass.getuser()}"
    assert after["reason"] == REASON
    updates, messages, deliveries, _ = state(sessions)
    assert (updates, messages, deliveries) == (1, 1, 1)
