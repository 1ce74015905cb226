"""The rules of the message check: pure functions from a prepared text to findings.

Two families:

* entry rules find expressions listed in the data files — speculation (R3),
  jargon (R6), vague deadlines (R15), excuses (R14), vague responsibility
  (R16), expressions to avoid (R17), unconfirmed facts (R3), casual wording
  and unfounded promises — and then
  judge the context (negation, explanation, a time in the same sentence…)
  before reporting, because the same words can be fine or wrong;
* structure rules look for what must be there — an apology (R12), the time of
  the next update (R3, R5), a word of empathy (R13) — or for sentences too
  long to read in a hurry.

Matching runs on ``Prepared.masked`` so placeholders and quotations never fire;
offsets are mapped back to the original text for the findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from anshin.comms.lint.finding import Finding, IncidentFacts
from anshin.comms.lint.lexicon import Entry, Lexicon
from anshin.comms.lint.messages import default, render
from anshin.comms.lint.segment import PLACEHOLDER, QUOTED, Prepared

# How many characters a placeholder counts for in sentence length: it will be
# replaced by a name, a time or a component, not by the template code itself.
PLACEHOLDER_LENGTH = 5
# Context a rule may look at around a match. Every judgement is local (a
# negation right after, an explanation in brackets, a time in the same
# sentence); the cap keeps a 20,000-character run-on "sentence" linear.
WINDOW = 200
_PLACEHOLDER_RUN = re.compile(f"{PLACEHOLDER}+")


class Context:
    """Where a match sits: its sentence, and the text before and after it in that sentence."""

    __slots__ = ("after", "before", "next_sentence", "sentence")

    def __init__(self, prep: Prepared, start: int, end: int) -> None:
        number = prep.sentence_at(start)
        if prep.sentences:
            s_start, s_end = prep.sentences[number]
        else:
            s_start, s_end = 0, len(prep.masked)
        s_start = max(min(s_start, start), start - WINDOW)
        s_end = min(max(s_end, end), end + WINDOW)
        masked = prep.masked
        self.sentence = masked[s_start:s_end]
        self.before = masked[s_start:start]
        self.after = masked[end:s_end]
        if number + 1 < len(prep.sentences):
            n_start, n_end = prep.sentences[number + 1]
            self.next_sentence = masked[n_start : min(n_end, n_start + WINDOW)]
        else:
            self.next_sentence = ""


def _negated(lex: Lexicon, ctx: Context) -> bool:
    """The expression is denied ("推測ではなく", "not a guess"), not asserted."""
    return bool(
        lex.marker("negation_after").match(ctx.after)
        or lex.marker("negation_before").search(ctx.before)
    )


def _guarded(entry: Entry, ctx: Context) -> bool:
    """The entry's own exceptions (``unless_*`` in the data file) apply."""
    return bool(
        (entry.unless_before and entry.unless_before.search(ctx.before))
        or (entry.unless_after and entry.unless_after.match(ctx.after))
        or (entry.unless_sentence and entry.unless_sentence.search(ctx.sentence))
    )


def _hedged(lex: Lexicon, ctx: Context) -> bool:
    """R3: the sentence says this is unconfirmed, or the next one does about the same estimate.

    The next sentence only counts when it continues the same point
    (「ただし…」「この時刻は前後する可能性があります」): an unrelated
    「原因は現在確認中です」 must not excuse a recovery time stated as fact.
    """
    hedge = lex.marker("hedge")
    if hedge.search(ctx.sentence):
        return True
    return bool(
        lex.marker("continuation").search(ctx.next_sentence) and hedge.search(ctx.next_sentence)
    )


def _explained(lex: Lexicon, ctx: Context) -> bool:
    """R6: the technical word is explained in brackets or with 「〜とは」 where it is used."""
    return bool(
        lex.marker("explanation_after").match(ctx.after)
        or lex.marker("explanation_before").search(ctx.before)
    )


