"""What the public status page says — pure, no I/O.

The overall indicator and its description follow Atlassian Statuspage's
public API v2 vocabulary, so existing consumers read anshin's JSON unchanged.
R3: only public updates (confirmed facts) are ever shown; R4/R5: each update
shows when the next one comes; R10: upcoming maintenance is announced.
"""

from __future__ import annotations

import datetime as dt

from anshin.i18n import N_

# Statuspage's overall indicators and their descriptions.
INDICATOR_DESCRIPTIONS: dict[str, str] = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
    "maintenance": "Service Under Maintenance",
}
INDICATOR_RANK: dict[str, int] = {
    "none": 0,
    "maintenance": 1,
    "minor": 2,
    "major": 3,
    "critical": 4,
}
COMPONENT_INDICATOR: dict[str, str] = {
    "operational": "none",
    "under_maintenance": "maintenance",
    "degraded_performance": "minor",
    "partial_outage": "major",
    "major_outage": "critical",
}

# Labels people read on the page (translated by the template's locale).
COMPONENT_STATUS_LABELS: dict[str, str] = {
    "operational": N_("Operational"),
    "degraded_performance": N_("Degraded performance"),
    "partial_outage": N_("Partial outage"),
    "major_outage": N_("Major outage"),
    "under_maintenance": N_("Under maintenance"),
}
INCIDENT_STATUS_LABELS: dict[str, str] = {
    "investigating": N_("Investigating"),
    "identified": N_("Identified"),
    "monitoring": N_("Monitoring"),
    "resolved": N_("Resolved"),
    "scheduled": N_("Scheduled"),
    "in_progress": N_("In progress"),
    "verifying": N_("Verifying"),
    "completed": N_("Completed"),
}
IMPACT_LABELS: dict[str, str] = {
    "critical": N_("Critical"),
    "major": N_("Major"),
    "minor": N_("Minor"),
    "none": N_("None"),
    "maintenance": N_("Maintenance"),
}
INDICATOR_LABELS: dict[str, str] = {
    "none": N_("All systems operational"),
    "minor": N_("Some services are degraded"),
    "major": N_("Some services are unavailable"),
    "critical": N_("Major service outage"),
    "maintenance": N_("Maintenance in progress"),
}


def overall_indicator(component_statuses: list[str], open_incident_impacts: list[str]) -> str:
    """The page's single indicator: the worst of its components and open incidents."""
    candidates = ["none"]
    candidates += [COMPONENT_INDICATOR.get(s, "none") for s in component_statuses]
    candidates += [i for i in open_incident_impacts if i in INDICATOR_RANK]
    return max(candidates, key=INDICATOR_RANK.__getitem__)


def statuspage_indicator(indicator: str) -> str:
    """Statuspage's status.indicator has no "maintenance": it reports maintenance as none."""
    return "none" if indicator == "maintenance" else indicator


def is_shown(public_update_count: int) -> bool:
    """R3: an incident appears on the page once it has a public update, never before.

    Declaring an incident records it for staff; customers first see it with the
    first notice (R4), so nothing unconfirmed reaches them.
    """
    return public_update_count > 0


def in_history(resolved_at: dt.datetime | None, now: dt.datetime, days: int) -> bool:
    """A resolved incident stays in the page's history for ``days`` days (default 90)."""
    return resolved_at is not None and resolved_at >= now - dt.timedelta(days=days)


def maintenance_is_upcoming(status: str, scheduled_end: dt.datetime, now: dt.datetime) -> bool:
    """R10: a window is announced until it completes or its end has passed."""
    return status != "completed" and scheduled_end > now


def maintenance_is_active(status: str) -> bool:
    """Statuspage's "active" maintenance: under way or being verified."""
    return status in ("in_progress", "verifying")


def list_separator(locale: str) -> str:
    """How names are joined in running text: 、 in Japanese, a comma in English."""
    return "、" if locale == "ja" else ", "


def next_update_late(next_update_at: dt.datetime | None, now: dt.datetime) -> bool:
    """R5: the promised next update is due and not yet published.

    The page then says the update is late instead of showing a time already
    gone as if it were still to come (a customer reads 「13:45までに」 at 13:50
    and must see that we know it is late).
    """
    return next_update_at is not None and next_update_at <= now
