"""Statuspage v2 JSON checked field by field, and the feeds parsed by feedparser."""

from __future__ import annotations

import datetime as dt
from typing import Any

import feedparser
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from anshin.app import create_app
from anshin.config import Settings
from anshin.db import utcnow
from status_helpers import FIRST_NOTICE, INTERNAL, UPDATE, build_world

PAGE_FIELDS = {"id": str, "name": str, "url": str, "time_zone": str, "updated_at": str}
COMPONENT_FIELDS = {
    "id": str,
    "name": str,
    "status": str,
    "created_at": str,
    "updated_at": str,
    "position": int,
    "description": (str, type(None)),
    "showcase": bool,
    "start_date": (str, type(None)),
    "group_id": (str, type(None)),
    "page_id": str,
    "group": bool,
    "only_show_if_degraded": bool,
}
INCIDENT_FIELDS = {
    "id": str,
    "name": str,
    "status": str,
    "created_at": str,
    "updated_at": str,
    "monitoring_at": (str, type(None)),
    "resolved_at": (str, type(None)),
    "impact": str,
    "shortlink": (str, type(None)),
    "started_at": str,
    "page_id": str,
    "incident_updates": list,
    "components": list,
}
UPDATE_FIELDS = {
    "id": str,
    "status": str,
    "body": str,
    "incident_id": str,
    "created_at": str,
    "updated_at": str,
    "display_at": str,
    "affected_components": (list, type(None)),
    "deliver_notifications": bool,
    "custom_tweet": (str, type(None)),
    "tweet_id": (str, type(None)),
}
COMPONENT_STATUSES = {
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
MAINTENANCE_STATUSES = {"scheduled", "in_progress", "verifying", "completed"}
IMPACTS = {"none", "minor", "major", "critical", "maintenance"}


def _check(obj: dict[str, Any], fields: dict[str, Any], where: str) -> None:
    for name, kind in fields.items():
        assert name in obj, f"{where}: missing {name}"
        assert isinstance(obj[name], kind), f"{where}.{name}: {obj[name]!r}"
    for name in ("created_at", "updated_at", "started_at", "display_at"):
        if isinstance(obj.get(name), str):
            assert dt.datetime.fromisoformat(obj[name]).tzinfo is not None, f"{where}.{name}"


@pytest.fixture
def client(session: Session, settings: Settings) -> TestClient:
    build_world(session, settings, utcnow())
    return TestClient(create_app(settings))


def test_summary_has_every_statuspage_field(client: TestClient) -> None:
    response = client.get("/api/v2/summary.json")
    assert response.headers["content-type"].startswith("application/json")
    summary = response.json()
    assert set(summary) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    _check(summary["page"], PAGE_FIELDS, "page")
    assert summary["status"]["indicator"] in {"none", "minor", "major", "critical"}
    assert summary["status"] == {"indicator": "major", "description": "Partial System Outage"}
    for component in summary["components"]:
        _check(component, COMPONENT_FIELDS, "component")
        assert component["status"] in COMPONENT_STATUSES
    groups = [c for c in summary["components"] if c["group"]]
    assert [g["name"] for g in groups] == ["基盤"]
    members = {c["id"] for c in summary["components"] if c["group_id"] == groups[0]["id"]}
    assert set(groups[0]["components"]) == members and len(members) == 2
    sign_in = next(c for c in summary["components"] if c["name"] == "ログイン")
    assert sign_in["status"] == "partial_outage"
    (incident,) = summary["incidents"]
    _check(incident, INCIDENT_FIELDS, "incident")
    assert incident["status"] == "identified" and incident["impact"] == "major"
    bodies = [u["body"] for u in incident["incident_updates"]]
    assert bodies == [UPDATE, FIRST_NOTICE], "newest first, public only"
    assert INTERNAL not in response.text
    for update in incident["incident_updates"]:
        _check(update, UPDATE_FIELDS, "incident_update")
        assert update["status"] in INCIDENT_STATUSES
        assert update["incident_id"] == incident["id"]
    (window,) = summary["scheduled_maintenances"]
    _check(window, {**INCIDENT_FIELDS, "scheduled_for": str, "scheduled_until": str}, "maint")
    assert window["status"] in MAINTENANCE_STATUSES and window["impact"] == "maintenance"


def test_each_v2_document_has_its_statuspage_shape(client: TestClient) -> None:
    status = client.get("/api/v2/status.json").json()
    assert set(status) == {"page", "status"}
    assert set(status["status"]) == {"indicator", "description"}
    components = client.get("/api/v2/components.json").json()
    assert set(components) == {"page", "components"} and len(components["components"]) == 4
    incidents = client.get("/api/v2/incidents.json").json()
    assert [i["status"] for i in incidents["incidents"]] == ["identified", "resolved"]
    for incident in incidents["incidents"]:
        assert incident["impact"] in IMPACTS
    resolved = incidents["incidents"][1]
    assert resolved["resolved_at"] is not None
    unresolved = client.get("/api/v2/incidents/unresolved.json").json()
    assert [i["name"] for i in unresolved["incidents"]] == ["ログインできない障害"]
    maintenance = client.get("/api/v2/scheduled-maintenances.json").json()
    assert len(maintenance["scheduled_maintenances"]) == 1
    upcoming = client.get("/api/v2/scheduled-maintenances/upcoming.json").json()
    assert len(upcoming["scheduled_maintenances"]) == 1
    active = client.get("/api/v2/scheduled-maintenances/active.json").json()
    assert active["scheduled_maintenances"] == []


def test_atom_feed_parses_with_entries_titles_links_dates(client: TestClient) -> None:
    response = client.get("/history.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    titles = [e.title for e in feed.entries]
    assert "[原因特定] ログインできない障害" in titles
    assert "[復旧] 決済の遅延" in titles
    assert any("メンテナンス" in t for t in titles)
    assert all(e.link.startswith("http://127.0.0.1:8000/") for e in feed.entries)
    assert all(e.updated_parsed is not None for e in feed.entries)
    contents = " ".join(e.summary for e in feed.entries)
    assert FIRST_NOTICE in contents and INTERNAL not in contents
    stamps = [e.updated_parsed for e in feed.entries]
    assert stamps == sorted(stamps, reverse=True)


def test_rss_feed_parses_in_both_languages(client: TestClient) -> None:
    ja = feedparser.parse(client.get("/history.rss").content)
    assert not ja.bozo and ja.version == "rss20"
    assert ja.feed.language == "ja"
    assert any(e.title == "[調査中] ログインできない障害" for e in ja.entries)
    assert all(e.published_parsed is not None and e.id for e in ja.entries)
    en = feedparser.parse(client.get("/en/history.rss").content)
    assert not en.bozo and en.feed.language == "en"
    assert any(e.title == "[Investigating] Sign-in failures" for e in en.entries)
