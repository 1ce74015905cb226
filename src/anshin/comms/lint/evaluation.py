"""Score the message check against real published notices labelled by hand.

The corpus (``tests/data/notices/*.toml``, described in its README) holds what
organisations really wrote during outages, with the spans a careful support
lead would flag. This module reads it and compares findings with labels, so
``bench/lint_corpus.py`` can report recall and false alarms per rule and
``tests/test_lint_corpus.py`` can keep them from falling back. It takes the
findings as plain dicts, so the same scoring can judge another version of the
check (the bench runs the one on ``main`` side by side).

Matching is deliberately forgiving about *where* and strict about *what*: a
finding matches a label when the rule agrees (or is one the label allows in
``also``) and the spans overlap; a missing-X finding matches a notice-level
label. ``vague-deadline`` is reported once per sentence, so there the same
sentence is enough.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anshin.comms.lint.segment import prepare

# Rules not measured on published text: a character count, and a rule that
# needs the incident record (README "How the labels were made").
UNMEASURED = frozenset({"long-sentence", "unconfirmed-as-fact"})
MISSING_RULES = frozenset({"missing-apology", "missing-next-update", "missing-empathy"})
SENTENCE_RULES = frozenset({"vague-deadline"})
SPLITS = ("dev", "held-out")


@dataclass(frozen=True)
class Label:
    """One span (every occurrence of ``quote``) a lead would flag under ``rule``."""

    rule: str
    spans: tuple[tuple[int, int], ...]
    also: frozenset[str] = frozenset()
    quote: str = ""

    def accepts(self, rule: str) -> bool:
        return rule == self.rule or rule in self.also


@dataclass(frozen=True)
class Notice:
    """One published notice with its labels."""

    id: str
    locale: str
    kind: str
    split: str
    org_kind: str
    source: str
    text: str
    labels: tuple[Label, ...]
    missing: frozenset[str]
    ok: tuple[Label, ...] = ()


def _spans(
    text: str, quote: str, occurrence: int | None, where: str
) -> tuple[tuple[int, int], ...]:
    found: list[tuple[int, int]] = []
    start = text.find(quote)
    while start >= 0:
        found.append((start, start + len(quote)))
        start = text.find(quote, start + 1)
    if not found:
        raise ValueError(f"{where}: quote {quote!r} is not in the text")
    if occurrence is not None:
        if not 1 <= occurrence <= len(found):
            raise ValueError(f"{where}: quote {quote!r} has no occurrence {occurrence}")
        return (found[occurrence - 1],)
    return tuple(found)


def _labels(raw: Sequence[Mapping[str, Any]], text: str, where: str) -> tuple[Label, ...]:
    labels: list[Label] = []
    for number, entry in enumerate(raw, start=1):
        quote = entry["quote"]
        spans = _spans(text, quote, entry.get("occurrence"), f"{where} #{number}")
        labels.append(Label(entry["rule"], spans, frozenset(entry.get("also", ())), quote))
    return tuple(labels)


def load(folder: Path) -> list[Notice]:
    """Every notice of every ``*.toml`` file in ``folder`` (the locale is the file's stem)."""
    notices: list[Notice] = []
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        for raw in data.get("notice", []):
            where = f"{path.name} {raw.get('id')}"
            text = raw["text"]
            if raw.get("split") not in SPLITS:
                raise ValueError(f"{where}: split must be one of {SPLITS}")
            notices.append(
                Notice(
                    id=raw["id"],
                    locale=path.stem,
                    kind=raw["kind"],
                    split=raw["split"],
                    org_kind=raw.get("org_kind", ""),
                    source=raw.get("source", ""),
                    text=text,
                    labels=_labels(raw.get("flag", []), text, f"{where} flag"),
                    missing=frozenset(raw.get("missing", [])),
                    ok=_labels(raw.get("ok", []), text, f"{where} ok"),
                )
            )
    return notices


@dataclass
class RuleScore:
    """Counts for one rule: labels and how many were found; findings and how many were false."""

    labelled: int = 0
    found: int = 0
    findings: int = 0
    false_alarms: int = 0

    @property
    def recall(self) -> float | None:
        return self.found / self.labelled if self.labelled else None

    @property
    def false_alarm_rate(self) -> float | None:
        return self.false_alarms / self.findings if self.findings else None

    def add(self, other: RuleScore) -> None:
        self.labelled += other.labelled
        self.found += other.found
        self.findings += other.findings
        self.false_alarms += other.false_alarms


@dataclass
class Miss:
    """A label the check did not find, or a finding no label asked for."""

    notice: str
    rule: str
    text: str


@dataclass
class Score:
    """Per-rule counts plus the misses and false alarms, for a set of notices."""

    rules: dict[str, RuleScore] = field(default_factory=dict)
    missed: list[Miss] = field(default_factory=list)
    false_alarms: list[Miss] = field(default_factory=list)

    def rule(self, name: str) -> RuleScore:
        return self.rules.setdefault(name, RuleScore())

    @property
    def total(self) -> RuleScore:
        total = RuleScore()
        for score in self.rules.values():
            total.add(score)
        return total


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    if a[0] == a[1]:  # an empty span (a missing-X pointer) overlaps what contains it
        return b[0] <= a[0] <= b[1]
    return a[0] < b[1] and b[0] < a[1]


def _sentence_of(bounds: list[tuple[int, int]], offset: int) -> int:
    for number, (start, end) in enumerate(bounds):
        if start <= offset < end:
            return number
    return -1


def score_notice(notice: Notice, findings: Iterable[Mapping[str, Any]], score: Score) -> None:
    """Add one notice's labels and findings (dicts with rule/start/end) to ``score``."""
    prep = prepare(notice.text, notice.locale)
    bounds = [prep.to_original(s, e) for s, e in prep.sentences]
    measured = [f for f in findings if f["rule"] not in UNMEASURED]
    found_labels: set[int] = set()
    for finding in measured:
        rule, span = finding["rule"], (int(finding["start"]), int(finding["end"]))
        score.rule(rule).findings += 1
        if rule in MISSING_RULES:
            if rule not in notice.missing:
                score.rule(rule).false_alarms += 1
                score.false_alarms.append(Miss(notice.id, rule, "(whole notice)"))
            continue
        matched = False
        for number, label in enumerate(notice.labels):
            if not label.accepts(rule):
                continue
            hit = any(_overlaps(span, s) for s in label.spans)
            if not hit and rule in SENTENCE_RULES and label.rule in SENTENCE_RULES:
                sentence = _sentence_of(bounds, span[0])
                hit = sentence >= 0 and any(
                    _sentence_of(bounds, s[0]) == sentence for s in label.spans
                )
            if hit:
                matched = True
                found_labels.add(number)
        if not matched:
            score.rule(rule).false_alarms += 1
            score.false_alarms.append(Miss(notice.id, rule, notice.text[span[0] : span[1]][:60]))
    for number, label in enumerate(notice.labels):
        score.rule(label.rule).labelled += 1
        if number in found_labels:
            score.rule(label.rule).found += 1
        else:
            score.missed.append(Miss(notice.id, label.rule, label.quote[:60]))
    fired = {f["rule"] for f in measured}
    for rule in sorted(notice.missing):
        score.rule(rule).labelled += 1
        if rule in fired:
            score.rule(rule).found += 1
        else:
            score.missed.append(Miss(notice.id, rule, "(whole notice)"))


Checker = Callable[[Notice], list[Mapping[str, Any]]]


def evaluate(notices: Iterable[Notice], findings_of: Checker) -> Score:
    """Score ``findings_of`` (notice -> finding dicts) over ``notices``."""
    score = Score()
    for notice in notices:
        score_notice(notice, findings_of(notice), score)
    return score


def current_check(notice: Notice) -> list[Mapping[str, Any]]:
    """The check in this checkout, as the console runs it on a draft (no incident facts)."""
    from anshin.comms.lint import check

    return [f.as_dict() for f in check(notice.text, kind=notice.kind, locale=notice.locale)]
