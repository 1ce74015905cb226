"""A lead's expression to avoid is flagged by the very next check, everywhere it runs (R17).

Published ``avoid_expression`` articles reach the message check through the
providers ``comms.avoid`` names: ``POST /api/lint`` (the editors' live check),
the publish gate of incident notices, inquiry replies and the template
preview. Each finding carries the article's alternative as its suggestion. A
draft is never used; unpublishing or deleting the article stops it at once.
Two apps on one database stand for two server processes: neither keeps a copy
that could be stale. SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from anshin.app import create_app
from anshin.comms import avoid
from anshin.comms import gate as comms_gate
from anshin.comms.lint import Finding, IncidentFacts
from anshin.comms.rules import Source
from anshin.config import Settings
from anshin.incidents import detail, notices
from anshin.incidents import service as incidents
from anshin.incidents.preview import preview
from anshin.inquiries import replies
from anshin.knowledge import service as kb
from anshin.knowledge.models import Article
from anshin.team import service as team_service
from inquiry_world import BAD_JA, incident, inquiry, user
from notice_texts import SPECULATIVE_JA, UPDATE_JA
from notice_world import ACTOR, build

EXPRESSION = "システムの都合により"
ALTERNATIVE = "認証サーバーの障害により"
TEXT = f"{EXPRESSION}、ログインできない状態が続いております。"
ARTICLE = {
    "key": "avoid-system-tsugou",
    "kind": "avoid_expression",
    "title": EXPRESSION,
    "body": "原因をぼかしているように聞こえ、不信感を招きます。",
    "alternative": ALTERNATIVE,
    "state": "published",
}


def publish(sessions: sessionmaker[Session], **changes: object) -> None:
    """A lead saves the article (published unless ``changes`` say otherwise) and commits."""
    with sessions() as session:
        kb.save(session, ARTICLE | changes, actor="lead@example.com")
        session.commit()


def avoided(findings: list[Finding]) -> list[tuple[str, str]]:
    """(underlined text, suggestion) of each avoid-expression finding."""
    return [(f.message, f.suggestion) for f in findings if f.rule == "avoid-expression"]


@pytest.fixture
def apps(settings: Settings) -> Iterator[tuple[FastAPI, FastAPI]]:
    """Two apps on one database: two server processes as far as caching goes."""
    first, second = create_app(settings), create_app(settings)
    yield first, second
    first.state.engine.dispose()
    second.state.engine.dispose()


@pytest.fixture
def token(sessions: sessionmaker[Session]) -> str:
    with sessions() as session:
        person = team_service.create_user(
            session, email="op@example.com", name="op", role="operator", password="long enough"
        )
        raw, _ = team_service.create_token(session, user=person, name="editor", actor="test")
        session.commit()
    return raw


def lint(app: FastAPI, token: str, text: str = TEXT) -> list[dict[str, object]]:
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    response = client.post("/api/lint", json={"text": text, "kind": "report_notice"})
    assert response.status_code == 200, response.text
    return [f for f in response.json()["findings"] if f["rule"] == "avoid-expression"]


def test_the_next_lint_call_on_any_process_flags_a_newly_published_expression(
    apps: tuple[FastAPI, FastAPI], token: str, sessions: sessionmaker[Session]
) -> None:
    first, second = apps
    assert lint(first, token) == [] and lint(second, token) == []  # both have answered once
    publish(sessions, state="draft")
    assert lint(first, token) == [] and lint(second, token) == []  # a draft is never used
    publish(sessions)
    for app in (first, second):
        (found,) = lint(app, token)
        assert TEXT[found["start"] : found["end"]] == EXPRESSION  # type: ignore[misc]
        assert ALTERNATIVE in str(found["suggestion"])
    publish(sessions, alternative="障害の原因（認証サーバー）により")
    (found,) = lint(second, token)
    assert "認証サーバー）により" in str(found["suggestion"])  # the edited alternative at once
    publish(sessions, state="draft")  # unpublished
    assert lint(first, token) == [] and lint(second, token) == []
    publish(sessions)
    with sessions() as session:
        session.delete(kb.get(session, ARTICLE["key"]))
        session.commit()
    assert lint(first, token) == [] and lint(second, token) == []


def test_other_kinds_and_english_expressions(sessions: sessionmaker[Session]) -> None:
    """Only avoid_expression articles count; an English one flags English text."""
    publish(sessions)
    publish(sessions, key="faq-like", kind="faq", title="ログインできない")
    publish(sessions, key="avoid-asap", title="ASAP", alternative="by 15:30", locale="en")
    with sessions() as session:
        pairs = avoid.expressions(session)
        assert pairs == ((EXPRESSION, ALTERNATIVE), ("ASAP", "by 15:30"))
        found = comms_gate.check_texts(
            IncidentFacts(), "report_notice", {"en": "We will fix it ASAP."}, session=session
        )
    ((message, suggestion),) = avoided(found["en"])
    assert "ASAP" in message and "by 15:30" in suggestion
    assert avoid.expressions(None) == ()


def test_the_publish_gate_flags_it_with_the_alternative(
    session: Session, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    world = build(session, settings, "http://127.0.0.1:9/hook")
    session.commit()
    texts = {"ja": UPDATE_JA + TEXT}
    before = notices.gate(
        world.incident,
        "update",
        texts,
        session=session,
        actor_role="operator",
        override_reason=None,
    )
    assert avoided(before.findings["ja"]) == []
    publish(sessions)
    after = notices.gate(
        world.incident,
        "update",
        texts,
        session=session,
        actor_role="operator",
        override_reason=None,
    )
    ((message, suggestion),) = avoided(after.findings["ja"])
    assert EXPRESSION in message and ALTERNATIVE in suggestion
    # The compose box's live check (the session the incident was loaded in) says the same.
    live = detail.check(world.incident, {"kind": "update", "body_ja": texts["ja"]})
    assert avoided(live["ja"]) == [(message, suggestion)]
    # Publishing runs that gate: a refused notice lists the finding beside the error.
    with pytest.raises(notices.MessageCheckFailed) as refused:
        incidents.publish_update(
            session, settings, world.incident, body_ja=SPECULATIVE_JA + TEXT, actor=ACTOR
        )
    assert avoided(refused.value.findings["ja"]) == [(message, suggestion)]


def test_an_inquiry_reply_is_checked_with_it(
    session: Session, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    operator = user(session, "operator", "op")
    asked = inquiry(session, settings, incident(session, settings), holder=operator)
    session.commit()
    publish(sessions)
    with pytest.raises(notices.MessageCheckFailed) as refused:
        replies.reply(session, settings, asked, operator, text=TEXT + BAD_JA)
    (locale,) = refused.value.findings
    ((message, suggestion),) = avoided(refused.value.findings[locale])
    assert EXPRESSION in message and ALTERNATIVE in suggestion


def test_the_template_preview_shows_it(
    session: Session, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    publish(sessions)
    rendered, findings = preview(
        session,
        settings,
        "update",
        "ja",
        "status_page",
        source=Source(subject=None, body=TEXT),
    )
    assert EXPRESSION in rendered.text
    ((_message, suggestion),) = avoided(findings)
    assert ALTERNATIVE in suggestion


def test_a_deleted_article_row_is_gone_from_the_check(
    session: Session, sessions: sessionmaker[Session]
) -> None:
    publish(sessions)
    assert avoid.expressions(session) == ((EXPRESSION, ALTERNATIVE),)
    session.query(Article).delete()
    assert avoid.expressions(session) == ()
