"""``next-update-mismatch``: the time a text promises is the next update it is published with.

A notice saying 「次回は13:45までに」 published with ``next_update_at`` 14:04
showed both times, and the dashboard counted to the later one (R3, R5).
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from anshin.app import create_app
from anshin.comms.lint import IncidentFacts, check
from anshin.comms.lint.display import rule_name
from anshin.comms.lint.lexicon import load
from anshin.comms.lint.promise import promised_times
from anshin.comms.lint.segment import prepare
from anshin.config import Settings
from anshin.i18n import translate
from anshin.incidents import notices, service
from anshin.incidents.models import IncidentUpdate
from anshin.team import service as team_service
from notice_texts import notice_en, notice_ja
from notice_world import ACTOR, World, build, count

JST = dt.timezone(dt.timedelta(hours=9))
AT_1345 = dt.datetime(2026, 12, 6, 13, 45, tzinfo=JST)
AT_1404 = dt.datetime(2026, 12, 6, 14, 4, tzinfo=JST)
RULE = "next-update-mismatch"


def promised(text: str, locale: str) -> list[str]:
    """The promised clock times of ``text`` as HH:MM."""
    return [p.label for p in promised_times(prepare(text, locale), load(locale))]


def mismatches(text: str, locale: str, at: dt.datetime, kind: str = "update") -> list[str]:
    """The words each ``next-update-mismatch`` finding underlines."""
    facts = IncidentFacts(next_update_at=at, timezone="Asia/Tokyo")
    found = check(text, kind=kind, locale=locale, facts=facts)
    return [text[f.start : f.end] for f in found if f.rule == RULE]


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("次回は13:45までにお知らせいたします。", "ja", ["13:45"]),
        ("次回は１３：４５までにお知らせいたします。", "ja", ["13:45"]),
        ("13時45分頃に改めてご連絡いたします。", "ja", ["13:45"]),
        ("午後1時45分までに続報をお知らせします。", "ja", ["13:45"]),
        ("13時半までに次回の更新を掲載します。", "ja", ["13:30"]),
        ("We will post the next update by 13:45.", "en", ["13:45"]),
        ("Next update at 1:45 pm.", "en", ["13:45"]),
        ("We will update you by 1:45 p.m. JST.", "en", ["13:45"]),
        # when it started, and when recovery is expected, are not promises of contact
        ("14:05頃から発生しております。次回は30分後までにお知らせします。", "ja", []),
        ("復旧は15:00頃の見込みです。", "ja", []),
        ("復旧は15:00頃の見込みで、次回は14:04までにお知らせします。", "ja", ["14:04"]),
        ("Since 12:05 some users see errors. We will update you within 30 minutes.", "en", []),
        (
            "We expect to restore service by 15:00 and will post an update by 14:04.",
            "en",
            ["14:04"],
        ),
        # a time in a sentence that does not speak of contacting the customer
        ("メンテナンスは13:00までに終了しました。", "ja", []),
    ],
)
def test_the_promised_time_is_read_from_japanese_and_english(
    text: str, locale: str, expected: list[str]
) -> None:
    assert promised(text, locale) == expected


def test_a_time_that_differs_from_next_update_at_is_an_error_with_the_fix() -> None:
    text = notice_ja("決済に時間がかかっております。", next_at="13:45")
    facts = IncidentFacts(next_update_at=AT_1404)
    found = [f for f in check(text, kind="update", locale="ja", facts=facts) if f.rule == RULE]
    assert len(found) == 1
    finding = found[0]
    assert finding.severity == "error"
    assert text[finding.start : finding.end] == "13:45"
    assert "13:45" in finding.message and "14:04" in finding.message
    # the suggestion takes the time from the text
    assert "次回更新時刻を13:45に" in finding.suggestion


def test_the_english_message_names_both_times() -> None:
    text = notice_en("Payments are slow.", next_at="13:45")
    facts = IncidentFacts(next_update_at=AT_1404)
    found = [f for f in check(text, kind="update", locale="en", facts=facts) if f.rule == RULE]
    assert [f.message for f in found] == [
        "The text promises the next update at 13:45, but the next update time is set to 14:04."
    ]
    assert "set the next update time to 13:45" in found[0].suggestion


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_agreeing_times_and_texts_without_a_clock_time_pass(locale: str) -> None:
    make = notice_ja if locale == "ja" else notice_en
    assert mismatches(make("x", next_at="13:45"), locale, AT_1345) == []
    # 「30分後までに」 names no clock time: missing-next-update is satisfied, nothing to compare
    assert mismatches(make("x"), locale, AT_1404) == []
    # the time is read in the team's zone: 04:45 UTC is 13:45 in Tokyo
    assert mismatches(make("x", next_at="13:45"), locale, AT_1345.astimezone(dt.UTC)) == []


def test_twelve_hour_times_without_am_or_pm_match_either_half_of_the_day() -> None:
    text = "We will post the next update by 1:45. We are sorry."
    assert mismatches(text, "en", AT_1345) == []
    assert mismatches(text, "en", AT_1404) == ["1:45"]


def test_the_rule_runs_only_with_a_next_update_and_on_kinds_that_promise_one() -> None:
    text = notice_ja("x", next_at="13:45")
    assert RULE not in {f.rule for f in check(text, kind="update", locale="ja")}
    assert mismatches(text, "ja", AT_1404, kind="inquiry_reply") == []


def test_the_rule_is_named_in_both_languages() -> None:
    assert translate("ja", rule_name(RULE)) == "次回更新時刻が本文と違う"
    assert translate("en", rule_name(RULE)) == "Next update time differs from the text"


def test_the_lint_api_takes_the_next_update_from_the_facts(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session:
        user = team_service.create_user(
            session, email="op@example.com", name="op", role="operator", password="long enough"
        )
        raw, _ = team_service.create_token(session, user=user, name="editor", actor="test")
        session.commit()
    client = TestClient(create_app(settings), headers={"Authorization": f"Bearer {raw}"})
    body = {
        "text": notice_ja("x", next_at="13:45"),
        "kind": "update",
        "locale": "ja",
        "facts": {"next_update_at": "2026-12-06T14:04:00+09:00"},
    }
    answer = client.post("/api/lint", json=body).json()
    assert answer["has_errors"] is True
    assert RULE in {f["rule"] for f in answer["findings"]}
    body["facts"] = {"next_update_at": "2026-12-06T13:45:00+09:00"}
    answer = client.post("/api/lint", json=body).json()
    assert RULE not in {f["rule"] for f in answer["findings"]}


@pytest.fixture
def world(session: Session, settings: Settings) -> World:
    """The world, its webhook pointing at the discard port: nothing is sent here."""
    return build(session, settings, "http://127.0.0.1:9/hook")


def test_publishing_a_text_whose_time_differs_is_refused_with_a_clear_message(
    session: Session, settings: Settings, world: World
) -> None:
    """The reported case: 「次回は13:45までに」 with next_update_at 14:04 is not published."""
    now = dt.datetime(2026, 12, 6, 13, 4, tzinfo=JST).astimezone(dt.UTC)
    text = notice_ja("ログインできない状態が続いております。", next_at="13:45")
    with pytest.raises(notices.MessageCheckFailed) as refused:
        service.publish_update(
            session,
            settings,
            world.incident,
            body_ja=text,
            next_update_at=AT_1404,
            actor=ACTOR,
            now=now,
        )
    errors = [f for f in refused.value.findings["ja"] if f.severity == "error"]
    assert [f.rule for f in errors] == [RULE]
    assert errors[0].message == (
        "本文は次回の連絡を13:45と約束していますが、次回更新時刻は14:04に設定されています。"
    )
    assert count(session, IncidentUpdate) == 0
    session.rollback()
    # With the time taken from the text, the same notice goes out and keeps 13:45.
    update = service.publish_update(
        session,
        settings,
        world.incident,
        body_ja=text,
        next_update_at=AT_1345,
        actor=ACTOR,
        now=now,
    )
    assert update.next_update_at == AT_1345


def test_the_promised_time_becomes_the_next_such_moment() -> None:
    from anshin.comms.lint.promise import text_next_update

    now = dt.datetime(2026, 12, 6, 13, 4, tzinfo=JST)
    ja, en = load("ja"), load("en")
    assert text_next_update("次回は13:45までにお知らせします。", ja, now, "Asia/Tokyo") == AT_1345
    assert text_next_update("Next update at 1:45 pm.", en, now, "Asia/Tokyo") == AT_1345
    # 「9:00」 is the 24-hour clock and already past today: tomorrow morning.
    tomorrow = text_next_update("次回は9:00までにお知らせします。", ja, now, "Asia/Tokyo")
    assert tomorrow == dt.datetime(2026, 12, 7, 9, 0, tzinfo=JST)
    assert text_next_update("現在確認中です。", ja, now, "Asia/Tokyo") is None


def test_the_compose_box_offers_the_time_from_the_text(
    session: Session, settings: Settings
) -> None:
    from test_console_support import client_for, login, seed

    seed(settings)
    client = client_for(settings)
    token = login(client, "operator")
    incident = service.declare(
        session,
        settings,
        service.IncidentInput(
            title="ログインできない障害", severity="sev2", components=["ログイン"]
        ),
        actor=ACTOR,
    )
    session.commit()
    base = f"/console/incidents/{incident.reference}"
    later = (dt.datetime.now(JST) + dt.timedelta(minutes=50)).replace(second=0, microsecond=0)
    sooner = later - dt.timedelta(minutes=20)
    text = notice_ja("ログインできません。", next_at=f"{sooner:%H:%M}")
    form = {
        "kind": "first_notice",
        "status": "investigating",
        "audience": "public",
        "body_ja": text,
        "next_update_at": f"{later:%Y-%m-%dT%H:%M}",
    }
    headers = {"X-CSRF-Token": token, "HX-Request": "true"}
    checked = client.post(f"{base}/check", data=form, headers=headers)
    assert checked.status_code == 200
    assert 'data-rule="next-update-mismatch"' in checked.text or RULE in checked.text
    assert "本文の時刻を次回の続報期限にする" in checked.text
    taken = client.post(f"{base}/take-time", data=form, headers=headers)
    assert taken.status_code == 200, taken.text
    assert f'value="{sooner:%Y-%m-%dT%H:%M}"' in taken.text
    assert "本文の時刻を次回の続報期限にする" not in taken.text  # they agree now
