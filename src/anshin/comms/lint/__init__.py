"""The message check (伝え方チェック): a linter for customer-facing outage messages.

Every text sent to customers — notices, updates, replies, phone scripts — is
checked before it is published and while it is typed, against the wording
rules of the guides: no guesses (R3), plain words (R6), an apology (R12),
empathy (R13), no excuses (R14), deadlines with a time (R15), no vague
responsibility (R16), the knowledge base's expressions to avoid (R17), and the
time of the next update (R3, R5).

Usage::

    from anshin.comms.lint import check, has_errors
    findings = check(text, kind="first_notice", locale="ja")
    if has_errors(findings): ...

The rules and the data-file format are described in ``docs/message-check.md``.
"""

from __future__ import annotations

from anshin.comms.lint.engine import KINDS, check, has_errors
from anshin.comms.lint.finding import SEVERITIES, Finding, IncidentFacts
from anshin.comms.lint.lexicon import EXTRA_DIR_ENV, LOCALES, LexiconError

__all__ = [
    "EXTRA_DIR_ENV",
    "KINDS",
    "LOCALES",
    "SEVERITIES",
    "Finding",
    "IncidentFacts",
    "LexiconError",
    "check",
    "has_errors",
]
