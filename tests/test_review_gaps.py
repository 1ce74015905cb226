"""The gap analysis: what customers asked against what the public updates told (R30).

The pure rules are checked on plain facts; the reading from stored rows and
events on the hand-built incident of ``review_world.world`` (SQLite and
PostgreSQL), whose gaps are worked out in its docstring and below, in Japan
time (the team's zone).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from anshin.cli import app
from anshin.config import Settings
from anshin.errors import NotFound
from anshin.events import Event
from anshin.incidents.models import IncidentUpdate
from anshin.review import gaps
from anshin.review.gap_rules import (
    Asked,
    GapKind,
    Told,
    find_gaps,
    period_start,
    periods,
    unanswered,
)
from anshin.review.gap_rules import Need as N
from inquiry_world import incident, inquiry
from review_world import at, edit, world


def told(update_id: int, when: str, **facts: object) -> Told:
    values: dict[str, object] = {
        "resolved": False,
        "recovery_at": None,
        "workaround": False,
        "cause": False,
    }
    values.update(facts)
    return Told(update_id, at(when), **values)  # type: ignore[arg-type]


# --- pure rules -------------------------------------------------------------------------


def test_periods_are_on_the_hour_and_half_hour() -> None:
    assert period_start(at("10:29")) == at("10:00")
    assert period_start(at("10:30")) == at("10:30")
    assert period_start(at("23:59")) == at("23:30")


def test_what_answers_each_need() -> None:
    plain = told(1, "10:05")
    estimate = told(2, "10:05", recovery_at=at("12:00"), workaround=True)
    done = told(3, "12:00", resolved=True)
    assert unanswered(N.ESTIMATE, None, at("10:00")) is GapKind.NO_ESTIMATE
    assert unanswered(N.ESTIMATE, plain, at("10:10")) is GapKind.NO_ESTIMATE
    assert unanswered(N.ESTIMATE, estimate, at("12:00")) is None  # exactly at the estimate
    assert unanswered(N.ESTIMATE, estimate, at("12:01")) is GapKind.ESTIMATE_PASSED
    assert unanswered(N.ESTIMATE, done, at("12:30")) is None
    assert unanswered(N.WORKAROUND, estimate, at("10:10")) is None
    assert unanswered(N.WORKAROUND, done, at("12:30")) is None  # recovered: no longer needed
    assert unanswered(N.CAUSE, done, at("12:30")) is GapKind.NO_CAUSE  # recovery is not a cause
    assert unanswered(N.CAUSE, told(4, "12:00", cause=True), at("12:30")) is None


def test_gaps_merge_consecutive_periods_and_name_what_was_read() -> None:
    updates = [told(1, "10:05"), told(2, "11:25", recovery_at=at("12:00"))]
    asked = [
        Asked("Q-1", at("10:02"), "status_inquiry"),  # nothing published yet
        Asked("Q-2", at("10:05"), "status_inquiry"),  # reads update 1 (published that minute)
        Asked("Q-3", at("10:40"), "status_inquiry"),
        Asked("Q-4", at("11:40"), "status_inquiry"),  # estimate 12:00 still ahead
        Asked("Q-5", at("12:10"), "status_inquiry"),  # estimate passed
        Asked("Q-6", at("10:50"), "complaint"),  # no content of an update answers it
        Asked("Q-7", at("11:10"), "technical_question"),
        Asked("Q-8", at("12:20"), "technical_question"),  # 11:30 empty: a new run
    ]
    found = find_gaps(asked, updates)
    assert [(g.kind, g.start, g.end, g.inquiries, g.updates) for g in found] == [
        (GapKind.NO_ESTIMATE, at("10:00"), at("11:00"), ("Q-1", "Q-2", "Q-3"), (1,)),
        (GapKind.NO_CAUSE, at("11:00"), at("11:30"), ("Q-7",), (1,)),
        (GapKind.ESTIMATE_PASSED, at("12:00"), at("12:30"), ("Q-5",), (2,)),
        (GapKind.NO_CAUSE, at("12:00"), at("12:30"), ("Q-8",), (2,)),
    ]
    table = periods(asked, updates)
    assert [p.start for p in table] == [
        at("10:00"),
        at("10:30"),
        at("11:00"),
        at("11:30"),
        at("12:00"),
    ]
    assert table[1].intents["complaint"] == 1 and table[1].intents["status_inquiry"] == 1
    assert (table[3].update_id, table[3].estimate) == (2, True)
    assert (table[4].update_id, table[4].estimate) == (2, False)  # 12:00 passed in the period


def test_gaps_of_a_stored_incident(session: Session, settings: Settings) -> None:
    on, ups = world(session, settings)
    result = gaps.analyse(session, on.reference)
    first, second = ups["first"].id, ups["second"].id
    assert [(t.update_id, t.recovery_at, t.workaround, t.cause) for t in result.told] == [
        (first, None, False, False),
        (second, at("12:00"), True, False),  # the 11:20 edit, written before the update
        (ups["resolution"].id, at("12:00"), True, True),
    ]
    assert [(g.kind, g.start, g.end, g.count, g.updates) for g in result.gaps] == [
        (GapKind.NO_ESTIMATE, at("10:00"), at("11:30"), 4, (first,)),
        (GapKind.NO_WORKAROUND, at("10:00"), at("10:30"), 1, (first,)),
        (GapKind.NO_CAUSE, at("11:30"), at("12:00"), 1, (second,)),
        (GapKind.ESTIMATE_PASSED, at("12:00"), at("12:30"), 1, (second,)),
    ]
    zone = settings.timezone
    day = gaps.first_day(on, zone)
    words = [gaps.describe(g, "en", zone, day) for g in result.gaps]
    assert words[0] == (
        "10:00–11:30: 4 status inquiries asked when it would be back "
        "while no update gave an estimate"
    )
    assert words[1] == "10:00–10:30: 1 customer asked for a workaround while no update gave one"
    ja = gaps.describe(result.gaps[0], "ja", zone, day)
    assert ja.startswith("10:00–11:30：状況のお問い合わせ4件") and "復旧見込み" in ja
    out = gaps.as_json(result, "en", zone)
    assert out["gaps"][0]["inquiries"][0].startswith("Q-") and len(out["gaps"][0]["inquiries"]) == 4
    assert out["gaps"][0]["start"] == "2026-12-01T10:00:00+09:00"
    with pytest.raises(NotFound):
        gaps.analyse(session, "INC-1999-9999")


def test_without_publication_events_the_time_decides(session: Session, settings: Settings) -> None:
    """History stored without an update's own event: the last snapshot by its time applies."""
    on = incident(session, settings)
    on.started_at = on.detected_at = on.declared_at = at("10:00")
    edit(session, on, "10:20", estimated_recovery_at=at("13:00"))
    update = IncidentUpdate(
        incident_id=on.id,
        kind="update",
        status="investigating",
        body_ja="調査中です。",
        audience="public",
        published_at=at("10:30"),
        author="test",
    )
    session.add(update)
    edit(session, on, "10:40", estimated_recovery_at=None)  # after the update: not told by it
    inquiry(session, settings, on, now=at("10:50"))
    session.commit()
    result = gaps.analyse(session, on.reference)
    assert [t.recovery_at for t in result.told] == [at("13:00")]
    assert result.gaps == []


