"""The review metrics across incidents: pooled by the same names (docs/review.md)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from anshin.cli import app
from anshin.config import Settings
from anshin.errors import InvalidInput
from anshin.incidents import components
from anshin.incidents import service as incidents
from anshin.incidents.models import Incident, IncidentUpdate
from anshin.review import summary
from anshin.timefmt import to_zone
from inquiry_world import incident, inquiry


def _update(session: Session, on: Incident, minutes: int, promise: int | None = None) -> None:
    at = on.declared_at + dt.timedelta(minutes=minutes)
    session.add(
        IncidentUpdate(
            incident_id=on.id,
            kind="update",
            status="investigating",
            body_ja="調査中です。",
            audience="public",
            published_at=at,
            next_update_at=on.declared_at + dt.timedelta(minutes=promise) if promise else None,
            author="test",
        )
    )


def _two(session: Session, settings: Settings) -> tuple[Incident, Incident]:
    login = incident(session, settings)  # sev2 on ログイン
    components.add_component(session, "決済", name_en="Payments", actor="test")
    pay = incidents.declare(
        session,
        settings,
        incidents.IncidentInput(title="決済の遅延", severity="sev1", components=["決済"]),
        actor="test",
    )
    _update(session, login, 10, promise=40)
    _update(session, login, 35)  # kept
    _update(session, pay, 30, promise=60)
    _update(session, pay, 90)  # late
    a = inquiry(session, settings, login, email="a@example.com", now=login.declared_at)
    b = inquiry(session, settings, pay, email="b@example.com", now=pay.declared_at)
    c = inquiry(session, settings, pay, email="b@example.com", now=pay.declared_at)
    a.first_responded_at = a.received_at + dt.timedelta(minutes=2)
    b.first_responded_at = b.received_at + dt.timedelta(minutes=20)
    c.first_responded_at = c.received_at + dt.timedelta(minutes=4)
    session.commit()
    return login, pay


def test_pooled_metrics_mean_what_they_mean_for_one(session: Session, settings: Settings) -> None:
    login, pay = _two(session, settings)
    out = summary.across(session, summary.Selection())
    assert out["incidents"] == [login.reference, pay.reference]
    assert out["cadence_kept"] == 0.5  # one kept of two judged, pooled
    assert out["first_notice_seconds"] == 600  # median (nearest rank) of 600 and 1800
    assert out["first_notice_worst_seconds"] == 1800
    assert out["inquiries_total"] == 3 and out["repeat_customers"] == 1
    assert out["first_response_p50_seconds"] == 240  # of 120, 240, 1200
    assert out["first_response_p90_seconds"] == 1200
    only_sev1 = summary.across(session, summary.Selection(severity="sev1"))
    assert only_sev1["incidents"] == [pay.reference] and only_sev1["cadence_kept"] == 0.0
    on_login = summary.across(session, summary.Selection(component="Sign-in"))
    assert on_login["incidents"] == [login.reference]
    later = summary.across(
        session, summary.Selection(start=pay.declared_at + dt.timedelta(seconds=1))
    )
    assert later["incidents"] == [] and later["cadence_kept"] is None
    assert later["inquiries_total"] == 0 and later["first_notice_seconds"] is None
    for bad in (
        summary.Selection(severity="sev9"),
        summary.Selection(component="存在しない"),
        summary.Selection(start=pay.declared_at, end=pay.declared_at),
    ):
        with pytest.raises(InvalidInput):
            summary.across(session, bad)


def test_the_summary_command(session: Session, settings: Settings) -> None:
    login, pay = _two(session, settings)
    env = {"ANSHIN_DATABASE_URL": settings.database_url, "ANSHIN_SECRET_KEY": settings.secret_key}
    runner = CliRunner()
    done = runner.invoke(
        app, ["review", "summary", "--severity", "sev2", "--format", "json"], env=env
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["incidents"] == [login.reference]
    # --from/--to are days of the installation's time zone, not of UTC.
    day = to_zone(pay.declared_at, settings.timezone).date().isoformat()
    whole_day = runner.invoke(
        app, ["review", "summary", "--from", day, "--to", day, "--format", "json"], env=env
    )
    assert whole_day.exit_code == 0 and len(json.loads(whole_day.output)["incidents"]) == 2
    table = runner.invoke(app, ["--lang", "ja", "review", "summary"], env=env)
    assert table.exit_code == 0 and "2 件のインシデント" in table.output
    for args in (["--severity", "sev9"], ["--component", "存在しない"], ["--from", "yesterday"]):
        refused = runner.invoke(app, ["review", "summary", *args], env=env)
        assert refused.exit_code == 2 and "Traceback" not in refused.output, refused.output
