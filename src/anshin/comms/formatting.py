"""How dates, times, durations and lists read in a customer message, in Japanese and English.

A promise carries its date and time (R5 next update, R7 report date, R15 no
vague deadlines). Pure functions the template context uses; kept apart so a wording fix
(「約2時間30分」, "Sunday, November 29, 2026") is found in one short file.
"""

from __future__ import annotations

import datetime as dt
import html
import re

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


# Japanese script in a text meant for English readers: kana, kanji, full-width
# punctuation and forms (「」、。（）：).
_JAPANESE = re.compile(
    r"[\u3000-\u303f\u3041-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]"
)


def has_japanese(text: str | None) -> bool:
    """True when the text has Japanese script: it must not reach an English reader as is."""
    return bool(text and _JAPANESE.search(text))


def format_human(
    value: dt.datetime, zone: str, locale: str, now: dt.datetime, *, around: bool = False
) -> str:
    """A time as a person writes it: 「12月2日 13:00」 / "2 December, 13:00 JST".

    The year is added only when it is not this year. ``around`` makes it an
    approximate time (「12月2日 13:00頃」 / "2 December, around 13:00 JST").
    """
    local, today = to_zone(value, zone), to_zone(now, zone)
    assert local is not None and today is not None
    if locale == "ja":
        year = "" if local.year == today.year else f"{local.year}年"
        return f"{year}{local.month}月{local.day}日 {local:%H:%M}" + ("頃" if around else "")
    year = "" if local.year == today.year else f" {local.year}"
    approx = "around " if around else ""
    zone_name = local.tzname() or zone
    return f"{local.day} {_MONTHS[local.month - 1]}{year}, {approx}{local:%H:%M} {zone_name}"


def format_stamp(value: dt.datetime, zone: str, locale: str) -> str:
    """A short time stamp for a mail subject: 「12月2日 13:30」 / "2 Dec 13:30"."""
    local = to_zone(value, zone)
    assert local is not None
    if locale == "ja":
        return f"{local.month}月{local.day}日 {local:%H:%M}"
    return f"{local.day} {_MONTHS[local.month - 1][:3]} {local:%H:%M}"


def round_down(value: dt.datetime, minutes: int) -> dt.datetime:
    """A promised time a person would write: down to the quarter or half hour (never later)."""
    step = minutes * 60
    seconds = int(value.timestamp())
    return dt.datetime.fromtimestamp(seconds - seconds % step, dt.UTC).astimezone(value.tzinfo)


def round_up(value: dt.datetime, minutes: int) -> dt.datetime:
    """An estimate a person would write: up to the half hour (never sooner than thought)."""
    step = minutes * 60
    seconds = int(value.timestamp())
    rest = seconds % step
    rounded = seconds if rest == 0 and value.microsecond == 0 else seconds - rest + step
    return dt.datetime.fromtimestamp(rounded, dt.UTC).astimezone(value.tzinfo)


# A web address in a text: up to a space, a quote, or Japanese punctuation.
_URL = re.compile(r"https?://[^\s<>\"'　、。）)」]+")


def text_to_html(text: str) -> str:
    """Plain text as HTML paragraphs with real links: escaped, never markup from data.

    A fragment for a mail's ``<body>`` (the mail adds the one document around it).
    """
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    parts = []
    for paragraph in paragraphs:
        escaped = html.escape(paragraph, quote=True)
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        parts.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    return "\n".join(parts)
