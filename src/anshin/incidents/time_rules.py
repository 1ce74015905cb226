"""Pure checks on an incident's start and recovery times as facts people correct (R1, R7).

The start of an outage is often learnt later than it is declared, and the
recovery happens before someone clicks publish on the resolution notice: both
are facts to correct, not clocks stamped by the software. A correction still
has to make sense: recovery is not before the start, neither lies in the
future (beyond a small skew between the writer's clock and the server's), and
the start is not after the detection.
"""

from __future__ import annotations

import datetime as dt

from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.inputs import CLOCK_SKEW  # how far ahead of the server's clock a time may be


def _aware(value: dt.datetime, field: str) -> dt.datetime:
    if value.tzinfo is None:
        raise InvalidInput(N_("Give the time with a time zone."), field=field)
    return value


def check_recovery_time(
    resolved_at: dt.datetime, *, started_at: dt.datetime, now: dt.datetime
) -> dt.datetime:
    """R7: the actual recovery time — not before the start, not in the future."""
    _aware(resolved_at, "resolved_at")
    if resolved_at < started_at:
        raise InvalidInput(
            N_("The recovery time cannot be before the start time."), field="resolved_at"
        )
    if resolved_at > now + CLOCK_SKEW:
        raise InvalidInput(N_("The recovery time cannot be in the future."), field="resolved_at")
    return resolved_at


def check_start_time(
    started_at: dt.datetime,
    *,
    detected_at: dt.datetime,
    resolved_at: dt.datetime | None,
    now: dt.datetime,
) -> dt.datetime:
    """R1: a corrected start — not in the future, not after the detection or the recovery."""
    _aware(started_at, "started_at")
    if started_at > now + CLOCK_SKEW:
        raise InvalidInput(N_("The start time cannot be in the future."), field="started_at")
    if started_at > detected_at:
        raise InvalidInput(
            N_("The start time cannot be after the detection time."), field="started_at"
        )
    if resolved_at is not None and started_at > resolved_at:
        raise InvalidInput(
            N_("The start time cannot be after the recovery time."), field="started_at"
        )
    return started_at
