"""What each publish says, through the incident life cycle, on SQLite and PostgreSQL:
only public facts, in Statuspage's vocabulary, escaped, consistent across formats."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import feedparser
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents import components, maintenance, service
from anshin.statuspage import service as statuspage
from notice_texts import notice_en, notice_ja
from status_helpers import ACTOR, INTERNAL, build_world

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+09:00$")


def _doc(session: Session, path: str) -> dict[str, Any]:
    session.expire_all()
    return json.loads(statuspage.stored(session)[path].body)


def _text(session: Session, path: str) -> str:
    session.expire_all()
    return statuspage.stored(session)[path].body.decode()


def test_the_life_of_an_incident_on_the_page(session: Session, settings: Settings) -> None:
    components.add_component(session, "API", name_en="API", actor=ACTOR)
    now = utcnow()
    incident = service.declare(
        session,
        settings,
        service.IncidentInput(
            title="APIの応答停止",
            title_en="API not responding",
            severity="sev1",
            components=["API"],
            internal_notes="社内: DBフェイルオーバー失敗",
        ),
        actor=ACTOR,
        now=now - dt.timedelta(minutes=20),
    )
    session.commit()
    # R3: declared, but nothing public yet — customers do not see it.
    assert _doc(session, "api/v2/incidents/unresolved.json")["incidents"] == []
    assert "APIの応答停止" not in _text(session, "index.html")

    service.publish_update(
        session,
        settings,
        incident,
        body_ja=notice_ja("APIがご利用いただけない状態です。"),
        body_en=notice_en("The API is unavailable."),
        actor=ACTOR,
        now=now - dt.timedelta(minutes=15),
    )
    session.commit()
    (shown,) = _doc(session, "api/v2/incidents/unresolved.json")["incidents"]
    assert (shown["id"], shown["status"], shown["impact"]) == (
        incident.reference,
        "investigating",
        "critical",
    )
    assert shown["monitoring_at"] is None and shown["resolved_at"] is None
    status = _doc(session, "api/v2/status.json")["status"]
    assert status == {"indicator": "critical", "description": "Major System Outage"}
    (update,) = shown["incident_updates"]
    assert update["affected_components"] == [
        {
            "code": shown["components"][0]["id"],
            "name": "API",
            "old_status": "operational",
            "new_status": "major_outage",
        }
    ]
    assert ISO_WITH_OFFSET.match(update["next_update_at"])  # R5: when the next update comes
    assert "次回更新予定" in _text(session, "index.html")

    service.publish_update(
        session,
        settings,
        incident,
        body_ja=notice_ja("復旧し、経過を観察しております。"),
        status="monitoring",
        actor=ACTOR,
        now=now - dt.timedelta(minutes=5),
    )
    session.commit()
    (shown,) = _doc(session, "api/v2/incidents/unresolved.json")["incidents"]
    assert shown["status"] == "monitoring" and ISO_WITH_OFFSET.match(shown["monitoring_at"])

    service.resolve(
        session,
        settings,
        incident,
        body_ja=notice_ja(
            "復旧いたしました。原因と再発防止策は報告書でお知らせいたします。", kind="resolution"
        ),
        actor=ACTOR,
        now=now,
    )
    session.commit()
    assert _doc(session, "api/v2/incidents/unresolved.json")["incidents"] == []
    (past,) = _doc(session, "api/v2/incidents.json")["incidents"]
    assert past["status"] == "resolved" and ISO_WITH_OFFSET.match(past["resolved_at"])
    assert [u["status"] for u in past["incident_updates"]] == [
        "resolved",
        "monitoring",
        "investigating",
    ]
    assert past["incident_updates"][0]["affected_components"][0]["new_status"] == "operational"
    assert _doc(session, "api/v2/status.json")["status"]["indicator"] == "none"
    page = _text(session, "index.html")
    assert "過去の障害" in page and "APIの応答停止" in page and "発生中の障害" not in page
    everything = b"".join(a.body for a in statuspage.stored(session).values()).decode()
    assert "DBフェイルオーバー失敗" not in everything


def test_internal_updates_and_notes_reach_no_artefact(session: Session, settings: Settings) -> None:
    build_world(session, settings, utcnow())
    hidden = service.declare(
        session,
        settings,
        service.IncidentInput(
            title="通知メールの遅延",
            severity="sev3",
            cause="未確認: 配信業者側の障害の可能性",
            estimated_affected_customers=987654,
        ),
        actor=ACTOR,
    )
    service.publish_update(
        session, settings, hidden, body_ja=notice_ja("通知メールが遅れております。"), actor=ACTOR
    )
    session.commit()
    stored = statuspage.stored(session)
    assert len(stored) == 14
    assert "通知メールの遅延" in stored["index.html"].body.decode()
    for path, artefact in stored.items():
        body = artefact.body.decode()
        assert INTERNAL not in body, path
        assert "社内限定" not in body, path
        assert "配信業者側" not in body, path  # an unconfirmed cause (R3)
        assert "987654" not in body and "987,654" not in body, path


def test_text_is_escaped_in_every_format(session: Session, settings: Settings) -> None:
    nasty = '<script>alert("x")</script> & <b>太字</b> \x01'
    incident = service.declare(
        session, settings, service.IncidentInput(title=nasty, severity="sev3"), actor=ACTOR
    )
    service.publish_update(
        session, settings, incident, body_ja=notice_ja(f"本文 {nasty}"), actor=ACTOR
    )
    session.commit()
    page = _text(session, "index.html")
    assert "<script>" not in page and "&lt;script&gt;" in page
    for path in ("history.atom", "history.rss", "en/history.atom", "en/history.rss"):
        feed = feedparser.parse(statuspage.stored(session)[path].body)
        assert not feed.bozo, (path, feed.get("bozo_exception"))
        assert any('<script>alert("x")</script> & <b>太字</b>' in e.title for e in feed.entries)
    summary = _doc(session, "api/v2/summary.json")
    assert summary["incidents"][0]["name"] == nasty  # JSON keeps the text as written


def test_maintenance_moves_through_statuspages_lists(session: Session, settings: Settings) -> None:
    components.add_component(session, "決済", name_en="Payments", actor=ACTOR)
    now = utcnow()
    window = maintenance.schedule(
        session,
        settings,
        title="決済基盤のメンテナンス",
        body="作業中は決済がご利用いただけません。",
        scheduled_start=now + dt.timedelta(hours=1),
        scheduled_end=now + dt.timedelta(hours=3),
        components=["決済"],
        actor=ACTOR,
        now=now,
    )
    session.commit()

    def names(path: str) -> list[str]:
        return [m["name"] for m in _doc(session, path)["scheduled_maintenances"]]

    assert names("api/v2/scheduled-maintenances/upcoming.json") == ["決済基盤のメンテナンス"]
    assert names("api/v2/scheduled-maintenances/active.json") == []
    (item,) = _doc(session, "api/v2/summary.json")["scheduled_maintenances"]
    assert ISO_WITH_OFFSET.match(item["scheduled_for"]) and ISO_WITH_OFFSET.match(
        item["scheduled_until"]
    )
    assert item["impact"] == "maintenance" and item["status"] == "scheduled"

    maintenance.set_status(
        session, settings, window, "in_progress", actor=ACTOR, now=now + dt.timedelta(hours=1)
    )
    session.commit()
    assert names("api/v2/scheduled-maintenances/active.json") == ["決済基盤のメンテナンス"]
    assert names("api/v2/scheduled-maintenances/upcoming.json") == []
    status = _doc(session, "api/v2/status.json")["status"]
    assert status == {"indicator": "none", "description": "Service Under Maintenance"}
    assert "メンテナンスを実施しています" in _text(session, "index.html")

    maintenance.set_status(
        session, settings, window, "completed", actor=ACTOR, now=now + dt.timedelta(hours=2)
    )
    session.commit()
    assert names("api/v2/scheduled-maintenances.json") == ["決済基盤のメンテナンス"]
    assert _doc(session, "api/v2/summary.json")["scheduled_maintenances"] == []
    completed = _doc(session, "api/v2/scheduled-maintenances.json")["scheduled_maintenances"][0]
    assert completed["status"] == "completed" and completed["resolved_at"]
    feed = feedparser.parse(statuspage.stored(session)["history.atom"].body)
    assert any(e.title == "[完了] 決済基盤のメンテナンス" for e in feed.entries)


def test_republishing_with_nothing_new_keeps_the_json_bytes(
    session: Session, settings: Settings
) -> None:
    build_world(session, settings, utcnow())
    before = {p: a.etag for p, a in statuspage.stored(session).items()}
    statuspage.publish(session, settings, now=utcnow() + dt.timedelta(minutes=11))
    session.commit()
    after = {p: a.etag for p, a in statuspage.stored(session).items()}
    for path in before:
        if path.endswith(".json") or path.endswith((".atom", ".rss")):
            assert before[path] == after[path], path
    assert before["index.html"] != after["index.html"]  # "as of" moves on


def test_english_feeds_and_page_use_english_where_written(
    session: Session, settings: Settings
) -> None:
    build_world(session, settings, utcnow())
    feed = feedparser.parse(statuspage.stored(session)["en/history.atom"].body)
    assert feed.feed.title.endswith("Status history")
    assert all(e.link.startswith("http://127.0.0.1:8000/en/#") for e in feed.entries)
    titles = [e.title for e in feed.entries]
    assert "[Identified] Sign-in failures" in titles
    assert "[Scheduled] Payments maintenance" in titles
    page = _text(session, "en/index.html")
    assert "Staff sign-in" in page and 'href="/login"' in page
    assert 'type="application/atom+xml"' in page and 'href="/en/history.atom"' in page
    assert '<span lang="ja">決済の遅延</span>' in page  # no English title: marked Japanese
    ja = _text(session, "index.html")
    assert (
        "スタッフログイン" in ja and 'href="/history.atom"' in ja and "/api/v2/summary.json" in ja
    )
    assert 'href="/?lang=en"' in ja


def test_a_first_publish_commits_nothing_before_its_transaction(
    session: Session, settings: Settings, engine: Engine
) -> None:
    statuspage.publish(session, settings)
    with engine.connect() as other:
        assert other.execute(text("SELECT count(*) FROM status_publish_state")).scalar() == 0
        assert other.execute(text("SELECT count(*) FROM status_artefacts")).scalar() == 0
    session.rollback()
    with engine.connect() as other:
        assert other.execute(text("SELECT count(*) FROM status_publish_state")).scalar() == 0
