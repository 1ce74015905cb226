"""Asking before what cannot be undone, warning before a no-news update that follows real news,
and a no-news text that says where the incident stands (R5, R7). SQLite and PostgreSQL.

Resolving and publishing a no-news update need the confirmation box ticked; without it
the server answers 422, keeps every typed text and writes nothing (no JavaScript needed).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents import cadence, notices, service
from anshin.incidents.models import Incident, IncidentUpdate
from test_console_incidents import _declare, _incident, textarea
from test_console_support import client_for, count, database, login, seed, text_of

FIRST_JA = (
    "現在、ログインできない障害が発生しております。ご不便をおかけし、誠に申し訳ございません。"
    "原因は現在確認中です。次回は1時間以内にお知らせいたします。"
)


@pytest.fixture
def client(settings: Settings) -> TestClient:
    seed(settings)
    return client_for(settings)


def _publish(settings: Settings, ref: str, *, minutes_ago: int, status: str | None = None) -> None:
    """A public first notice or update, published ``minutes_ago``."""
    with database(settings) as session:
        incident = service.get(session, ref)
        service.publish_update(
            session,
            settings,
            incident,
            body_ja=FIRST_JA,
            status=status,
            actor="test",
            now=utcnow() - dt.timedelta(minutes=minutes_ago),
        )
        session.commit()


def test_resolving_needs_the_box_ticked_and_keeps_the_texts(
    client: TestClient, settings: Settings
) -> None:
    token = login(client, "operator")
    location = _declare(client, settings, token)
    box = client.get(f"{location}?kind=resolution").text
    assert 'name="confirm" value="yes" required' in box
    assert "取り消せないことを確認しました" in text_of(box)
    resolution = textarea(box, "body_ja")
    unticked = client.post(
        f"{location}/resolve",
        data={"body_ja": resolution, "body_en": "Restored.", "csrf_token": token},
    )
    assert unticked.status_code == 422
    assert "確認のチェックを入れてください" in text_of(unticked.text)
    assert f'action="{location}/resolve"' in unticked.text  # still the resolution box
    assert textarea(unticked.text, "body_ja") == resolution
    assert textarea(unticked.text, "body_en") == "Restored."
    assert _incident(settings).status == "investigating"
    assert count(settings, IncidentUpdate) == 0
    ticked = client.post(
        f"{location}/resolve",
        data={"body_ja": resolution, "csrf_token": token, "confirm": "yes"},
    )
    assert ticked.status_code == 303 and _incident(settings).status == "resolved"


def test_no_news_needs_the_box_ticked_and_warns_right_after_real_news(
    client: TestClient, settings: Settings
) -> None:
    token = login(client, "operator")
    location = _declare(client, settings, token)
    ref = location.rsplit("/", 1)[1]
    _publish(settings, ref, minutes_ago=3)
    page = client.get(location).text
    panel = re.search(r'<section class="panel" id="no-news">.*?</section>', page, re.S)
    assert panel is not None
    text = text_of(panel.group(0))
    assert "前回のお知らせを3分前に公開したばかりです" in text
    assert 'name="confirm" value="yes" required' in panel.group(0)
    english = text_of(client.get(f"{location}?lang=en").text)
    assert "The last update went out 3 minutes ago" in english
    assert "Publish the no-news update (still working on it)" in english
    client.get(f"{location}?lang=ja")  # back to Japanese (the choice is kept in a cookie)

    unticked = client.post(f"{location}/no-news", data={"csrf_token": token})
    assert unticked.status_code == 422
    assert "確認のチェックを入れてください" in text_of(unticked.text)
    assert count(settings, IncidentUpdate) == 1  # nothing published
    ticked = client.post(f"{location}/no-news", data={"csrf_token": token, "confirm": "yes"})
    assert ticked.status_code == 303
    assert [u.kind for u in _incident(settings).updates] == ["first_notice", "no_news_update"]


def test_no_warning_once_the_last_real_update_is_older_than_the_window(
    client: TestClient, settings: Settings
) -> None:
    token = login(client, "operator")
    location = _declare(client, settings, token)
    _publish(settings, location.rsplit("/", 1)[1], minutes_ago=11)  # window: 10 minutes
    assert "公開したばかりです" not in text_of(client.get(location).text)


@pytest.mark.parametrize(
    ("status", "ja", "en"),
    [
        ("investigating", "引き続き原因の調査", "investigating its cause"),
        ("identified", "原因となっている箇所は特定できており", "found where the problem"),
        ("monitoring", "正常にご利用いただけるかを引き続き確認", "checking that everything works"),
    ],
)
def test_the_no_news_text_follows_the_status(
    session: Session, settings: Settings, status: str, ja: str, en: str
) -> None:
    seed(settings)
    incident = service.declare(
        session,
        settings,
        service.IncidentInput(title="ログイン障害", severity="sev2", components=["ログイン"]),
        actor="test",
    )
    service.publish_update(
        session, settings, incident, body_ja=FIRST_JA, status=status, actor="test"
    )
    session.flush()
    texts, _next = cadence.no_news_draft(session, settings, incident)
    assert ja in texts["ja"] and en in texts["en"]
    for other, (other_ja, other_en) in {
        "investigating": ("引き続き原因の調査", "investigating its cause"),
        "identified": ("原因となっている箇所", "found where the problem"),
        "monitoring": ("正常にご利用いただけるか", "checking that everything works"),
    }.items():
        if other != status:
            assert other_ja not in texts["ja"] and other_en not in texts["en"]
    # The text the console publishes passes the message check with no error.
    findings = notices.check_texts(incident, "no_news_update", texts)
    errors = [f for found in findings.values() for f in found if f.severity == "error"]
    assert errors == []
    assert isinstance(incident, Incident)
