"""Finding incidents (R2): the console's incident list and ``GET /api/incidents`` filter by
words (titles, summaries, every update), component, severity, status and the days declared
in the team's zone. SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from anshin.config import Settings
from anshin.incidents import components, service
from anshin.incidents.models import Component
from test_console_support import client_for, database, login, seed, text_of

TOKYO = ZoneInfo("Asia/Tokyo")


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=TOKYO).astimezone(dt.UTC)


@pytest.fixture
def refs(settings: Settings) -> dict[str, str]:
    """Four incidents over three days; one resolved, one with the word only in an update."""
    seed(settings)  # users, components ログイン and 決済
    found: dict[str, str] = {}
    with database(settings) as session:
        components.add_component(session, "API", name_en="API", actor="test")

        def declare(key: str, when: dt.datetime, **facts: object) -> None:
            data = service.IncidentInput(**facts)  # type: ignore[arg-type]
            incident = service.declare(session, settings, data, actor="test", now=when)
            found[key] = incident.reference

        declare(
            "login",
            _at(20, 10),
            title="ログインできない障害",
            title_en="Sign-in failures",
            severity="sev1",
            components=["ログイン"],
        )
        declare(
            "payment",
            _at(21, 23, 30),  # 14:30 UTC: the 21st in Tokyo, not the 22nd
            title="決済が完了しない事象",
            title_en="Card payments fail",
            severity="sev2",
            summary="決済代行会社との接続で応答が遅れています。",
            components=["決済"],
        )
        declare(
            "api",
            _at(22, 9),
            title="APIの応答が遅い",
            severity="sev3",
            components=["API"],
        )
        declare("report", _at(22, 15), title="レポート画面の表示遅延", severity="sev3")
        session.flush()
        login_incident = service.get(session, found["login"])
        service.publish_update(
            session,
            settings,
            login_incident,
            body_ja=(
                "認証サーバーのフェイルオーバーを実施しております。ご不便をおかけし申し訳"
                "ございません。次回は30分以内にお知らせいたします。"
            ),
            actor="test",
            now=_at(20, 10, 10),
        )
        service.resolve(
            session,
            settings,
            service.get(session, found["report"]),
            body_ja=(
                "レポート画面の表示遅延は復旧いたしました。ご迷惑をおかけし誠に申し訳"
                "ございませんでした。原因と再発防止策は、報告書としてお知らせいたします。"
            ),
            actor="test",
            now=_at(22, 16),
        )
        session.commit()
    return found


def _refs(page: str) -> list[str]:
    return re.findall(r'<td class="ref">(INC-\d{4}-\d{4})</td>', page)


def test_the_console_lists_and_filters_every_incident(
    settings: Settings, refs: dict[str, str]
) -> None:
    client = client_for(settings)
    login(client, "operator")
    assert 'href="/console/incidents"' in client.get("/console").text  # from the dashboard
    everything = client.get("/console/incidents")
    assert everything.status_code == 200
    assert _refs(everything.text) == [refs["report"], refs["api"], refs["payment"], refs["login"]]
    assert "4件のインシデントが該当します" in text_of(everything.text)

    def found(query: str) -> list[str]:
        response = client.get(f"/console/incidents?{query}")
        assert response.status_code == 200, text_of(response.text)
        return _refs(response.text)

    assert found("q=決済") == [refs["payment"]]  # title
    assert found("q=代行会社") == [refs["payment"]]  # summary
    assert found("q=フェイルオーバー") == [refs["login"]]  # only in an update's text
    assert found("q=sign-in") == [refs["login"]]  # English title, any case
    assert found("q=ＡＰＩ") == [refs["api"]]  # NFKC: full-width letters
    assert found("q=ログイン+障害") == [refs["login"]]  # every word must match
    assert found("q=ログイン+決済") == []
    assert found("q=%25") == []  # a literal percent sign matches nothing here
    assert found(f"q={refs['api'].lower()}") == [refs["api"]]
    with database(settings) as session:
        payment_id = session.query(Component.id).filter(Component.name == "決済").scalar()
    assert found(f"component={payment_id}") == [refs["payment"]]
    assert found("severity=sev3") == [refs["report"], refs["api"]]
    assert found("status=open") == [refs["api"], refs["payment"], refs["login"]]
    assert found("status=resolved") == [refs["report"]]
    assert found("status=identified") == []
    assert found("since=2026-11-22") == [refs["report"], refs["api"]]
    assert found("until=2026-11-21") == [refs["payment"], refs["login"]]  # 23:30 JST is the 21st
    assert found("since=2026-11-21&until=2026-11-21") == [refs["payment"]]
    assert found("severity=sev3&status=open&since=2026-11-22") == [refs["api"]]
    assert "該当するインシデントはありません" in text_of(
        client.get("/console/incidents?q=なし").text
    )

    bad_day = client.get("/console/incidents?since=2026-13-01&q=決済")
    assert bad_day.status_code == 422
    assert "2026-11-22 のように日付を入力してください" in text_of(bad_day.text)
    assert 'value="決済"' in bad_day.text and 'value="2026-13-01"' in bad_day.text  # kept
    backwards = client.get("/console/incidents?since=2026-11-22&until=2026-11-20")
    assert backwards.status_code == 422 and "開始日は終了日より後" in text_of(backwards.text)
    assert client.get("/console/incidents?severity=sev9").status_code == 422
    assert client.get("/console/incidents?component=999").status_code == 422
    english = text_of(client.get("/console/incidents?lang=en&q=card").text)
    assert "Card payments fail" in english and "1 incidents match." in english


def test_the_api_takes_the_same_filters(settings: Settings, refs: dict[str, str]) -> None:
    api = client_for(settings)
    login(api, "operator")

    def found(query: str) -> list[str]:
        response = api.get(f"/api/incidents?{query}")
        assert response.status_code == 200, response.text
        return [i["reference"] for i in response.json()["incidents"]]

    assert found("q=フェイルオーバー") == [refs["login"]]
    assert found("component=決済") == [refs["payment"]]  # by name
    assert found("severity=sev1") == [refs["login"]]
    assert found("status=open&since=2026-11-22") == [refs["api"]]
    assert found("until=2026-11-21") == [refs["payment"], refs["login"]]
    page = api.get("/api/incidents?limit=2&offset=2").json()
    assert page["total"] == 4 and [i["reference"] for i in page["incidents"]] == [
        refs["payment"],
        refs["login"],
    ]
    for query, field in (
        ("since=yesterday", "since"),
        ("severity=sev9", "severity"),
        ("component=存在しない", "component"),
        ("since=2026-11-22&until=2026-11-01", "since"),
        ("offset=-1", "offset"),
        ("q=" + "x" * 201, "q"),
    ):
        refused = api.get(f"/api/incidents?{query}", headers={"Accept-Language": "en"})
        assert refused.status_code == 422, query
        body = refused.json()["error"]
        assert body.get("field") == field or any(d["field"] == field for d in body["details"])
