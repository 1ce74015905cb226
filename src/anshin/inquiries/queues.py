"""The desk's queues: open inquiries per level, mine, unassigned, with their due times (R22, R28).

Ordered by due time then temperature (``rules.queue_order_key``): the one that
owes its customer an answer soonest comes first, the hottest first among equals.
Before the first response the due time is the first-response due time (R18);
after it, the next action's due time, if one is set.

The order is the database's (``due_expression``), so a queue longer than a page
is read a page at a time (``QUEUE_PAGE_SIZE`` rows, ``LIMIT``/``OFFSET``, as
every long list of the console is: ``anshin.web.paging``) and every page
continues where the one before stopped. A queue is live: when inquiries
arrive, close or change their due time while someone pages, the rows after
them shift, so a row can be missed or seen twice across two pages. The queue is
worked from the top (page 1 is always current), and a cursor would not help
much: the due time it would be taken on changes as inquiries are answered.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session

from anshin.db import utcnow
from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.incidents.models import Incident
from anshin.incidents.rules import Due
from anshin.inquiries import rules
from anshin.inquiries.models import Inquiry
from anshin.team.models import User

QUEUE_LIMIT = 500  # the CLI's pages (``anshin inquiry list --page``)
QUEUE_PAGE_SIZE = 50  # the console's and the API's pages
_REFERENCE = re.compile(r"[A-Z0-9-]{1,30}")  # INC-2026-0001, or NONE
VIEWS: tuple[str, ...] = ("all", "mine", "unassigned")


@dataclass(frozen=True)
class QueueFilter:
    """What a queue shows: a level (or every level), mine or unassigned, and narrowing filters."""

    level: int | None = None
    view: str = "all"  # all | mine | unassigned
    incident: str | None = None  # INC-… reference
    intent: str | None = None
    channel: str | None = None


def parse_filter(
    *,
    level: str | int | None = None,
    view: str | None = None,
    incident: str | None = None,
    intent: str | None = None,
    channel: str | None = None,
) -> QueueFilter:
    """A filter from query parameters or CLI options, each value checked (4xx / exit 2)."""
    chosen_level = None if level in (None, "", "all") else rules.check_level(level)
    chosen_view = (view or "all").strip() or "all"
    if chosen_view not in VIEWS:
        raise InvalidInput(N_("Unknown queue: {value}."), field="view", value=chosen_view)
    intent = (intent or "").strip() or None
    if intent is not None and intent not in rules.INTENT_ORDER:
        raise InvalidInput(N_("Unknown intent: {value}."), field="intent", value=intent)
    channel = (channel or "").strip() or None
    if channel is not None and channel not in tuple(rules.Channel):
        raise InvalidInput(N_("Unknown channel: {value}."), field="channel", value=channel)
    incident = (incident or "").strip().upper() or None
    if incident is not None and not _REFERENCE.fullmatch(incident):
        raise InvalidInput(N_("No such incident: {ref}."), field="incident", ref=incident[:40])
    return QueueFilter(chosen_level, chosen_view, incident, intent, channel)


def filter_query(flt: QueueFilter) -> dict[str, str]:
    """The filter as query parameters again, for the links to a queue's other pages."""
    shown = {
        "level": str(flt.level) if flt.level is not None else "",
        "view": flt.view if flt.view != "all" else "",
        "incident": flt.incident or "",
        "intent": flt.intent or "",
        "channel": flt.channel or "",
    }
    return {name: value for name, value in shown.items() if value}


def due_of(inquiry: Inquiry, now: dt.datetime) -> Due | None:
    """What the inquiry owes next, as the incident dashboard's timers show it (R18)."""
    if inquiry.closed_at is not None:
        return None
    if inquiry.first_responded_at is None and inquiry.first_response_due_at is not None:
        at, kind = inquiry.first_response_due_at, "first_response"
    elif inquiry.next_action_due_at is not None:
        at, kind = inquiry.next_action_due_at, "next_action"
    else:
        return None
    return Due(kind=kind, due_at=at, seconds_left=int((at - now).total_seconds()))


