"""The review metrics as pure functions over plain facts (R30, R31; docs/review.md).

Each function is the written definition of one metric in docs/review.md and
takes only what that definition needs, so a metric can be checked by hand
against a table of times. ``None`` means "nothing to measure" (no public
update yet, no inquiry answered), never zero: a review must not read a
missing figure as a perfect one.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PEAK_WINDOW = dt.timedelta(minutes=60)


@dataclass(frozen=True)
class PublicUpdate:
    """A public update as published (internal notes never count for the cadence)."""

    published_at: dt.datetime
    next_update_at: dt.datetime | None = None


@dataclass(frozen=True)
class Answered:
    """One inquiry: when it came, when it first got an answer, at which level."""

    received_at: dt.datetime
    first_responded_at: dt.datetime | None
    level: int


def seconds_between(start: dt.datetime, end: dt.datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds()


def first_notice_seconds(declared_at: dt.datetime, updates: Sequence[PublicUpdate]) -> float | None:
    """``first_notice_seconds``: declaration → publication of the first public update."""
    if not updates:
        return None
    return seconds_between(declared_at, min(u.published_at for u in updates))


def cadence_counts(updates: Sequence[PublicUpdate]) -> tuple[int, int]:
    """(kept, judged) for ``cadence_kept``; counts add up across incidents."""
    ordered = sorted(updates, key=lambda u: u.published_at)
    judged = kept = 0
    for before, after in itertools.pairwise(ordered):
        if before.next_update_at is None:
            continue
        judged += 1
        kept += after.published_at <= before.next_update_at
    return kept, judged


def cadence_kept(updates: Sequence[PublicUpdate]) -> float | None:
    """``cadence_kept``: the share of public updates after the first (the resolution included)
    published no later than the ``next_update_at`` the public update before them promised.

    An update whose predecessor promised no time cannot keep or break a promise
    and is left out of the share; ``None`` when no update had a promise to keep.
    """
    kept, judged = cadence_counts(updates)
    return kept / judged if judged else None


def longest_silence_seconds(
    declared_at: dt.datetime,
    updates: Sequence[PublicUpdate],
    resolved_at: dt.datetime | None,
) -> float | None:
    """``longest_silence_seconds``: the longest gap between consecutive moments among the
    declaration, each public update and the resolution (internal notes do not count)."""
    moments = sorted(
        [declared_at, *(u.published_at for u in updates)] + ([resolved_at] if resolved_at else [])
    )
    if len(moments) < 2:
        return None
    return max((b - a).total_seconds() for a, b in itertools.pairwise(moments))


def peak_in_window(times: Iterable[dt.datetime], window: dt.timedelta = PEAK_WINDOW) -> int:
    """``inquiries_peak_hour``: the most inquiries received within any ``window`` (a sliding
    window, both ends included: 10:00 and 11:00 are in the same hour)."""
    ordered = sorted(times)
    best = start = 0
    for end, at in enumerate(ordered):
        while at - ordered[start] > window:
            start += 1
        best = max(best, end - start + 1)
    return best


def repeat_customers(customer_keys: Iterable[str | None]) -> int:
    """``repeat_customers``: customers (by email, else phone) with two or more inquiries."""
    counts = Counter(key.strip().lower() for key in customer_keys if key and key.strip())
    return sum(1 for n in counts.values() if n >= 2)


def customer_key(email: str | None, phone: str | None) -> str | None:
    """Who a customer is for ``repeat_customers``: the mail address, else the phone digits."""
    if email and email.strip():
        return email.strip().lower()
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return digits or None


def nearest_rank(values: Iterable[float], percent: float) -> float | None:
    """The nearest-rank percentile: the smallest value with ``percent`` % at or below it."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def first_response_percentiles(inquiries: Sequence[Answered]) -> dict[str, float | None]:
    """``first_response_p50_seconds`` / ``_p90_seconds`` over the inquiries that got a first
    response, overall and per level (``level_1_p50_seconds`` …)."""
    waits: dict[int, list[float]] = {}
    for item in inquiries:
        wait = seconds_between(item.received_at, item.first_responded_at)
        if wait is not None:
            waits.setdefault(item.level, []).append(max(0.0, wait))
    every = [w for level_waits in waits.values() for w in level_waits]
    out: dict[str, float | None] = {
        "first_response_p50_seconds": nearest_rank(every, 50),
        "first_response_p90_seconds": nearest_rank(every, 90),
    }
    for level in (1, 2, 3):
        out[f"level_{level}_p50_seconds"] = nearest_rank(waits.get(level, []), 50)
        out[f"level_{level}_p90_seconds"] = nearest_rank(waits.get(level, []), 90)
    return out


def escalation_steps(changes: Iterable[tuple[int, int]]) -> dict[str, int]:
    """``escalations``: escalation steps by the level escalated to (de-escalations not counted)."""
    counts = {"2": 0, "3": 0}
    for before, after in changes:
        if after > before and str(after) in counts:
            counts[str(after)] += 1
    return counts


def commitments_kept(commitments: Iterable[tuple[dt.datetime, dt.datetime | None]]) -> float | None:
    """``commitments_kept``: the share of (due, kept) commitments kept by their due time."""
    items = list(commitments)
    if not items:
        return None
    return sum(1 for due, kept in items if kept is not None and kept <= due) / len(items)


def csat(scores: Iterable[int]) -> tuple[float | None, int]:
    """``csat_average`` (1–5) and ``csat_responses``."""
    valid = [s for s in scores if 1 <= s <= 5]
    return (sum(valid) / len(valid) if valid else None, len(valid))


VOLUME_BIN = dt.timedelta(minutes=15)


def volume_bins(
    times: Iterable[dt.datetime], start: dt.datetime, bin_size: dt.timedelta = VOLUME_BIN
) -> list[tuple[dt.datetime, int]]:
    """Inquiries per ``bin_size`` from ``start`` (R31 timeline), empty bins between included.

    Inquiries received before ``start`` (customers often write before the
    declaration) open earlier bins on the same grid, so the first rise shows.
    """
    counts: Counter[int] = Counter()
    for at in times:
        counts[math.floor((at - start) / bin_size)] += 1
    if not counts:
        return []
    return [
        (start + index * bin_size, counts.get(index, 0))
        for index in range(min(counts), max(counts) + 1)
    ]
