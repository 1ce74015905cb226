"""Pure decisions about incidents: vocabularies, cadence, due and overdue (no I/O).

R1  severity decides cadence and escalation.
R3  unconfirmed points are "現在確認中" with the time of the next contact.
R4  first notice due 15 minutes after the incident is declared.
R5  updates on a fixed cadence (sev1 30 min, sev2 60 min, sev3 180 min by
    default), sent even with no news; every public update says when the next
    one comes, may promise it earlier than the cadence, never later, never never.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from anshin.comms.kinds import MessageKind
from anshin.errors import InvalidInput
from anshin.i18n import N_


class Severity(StrEnum):
    """How badly customers are hurt; decides the cadence (R1, R5)."""

    SEV1 = "sev1"
    SEV2 = "sev2"
    SEV3 = "sev3"


class IncidentStatus(StrEnum):
    """Where an incident stands (Statuspage's names), in the order it usually moves."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class Audience(StrEnum):
    """Who reads an update: customers, or only the team (internal notes)."""

    PUBLIC = "public"
    INTERNAL = "internal"


class ComponentStatus(StrEnum):
    """Statuspage's component statuses, from best to worst."""

    OPERATIONAL = "operational"
    UNDER_MAINTENANCE = "under_maintenance"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"


class MaintenanceStatus(StrEnum):
    """A maintenance window's life (R10)."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    VERIFYING = "verifying"
    COMPLETED = "completed"


SEVERITIES: tuple[str, ...] = tuple(Severity)
STATUSES: tuple[str, ...] = tuple(IncidentStatus)
OPEN_STATUSES: tuple[str, ...] = tuple(s for s in IncidentStatus if s != IncidentStatus.RESOLVED)
AUDIENCES: tuple[str, ...] = tuple(Audience)
# The message kinds an incident's timeline holds (comms.kinds names every kind).
UPDATE_KINDS: tuple[str, ...] = (
    MessageKind.FIRST_NOTICE,
    MessageKind.UPDATE,
    MessageKind.NO_NEWS_UPDATE,
    MessageKind.RESOLUTION,
    MessageKind.REOPENED,
    MessageKind.REPORT_NOTICE,
)
# What an open incident's compose box publishes (resolving and reopening have their own steps).
OPEN_UPDATE_KINDS: tuple[str, ...] = (
    MessageKind.FIRST_NOTICE,
    MessageKind.UPDATE,
    MessageKind.NO_NEWS_UPDATE,
)
COMPONENT_STATUSES: tuple[str, ...] = tuple(ComponentStatus)
# What an incident can do to a component (operational and maintenance are not impacts).
IMPACTS: tuple[str, ...] = (
    ComponentStatus.DEGRADED_PERFORMANCE,
    ComponentStatus.PARTIAL_OUTAGE,
    ComponentStatus.MAJOR_OUTAGE,
)
MAINTENANCE_STATUSES: tuple[str, ...] = tuple(MaintenanceStatus)

# How badly a severity hurts a component unless the incident says otherwise.
DEFAULT_IMPACT: dict[str, str] = {
    "sev1": "major_outage",
    "sev2": "partial_outage",
    "sev3": "degraded_performance",
}
# Statuspage's incident "impact" for each severity.
STATUSPAGE_IMPACT: dict[str, str] = {"sev1": "critical", "sev2": "major", "sev3": "minor"}

TITLE_MAX = 200
TEXT_MAX = 5000
MAX_AFFECTED_CUSTOMERS = 1_000_000_000
DEFAULT_CADENCE_MINUTES: dict[str, int] = {"sev1": 30, "sev2": 60, "sev3": 180}


@dataclass(frozen=True)
class Due:
    """The next message an open incident owes its customers."""

    kind: str  # "first_notice" or "update"
    due_at: dt.datetime
    seconds_left: int

    @property
    def overdue(self) -> bool:
        """True once the promised time has passed (the console turns red)."""
        return self.seconds_left < 0


def first_notice_due_at(declared_at: dt.datetime, minutes: int = 15) -> dt.datetime:
    """R4: the first notice is owed this long after the incident is declared."""
    return declared_at + dt.timedelta(minutes=minutes)


def update_interval(severity: str, cadence_minutes: dict[str, int] | None = None) -> dt.timedelta:
    """R5: how long customers may wait between updates at this severity."""
    cadence = cadence_minutes or DEFAULT_CADENCE_MINUTES
    if severity not in cadence:
        raise InvalidInput(N_("Unknown severity: {value}."), field="severity", value=severity)
    return dt.timedelta(minutes=cadence[severity])


def default_next_update_at(
    published_at: dt.datetime, severity: str, cadence_minutes: dict[str, int] | None = None
) -> dt.datetime:
    """When the next update is due if the author names no earlier time."""
    return published_at + update_interval(severity, cadence_minutes)


def choose_next_update_at(
    proposed: dt.datetime | None,
    *,
    published_at: dt.datetime,
    severity: str,
    cadence_minutes: dict[str, int] | None = None,
) -> dt.datetime:
    """The ``next_update_at`` a public update carries: never empty, never past, never late.

    An author may promise the next contact earlier than the cadence (R5 "may
    be set earlier"), but a time already gone or later than the cadence would
    make a promise the team is not allowed to make.
    """
    latest = default_next_update_at(published_at, severity, cadence_minutes)
    if proposed is None:
        return latest
    if proposed.tzinfo is None:
        raise InvalidInput(N_("Give the time with a time zone."), field="next_update_at")
    if proposed <= published_at:
        raise InvalidInput(
            N_("The next update time must be in the future."), field="next_update_at"
        )
    if proposed > latest + dt.timedelta(seconds=59):
        raise InvalidInput(
            N_("The next update may not be later than the cadence allows ({minutes} minutes)."),
            field="next_update_at",
            minutes=int(update_interval(severity, cadence_minutes).total_seconds() // 60),
        )
    return proposed


def next_due(
    *,
    status: str,
    declared_at: dt.datetime,
    last_public_next_update_at: dt.datetime | None,
    has_public_update: bool,
    now: dt.datetime,
    first_notice_minutes: int = 15,
) -> Due | None:
    """What the incident owes next and by when; None once it is resolved.

    Before any public message the first notice is due (R4); after it, the time
    the last public update promised (R5).
    """
    if status == "resolved":
        return None
    if not has_public_update or last_public_next_update_at is None:
        due_at = first_notice_due_at(declared_at, first_notice_minutes)
        kind = "first_notice" if not has_public_update else "update"
    else:
        due_at = last_public_next_update_at
        kind = "update"
    return Due(kind=kind, due_at=due_at, seconds_left=int((due_at - now).total_seconds()))


def check_severity(value: str) -> str:
    """Refuse anything but sev1, sev2, sev3."""
    if value not in SEVERITIES:
        raise InvalidInput(
            N_("Unknown severity: {value}. Use sev1, sev2 or sev3."), field="severity", value=value
        )
    return value


def check_status(value: str) -> str:
    """Refuse a status outside investigating / identified / monitoring / resolved."""
    if value not in STATUSES:
        raise InvalidInput(
            N_("Unknown status: {value}. Use investigating, identified, monitoring or resolved."),
            field="status",
            value=value,
        )
    return value


def check_component_status(value: str) -> str:
    """Refuse anything outside Statuspage's component statuses."""
    if value not in COMPONENT_STATUSES:
        raise InvalidInput(
            N_("Unknown component status: {value}."), field="component_status", value=value
        )
    return value


def check_text(value: str | None, *, field: str, limit: int, required: bool = False) -> str | None:
    """Trim a text field and refuse it when empty but required, or longer than ``limit``."""
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(N_("This field is required."), field=field)
    if len(text) > limit:
        raise InvalidInput(
            N_("Too long: at most {limit} characters."),
            field=field,
            limit=limit,
        )
    return text or None


def check_affected_customers(value: int | None) -> int | None:
    """An estimate of affected customers is a non-negative number, or unknown (None)."""
    if value is None:
        return None
    if value < 0 or value > MAX_AFFECTED_CUSTOMERS:
        raise InvalidInput(
            N_("The estimated number of affected customers must be 0 or more."),
            field="estimated_affected_customers",
        )
    return value


def check_times(
    *, started_at: dt.datetime, detected_at: dt.datetime, declared_at: dt.datetime
) -> None:
    """Started, then detected, then declared: a record out of order is a typing mistake."""
    if detected_at < started_at:
        raise InvalidInput(
            N_("The detection time cannot be before the start time."), field="detected_at"
        )
    if declared_at < detected_at:
        raise InvalidInput(
            N_("The declaration time cannot be before the detection time."), field="declared_at"
        )


def worst_component_status(statuses: list[str]) -> str:
    """The worst of several impacts on one component (two incidents on one service)."""
    if not statuses:
        return "operational"
    return max(statuses, key=COMPONENT_STATUSES.index)


def compose_kinds(*, status: str, has_public_update: bool) -> tuple[str, ...]:
    """The kinds of message the console's compose box may start from (R4, R5, R7).

    Nothing public yet: the first notice (R4) — or, when it is already over,
    the resolution notice. After it: an update, a no-news update (R5), or the
    resolution notice (R7). A resolved incident takes no message.
    """
    if status == "resolved":
        return ()
    if not has_public_update:
        return ("first_notice", "resolution")
    return ("update", "no_news_update", "resolution")


def minutes_after(start: dt.datetime, end: dt.datetime) -> int:
    """Whole minutes from ``start`` to ``end``, rounded up: 15 min 20 s reads as 16, never 15."""
    seconds = (end - start).total_seconds()
    return max(0, int(-(-seconds // 60)))


@dataclass(frozen=True)
class FirstNotice:
    """R4 on one incident: when the first notice was owed, published, and reached everyone.

    ``published_at`` is None until the first public message; ``delivered_at``
    until the notice has reached its last subscriber.
    """

    declared_at: dt.datetime
    due_at: dt.datetime
    published_at: dt.datetime | None
    delivered_at: dt.datetime | None
    minutes: int = 15

    @property
    def published_after_minutes(self) -> int | None:
        """Minutes from the declaration to the first notice (rounded up), or None."""
        if self.published_at is None:
            return None
        return minutes_after(self.declared_at, self.published_at)

    @property
    def delivered_after_minutes(self) -> int | None:
        """Minutes from the declaration to the last customer reached (rounded up), or None."""
        if self.delivered_at is None:
            return None
        return minutes_after(self.declared_at, self.delivered_at)

    @property
    def published_late(self) -> bool:
        """True when the first notice went out after the time R4 allows."""
        return self.published_at is not None and self.published_at > self.due_at

    @property
    def delivered_late(self) -> bool:
        """True when the last customer heard after the time R4 allows."""
        return self.delivered_at is not None and self.delivered_at > self.due_at


def first_notice(
    *,
    declared_at: dt.datetime,
    published_at: dt.datetime | None,
    delivered_at: dt.datetime | None,
    minutes: int = 15,
) -> FirstNotice:
    """R4: the first-notice clock of an incident, from its declaration."""
    return FirstNotice(
        declared_at=declared_at,
        due_at=first_notice_due_at(declared_at, minutes),
        published_at=published_at,
        delivered_at=delivered_at if published_at is not None else None,
        minutes=minutes,
    )


class NudgeKind(StrEnum):
    """What a staff nudge says about the next message an incident owes (R4, R5)."""

    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


def nudge_for(due: Due | None, before_minutes: int) -> NudgeKind | None:
    """The nudge the team should have now, if any: overdue, or due within ``before_minutes``.

    R4/R5 are promises to customers; a nudge before the time passes gives the
    team the chance to keep them, and one after says it was missed.
    """
    if due is None:
        return None
    if due.overdue:
        return NudgeKind.OVERDUE
    if due.seconds_left <= before_minutes * 60:
        return NudgeKind.DUE_SOON
    return None


def recent_real_update_minutes(
    updates: list[tuple[str, str, dt.datetime]], now: dt.datetime, within_minutes: int
) -> int | None:
    """Minutes since the last public first notice or update, if it is within ``within_minutes``.

    ``updates`` are (kind, audience, published_at). A no-news update right after
    a real one tells customers nothing and pushes the real news down (R5): the
    console warns before publishing one.
    """
    real = [
        at
        for kind, audience, at in updates
        if audience == Audience.PUBLIC and kind in (MessageKind.FIRST_NOTICE, MessageKind.UPDATE)
    ]
    if not real or within_minutes <= 0:
        return None
    elapsed = now - max(real)
    if elapsed > dt.timedelta(minutes=within_minutes):
        return None
    return max(0, int(elapsed.total_seconds() // 60))
