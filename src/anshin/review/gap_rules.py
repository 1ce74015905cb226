"""The gap analysis as pure functions: what customers asked against what they were told (R30).

Customers write because they want to know something: when the service is
back, how to work around the problem, what happened. The triage stores that
as the inquiry's intent. This module sets each inquiry against the public
update customers could read when they wrote (the latest one published at or
before its receipt, as the status page showed it) and reports the periods in
which people asked for something that update did not give (docs/review.md
"Gaps").

What an update gave is decided by :func:`gave` from :class:`Told`, which the
caller fills from stored facts only (``review.gaps``). Periods are 30 minutes
on the hour and half hour; consecutive periods with the same gap merge into one.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

PERIOD = dt.timedelta(minutes=30)
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class Need(StrEnum):
    """What a customer wanted to be told; each is answered by one content of an update."""

    ESTIMATE = "estimate"  # when will it be back
    WORKAROUND = "workaround"  # how can I get on meanwhile
    CAUSE = "cause"  # what happened


class GapKind(StrEnum):
    """Why an inquiry's need went unanswered (the order is the order gaps are listed in)."""

    NO_ESTIMATE = "no_estimate"  # no update gave a recovery estimate
    ESTIMATE_PASSED = "estimate_passed"  # the estimate customers could read had already passed
    NO_WORKAROUND = "no_workaround"
    NO_CAUSE = "no_cause"


# R30: the intents the gap analysis judges, and what answers each. Complaints, compensation
# requests and data concerns are counted per period but no content of an update answers them.
NEED_OF_INTENT: dict[str, Need] = {
    "status_inquiry": Need.ESTIMATE,
    "workaround_request": Need.WORKAROUND,
    "technical_question": Need.CAUSE,
}
COUNTED_INTENTS: tuple[str, ...] = (
    "status_inquiry",
    "workaround_request",
    "technical_question",
    "complaint",
    "compensation_request",
    "data_concern",
)


@dataclass(frozen=True)
class Told:
    """What one public update told customers, from the incident record as it stood when the
    update was published (``review.gaps`` reads it from the incident's events)."""

    update_id: int
    published_at: dt.datetime
    resolved: bool  # the resolution (or a later report notice): the service is back
    recovery_at: dt.datetime | None  # the estimated recovery time the record held
    workaround: bool  # the record held a workaround
    cause: bool  # the record held a confirmed cause (R3: an unconfirmed one is never given)


@dataclass(frozen=True)
class Asked:
    """One inquiry on the incident: its reference, when it came, its triage intent."""

    reference: str
    received_at: dt.datetime
    intent: str


@dataclass(frozen=True)
class Gap:
    """Inquiries of one need, in consecutive periods, that met an update not giving it.

    ``updates`` are the public updates those customers could read (empty when
    nothing was published yet); ``end`` is the end of the last period.
    """

    kind: GapKind
    start: dt.datetime
    end: dt.datetime
    inquiries: tuple[str, ...]
    updates: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.inquiries)

    @property
    def need(self) -> Need:
        return NEED_OF_KIND[self.kind]


NEED_OF_KIND: dict[GapKind, Need] = {
    GapKind.NO_ESTIMATE: Need.ESTIMATE,
    GapKind.ESTIMATE_PASSED: Need.ESTIMATE,
    GapKind.NO_WORKAROUND: Need.WORKAROUND,
    GapKind.NO_CAUSE: Need.CAUSE,
}


def period_start(at: dt.datetime) -> dt.datetime:
    """The start of the 30-minute period ``at`` falls in (on the hour and half hour, UTC grid:
    the local hour and half hour in every zone whose offset is whole or half hours)."""
    return _EPOCH + ((at - _EPOCH) // PERIOD) * PERIOD


def latest(told: Sequence[Told], at: dt.datetime) -> Told | None:
    """The public update customers could read at ``at``: the last published at or before it."""
    seen = [t for t in told if t.published_at <= at]
    return max(seen, key=lambda t: (t.published_at, t.update_id)) if seen else None


def unanswered(need: Need, told: Told | None, at: dt.datetime) -> GapKind | None:
    """Why ``told`` (the update readable at ``at``) leaves ``need`` open, or None if it answers.

    A resolution answers "when" and makes a workaround moot. An estimate that
    had passed by ``at`` no longer answers "when" (the customer is asking
    because it passed).
    """
    if need is Need.ESTIMATE:
        if told is not None and told.resolved:
            return None
        if told is None or told.recovery_at is None:
            return GapKind.NO_ESTIMATE
        return None if told.recovery_at >= at else GapKind.ESTIMATE_PASSED
    if need is Need.WORKAROUND:
        answered = told is not None and (told.resolved or told.workaround)
        return None if answered else GapKind.NO_WORKAROUND
    return None if told is not None and told.cause else GapKind.NO_CAUSE


def find_gaps(asked: Iterable[Asked], told: Sequence[Told]) -> list[Gap]:
    """Every gap, consecutive periods of the same kind merged, in time order (R30)."""
    cells: dict[tuple[GapKind, dt.datetime], list[tuple[Asked, Told | None]]] = {}
    for item in sorted(asked, key=lambda a: (a.received_at, a.reference)):
        need = NEED_OF_INTENT.get(item.intent)
        if need is None:
            continue
        seen = latest(told, item.received_at)
        kind = unanswered(need, seen, item.received_at)
        if kind is not None:
            cells.setdefault((kind, period_start(item.received_at)), []).append((item, seen))
    gaps: list[Gap] = []
    for kind in GapKind:
        runs: list[list[dt.datetime]] = []
        for start in sorted(s for k, s in cells if k is kind):
            if runs and runs[-1][-1] + PERIOD == start:
                runs[-1].append(start)
            else:
                runs.append([start])
        for run in runs:
            found = [pair for start in run for pair in cells[(kind, start)]]
            gaps.append(_gap(kind, run[0], run[-1] + PERIOD, found))
    order = list(GapKind)
    return sorted(gaps, key=lambda g: (g.start, order.index(g.kind)))


def _gap(
    kind: GapKind,
    start: dt.datetime,
    end: dt.datetime,
    run: list[tuple[Asked, Told | None]],
) -> Gap:
    updates = sorted({t.update_id for _, t in run if t is not None})
    return Gap(kind, start, end, tuple(a.reference for a, _ in run), tuple(updates))


@dataclass(frozen=True)
class Period:
    """One 30-minute period: the inquiries by intent, and what the update readable at its end
    gave (for the table beside the gaps)."""

    start: dt.datetime
    intents: dict[str, int]
    update_id: int | None
    estimate: bool
    workaround: bool
    cause: bool

    @property
    def end(self) -> dt.datetime:
        return self.start + PERIOD


def periods(asked: Iterable[Asked], told: Sequence[Told]) -> list[Period]:
    """Every period with at least one inquiry of a counted intent, oldest first."""
    counts: dict[dt.datetime, Counter[str]] = {}
    for item in asked:
        if item.intent in COUNTED_INTENTS:
            counts.setdefault(period_start(item.received_at), Counter())[item.intent] += 1
    out: list[Period] = []
    for start in sorted(counts):
        end = start + PERIOD
        last = end - dt.timedelta(microseconds=1)
        seen = latest(told, last)
        out.append(
            Period(
                start,
                {intent: counts[start][intent] for intent in COUNTED_INTENTS},
                seen.update_id if seen else None,
                estimate=unanswered(Need.ESTIMATE, seen, last) is None,
                workaround=unanswered(Need.WORKAROUND, seen, last) is None,
                cause=unanswered(Need.CAUSE, seen, last) is None,
            )
        )
    return out
