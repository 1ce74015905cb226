"""How the console shows findings: in reading order, overlapping ones merged, named plainly.

A writer fixing a draft reads it from the top, so findings come in the order
of the text. When two rules flag the same words of one sentence
(「委託先の不具合によるもの」 is an excuse and may also carry jargon) they
are one entry with every rule named, not two entries underlining the same
words. Rule ids (``vague-deadline``) are for data files and the API; the
console names each rule in the reader's language (``RULE_NAMES`` are msgids
translated in ``lint.po``).

Findings about the sentence as a whole (something missing, a sentence too
long) are never merged: they point at a sentence, not at words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from anshin.comms.lint.finding import Finding
from anshin.comms.lint.segment import prepare
from anshin.i18n import N_

RULE_NAMES: dict[str, str] = {
    "speculation": N_("Guess"),
    "jargon": N_("Technical word"),
    "missing-apology": N_("No apology"),
    "missing-next-update": N_("No time for the next update"),
    "next-update-mismatch": N_("Next update time differs from the text"),
    "vague-deadline": N_("Promise without a time"),
    "excuse": N_("Excuse or blame"),
    "vague-responsibility": N_("Vague cause"),
    "missing-empathy": N_("No word for the customer's situation"),
    "unconfirmed-as-fact": N_("Unconfirmed stated as fact"),
    "avoid-expression": N_("Expression to avoid"),
    "long-sentence": N_("Long sentence"),
    "casual-wording": N_("Casual wording"),
    "unfounded-promise": N_("Unfounded promise"),
}
SENTENCE_RULES = frozenset(
    {"missing-apology", "missing-next-update", "missing-empathy", "long-sentence"}
)
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def rule_name(rule: str) -> str:
    """The msgid naming ``rule`` for people (an unknown rule keeps its id)."""
    return RULE_NAMES.get(rule, rule)


@dataclass(frozen=True)
class FindingGroup:
    """One entry of the console's list: a span and every finding on it."""

    start: int
    end: int
    findings: tuple[Finding, ...]

    @property
    def severity(self) -> str:
        """The most serious severity of the group (an error blocks publishing)."""
        return min((f.severity for f in self.findings), key=lambda s: _SEVERITY_ORDER.get(s, 3))

    @property
    def rules(self) -> tuple[str, ...]:
        """The rule ids, in the order their findings appear, without repeats."""
        return tuple(dict.fromkeys(f.rule for f in self.findings))


def _sentence_bounds(text: str, locale: str) -> list[tuple[int, int]]:
    prep = prepare(text, locale)
    return [prep.to_original(start, end) for start, end in prep.sentences]


def _sentence(bounds: list[tuple[int, int]], offset: int) -> int:
    for number, (start, end) in enumerate(bounds):
        if start <= offset < end:
            return number
    return -1


def group_findings(findings: Iterable[Finding], text: str, locale: str) -> list[FindingGroup]:
    """The findings in reading order, overlapping word findings of a sentence merged."""
    ordered = sorted(
        findings, key=lambda f: (f.start, f.end, _SEVERITY_ORDER.get(f.severity, 3), f.rule)
    )
    bounds = _sentence_bounds(text, locale) if text else []
    groups: list[FindingGroup] = []
    open_index = -1  # the word group the next finding may join
    open_sentence = -2
    for finding in ordered:
        if finding.rule in SENTENCE_RULES or finding.end <= finding.start:
            groups.append(FindingGroup(finding.start, finding.end, (finding,)))
            continue
        sentence = _sentence(bounds, finding.start)
        current = groups[open_index] if open_index >= 0 else None
        if current is not None and sentence == open_sentence and finding.start < current.end:
            groups[open_index] = FindingGroup(
                current.start, max(current.end, finding.end), (*current.findings, finding)
            )
            continue
        groups.append(FindingGroup(finding.start, finding.end, (finding,)))
        open_index = len(groups) - 1
        open_sentence = sentence
    return sorted(groups, key=lambda g: (g.start, g.end))
