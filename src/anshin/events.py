"""The event log: every state change, written in the same transaction as the change.

docs/design.md: the audit log, the incident timeline and the review metrics are all
read from events, never reconstructed by guesswork. R20 (record every handling:
date and time, content, status) rests on this table too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from anshin.db import Base, UTCDateTime, utcnow


class Event(Base):
    """Who did what to which record, when, with the values before and after."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_entity", "entity_type", "entity_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    entity_type: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(80))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


def jsonable(value: Any) -> Any:
    """Make a value safe for the JSON columns (datetimes become ISO 8601 strings)."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return value


def record(
    session: Session,
    *,
    actor: str,
    entity_type: str,
    entity_id: int,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> Event:
    """Add an event to the caller's transaction; it commits or rolls back with the change.

    ``at`` is for history loaded after the fact (``anshin incident import``): the
    event keeps the time it happened; every live change leaves it out (now).
    """
    event = Event(
        at=at or utcnow(),
        actor=actor,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
    )
    session.add(event)
    return event


def history(session: Session, entity_type: str, entity_id: int) -> list[Event]:
    """All events of one record, oldest first."""
    stmt = (
        select(Event)
        .where(Event.entity_type == entity_type, Event.entity_id == entity_id)
        .order_by(Event.id)
    )
    return list(session.scalars(stmt))
