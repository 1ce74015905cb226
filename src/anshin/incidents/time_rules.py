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
from dataclasses import dataclass
from zoneinfo import ZoneInfo

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


# R7: the report is promised this many days after the recovery (the resolution template's date).
REPORT_DAYS = 7


def report_due_at(recovered_at: dt.datetime, zone: str, days: int = REPORT_DAYS) -> dt.datetime:
    """R7: the last minute of the day the resolution notice promises the report by.

    The notice says 「12月10日までに」: the promise holds until that day is over
    (23:59 in the team's zone, which still reads as 12月10日).
    """
    day = recovered_at.astimezone(ZoneInfo(zone)).date() + dt.timedelta(days=days)
    end = dt.datetime.combine(day, dt.time(23, 59), tzinfo=ZoneInfo(zone))
    return end.astimezone(dt.UTC)


def check_report_due(value: dt.datetime, *, recovered_at: dt.datetime) -> dt.datetime:
    """A promised report date is after the recovery."""
    _aware(value, "report_due_at")
    if value <= recovered_at:
        raise InvalidInput(N_("The report date must be after the recovery."), field="report_due_at")
    return value


@dataclass(frozen=True)
class ReportDue:
    """The report a resolved incident still owes its customers (R7, R8), like ``rules.Due``."""

    due_at: dt.datetime
    seconds_left: int
    kind: str = "report"  # what the console's timer names (next to "first_notice"/"update")

    @property
    def overdue(self) -> bool:
        """True once the promised date has passed (the dashboard turns red)."""
        return self.seconds_left < 0


def report_due(
    *, report_due_at: dt.datetime | None, published_at: dt.datetime | None, now: dt.datetime
) -> ReportDue | None:
    """The report still owed, or None when none was promised or it was published."""
    if report_due_at is None or published_at is not None:
        return None
    return ReportDue(report_due_at, int((report_due_at - now).total_seconds()))
