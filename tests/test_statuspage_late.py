"""R5 on the public page: once the promised next update has passed, the page says it is late.

A page showing 「次回更新予定: 13:45」 at 13:50 tells the customer something
that is no longer true; it says 「次回の更新が予定時刻（13:45）を過ぎています」
("The next update, due at 13:45, is late") instead, in the HTML and the JSON.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.app import create_app
from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents import components, service
from anshin.incidents.models import Incident
from anshin.statuspage import rules
from anshin.statuspage import service as statuspage
from anshin.statuspage.models import PublishState
from anshin.timefmt import clock_local
from notice_texts import notice_en, notice_ja
from status_helpers import ACTOR


def _stored(session: Session, path: str) -> str:
    session.expire_all()
    return statuspage.stored(session)[path].body.decode()


def _json(session: Session, path: str) -> dict[str, Any]:
    return dict(json.loads(_stored(session, path)))


def _incident_with_promise(
    session: Session, settings: Settings, published: dt.datetime, promised: dt.datetime
) -> Incident:
    """One incident whose latest public update promises the next one at ``promised``."""
    components.add_component(session, "ログイン", name_en="Sign-in", actor=ACTOR)
    incident = service.declare(
        session,
        settings,
        service.IncidentInput(
            title="ログインできない障害", severity="sev2", components=["ログイン"]
        ),
        actor=ACTOR,
        now=published - dt.timedelta(minutes=5),
    )
    at = clock_local(promised, settings.timezone)
    service.publish_update(
        session,
        settings,
        incident,
        body_ja=notice_ja("ログインできない状態です。", next_at=at),
        body_en=notice_en("Some customers cannot sign in.", next_at=at),
        next_update_at=promised,
        actor=ACTOR,
        now=published,
    )
    session.commit()
    return incident


def test_the_rule_is_late_only_once_the_time_has_passed() -> None:
    now = utcnow()
    assert rules.next_update_late(now, now)
    assert rules.next_update_late(now - dt.timedelta(minutes=1), now)
    assert not rules.next_update_late(now + dt.timedelta(minutes=1), now)
    assert not rules.next_update_late(None, now)


def test_a_passed_promise_reads_late_in_html_and_json(session: Session, settings: Settings) -> None:
    now = utcnow().replace(second=0, microsecond=0)
    promised = now - dt.timedelta(minutes=10)
    _incident_with_promise(session, settings, now - dt.timedelta(minutes=40), promised)
    at = clock_local(promised, settings.timezone)
    # As published with the update (40 minutes ago) the time was still ahead.
    page = _stored(session, "index.html")
    assert "次回更新予定:" in page and "過ぎています" not in page
    (shown,) = _json(session, "api/v2/incidents/unresolved.json")["incidents"]
    assert shown["incident_updates"][0]["next_update_late"] is False

    statuspage.publish(session, settings, now=now)
    session.commit()
    page = _stored(session, "index.html")
    assert "次回の更新が予定時刻（<time datetime=" in page
    assert f">{at}</time>）を過ぎています" in page
    assert "次回更新予定:" not in page  # a past time is never shown as upcoming
    english = _stored(session, "en/index.html")
    assert f">{at}</time>, is late" in english and "The next update, due at" in english
    assert "Next update by" not in english
    for path in ("api/v2/incidents/unresolved.json", "api/v2/summary.json"):
        (shown,) = _json(session, path)["incidents"]
        (update,) = shown["incident_updates"]
        assert update["next_update_late"] is True
        assert update["next_update_at"] is not None


def test_a_new_update_keeps_the_promise_and_the_late_line_goes(
    session: Session, settings: Settings
) -> None:
    now = utcnow().replace(second=0, microsecond=0)
    incident = _incident_with_promise(
        session, settings, now - dt.timedelta(minutes=40), now - dt.timedelta(minutes=10)
    )
    service.publish_update(
        session,
        settings,
        incident,
        body_ja=notice_ja("引き続き対応しております。"),
        kind="no_news_update",
        actor=ACTOR,
        now=now,
    )
    session.commit()
    page = _stored(session, "index.html")
    assert "過ぎています" not in page and "next-late" not in page
    (shown,) = _json(session, "api/v2/incidents/unresolved.json")["incidents"]
    assert [u["next_update_late"] for u in shown["incident_updates"]] == [False, False]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    yield TestClient(app)
    cache = getattr(app.state, "status_cache", None)
    if cache is not None:
        cache.close()
    app.state.engine.dispose()


def test_the_page_is_published_again_when_a_promise_passes(
    session: Session, settings: Settings, client: TestClient
) -> None:
    """A page published 5 minutes ago (not stale by age) is refreshed because the promised
    time passed since: the request that comes after it sees the late line."""
    now = utcnow()
    _incident_with_promise(
        session, settings, now - dt.timedelta(minutes=5), now - dt.timedelta(minutes=1)
    )
    session.expire_all()
    before = session.scalar(select(PublishState))
    assert before is not None
    version = before.version
    page = client.get("/")
    assert page.status_code == 200
    session.expire_all()
    state = session.scalar(select(PublishState))
    assert state is not None and state.version > version
    assert "過ぎています" in client.get("/").text
