"""Claims: how workers share deliveries through the database (DESIGN.md "Scale-out").

A worker takes a batch with one ``UPDATE … RETURNING``: on PostgreSQL the rows
are chosen ``FOR UPDATE SKIP LOCKED``, so workers never wait for each other and
never take the same row; on SQLite the statement is one short write
transaction. A claim lasts ``delivery_claim_seconds`` unless renewed, so the
work of a killed worker returns to the queue by itself: the next claim or the
sweeper recovers expired claims (R4: nothing is lost).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Engine, Table, and_, func, select, update

from anshin.config import Settings
from anshin.db import utcnow
from anshin.notify import rules
from anshin.notify.models import Delivery

D = cast(Table, Delivery.__table__)
_host = socket.gethostname()


def worker_id() -> str:
    """Who holds a claim: host, process, thread and a random tag (readable in the console)."""
    return f"{_host}:{os.getpid()}:{threading.get_ident() % 100000}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class SweepReport:
    """What a sweep found: expired claims recovered or given up, work due and overdue."""

    recovered: int
    dead: int
    due: int
    stale: int


def _locked(stmt: Any, engine: Engine) -> Any:
    """Row choice that skips rows another worker is claiming (PostgreSQL); SQLite serialises."""
    return stmt.with_for_update(skip_locked=True) if engine.dialect.name == "postgresql" else stmt


def _recover_expired(
    conn: Any, engine: Engine, settings: Settings, now: dt.datetime
) -> tuple[int, int]:
    """Claims past their time belong to a worker that died: back to the queue, or dead if spent."""
    expired = and_(D.c.status == "sending", D.c.claimed_until < now)
    spent = _locked(
        select(D.c.id).where(expired, D.c.attempts >= settings.delivery_max_attempts), engine
    )
    dead = conn.execute(
        update(D)
        .where(D.c.id.in_(spent.scalar_subquery()))
        .values(
            status="dead",
            claimed_by=None,
            claimed_until=None,
            last_error="the worker sending this stopped before it finished (attempts exhausted)",
        )
    ).rowcount
    back = _locked(select(D.c.id).where(expired), engine)
    recovered = conn.execute(
        update(D)
        .where(D.c.id.in_(back.scalar_subquery()))
        .values(
            status="pending",
            next_attempt_at=now,
            claimed_by=None,
            claimed_until=None,
            last_error="claim expired: the worker sending this stopped before it finished",
        )
    ).rowcount
    return int(recovered or 0), int(dead or 0)


def claim(
    engine: Engine, settings: Settings, worker: str, now: dt.datetime | None = None
) -> list[int]:
    """Take up to ``delivery_batch_size`` due deliveries for ``worker``; returns their ids.

    Each claim counts as an attempt, so a message that kills every worker
    that touches it still ends as a dead letter instead of looping forever.
    """
    now = now or utcnow()
    due = _locked(
        select(D.c.id)
        .where(D.c.status.in_(rules.DUE_STATUSES), D.c.next_attempt_at <= now)
        .order_by(D.c.next_attempt_at, D.c.id)
        .limit(settings.delivery_batch_size),
        engine,
    )
    stmt = (
        update(D)
        .where(D.c.id.in_(due.scalar_subquery()))
        .values(
            status="sending",
            claimed_by=worker,
            claimed_until=now + dt.timedelta(seconds=settings.delivery_claim_seconds),
            attempts=D.c.attempts + 1,
        )
        .returning(D.c.id)
    )
    with engine.begin() as conn:
        _recover_expired(conn, engine, settings, now)
        ids = [row[0] for row in conn.execute(stmt)]
    return sorted(ids)


def renew(engine: Engine, settings: Settings, worker: str, ids: Iterable[int]) -> set[int]:
    """Extend this worker's claim on ``ids``; returns the ids it still holds."""
    wanted = list(ids)
    if not wanted:
        return set()
    until = utcnow() + dt.timedelta(seconds=settings.delivery_claim_seconds)
    stmt = (
        update(D)
        .where(D.c.id.in_(wanted), D.c.claimed_by == worker, D.c.status == "sending")
        .values(claimed_until=until)
        .returning(D.c.id)
    )
    with engine.begin() as conn:
        return {row[0] for row in conn.execute(stmt)}


def release(engine: Engine, worker: str, ids: Iterable[int]) -> None:
    """Give unsent claimed work back untouched (a stopping worker); the attempt is not counted."""
    wanted = list(ids)
    if not wanted:
        return
    with engine.begin() as conn:
        conn.execute(
            update(D)
            .where(D.c.id.in_(wanted), D.c.claimed_by == worker, D.c.status == "sending")
            .values(
                status="pending",
                claimed_by=None,
                claimed_until=None,
                attempts=func.max(D.c.attempts - 1, 0)
                if engine.dialect.name == "sqlite"
                else func.greatest(D.c.attempts - 1, 0),
            )
        )


def seconds_until_next_due(engine: Engine, now: dt.datetime | None = None) -> float | None:
    """How long until a retry falls due or a claim expires; None when nothing is waiting."""
    now = now or utcnow()
    with engine.connect() as conn:
        next_retry = conn.execute(
            select(func.min(D.c.next_attempt_at)).where(
                D.c.status.in_(rules.DUE_STATUSES), D.c.next_attempt_at > now
            )
        ).scalar()
        next_expiry = conn.execute(
            select(func.min(D.c.claimed_until)).where(D.c.status == "sending")
        ).scalar()
    times = [t for t in (next_retry, next_expiry) if t is not None]
    if not times:
        return None
    soonest = min(t if t.tzinfo else t.replace(tzinfo=dt.UTC) for t in times)
    return max((soonest - now).total_seconds(), 0.0)


def sweep(engine: Engine, settings: Settings, now: dt.datetime | None = None) -> SweepReport:
    """Recover expired claims and count work that is due (and overdue) so workers can be woken."""
    now = now or utcnow()
    with engine.begin() as conn:
        recovered, dead = _recover_expired(conn, engine, settings, now)
    stale_before = now - dt.timedelta(seconds=settings.sweep_after_seconds)
    due_now = and_(D.c.status.in_(rules.DUE_STATUSES), D.c.next_attempt_at <= now)
    with engine.connect() as conn:
        due = conn.execute(select(func.count()).select_from(D).where(due_now)).scalar() or 0
        stale = (
            conn.execute(
                select(func.count())
                .select_from(D)
                .where(due_now, D.c.next_attempt_at <= stale_before)
            ).scalar()
            or 0
        )
    return SweepReport(recovered=recovered, dead=dead, due=int(due), stale=int(stale))
