"""Declaring, publishing and resolving incidents from the console (R1-R7), SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import make_engine
from anshin.incidents import service
from anshin.incidents.models import Component, Incident, IncidentUpdate
from test_console_support import client_for, count, login, seed, text_of

DECLARE = {
    "title": "ログインできない障害",
    "title_en": "Cannot sign in",
    "severity": "sev1",
    "summary": "ログイン画面でエラーが表示されます。",
    "component_impact": "",
    "started_at": "2026-11-22T13:50",
    "detected_at": "2026-11-22T14:05",
    "estimated_affected_customers": "1,200",
    "estimated_recovery_at": "",
    "cause": "認証サーバーの応答遅延",
    "workaround": "スマートフォンアプリからはログインできます。",
    "internal_notes": "DB フェイルオーバーを検討中",
}


@pytest.fixture
def client(settings: Settings) -> TestClient:
    seed(settings)
    return client_for(settings)


def _db(settings: Settings) -> Session:
    return Session(make_engine(settings.database_url), expire_on_commit=False)


def _component_ids(settings: Settings) -> dict[str, int]:
    with _db(settings) as session:
        return {c.name: c.id for c in session.scalars(select(Component))}


def _declare(client: TestClient, settings: Settings, token: str, **changes: str) -> str:
    data: dict[str, object] = {**DECLARE, **changes, "csrf_token": token}
    data["components"] = [str(_component_ids(settings)["ログイン"])]
    response = client.post("/console/incidents/new", data=data)
    assert response.status_code == 303, text_of(response.text)
    return response.headers["location"]


def textarea(page: str, name: str) -> str:
    """What a textarea of the page holds (unescaped)."""
    found = re.search(rf'<textarea[^>]* id="{name}"[^>]*>([^<]*)</textarea>', page)
    assert found is not None, f"no textarea {name}"
    return html.unescape(found.group(1))


def _incident(settings: Settings) -> Incident:
    with _db(settings) as session:
        incident = session.scalars(select(Incident)).one()
        _ = incident.updates, [ic.component for ic in incident.components]
        return incident


def test_operator_declares_with_times_in_the_team_zone(
    client: TestClient, settings: Settings
) -> None:
    token = login(client, "operator")
    page = client.get("/console/incidents/new")
    assert page.status_code == 200
    assert "ログイン" in page.text and "決済" in page.text  # component checkboxes
    assert "30分以内ごとに続報します。" in page.text  # sev1 cadence explained
    location = _declare(client, settings, token)
    assert re.fullmatch(r"/console/incidents/INC-\d{4}-0001", location)
    incident = _incident(settings)
    assert incident.title == "ログインできない障害"
    assert incident.severity == "sev1"
    # 13:50 in Asia/Tokyo is 04:50 UTC.
    assert incident.started_at == dt.datetime(2026, 11, 22, 4, 50, tzinfo=dt.UTC)
    assert incident.detected_at == dt.datetime(2026, 11, 22, 5, 5, tzinfo=dt.UTC)
    assert incident.estimated_affected_customers == 1200
    assert incident.estimated_recovery_at is None and not incident.recovery_confirmed
    assert incident.cause_confirmed is False
    assert [ic.component.name for ic in incident.components] == ["ログイン"]
    detail = client.get(location)
    assert detail.status_code == 200
    text = text_of(detail.text)
    assert "インシデント" in text and "第一報を公開" in text
    assert "2026/11/22 13:50 (JST)" in text  # shown back in the team's zone
    assert "DB フェイルオーバーを検討中" in text  # internal notes are in the record


def test_bad_input_keeps_every_value_and_marks_each_field(
    client: TestClient, settings: Settings
) -> None:
    token = login(client, "operator")
    data = {
        **DECLARE,
        "title": "",
        "severity": "",
        "estimated_affected_customers": "たくさん",
        "started_at": "yesterday",
        "recovery_confirmed": "1",
        "csrf_token": token,
        "components": [str(_component_ids(settings)["決済"])],
    }
    response = client.post("/console/incidents/new", data=data)
    assert response.status_code == 422
    page = response.text
    for kept in (
        DECLARE["title_en"],
        DECLARE["summary"],
        DECLARE["cause"],
        "たくさん",
        "yesterday",
    ):
        assert kept in page
    assert re.search(r'value="\d+" checked', page)  # the ticked component stays ticked
    errors = dict(re.findall(r'<p class="error" id="err-([a-z_]+)">([^<]+)</p>', page))
    assert errors["title"] == "必須項目です。"
    assert errors["severity"] == "重大度を選んでください。"
    assert errors["estimated_affected_customers"] == "整数で入力してください。"
    assert errors["started_at"] == "日時を入力してください。"
    assert "estimated_recovery_at" in errors  # confirmed without a time
    assert count(settings, Incident) == 0


def test_service_refusal_is_shown_at_its_field(client: TestClient, settings: Settings) -> None:
    token = login(client, "operator")
    data = {**DECLARE, "detected_at": "2026-11-22T13:00", "csrf_token": token}
    response = client.post("/console/incidents/new", data=data)
    assert response.status_code == 422
    assert 'id="err-detected_at"' in response.text
    assert "検知日時" in response.text or "detected" in response.text
    assert count(settings, Incident) == 0


def test_missing_csrf_writes_nothing(client: TestClient, settings: Settings) -> None:
    login(client, "operator")
    response = client.post("/console/incidents/new", data=DECLARE)
    assert response.status_code == 403
    assert "フォームの有効期限が切れました" in response.text
    assert count(settings, Incident) == 0
    wrong = client.post("/console/incidents/new", data={**DECLARE, "csrf_token": "forged"})
    assert wrong.status_code == 403
    assert count(settings, Incident) == 0


def test_anonymous_post_is_sent_to_login_and_writes_nothing(
    client: TestClient, settings: Settings
) -> None:
    response = client.post("/console/incidents/new", data=DECLARE)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert count(settings, Incident) == 0


def test_first_notice_update_no_news_and_resolve(client: TestClient, settings: Settings) -> None:
    token = login(client, "operator")
    location = _declare(client, settings, token)
    detail = client.get(location).text
    # The first notice starts from its template with the record's facts (R3, R4, R11).
    draft = textarea(detail, "body_ja")
    assert "ログインがご利用いただけない状態となっております" in draft
    assert "申し訳ございません" in draft
    assert "現在確認中" in draft  # the cause and recovery are not confirmed yet
    assert "認証サーバー" not in draft  # an unconfirmed cause is never stated
    assert "次回は" in draft
    draft_en = textarea(detail, "body_en")
    assert "Login" in draft_en and "We will post the next update" in draft_en
    next_at = re.search(
        r'id="next_update_at" name="next_update_at" type="datetime-local" value="([^"]+)"', detail
    )
    assert next_at is not None
    reference = location.rsplit("/", 1)[1]
    first = client.post(
        f"{location}/updates",
        data={
            "status": "investigating",
            "body_ja": draft,
            "body_en": draft_en,
            "next_update_at": next_at.group(1),
            "audience": "public",
            "csrf_token": token,
        },
    )
    assert first.status_code == 303
    after_first = client.get(location).text
    assert "第一報を公開しました。" in after_first
    assert "続報を公開" in after_first  # the form is now for updates
    # An internal note does not count as telling customers.
    note = client.post(
        f"{location}/updates",
        data={
            "status": "identified",
            "body_ja": "社内: 認証DBの切り替え中",
            "audience": "internal",
            "csrf_token": token,
        },
    )
    assert note.status_code == 303
    no_news = client.post(f"{location}/no-news", data={"csrf_token": token, "confirm": "yes"})
    assert no_news.status_code == 303
    resolution = client.get(f"{location}?kind=resolution").text
    resolved = client.post(
        f"{location}/resolve",
        data={
            "body_ja": textarea(resolution, "body_ja"),
            "body_en": "",
            "csrf_token": token,
            "confirm": "yes",
        },
    )
    assert resolved.status_code == 303
    incident = _incident(settings)
    assert incident.reference == reference
    assert incident.status == "resolved"
    kinds = [(u.kind, u.audience) for u in incident.updates]
    assert kinds == [
        ("first_notice", "public"),
        ("update", "internal"),
        ("no_news_update", "public"),
        ("resolution", "public"),
    ]
    no_news_update = incident.updates[2]
    assert "引き続き" in no_news_update.body_ja and no_news_update.body_en
    assert "新たにお伝えできる確定した情報はございません" in no_news_update.body_ja  # template
    assert no_news_update.next_update_at is not None
    with _db(settings) as session:
        login_component = session.scalars(
            select(Component).where(Component.name == "ログイン")
        ).one()
        assert login_component.status == "operational"
    final = text_of(client.get(location).text)
    assert "社内のみ" in final and "復旧報告" in final
    assert "第一報を公開" in final  # event log entry
    assert "解決にして復旧報告を公開" not in final  # no resolve form once resolved


def test_resolve_form_is_prefilled_with_a_report_promise(
    client: TestClient, settings: Settings
) -> None:
    token = login(client, "operator")
    location = _declare(client, settings, token)
    detail = client.get(f"{location}?kind=resolution").text
    body = textarea(detail, "body_ja")
    assert "復旧いたしました" in body
    assert "再発防止策" in body and "報告書" in body
    assert f'action="{location}/resolve"' in detail  # the box publishes the resolution
    assert "解決にして復旧報告を公開" in text_of(detail)


def test_an_update_promising_later_than_the_cadence_is_refused_and_kept(
    client: TestClient, settings: Settings
) -> None:
    token = login(client, "operator")
    location = _declare(client, settings, token)
    too_late = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=5)).astimezone(
        dt.timezone(dt.timedelta(hours=9))
    )
    response = client.post(
        f"{location}/updates",
        data={
            "status": "identified",
            "body_ja": "原因を特定しました。",
            "next_update_at": f"{too_late:%Y-%m-%dT%H:%M}",
            "audience": "public",
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    assert "原因を特定しました。" in response.text
    assert 'id="err-next_update_at"' in response.text
    assert count(settings, IncidentUpdate) == 0
    empty = client.post(
        f"{location}/updates",
        data={"status": "identified", "body_ja": "  ", "audience": "public", "csrf_token": token},
    )
    assert empty.status_code == 422 and 'id="err-body_ja"' in empty.text
    assert count(settings, IncidentUpdate) == 0


def test_edit_the_facts_of_the_record(client: TestClient, settings: Settings) -> None:
    token = login(client, "operator")
    location = _declare(client, settings, token)
    form = client.get(f"{location}/edit")
    assert form.status_code == 200 and "認証サーバーの応答遅延" in form.text
    ids = _component_ids(settings)
    response = client.post(
        f"{location}/edit",
        data={
            **DECLARE,
            "severity": "sev2",
            "cause_confirmed": "1",
            "estimated_affected_customers": "",
            "components": [str(ids["ログイン"]), str(ids["決済"])],
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    incident = _incident(settings)
    assert incident.severity == "sev2" and incident.cause_confirmed
    assert incident.estimated_affected_customers is None
    assert sorted(ic.component.name for ic in incident.components) == ["ログイン", "決済"]
    page = text_of(client.get(location).text)
    assert "記録を編集" in page and "不明" in page


def test_dashboard_shows_due_and_overdue_timers(client: TestClient, settings: Settings) -> None:
    now = dt.datetime.now(dt.UTC)
    with _db(settings) as session:
        late = service.declare(
            session,
            settings,
            service.IncidentInput(title="決済エラー", severity="sev2", components=["決済"]),
            actor="test",
            now=now - dt.timedelta(minutes=20),
        )
        fresh = service.declare(
            session,
            settings,
            service.IncidentInput(
                title="表示が遅い", severity="sev3", estimated_affected_customers=40
            ),
            actor="test",
            now=now - dt.timedelta(minutes=2),
        )
        session.commit()
        late_ref, fresh_ref = late.reference, fresh.reference
    login(client, "operator")
    page = client.get("/console").text
    assert 'hx-get="/console/partials/open-incidents"' in page and 'hx-trigger="every 30s"' in page
    rows = re.findall(r"<tr data-due-row( class=\"overdue\")?>(.*?)</tr>", page, flags=re.S)
    assert len(rows) == 2
    # Most urgent first: the overdue first notice, then the one still due.
    assert late_ref in rows[0][1] and rows[0][0]
    assert fresh_ref in rows[1][1] and not rows[1][0]
    assert "超過" in text_of(rows[0][1]) and "残り" in text_of(rows[1][1])
    assert "data-due=" in rows[1][1] and "第一報の期限" in text_of(rows[1][1])
    partial = client.get("/console/partials/open-incidents")
    assert partial.status_code == 200
    assert partial.text.lstrip().startswith('<div id="open-incidents"')
    assert late_ref in partial.text and "<html" not in partial.text


def test_pages_in_english(client: TestClient, settings: Settings) -> None:
    token = login(client, "operator")
    location = _declare(client, settings, token)
    page = client.get(location + "?lang=en")
    assert '<html lang="en">' in page.text
    text = text_of(page.text)
    assert "Publish the first notice" in text and "Timeline" in text
    assert "2026-11-22 13:50 JST" in text
    # The English first notice starts from the English template.
    assert "Our team is working to find the cause" in textarea(page.text, "body_en")


def test_unknown_incident_is_a_localized_404(client: TestClient) -> None:
    login(client, "operator")
    response = client.get("/console/incidents/INC-1999-0001")
    assert response.status_code == 404
    assert "INC-1999-0001" in response.text


def test_a_resolved_incident_takes_no_more_updates(client: TestClient, settings: Settings) -> None:
    token = login(client, "operator")
    location = _declare(client, settings, token)
    resolution = textarea(client.get(f"{location}?kind=resolution").text, "body_ja")
    done = client.post(
        f"{location}/resolve", data={"body_ja": resolution, "csrf_token": token, "confirm": "yes"}
    )
    assert done.status_code == 303
    late = client.post(
        f"{location}/updates",
        data={"status": "monitoring", "body_ja": "追記", "audience": "public", "csrf_token": token},
    )
    assert late.status_code == 409
    assert "すでに" in late.text or "既に" in late.text
    again = client.post(f"{location}/no-news", data={"csrf_token": token})
    assert again.status_code == 409
    assert count(settings, IncidentUpdate) == 1
