"""``check()``: which rules apply to which kind of message, and in what order.

Every customer-facing text passes through here before it is published, and
while it is typed, so the whole check is pure (no I/O beyond the cached data
files) and fast: one normalisation, one masking, then compiled patterns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from zoneinfo import ZoneInfo

from anshin.comms.kinds import KINDS
from anshin.comms.lint import promise, rules
from anshin.comms.lint.finding import Finding, IncidentFacts
from anshin.comms.lint.lexicon import LOCALES, Entry, compile_pattern, load, word_pattern
from anshin.comms.lint.segment import prepare

# R12: messages to customers we have let down carry an apology.
APOLOGY_KINDS = frozenset(
    {"first_notice", "update", "no_news_update", "resolution", "reopened", "inquiry_reply"}
)
# R3/R5: every notice and update says when the next one comes — even with no news,
# and when a resolved incident comes back (the cadence starts again).
NEXT_UPDATE_KINDS = frozenset({"first_notice", "update", "no_news_update", "reopened"})
# R13: kinds that speak to customers affected right now (not announcements).
EMPATHY_KINDS = frozenset(
    {
        "first_notice",
        "update",
        "no_news_update",
        "resolution",
        "reopened",
        "inquiry_ack",
        "inquiry_reply",
        "key_client_followup",
        "phone_script",
    }
)
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@lru_cache(maxsize=64)
def _avoid_entries(pairs: tuple[tuple[str, str], ...]) -> tuple[Entry, ...]:
    """R17: the knowledge base's expressions to avoid, as entries of the avoid rule."""
    entries: list[Entry] = []
    for expression, alternative in pairs:
        if not expression.strip():
            continue
        entries.append(
            Entry(
                rule="avoid-expression",
                regex=compile_pattern(word_pattern(expression.strip()), "knowledge base"),
                severity="warning",
                source="knowledge base",
                alternative=alternative.strip() or None,
            )
        )
    return tuple(entries)


def check(
    text: str,
    *,
    kind: str,
    locale: str = "ja",
    facts: IncidentFacts | None = None,
    avoid_expressions: Sequence[tuple[str, str]] = (),
) -> list[Finding]:
    """Check one customer-facing text and return its findings, sorted by position.

    ``kind`` is one of :data:`KINDS` and decides which "something is missing"
    rules apply; ``locale`` (``"ja"`` or ``"en"``) picks the word lists and the
    language of the messages. ``facts`` enables ``unconfirmed-as-fact`` (R3):
    without the incident record we cannot tell an estimate from a fact.
    ``facts.next_update_at`` enables ``next-update-mismatch`` (R3/R5): the
    time the text promises must be the one the message is published with.
    ``avoid_expressions`` are (expression, recommended alternative) pairs from
    the knowledge base (R17), checked on top of the shipped list.

    Raises ``ValueError`` for an unknown kind or locale, and
    :class:`~anshin.comms.lint.lexicon.LexiconError` (a ``ValueError``) when a
    data file is malformed.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of: {', '.join(KINDS)}")
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}; expected one of: {', '.join(LOCALES)}")
    lex = load(locale)
    prep = prepare(text, locale)
    findings: list[Finding] = []
    for rule, entries in lex.entries.items():
        if rule == "avoid-expression":
            entries = _avoid_entries(tuple((e, a) for e, a in avoid_expressions)) + entries
        findings.extend(rules.entry_findings(prep, lex, rule, entries, facts))
    if kind in APOLOGY_KINDS:
        findings.extend(rules.missing_apology(prep, lex))
    if kind in NEXT_UPDATE_KINDS:
        findings.extend(rules.missing_next_update(prep, lex))
        if facts is not None and facts.next_update_at is not None:
            local = facts.next_update_at.astimezone(ZoneInfo(facts.timezone))
            findings.extend(promise.next_update_mismatch(prep, lex, local))
    if kind in EMPATHY_KINDS:
        findings.extend(rules.missing_empathy(prep, lex))
    findings.extend(rules.long_sentences(prep, lex))
    return sorted(findings, key=lambda f: (f.start, f.end, _SEVERITY_ORDER[f.severity], f.rule))


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when any finding blocks publishing (severity ``error``)."""
    return any(f.severity == "error" for f in findings)
