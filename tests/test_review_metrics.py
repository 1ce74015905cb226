"""The review metrics of one incident, read from stored rows and events (R30, R31)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.errors import NotFound
from anshin.incidents.models import Incident, IncidentUpdate
from anshin.inquiries import commitments, escalation
from anshin.notify.models import Delivery, OutboxMessage
from anshin.review import metrics, timeline
from inquiry_world import incident, inquiry, user


def _update(
    session: Session, incident_id: int, at: dt.datetime, **values: object
) -> IncidentUpdate:
    row = IncidentUpdate(
        incident_id=incident_id,
        kind=values.pop("kind", "update"),
        status="investigating",
        body_ja="調査中です。次回は30分後にお知らせします。",
        audience=values.pop("audience", "public"),
        published_at=at,
        author="test",
        **values,
    )
    session.add(row)
    session.flush()
    return row


def _surge(session: Session, settings: Settings) -> Incident:
    """An incident with updates, deliveries, four inquiries, two escalations, two commitments."""
    on = incident(session, settings)
    t0 = on.declared_at
    minutes = lambda m: t0 + dt.timedelta(minutes=m)  # noqa: E731
    first = _update(session, on.id, minutes(10), kind="first_notice", next_update_at=minutes(40))
    _update(session, on.id, minutes(35), audience="internal")  # a note: counts for nothing
    _update(session, on.id, minutes(45), next_update_at=minutes(75))  # late (45 > 40)
    _update(session, on.id, minutes(70))  # kept
    on.resolved_at = minutes(200)
    message = OutboxMessage(kind="first_notice", incident_id=on.id, update_id=first.id, texts={})
    session.add(message)
    session.flush()
    for sent, status in ((minutes(11), "sent"), (minutes(13), "sent"), (None, "dead")):
        session.add(Delivery(message_id=message.id, channel="email", status=status, sent_at=sent))
    lead = user(session, "supervisor", "lead")
    asked = [
        inquiry(session, settings, on, email="a@example.com", now=minutes(20)),
        inquiry(session, settings, on, email="A@example.com", now=minutes(50)),
        inquiry(session, settings, on, email="b@example.com", now=minutes(80)),
        inquiry(session, settings, on, email=None, channel="phone", now=minutes(81)),
    ]
    asked[0].first_responded_at = minutes(22)
    asked[1].first_responded_at = minutes(60)
    escalation.change_level(session, settings, asked[2], lead, 3, "返金のご要望")
    escalation.change_level(session, settings, asked[3], lead, 2, "技術的なご質問")
    promise = commitments.add_commitment(
        session,
        settings,
        asked[2],
        by=lead,
        kind="callback",
        description="本日中に折り返し",
        due_at=minutes(120),
        now=minutes(90),
    )
    commitments.keep(session, asked[2], promise.id, actor="lead@example.com", now=minutes(110))
    commitments.add_commitment(
        session,
        settings,
        asked[3],
        by=lead,
        kind="callback",
        description="明日折り返し",
        due_at=minutes(300),
        now=minutes(90),
    )
    session.commit()
    return on


def test_metrics_of_one_incident(session: Session, settings: Settings) -> None:
    on = _surge(session, settings)
    got = metrics.for_incident(session, on.reference)

    assert got["first_notice_seconds"] == 600
    assert got["first_notice_delivered_seconds"] == 13 * 60
    assert got["cadence_kept"] == 0.5
    assert got["longest_silence_seconds"] == 130 * 60  # 70 → 200
    assert got["inquiries_total"] == 4
    assert got["inquiries_peak_hour"] == 3  # 20, 50, 80 (60 min, both ends) … 50, 80, 81
    assert got["repeat_customers"] == 1
    assert got["first_response_p50_seconds"] == 120
    assert got["first_response_p90_seconds"] == 600
    assert got["escalations"] == {"2": 1, "3": 1}
    assert got["commitments_kept"] == 0.5
    assert got["dead_letters"] == 1
    assert got["check_overrides"] == 0
    with pytest.raises(NotFound):
        metrics.for_incident(session, "INC-1999-9999")


def test_the_cli_prints_the_metrics_by_name(session: Session, settings: Settings) -> None:
    import json

    from typer.testing import CliRunner

    from anshin.cli import app

    on = incident(session, settings)
    _update(session, on.id, on.declared_at + dt.timedelta(minutes=7), kind="first_notice")
    session.commit()
    env = {"ANSHIN_DATABASE_URL": settings.database_url, "ANSHIN_SECRET_KEY": settings.secret_key}
    runner = CliRunner()
    done = runner.invoke(app, ["review", "metrics", on.reference, "--format", "json"], env=env)
    assert done.exit_code == 0, done.output
    out = json.loads(done.output)
    assert out["first_notice_seconds"] == 420 and out["inquiries_total"] == 0
    assert out["cadence_kept"] is None
    table = runner.invoke(app, ["--lang", "ja", "review", "metrics", on.reference], env=env)
    assert table.exit_code == 0 and "振り返り指標" in table.output and "0:07:00" in table.output
    missing = runner.invoke(app, ["review", "metrics", "INC-1999-9999"], env=env)
    assert missing.exit_code == 1 and "Traceback" not in missing.output


def test_the_timeline_holds_only_stored_facts_in_order(
    session: Session, settings: Settings
) -> None:
    on = _surge(session, settings)
    entries = timeline.for_incident(
        session, on.reference, now=on.declared_at + dt.timedelta(hours=5)
    )
    kinds = [e.kind for e in entries]
    assert entries == sorted(entries, key=lambda e: (e.at, e.kind))
    assert kinds.count("update_published") == 3 and kinds.count("internal_note") == 1
    assert {"detected", "declared", "escalation", "commitment_made", "commitment_kept"} <= set(
        kinds
    )
    # The first notice: a dead letter is final, so delivery finished with the last send.
    finished = [e for e in entries if e.kind == "delivery_finished"]
    assert [(e.at - on.declared_at, e.detail["sent"]) for e in finished] == [
        (dt.timedelta(minutes=13), 2)
    ]
    volume = [
        (e.at - on.declared_at, e.detail["count"]) for e in entries if e.kind == "inquiry_volume"
    ]
    assert volume == [
        (dt.timedelta(minutes=15), 1),
        (dt.timedelta(minutes=30), 0),
        (dt.timedelta(minutes=45), 1),
        (dt.timedelta(minutes=60), 0),
        (dt.timedelta(minutes=75), 2),
    ]
    escalations = [e.detail for e in entries if e.kind == "escalation"]
    assert sorted((d["from"], d["to"]) for d in escalations) == [(1, 2), (1, 3)]
    assert all(d["inquiry"].startswith("Q-") for d in escalations)
    kept = [e for e in entries if e.kind == "commitment_kept"]
    assert len(kept) == 1 and kept[0].detail["on_time"] is True


def test_the_cli_prints_the_timeline(session: Session, settings: Settings) -> None:
    import json

    from typer.testing import CliRunner

    from anshin.cli import app

    on = _surge(session, settings)
    env = {"ANSHIN_DATABASE_URL": settings.database_url, "ANSHIN_SECRET_KEY": settings.secret_key}
    runner = CliRunner()
    done = runner.invoke(app, ["review", "timeline", on.reference, "--format", "json"], env=env)
    assert done.exit_code == 0, done.output
    rows = json.loads(done.output)
    assert rows[0]["kind"] == "detected" and rows[0]["at"].endswith("+09:00")
    table = runner.invoke(app, ["--lang", "ja", "review", "timeline", on.reference], env=env)
    assert table.exit_code == 0 and "経過" in table.output and "escalation" in table.output
