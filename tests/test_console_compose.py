"""The incident page's compose box: templates, the live message check, overrides, the clock.

R3, R6, R12-R16 the check runs as the agent types and before publishing; a
text with an error is refused with everything kept, unless a senior (R22)
gives a reason, which the timeline shows. R4 the first-notice clock. R11 the
box starts from the product's templates. SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin import events
from anshin.config import Settings
from anshin.db import make_engine
from anshin.incidents import rules
from anshin.incidents.models import Incident, IncidentUpdate
from test_console_incidents import _declare, textarea
from test_console_support import client_for, count, login, seed, text_of

GUESS = "おそらくサーバーの問題です。"


@pytest.fixture
def client(settings: Settings) -> TestClient:
    seed(settings)
    return client_for(settings)


def _fields(page: str, **changes: str) -> dict[str, str]:
    """The compose box as the page rendered it, with some fields changed."""
    data = {
        "kind": re.search(r'<option value="(\w+)" selected', page).group(1),  # type: ignore[union-attr]
        "status": "investigating",
        "body_ja": textarea(page, "body_ja"),
        "body_en": textarea(page, "body_en"),
        "audience": "public",
    }
    return {**data, **changes}


def _incident(settings: Settings) -> Incident:
    with Session(make_engine(settings.database_url), expire_on_commit=False) as session:
        incident = session.scalars(select(Incident)).one()
        _ = incident.updates
        return incident


def test_the_box_starts_from_the_kind_owed_and_switches_kind(
    client: TestClient, settings: Settings
) -> None:
    token = login(client, "operator")
    location = _declare(client, settings, token)
    page = client.get(location).text
    assert "使っているテンプレート： 第一報" in text_of(page)
    options = re.findall(r'<option value="(\w+)"', page)
    assert options == ["first_notice", "resolution"]  # no "update" before the first notice
    assert "指摘はありません。" in text_of(page)  # the template passes its own check
    fragment = client.get(f"{location}/compose?kind=resolution")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert f'action="{location}/resolve"' in fragment.text
    assert "報告書" in textarea(fragment.text, "body_ja")
    assert 'name="next_update_at"' not in fragment.text  # a resolution promises a report
    refused = client.get(f"{location}/compose?kind=update")
    assert refused.status_code == 422
    assert client.get("/console/incidents/INC-1999-0001/compose").status_code == 404
    assert client.post(
        f"{location}/updates", data={**_fields(page), "csrf_token": token}
    ).is_redirect
    after = client.get(location).text
    assert re.findall(r'<option value="(\w+)"', after) == ["update", "no_news_update", "resolution"]
    assert "使っているテンプレート： 続報" in text_of(after)
    no_news = client.get(f"{location}/compose?kind=no_news_update")
    assert "新たにお伝えできる確定した情報はございません" in textarea(no_news.text, "body_ja")
    assert "続報なしを公開" in text_of(no_news.text)


def test_the_check_runs_on_what_is_typed(client: TestClient, settings: Settings) -> None:
    token = login(client, "operator")
    location = _declare(client, settings, token)
    page = client.get(location).text
    assert 'hx-post="' + location + '/check"' in page
    assert 'hx-trigger="input changed delay:400ms"' in page
    data = _fields(page, body_ja=GUESS, body_en="Probably a server problem.")
    checked = client.post(f"{location}/check", data=data, headers={"X-CSRF-Token": token})
    assert checked.status_code == 200 and "<html" not in checked.text
    assert 'data-rule="speculation"' in checked.text
    assert "<mark>おそらく</mark>" in checked.text  # the offending words, marked
    assert "data-check-errors" in checked.text
    text = text_of(checked.text)
    assert "『おそらく』は推測です。" in text and "現在確認中です" in text  # message, suggestion
    assert "English" in text and "<mark>Probably</mark>" in checked.text
    assert "シニア以上ができます" in text  # an operator cannot override
    fixed = client.post(
        f"{location}/check",
        data=_fields(page),
        headers={"X-CSRF-Token": token},
    )
    assert "data-check-errors" not in fixed.text and "エラーはありません" in text_of(fixed.text)
    internal = client.post(
        f"{location}/check",
        data={**data, "audience": "internal"},
        headers={"X-CSRF-Token": token},
    )
    assert "チェックしません" in text_of(internal.text)
    no_token = client.post(f"{location}/check", data=data)
    assert no_token.status_code == 403
    unknown = client.post(
        "/console/incidents/INC-1999-0001/check", data=data, headers={"X-CSRF-Token": token}
    )
    assert unknown.status_code == 404


def test_an_error_finding_refuses_the_publish_and_keeps_the_text(
    client: TestClient, settings: Settings
) -> None:
    token = login(client, "operator")
    location = _declare(client, settings, token)
    page = client.get(location).text
    typed = textarea(page, "body_ja") + "\n" + GUESS
    response = client.post(
        f"{location}/updates", data={**_fields(page, body_ja=typed), "csrf_token": token}
    )
    assert response.status_code == 422
    assert textarea(response.text, "body_ja") == typed  # nothing lost
    assert 'data-rule="speculation"' in response.text
    assert 'id="override_reason"' not in response.text  # operators cannot override
    assert "伝え方チェックで、公開前に直すべき点が見つかりました。" in text_of(response.text)
    assert count(settings, IncidentUpdate) == 0

    forced = client.post(
        f"{location}/updates",
        data={**_fields(page, body_ja=typed), "override_reason": "確認済み", "csrf_token": token},
    )
    assert forced.status_code == 403
    assert "シニア以上" in text_of(forced.text)
    assert textarea(forced.text, "body_ja") == typed
    assert count(settings, IncidentUpdate) == 0

    empty = client.post(
        f"{location}/updates",
        data={**_fields(page, body_ja="  ", body_en="Kept in English."), "csrf_token": token},
    )
    assert empty.status_code == 422 and 'id="err-body_ja"' in empty.text
    assert textarea(empty.text, "body_en") == "Kept in English."
    no_csrf = client.post(f"{location}/updates", data=_fields(page))
    assert no_csrf.status_code == 403
    assert count(settings, IncidentUpdate) == 0


def test_a_senior_publishes_anyway_with_a_reason_and_the_timeline_shows_it(
    client: TestClient, settings: Settings
) -> None:
    token = login(client, "senior")
    location = _declare(client, settings, token)
    page = client.get(location).text
    assert 'id="override_reason"' in page  # present, shown by CSS once the check finds errors
    typed = textarea(page, "body_ja") + "\n" + GUESS
    refused = client.post(
        f"{location}/updates", data={**_fields(page, body_ja=typed), "csrf_token": token}
    )
    assert refused.status_code == 422 and "公開を強行する理由" in text_of(refused.text)
    reason = "障害の切り分け中の表現として、担当部署と合意済み。"
    published = client.post(
        f"{location}/updates",
        data={**_fields(page, body_ja=typed), "override_reason": reason, "csrf_token": token},
    )
    assert published.status_code == 303
    incident = _incident(settings)
    assert [u.kind for u in incident.updates] == ["first_notice"]
    with Session(make_engine(settings.database_url)) as session:
        actions = [e.action for e in events.history(session, "incident", incident.id)]
    assert "message.check_overridden" in actions
    timeline = text_of(client.get(location).text)
    assert "伝え方チェックの指摘を承知で公開" in timeline and reason in timeline
    assert "speculation" in timeline


def test_resolving_with_an_empty_notice_keeps_the_english(
    client: TestClient, settings: Settings
) -> None:
    token = login(client, "operator")
    location = _declare(client, settings, token)
    response = client.post(
        f"{location}/resolve",
        data={"body_ja": "", "body_en": "Restored.", "csrf_token": token},
    )
    assert response.status_code == 422
    assert f'action="{location}/resolve"' in response.text  # still the resolution box
    assert textarea(response.text, "body_en") == "Restored."
    assert _incident(settings).status != "resolved"


def test_the_first_notice_clock_counts_from_the_declaration(
    client: TestClient, settings: Settings
) -> None:
    token = login(client, "operator")
    location = _declare(client, settings, token)
    page = text_of(client.get(location).text)
    assert "第一報：宣言から15分以内" in page and "に公開してください。" in page
    fragment = client.get(f"{location}/first-notice")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert client.get("/console/incidents/INC-1999-0001/first-notice").status_code == 404


def test_first_notice_rule() -> None:
    declared = dt.datetime(2026, 11, 22, 5, 0, tzinfo=dt.UTC)
    before = rules.first_notice(declared_at=declared, published_at=None, delivered_at=None)
    assert before.due_at == declared + dt.timedelta(minutes=15)
    assert before.published_after_minutes is None and not before.published_late
    on_time = rules.first_notice(
        declared_at=declared,
        published_at=declared + dt.timedelta(minutes=9, seconds=10),
        delivered_at=declared + dt.timedelta(minutes=11),
    )
    assert (on_time.published_after_minutes, on_time.delivered_after_minutes) == (10, 11)
    assert not on_time.published_late and not on_time.delivered_late
    late = rules.first_notice(
        declared_at=declared,
        published_at=declared + dt.timedelta(minutes=15, seconds=20),
        delivered_at=declared + dt.timedelta(minutes=16),
        minutes=15,
    )
    assert late.published_after_minutes == 16  # rounded up: never reads as on time
    assert late.published_late and late.delivered_late
    unpublished = rules.first_notice(
        declared_at=declared, published_at=None, delivered_at=declared, minutes=30
    )
    assert unpublished.delivered_at is None and unpublished.minutes == 30


def test_compose_kinds_rule() -> None:
    assert rules.compose_kinds(status="investigating", has_public_update=False) == (
        "first_notice",
        "resolution",
    )
    assert rules.compose_kinds(status="identified", has_public_update=True) == (
        "update",
        "no_news_update",
        "resolution",
    )
    assert rules.compose_kinds(status="resolved", has_public_update=True) == ()
