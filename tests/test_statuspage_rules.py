"""The status page's pure rules: overall indicator, descriptions, what is shown, for how long."""

from __future__ import annotations

import datetime as dt

import pytest

from anshin.i18n import translate
from anshin.incidents.rules import COMPONENT_STATUSES, STATUSPAGE_IMPACT
from anshin.statuspage import rules

NOW = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("components", "impacts", "expected"),
    [
        ([], [], "none"),
        (["operational", "operational"], [], "none"),
        (["operational", "under_maintenance"], [], "maintenance"),
        (["under_maintenance", "degraded_performance"], [], "minor"),
        (["degraded_performance", "partial_outage"], [], "major"),
        (["partial_outage", "major_outage", "operational"], [], "critical"),
        (["operational"], ["minor"], "minor"),
        (["degraded_performance"], ["critical"], "critical"),
        (["major_outage"], ["minor"], "critical"),
        (["operational"], ["none"], "none"),
        (["unknown-status"], ["unknown-impact"], "none"),
    ],
)
def test_overall_indicator_is_the_worst_of_components_and_open_incidents(
    components: list[str], impacts: list[str], expected: str
) -> None:
    assert rules.overall_indicator(components, impacts) == expected


def test_every_severity_and_component_status_has_a_statuspage_word() -> None:
    assert set(STATUSPAGE_IMPACT.values()) <= set(rules.INDICATOR_RANK)
    assert set(COMPONENT_STATUSES) == set(rules.COMPONENT_INDICATOR)
    assert set(COMPONENT_STATUSES) == set(rules.COMPONENT_STATUS_LABELS)


def test_descriptions_are_statuspages_own() -> None:
    assert rules.INDICATOR_DESCRIPTIONS == {
        "none": "All Systems Operational",
        "minor": "Minor Service Outage",
        "major": "Partial System Outage",
        "critical": "Major System Outage",
        "maintenance": "Service Under Maintenance",
    }


def test_statuspage_indicator_keeps_the_documented_four_values() -> None:
    for indicator in rules.INDICATOR_RANK:
        assert rules.statuspage_indicator(indicator) in {"none", "minor", "major", "critical"}
    assert rules.statuspage_indicator("maintenance") == "none"
    assert rules.statuspage_indicator("critical") == "critical"


def test_people_read_the_indicator_in_japanese_and_english() -> None:
    for indicator, msgid in rules.INDICATOR_LABELS.items():
        japanese = translate("ja", msgid)
        assert japanese != msgid, indicator
        assert translate("en", msgid) == msgid
    assert (
        translate("ja", rules.INDICATOR_LABELS["none"]) == "すべてのサービスが正常に稼働しています"
    )
    labels = {**rules.COMPONENT_STATUS_LABELS, **rules.INCIDENT_STATUS_LABELS}
    for msgid in labels.values():
        assert translate("ja", msgid) != msgid, msgid


def test_incidents_show_only_with_a_public_update() -> None:
    assert not rules.is_shown(0)
    assert rules.is_shown(1)


@pytest.mark.parametrize(
    ("resolved_days_ago", "shown"),
    [(None, False), (0, True), (89.9, True), (90, True), (90.01, False), (400, False)],
)
def test_history_keeps_resolved_incidents_for_the_window(
    resolved_days_ago: float | None, shown: bool
) -> None:
    resolved = None if resolved_days_ago is None else NOW - dt.timedelta(days=resolved_days_ago)
    assert rules.in_history(resolved, NOW, 90) is shown


def test_maintenance_is_announced_until_done_or_over() -> None:
    later = NOW + dt.timedelta(hours=2)
    earlier = NOW - dt.timedelta(minutes=1)
    assert rules.maintenance_is_upcoming("scheduled", later, NOW)
    assert rules.maintenance_is_upcoming("in_progress", later, NOW)
    assert not rules.maintenance_is_upcoming("completed", later, NOW)
    assert not rules.maintenance_is_upcoming("scheduled", earlier, NOW)
    assert rules.maintenance_is_active("in_progress") and rules.maintenance_is_active("verifying")
    assert not rules.maintenance_is_active("scheduled")
    assert not rules.maintenance_is_active("completed")


def test_names_are_joined_the_way_each_language_writes_them() -> None:
    assert rules.list_separator("ja") == "、"
    assert rules.list_separator("en") == ", "
