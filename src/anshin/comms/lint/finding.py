"""The values the message check returns and takes: findings and incident facts.

Kept apart from the engine so that the CLI, the API and the pages can import
them without loading any word list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

SEVERITIES: tuple[str, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One problem in a customer-facing text.

    ``start``/``end`` are Python ``str`` indices into the text exactly as the
    caller passed it (before any normalisation), so an editor can underline
    ``text[start:end]``. Checks about something missing (no apology, no time
    for the next update) point at the sentence where the missing words belong.
    ``message`` and ``suggestion`` are in the locale of the checked text.
    """

    rule: str
    severity: str  # "error" | "warning" | "info"
    start: int
    end: int
    message: str
    suggestion: str

    def as_dict(self) -> dict[str, str | int]:
        """The JSON shape shared by the CLI and the API."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "start": self.start,
            "end": self.end,
            "message": self.message,
            "suggestion": self.suggestion,
        }


@dataclass(frozen=True)
class IncidentFacts:
    """What the incident record says is confirmed (R3).

    An estimated recovery time or a suspected cause may only be written as a
    fact once the record marks it confirmed; until then the text must say it
    is an estimate that is still being confirmed.

    ``next_update_at`` is the time the message will be published with (R5),
    read in ``timezone``: the text's promised time must agree with it
    (rule ``next-update-mismatch``). None skips that rule.
    """

    recovery_confirmed: bool = False
    cause_confirmed: bool = False
    next_update_at: dt.datetime | None = None
    timezone: str = "Asia/Tokyo"