def _skip(rule: str, entry: Entry, lex: Lexicon, ctx: Context, facts: IncidentFacts | None) -> bool:
    """Rule-specific judgement of meaning: True when this match is not a problem."""
    if _guarded(entry, ctx):
        return True
    if rule in ("speculation", "excuse", "vague-responsibility", "unconfirmed-as-fact") and (
        _negated(lex, ctx)
    ):
        return True
    if rule == "vague-deadline":
        # R15: fine when the sentence gives a date or time, when the contact is made
        # right here (「以下のとおりご案内いたします」), or when the words speak of the
        # past ("we worked as quickly as possible" promises nothing).
        return bool(
            lex.marker("time").search(ctx.sentence)
            or lex.marker("announcement").search(ctx.sentence)
            or (
                lex.marker("past").search(ctx.before)
                and not lex.marker("future").search(
                    ctx.sentence[: len(ctx.sentence) - len(ctx.after)]
                )
            )
        )
    if rule == "excuse":  # R14: naming a supplier is fine once we own the result
        ownership = lex.marker("ownership")
        return bool(ownership.search(ctx.sentence) or ownership.search(ctx.next_sentence))
    if rule == "vague-responsibility":  # R16: fine when the concrete cause follows
        concrete = lex.marker("concrete")
        return bool(concrete.search(ctx.sentence) or concrete.match(ctx.next_sentence.lstrip()))
    if rule == "unconfirmed-as-fact":  # R3: only against the incident record
        if facts is None:
            return True
        confirmed = facts.recovery_confirmed if entry.about == "recovery" else facts.cause_confirmed
        return confirmed or _hedged(lex, ctx)
    return False


def _texts(entry: Entry, rule: str, locale: str, term: str) -> tuple[str, str]:
    """Message and suggestion: the entry's own wording, else the rule's default."""
    key = rule
    if rule == "unconfirmed-as-fact":
        key = f"{rule}-{entry.about}"
    elif rule in ("jargon", "avoid-expression") and not entry.alternative:
        key = f"{rule}-no-alternative"
    alternative = entry.alternative or ""
    message, suggestion = default(key, locale, term=term, alternative=alternative)
    if entry.message:
        message = render(entry.message, term, alternative)
    if entry.suggestion:
        suggestion = render(entry.suggestion, term, alternative)
    return message, suggestion


def entry_findings(
    prep: Prepared,
    lex: Lexicon,
    rule: str,
    entries: Sequence[Entry],
    facts: IncidentFacts | None = None,
) -> list[Finding]:
    """Findings of one entry rule over the whole text."""
    if rule == "unconfirmed-as-fact" and facts is None:
        return []
    found: list[Finding] = []
    sentence_of: dict[Finding, int] = {}
    entry_of: dict[Finding, int] = {}
    explained: set[str] = set()  # a word explained once need not be explained again
    for number, entry in enumerate(entries):
        for match in entry.regex.finditer(prep.masked):
            start, end = match.span()
            text = match.group()
            if end <= start or QUOTED in text or not text.strip(PLACEHOLDER):
                continue
            ctx = Context(prep, start, end)
            if rule == "jargon":
                word = text.casefold()
                if word in explained:
                    continue
                if _explained(lex, ctx):
                    explained.add(word)
                    continue
            if _skip(rule, entry, lex, ctx, facts):
                continue
            o_start, o_end = prep.to_original(start, end)
            message, suggestion = _texts(entry, rule, lex.locale, prep.original[o_start:o_end])
            finding = Finding(rule, entry.severity, o_start, o_end, message, suggestion)
            found.append(finding)
            sentence_of[finding] = prep.sentence_at(start)
            entry_of.setdefault(finding, number)
    if rule != "vague-deadline":
        return drop_overlaps(found)
    # R15: one missing time per sentence is enough to fix. The entries of the lowest
    # rank name it best (「早急に」 rather than the contact it qualifies).
    by_sentence: dict[int, list[Finding]] = {}
    for finding in found:
        by_sentence.setdefault(sentence_of[finding], []).append(finding)
    kept: list[Finding] = []
    for candidates in by_sentence.values():
        rank = min(entries[entry_of[f]].rank for f in candidates)
        kept.append(drop_overlaps(f for f in candidates if entries[entry_of[f]].rank == rank)[0])
    return sorted(kept, key=lambda f: f.start)


