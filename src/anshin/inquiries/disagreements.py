"""Where the customer's words and the record disagree: simple comparisons a person can check (R24).

The handoff sheet puts what the customer says beside what is confirmed and what
we have told them; the second line must see at a glance where they differ, and
why the sheet thinks so. Each check here is one plain comparison on NFKC-folded
text or on times in the team's zone — no guessing model — and returns the
reason as a message id with its parameters, so the sheet shows it in the
reader's language. Pure: no I/O, no database (the sheet passes plain values).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from anshin.i18n import N_

# A start time the customer gives is "different" when it is further than this from the record's.
START_TOLERANCE = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Disagreement:
    """One thing the customer says that the record contradicts, with the reason (R24)."""

    topic: str  # started_at | notice | compensation | component | recovery
    msgid: str
    params: dict[str, Any] = field(default_factory=dict)
    quote: str = ""  # the customer's words the comparison matched


def fold(text: str) -> str:
    """NFKC (full-width digits and half-width kana become one form), case folded."""
    return unicodedata.normalize("NFKC", text).casefold()


# 10時, 10時半, 10:30, 10：30 (folded to ASCII colon), 午後3時; then a word saying "since".
_JA_TIME = re.compile(
    r"(午前|午後)?\s*([0-2]?\d)\s*(?:時\s*(半|[0-5]?\d\s*分)?|:([0-5]\d))\s*(?:頃|ごろ|くらい|ぐらい)?\s*"
    r"(?:から|より|以降|過ぎから|すぎから)"
)
_EN_TIME = re.compile(
    r"(?:since|from|started(?: at| around| about)?|began(?: at| around)?|down since)\s+"
    r"(?:about |around |at )?([0-2]?\d)(?::([0-5]\d))?\s*(am|pm|a\.m\.|p\.m\.)?"
)


def said_start(text: str) -> tuple[int, int, str] | None:
    """The clock time the customer says it started (hour, minute, the words), if they give one."""
    folded = fold(text)
    found = _JA_TIME.search(folded)
    if found:
        ampm, hour_text, suffix, colon_minutes = found.groups()
        hour = int(hour_text)
        minute = 0
        if colon_minutes:
            minute = int(colon_minutes)
        elif suffix == "半":
            minute = 30
        elif suffix:
            minute = int(re.sub(r"\D", "", suffix) or 0)
        if ampm == "午後" and hour < 12:
            hour += 12
        if hour < 24:
            return hour, minute, found.group(0).strip()
    found = _EN_TIME.search(folded)
    if found:
        hour_text, minute_text, ampm = found.groups()
        hour = int(hour_text)
        if ampm and ampm.startswith("p") and hour < 12:
            hour += 12
        if ampm and ampm.startswith("a") and hour == 12:
            hour = 0
        if hour < 24:
            return hour, int(minute_text or 0), found.group(0).strip()
    return None


def _first(patterns: Sequence[str], folded: str) -> str | None:
    for pattern in patterns:
        found = re.search(pattern, folded)
        if found:
            return found.group(0)
    return None


# "Nobody told us": the customer says no notice, mail or update reached them.
NO_NOTICE = (
    r"(連絡|お知らせ|通知|告知|案内|アナウンス|報告)(が|も|は)?(一切|何も|なにも|全く|まったく)?"
    r"(ない|無い|なかった|無かった|ありません|ありませんでした|来ない|こない|来ていない|きていない)",
    r"(何の|なんの|一言の?)(連絡|お知らせ|説明)(も)?(ない|無い|なく)",
    r"no (notice|notification|update|announcement|communication|email|word)",
    r"(nobody|no one|no-one) (told|informed|notified)",
    r"(never|not) (been )?(told|informed|notified)",
    r"heard nothing",
)
# A refund, credit or compensation the customer expects.
COMPENSATION = (
    r"返金",
    r"補償",
    r"賠償",
    r"値引",
    r"減額",
    r"クレジット",
    r"料金.{0,6}(返|戻)",
    r"refund",
    r"compensat",
    r"credit",
    r"money back",
    r"reimburs",
)
# "It is still not working" — said after the record marked recovery.
STILL_DOWN = (
    r"(まだ|いまだに|未だに|依然).{0,12}(使えない|使えません|つながらない|繋がらない|できない|できません|出来ない|落ちて|止まって|エラー)",
    r"(復旧|回復)(して|し)?(いない|いません|ない)",
    r"直って(いない|いません|ない)",
    r"still (down|not working|broken|failing|unavailable|erroring)",
    r"(is|are)n't working yet",
    r"not (fixed|working) yet",
)


def check_start(text: str, started_local: dt.datetime, *, recorded: str) -> Disagreement | None:
    """The customer's start time against the record's (both clock times in the team's zone).

    Compared on the day of the record's start; a said time more than
    ``START_TOLERANCE`` away (either side) is a disagreement.
    """
    said = said_start(text)
    if said is None:
        return None
    hour, minute, words = said
    candidate = started_local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if abs(candidate - started_local) <= START_TOLERANCE:
        return None
    return Disagreement(
        "started_at",
        N_("The customer says it started around {said}; the record says {recorded}."),
        {"said": f"{hour:02d}:{minute:02d}", "recorded": recorded},
        words,
    )


def check_notice(text: str, told: int, *, first: str | None) -> Disagreement | None:
    """The customer says nobody told them, while ``told`` notices or replies were sent."""
    words = _first(NO_NOTICE, fold(text))
    if words is None or told == 0:
        return None
    return Disagreement(
        "notice",
        N_(
            "The customer says no notice reached them; {n} notice(s) or replies were sent, "
            "the first at {first}."
        ),
        {"n": told, "first": first or "-"},
        words,
    )


def check_compensation(text: str, promised: bool) -> Disagreement | None:
    """The customer expects a refund, credit or compensation that nobody has promised."""
    words = _first(COMPENSATION, fold(text))
    if words is None or promised:
        return None
    return Disagreement(
        "compensation",
        N_("The customer expects a refund or compensation; nobody has promised one."),
        {},
        words,
    )


def check_components(
    text: str, affected: Sequence[Sequence[str]], known: Sequence[Sequence[str]]
) -> list[Disagreement]:
    """Components the customer names that the incident does not list as affected.

    ``known`` is every component with its names (ja, en); ``affected`` the
    incident's. A name matches when its folded form appears in the folded text.
    """
    folded = fold(text)
    hit = {n for names in affected for n in names if n}
    out: list[Disagreement] = []
    for names in known:
        found = next((n for n in names if n and fold(n) in folded), None)
        if found is None or any(n in hit for n in names):
            continue
        out.append(
            Disagreement(
                "component",
                N_(
                    "The customer mentions {component}, which the record does not list as affected."
                ),
                {"component": names[0]},
                found,
            )
        )
    return out


def check_recovery(text: str, *, resolved: str | None) -> Disagreement | None:
    """The customer says it still does not work, while the record says it recovered."""
    if resolved is None:
        return None
    words = _first(STILL_DOWN, fold(text))
    if words is None:
        return None
    return Disagreement(
        "recovery",
        N_("The customer says it still does not work; the record says it recovered at {when}."),
        {"when": resolved},
        words,
    )