def _statement(flt: QueueFilter, user: User | None) -> Select[Inquiry]:
    stmt = select(Inquiry).where(Inquiry.closed_at.is_(None))
    if flt.level is not None:
        stmt = stmt.where(Inquiry.level == flt.level)
    if flt.view == "mine" and user is not None:
        stmt = stmt.where(Inquiry.claimed_by_id == user.id)
    elif flt.view == "unassigned":
        stmt = stmt.where(Inquiry.claimed_by_id.is_(None))
    if flt.intent:
        stmt = stmt.where(Inquiry.intent == flt.intent)
    if flt.channel:
        stmt = stmt.where(Inquiry.channel == flt.channel)
    if flt.incident:
        if flt.incident == "NONE":
            stmt = stmt.where(Inquiry.incident_id.is_(None))
        else:
            stmt = stmt.join(Incident, Incident.id == Inquiry.incident_id).where(
                Incident.reference == flt.incident
            )
    return stmt


def due_expression() -> ColumnElement[dt.datetime]:
    """``due_of``'s due time in SQL, so the database can order and page the queue (R18, R22)."""
    return case(
        (
            and_(Inquiry.first_responded_at.is_(None), Inquiry.first_response_due_at.is_not(None)),
            Inquiry.first_response_due_at,
        ),
        else_=Inquiry.next_action_due_at,
    )


def queue(
    session: Session,
    flt: QueueFilter,
    user: User | None = None,
    *,
    limit: int = QUEUE_LIMIT,
    offset: int = 0,
) -> list[Inquiry]:
    """Open inquiries matching ``flt``, earliest due first, hottest first among equals (R22).

    The order is ``rules.queue_order_key``'s (none due last, then the oldest
    first), with the id last so that pages never overlap or skip a tie.
    """
    stmt = _statement(flt, user).order_by(
        due_expression().asc().nulls_last(),
        Inquiry.temperature.desc(),
        Inquiry.received_at,
        Inquiry.id,
    )
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def count(session: Session, flt: QueueFilter, user: User | None = None) -> int:
    """How many open inquiries match ``flt`` in all: the pager's total."""
    matching = _statement(flt, user).with_only_columns(Inquiry.id).subquery()
    return int(session.scalar(select(func.count()).select_from(matching)) or 0)


def names_of(session: Session, ids: set[int]) -> dict[int, str]:
    """Agents' names by id, for the "held by" column."""
    if not ids:
        return {}
    stmt = select(User.id, User.name).where(User.id.in_(ids))
    return {row[0]: row[1] for row in session.execute(stmt)}


@dataclass(frozen=True)
class LevelWait:
    """A level's waiting line for the dashboard (R28): how many, and the oldest wait."""

    level: int
    waiting: int
    unassigned: int
    oldest_received_at: dt.datetime | None
    oldest_minutes: int
    alert_minutes: int | None

    @property
    def alert(self) -> bool:
        """The oldest wait passed the policy's threshold: pull more people in."""
        return self.alert_minutes is not None and self.oldest_minutes >= self.alert_minutes


def waits(
    session: Session, alert_minutes: dict[int, int], *, now: dt.datetime | None = None
) -> list[LevelWait]:
    """Per level: open inquiries not yet answered, unclaimed ones, and the oldest wait (R28).

    An inquiry waits from receipt until its first response; a claimed one still
    waits for that answer, so it counts, but ``unassigned`` shows who has nobody.
    """
    now = now or utcnow()
    waiting = (Inquiry.closed_at.is_(None), Inquiry.first_responded_at.is_(None))
    rows = session.execute(
        select(
            Inquiry.level,
            func.count(),
            func.count(Inquiry.claimed_by_id),
            func.min(Inquiry.received_at),
        )
        .where(*waiting)
        .group_by(Inquiry.level)
    ).all()
    by_level = {row[0]: row for row in rows}
    out: list[LevelWait] = []
    for level in rules.LEVELS:
        row = by_level.get(level)
        oldest = row[3] if row else None
        if isinstance(oldest, str):  # SQLite's MIN() returns the stored text
            oldest = dt.datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=dt.UTC)
        minutes = int((now - oldest).total_seconds() // 60) if oldest else 0
        out.append(
            LevelWait(
                level=level,
                waiting=int(row[1]) if row else 0,
                unassigned=int(row[1]) - int(row[2] or 0) if row else 0,
                oldest_received_at=oldest,
                oldest_minutes=max(minutes, 0),
                alert_minutes=alert_minutes.get(level),
            )
        )
    return out