def test_an_override_naming_the_resolution_is_not_its_publication() -> None:
    """The check override of a resolution names its update before the resolution's snapshot;
    what the resolution told is the snapshot of its own ``incident.resolved`` event."""
    base = {"estimated_recovery_at": None, "workaround": None, "cause": None}
    history = [
        Event(
            id=1,
            at=at("10:00"),
            action="incident.declared",
            after={**base, "cause_confirmed": False},
        ),
        Event(id=2, at=at("10:05"), action="incident.first_notice", after={"update_id": 10}),
        Event(id=3, at=at("12:00"), action="message.check_overridden", after={"update_id": 11}),
        Event(
            id=4,
            at=at("12:00"),
            action="incident.resolved",
            after={**base, "cause": "設定の誤り", "cause_confirmed": True},
        ),
    ]
    updates = [
        IncidentUpdate(
            id=10, kind="first_notice", status="investigating", published_at=at("10:05")
        ),
        IncidentUpdate(id=11, kind="resolution", status="resolved", published_at=at("12:00")),
    ]
    assert [(t.update_id, t.resolved, t.cause) for t in gaps.told_by(updates, history)] == [
        (10, False, False),
        (11, True, True),
    ]


def test_the_cli_prints_the_gaps(session: Session, settings: Settings) -> None:
    on, _ = world(session, settings)
    env = {"ANSHIN_DATABASE_URL": settings.database_url, "ANSHIN_SECRET_KEY": settings.secret_key}
    runner = CliRunner()
    done = runner.invoke(app, ["review", "gaps", on.reference, "--format", "json"], env=env)
    assert done.exit_code == 0, done.output
    out = json.loads(done.output)
    assert [g["kind"] for g in out["gaps"]] == [
        "no_estimate",
        "no_workaround",
        "no_cause",
        "estimate_passed",
    ]
    text = runner.invoke(app, ["--lang", "ja", "review", "gaps", on.reference], env=env)
    assert text.exit_code == 0 and "状況のお問い合わせ4件" in text.output
    missing = runner.invoke(app, ["review", "gaps", "INC-1999-9999"], env=env)
    assert missing.exit_code == 1 and "Traceback" not in missing.output
