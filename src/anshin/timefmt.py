"""Times as people read them: stored in UTC, shown in the team's zone (docs/design.md)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def to_zone(value: dt.datetime | None, zone: str) -> dt.datetime | None:
    """A stored UTC time in the team's zone."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(zone))


def today_local(zone: str) -> dt.date:
    """Today in the team's zone: due dates and effect checks are days there, not in UTC.

    The clock is read here rather than through ``anshin.db.utcnow``: db imports
    the settings, which import this module's callers (an import cycle).
    """
    return dt.datetime.now(dt.UTC).astimezone(ZoneInfo(zone)).date()


def iso_local(value: dt.datetime | None, zone: str) -> str | None:
    """A stored UTC time as ISO 8601 with the team's offset, as every JSON answer gives times."""
    local = to_zone(value, zone)
    return local.isoformat() if local else None


def format_local(value: dt.datetime | None, zone: str, locale: str = "ja") -> str:
    """2026/11/22 14:05 (JST) for Japanese readers, 2026-11-22 14:05 JST for English."""
    local = to_zone(value, zone)
    if local is None:
        return ""
    abbreviation = local.tzname() or zone
    if locale == "ja":
        return f"{local:%Y/%m/%d %H:%M} ({abbreviation})"
    return f"{local:%Y-%m-%d %H:%M} {abbreviation}"


def clock_local(value: dt.datetime | None, zone: str) -> str:
    """HH:MM in the team's zone: the clock time a notice promised (「13:45までに」)."""
    local = to_zone(value, zone)
    return f"{local:%H:%M}" if local else ""


def input_local(value: dt.datetime | None, zone: str) -> str:
    """A stored time as a ``datetime-local`` input value in the team's zone."""
    local = to_zone(value, zone)
    return f"{local:%Y-%m-%dT%H:%M}" if local else ""


def parse_stored(value: dt.datetime | str | None) -> dt.datetime | None:
    """A time as the event log keeps it (ISO 8601 text) back as a datetime; None stays None."""
    if value is None or isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None