def drop_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Within one rule, keep the first and longest of overlapping findings."""
    kept: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if kept and finding.start < kept[-1].end:
            continue
        kept.append(finding)
    return kept


def _sentence_span(prep: Prepared, which: int) -> tuple[int, int]:
    """Original span of the first (0) or last (-1) sentence, where a missing line belongs."""
    if not prep.sentences:
        return 0, 0
    start, end = prep.sentences[which]
    return prep.to_original(start, end)


def _missing(prep: Prepared, rule: str, locale: str, severity: str, which: int) -> Finding:
    message, suggestion = default(rule, locale)
    start, end = _sentence_span(prep, which)
    return Finding(rule, severity, start, end, message, suggestion)


# Every line break between two Japanese letters, for the "is it there at all" checks:
# a short hard-wrapped line (「誠に申し訳\nございません」) still apologises.
_JA_BREAK = re.compile(
    r"(?<=[\u3041-\u30ff\u4e00-\u9fff])[ \t]*\n[ \t]*(?=[\u3041-\u30ff\u4e00-\u9fff])"
)


def _present(marker: re.Pattern[str], prep: Prepared) -> bool:
    """The marker is somewhere in the text, also across any Japanese line break."""
    return bool(marker.search(prep.masked) or marker.search(_JA_BREAK.sub("", prep.masked)))


def missing_apology(prep: Prepared, lex: Lexicon) -> list[Finding]:
    """R12: customers who were let down get an apology, even before facts are confirmed."""
    if _present(lex.marker("apology"), prep):
        return []
    return [_missing(prep, "missing-apology", lex.locale, "error", 0)]


def promises_next_update(prep: Prepared, lex: Lexicon) -> bool:
    """R3/R5: some sentence pairs a future time with contacting the customer.

    A time followed by 「から」「に発生」 ("since 14:05") is when the trouble
    started, not a promise, so it does not count.
    """
    time, contact = lex.marker("time"), lex.marker("contact")
    past_after, past_before = lex.marker("past_time_after"), lex.marker("past_time_before")
    for start, end in prep.sentences:
        sentence = prep.masked[start:end]
        if not contact.search(sentence):
            continue
        for match in time.finditer(sentence):
            if past_after.match(sentence[match.end() :]):
                continue
            if past_before.search(sentence[max(0, match.start() - WINDOW) : match.start()]):
                continue
            return True
    return False


def missing_next_update(prep: Prepared, lex: Lexicon) -> list[Finding]:
    """R3/R5: every notice and update says when the next contact comes."""
    if promises_next_update(prep, lex):
        return []
    return [_missing(prep, "missing-next-update", lex.locale, "error", -1)]


def missing_empathy(prep: Prepared, lex: Lexicon) -> list[Finding]:
    """R13: a word that pictures the customer's situation, beyond the formula."""
    if _present(lex.marker("empathy"), prep):
        return []
    return [_missing(prep, "missing-empathy", lex.locale, "info", 0)]


def long_sentences(prep: Prepared, lex: Lexicon) -> list[Finding]:
    """A reader under stress loses a sentence longer than the limit (R6: plain words)."""
    info = lex.limits["long_sentence_info"]
    warning = lex.limits["long_sentence_warning"]
    found: list[Finding] = []
    for start, end in prep.sentences:
        sentence = prep.masked[start:end]
        length = len(_PLACEHOLDER_RUN.sub(PLACEHOLDER * PLACEHOLDER_LENGTH, sentence))
        if length <= info:
            continue
        severity, limit = ("warning", info) if length > warning else ("info", info)
        message, suggestion = default("long-sentence", lex.locale, length=length, limit=limit)
        o_start, o_end = prep.to_original(start, end)
        found.append(Finding("long-sentence", severity, o_start, o_end, message, suggestion))
    return found
