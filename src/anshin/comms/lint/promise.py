"""The time a text promises for the next contact, and whether the record agrees (R3, R5).

A notice saying 「次回は13:45までに」 that is published with ``next_update_at``
14:04 makes two promises: the page shows both times and the dashboard counts
to the later one, so the customer waits past what they were told. The rule
``next-update-mismatch`` reads the clock times a text promises for the next
contact — 「次回は13:45までに」「13時45分頃に改めて」"by 13:45", "next update
at 1:45 pm" — and compares them with the ``next_update_at`` the message is
published with (in the team's zone, as the text is written).

Only a time in a sentence that speaks of contacting the customer counts, and
not one that says when the trouble started (「14:05頃から」"since 14:05") or
when recovery is expected (「復旧は15:00頃の見込み」"restore service by 15:00").
Dates are not compared: a text says "by 9:00 tomorrow" and the clock time is
what a reader checks against the page.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from anshin.comms.lint.finding import Finding
from anshin.comms.lint.lexicon import Lexicon
from anshin.comms.lint.messages import default
from anshin.comms.lint.segment import Prepared, prepare

RULE = "next-update-mismatch"

_JA_TIME = re.compile(
    r"(?P<ampm>午前|午後)?\s*(?P<h>(?<!\d)\d{1,2})"
    r"(?::(?P<m>\d{2})(?!\d)|時(?:\s*(?P<m2>\d{1,2})\s*分|(?P<half>半))?)"
)
# What makes a Japanese time a moment something happens by/at (not a duration or a date).
_JA_AFTER = re.compile(r"\s*(?:\(?[A-Z]{2,4}\)?\s*)?(まで|頃|ごろ|ころ|に|を目途|をめど|目処|予定)")
_JA_NOT_CONTACT = re.compile(
    r"\s*(?:まで|頃|ごろ|ころ)?\s*(?:に|の)?\s*(?:は)?\s*(?:復旧|回復|再開)?の?見込"
)
_JA_RECOVERY = re.compile(r"復旧|回復|解消|再開|完了")
_JA_CLAUSE = re.compile(r"[、,]")

_EN_TIME = re.compile(
    r"\b(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ampm>a\.m\.|p\.m\.|am\b|pm\b)?(?![\w:])",
    re.IGNORECASE,
)
_EN_BEFORE = re.compile(
    r"\b(by|at|before|around|until|till|than|approximately|about|or)\s+$", re.IGNORECASE
)
_EN_RECOVERY = re.compile(
    r"\b(restor|recover|resolv|fix|back (up|online)|available again|complet)", re.IGNORECASE
)
_EN_CLAUSE = re.compile(r"[,;]|\band\b", re.IGNORECASE)
_CLAUSE_WINDOW = 60


@dataclass(frozen=True)
class PromisedTime:
    """A clock time a text promises for the next contact.

    ``hour`` is 0–23, or 1–12 with ``twelve_hour`` when the text gave no
    a.m./p.m. (「1:45」 may mean 13:45). ``start``/``end`` point into the
    original text.
    """

    hour: int
    minute: int
    twelve_hour: bool
    start: int
    end: int

    @property
    def label(self) -> str:
        """HH:MM as the suggestion prints it."""
        return f"{self.hour:02d}:{self.minute:02d}"

    def agrees(self, local: dt.datetime) -> bool:
        """True when ``local`` (a time in the team's zone) is the promised clock time."""
        if local.minute != self.minute:
            return False
        if self.twelve_hour:
            return local.hour % 12 == self.hour % 12
        return local.hour == self.hour


def _hour(raw: int, ampm: str | None) -> tuple[int, bool] | None:
    """The 24-hour hour, and whether it is ambiguous (no a.m./p.m. and 1–12); None if no hour."""
    if ampm:
        if not 1 <= raw <= 12:
            return None
        pm = ampm.lower().startswith(("p", "午後"))
        return (raw % 12) + (12 if pm else 0), False
    if raw > 24:
        return None
    return raw % 24, 1 <= raw <= 12


def _clause_before(sentence: str, index: int, clause: re.Pattern[str]) -> str:
    """The sentence from the last clause break before ``index`` up to it."""
    window = sentence[max(0, index - _CLAUSE_WINDOW) : index]
    cuts = [m.end() for m in clause.finditer(window)]
    return window[cuts[-1] :] if cuts else window


def _ja_times(sentence: str, lex: Lexicon) -> list[tuple[int, int, int, int, bool]]:
    found: list[tuple[int, int, int, int, bool]] = []
    past_after = lex.marker("past_time_after")
    for match in _JA_TIME.finditer(sentence):
        after = sentence[match.end() :]
        if not _JA_AFTER.match(after) or past_after.match(after):
            continue
        if _JA_NOT_CONTACT.match(after):
            continue
        if _JA_RECOVERY.search(_clause_before(sentence, match.start(), _JA_CLAUSE)):
            continue
        minute_text = match.group("m") or match.group("m2")
        minute = 30 if match.group("half") else int(minute_text or 0)
        hour = _hour(int(match.group("h")), match.group("ampm"))
        if hour is None or minute > 59:
            continue
        # 「9:00」 in a Japanese notice is the 24-hour clock; 「1時45分」 may mean 13:45.
        twelve = hour[1] and match.group("m") is None
        found.append((match.start(), match.end(), hour[0], minute, twelve))
    return found


def _en_times(sentence: str, lex: Lexicon) -> list[tuple[int, int, int, int, bool]]:
    found: list[tuple[int, int, int, int, bool]] = []
    past_after, past_before = lex.marker("past_time_after"), lex.marker("past_time_before")
    for match in _EN_TIME.finditer(sentence):
        minute_text, ampm = match.group("m"), match.group("ampm")
        if minute_text is None and ampm is None:
            continue
        before = sentence[max(0, match.start() - _CLAUSE_WINDOW) : match.start()]
        if not _EN_BEFORE.search(before) or past_before.search(before):
            continue
        if past_after.match(sentence[match.end() :]):
            continue
        if _EN_RECOVERY.search(_clause_before(sentence, match.start(), _EN_CLAUSE)):
            continue
        hour = _hour(int(match.group("h")), ampm)
        minute = int(minute_text or 0)
        if hour is None or minute > 59:
            continue
        found.append((match.start(), match.end(), hour[0], minute, hour[1]))
    return found


def promised_times(prep: Prepared, lex: Lexicon) -> list[PromisedTime]:
    """Every clock time the text promises for the next contact, in reading order."""
    contact = lex.marker("contact")
    reader = _ja_times if lex.locale == "ja" else _en_times
    found: list[PromisedTime] = []
    for s_start, s_end in prep.sentences:
        sentence = prep.masked[s_start:s_end]
        if not contact.search(sentence):
            continue
        for start, end, hour, minute, twelve in reader(sentence, lex):
            o_start, o_end = prep.to_original(s_start + start, s_start + end)
            found.append(PromisedTime(hour, minute, twelve, o_start, o_end))
    return found


def next_update_mismatch(
    prep: Prepared, lex: Lexicon, next_update_local: dt.datetime
) -> list[Finding]:
    """R3/R5: each promised time that is not the recorded next update is an error.

    ``next_update_local`` is the ``next_update_at`` the message goes out with,
    already in the team's zone. A text that promises no time is left to
    ``missing-next-update``.
    """
    expected = f"{next_update_local:%H:%M}"
    findings: list[Finding] = []
    for promised in promised_times(prep, lex):
        if promised.agrees(next_update_local):
            continue
        message, suggestion = default(RULE, lex.locale, term=promised.label, expected=expected)
        findings.append(Finding(RULE, "error", promised.start, promised.end, message, suggestion))
    return findings


def next_occurrence(promised: PromisedTime, now_local: dt.datetime) -> dt.datetime:
    """The first moment at or after ``now_local`` showing the promised clock time.

    A notice written at 13:05 saying 「13:45までに」 means today; one written
    at 23:50 saying "by 0:30" means tomorrow. A time without a.m./p.m. takes
    whichever half of the day comes first.
    """
    hours = (
        [promised.hour % 12, promised.hour % 12 + 12] if promised.twelve_hour else [promised.hour]
    )
    base = now_local.replace(second=0, microsecond=0)
    found: list[dt.datetime] = []
    for hour in hours:
        candidate = base.replace(hour=hour, minute=promised.minute)
        if candidate < base:
            candidate += dt.timedelta(days=1)
        found.append(candidate)
    return min(found)


def text_next_update(text: str, lex: Lexicon, now: dt.datetime, zone: str) -> dt.datetime | None:
    """The next-update time a text promises, as the next such moment in ``zone`` (None if none).

    The compose box offers it for its next-update field, so the record and the
    text agree (``next-update-mismatch``).
    """
    found = promised_times(prepare(text, lex.locale), lex)
    if not found:
        return None
    return next_occurrence(found[0], now.astimezone(ZoneInfo(zone)))
