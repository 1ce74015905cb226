"""Cadence and status rules (R1, R3, R4, R5) — pure functions, no database."""

from __future__ import annotations

import datetime as dt

import pytest

from anshin.errors import InvalidInput
from anshin.incidents import rules

T0 = dt.datetime(2026, 11, 22, 5, 0, tzinfo=dt.UTC)
CADENCE = {"sev1": 30, "sev2": 60, "sev3": 180}


def test_first_notice_is_due_fifteen_minutes_after_declaration() -> None:
    assert rules.first_notice_due_at(T0) == T0 + dt.timedelta(minutes=15)
    assert rules.first_notice_due_at(T0, 5) == T0 + dt.timedelta(minutes=5)


@pytest.mark.parametrize(("severity", "minutes"), [("sev1", 30), ("sev2", 60), ("sev3", 180)])
def test_default_cadence_per_severity(severity: str, minutes: int) -> None:
    assert rules.default_next_update_at(T0, severity) == T0 + dt.timedelta(minutes=minutes)


def test_cadence_is_configurable() -> None:
    assert rules.update_interval("sev1", {"sev1": 45, "sev2": 60, "sev3": 120}) == dt.timedelta(
        minutes=45
    )


def test_unknown_severity_is_refused() -> None:
    with pytest.raises(InvalidInput):
        rules.update_interval("sev9", CADENCE)
    with pytest.raises(InvalidInput):
        rules.check_severity("critical")


def test_next_update_defaults_to_the_cadence_and_is_never_empty() -> None:
    chosen = rules.choose_next_update_at(None, published_at=T0, severity="sev2")
    assert chosen == T0 + dt.timedelta(minutes=60)


def test_next_update_may_be_promised_earlier() -> None:
    earlier = T0 + dt.timedelta(minutes=20)
    assert rules.choose_next_update_at(earlier, published_at=T0, severity="sev2") == earlier


def test_next_update_in_the_past_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.choose_next_update_at(T0 - dt.timedelta(minutes=1), published_at=T0, severity="sev2")
    assert caught.value.field == "next_update_at"


def test_next_update_later_than_the_cadence_is_refused() -> None:
    with pytest.raises(InvalidInput):
        rules.choose_next_update_at(T0 + dt.timedelta(minutes=31), published_at=T0, severity="sev1")


def test_naive_next_update_is_refused() -> None:
    with pytest.raises(InvalidInput):
        rules.choose_next_update_at(
            dt.datetime(2026, 11, 22, 6, 0), published_at=T0, severity="sev1"
        )


def test_first_notice_due_before_any_public_update() -> None:
    due = rules.next_due(
        status="investigating",
        declared_at=T0,
        last_public_next_update_at=None,
        has_public_update=False,
        now=T0 + dt.timedelta(minutes=10),
    )
    assert due is not None
    assert due.kind == "first_notice"
    assert due.seconds_left == 300
    assert not due.overdue


def test_overdue_once_the_promised_time_passes() -> None:
    promised = T0 + dt.timedelta(minutes=30)
    due = rules.next_due(
        status="identified",
        declared_at=T0,
        last_public_next_update_at=promised,
        has_public_update=True,
        now=promised + dt.timedelta(seconds=1),
    )
    assert due is not None
    assert due.kind == "update"
    assert due.overdue


def test_first_notice_overdue_after_fifteen_minutes() -> None:
    due = rules.next_due(
        status="investigating",
        declared_at=T0,
        last_public_next_update_at=None,
        has_public_update=False,
        now=T0 + dt.timedelta(minutes=16),
    )
    assert due is not None and due.overdue


def test_resolved_incident_owes_nothing() -> None:
    assert (
        rules.next_due(
            status="resolved",
            declared_at=T0,
            last_public_next_update_at=None,
            has_public_update=True,
            now=T0,
        )
        is None
    )


def test_worst_component_status_wins() -> None:
    assert rules.worst_component_status([]) == "operational"
    assert (
        rules.worst_component_status(["degraded_performance", "major_outage", "partial_outage"])
        == "major_outage"
    )
    assert rules.worst_component_status(["under_maintenance"]) == "under_maintenance"


def test_text_limits() -> None:
    assert rules.check_text("  題名  ", field="title", limit=10, required=True) == "題名"
    with pytest.raises(InvalidInput):
        rules.check_text("   ", field="title", limit=10, required=True)
    with pytest.raises(InvalidInput):
        rules.check_text("あ" * 11, field="title", limit=10)


def test_affected_customers_is_a_count_or_unknown() -> None:
    assert rules.check_affected_customers(None) is None
    assert rules.check_affected_customers(1200) == 1200
    with pytest.raises(InvalidInput):
        rules.check_affected_customers(-1)


def test_times_must_run_in_order() -> None:
    rules.check_times(started_at=T0, detected_at=T0, declared_at=T0)
    with pytest.raises(InvalidInput):
        rules.check_times(started_at=T0, detected_at=T0 - dt.timedelta(minutes=1), declared_at=T0)


def test_nudges_come_before_the_due_time_and_after_it() -> None:
    due_at = dt.datetime(2026, 11, 22, 5, 0, tzinfo=dt.UTC)

    def due(seconds_left: int) -> rules.Due:
        return rules.Due(kind="update", due_at=due_at, seconds_left=seconds_left)

    assert rules.nudge_for(None, 5) is None
    assert rules.nudge_for(due(301), 5) is None
    assert rules.nudge_for(due(300), 5) == rules.NudgeKind.DUE_SOON
    assert rules.nudge_for(due(0), 5) == rules.NudgeKind.DUE_SOON
    assert rules.nudge_for(due(-1), 5) == rules.NudgeKind.OVERDUE
    assert rules.nudge_for(due(1200), 30) == rules.NudgeKind.DUE_SOON


def test_a_no_news_update_is_warned_about_only_right_after_real_news() -> None:
    now = dt.datetime(2026, 11, 22, 5, 0, tzinfo=dt.UTC)

    def ago(minutes: int) -> dt.datetime:
        return now - dt.timedelta(minutes=minutes)

    real = [("first_notice", "public", ago(40)), ("update", "public", ago(4))]
    assert rules.recent_real_update_minutes(real, now, 10) == 4
    assert rules.recent_real_update_minutes(real, now, 3) is None
    assert rules.recent_real_update_minutes(real, now, 0) is None  # 0 turns the warning off
    noise = [("update", "internal", ago(1)), ("no_news_update", "public", ago(2))]
    assert rules.recent_real_update_minutes(noise, now, 10) is None
    assert rules.recent_real_update_minutes(real + noise, now, 10) == 4
    assert rules.recent_real_update_minutes([], now, 10) is None
