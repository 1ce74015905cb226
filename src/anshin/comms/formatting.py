"""How dates, times, durations and lists read in a customer message, in Japanese and English.

A promise carries its date and time (R5 next update, R7 report date, R15 no
vague deadlines). Pure functions the template context uses; kept apart so a wording fix
(「約2時間30分」, "Sunday, November 29, 2026") is found in one short file.
"""

from __future__ import annotations

import datetime as dt

from anshin.timefmt import to_zone

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_WEEKDAYS_JA = "月火水木金土日"


def join_names(names: list[str], locale: str) -> str:
    """「ログイン、決済」 / "Login and Payments" / "Login, Search and Payments"."""
    if locale == "ja":
        return "、".join(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def format_date(value: dt.datetime, zone: str, locale: str) -> str:
    """A promised day: 「2026年11月29日（日）」 / "Sunday, November 29, 2026"."""
    local = to_zone(value, zone)
    assert local is not None
    if locale == "ja":
        return f"{local.year}年{local.month}月{local.day}日（{_WEEKDAYS_JA[local.weekday()]}）"
    return f"{local:%A}, {_MONTHS[local.month - 1]} {local.day}, {local.year}"


def format_short_time(value: dt.datetime, zone: str, locale: str, now: dt.datetime) -> str:
    """The time alone when it is today, with the date otherwise (chat and SMS)."""
    local, today = to_zone(value, zone), to_zone(now, zone)
    assert local is not None and today is not None
    abbreviation = local.tzname() or zone
    if locale == "ja":
        prefix = "" if local.date() == today.date() else f"{local.month}/{local.day} "
        return f"{prefix}{local:%H:%M}"
    prefix = "" if local.date() == today.date() else f"{_MONTHS[local.month - 1][:3]} {local.day}, "
    return f"{prefix}{local:%H:%M} {abbreviation}"


def format_duration(delta: dt.timedelta, locale: str) -> str:
    """「約2時間30分」 / "about 2 hours 30 minutes" (rounded to the minute, at least one)."""
    minutes = max(1, round(delta.total_seconds() / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if locale == "ja":
        text = (f"{days}日" if days else "") + (f"{hours}時間" if hours else "")
        text += f"{mins}分" if mins or not text else ""
        return "約" + text
    parts = []
    for amount, unit in ((days, "day"), (hours, "hour"), (mins, "minute")):
        if amount:
            parts.append(f"{amount} {unit}{'s' if amount != 1 else ''}")
    return "about " + " ".join(parts)
