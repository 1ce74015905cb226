"""Claims: how workers share deliveries through the database (docs/design.md "Scale-out").

A worker takes a batch with one ``UPDATE … RETURNING``: on PostgreSQL the rows
are chosen ``FOR UPDATE SKIP LOCKED``, so workers never wait for each other and
never take the same row; on SQLite the statement is one short write
transaction. A claim lasts ``delivery_claim_seconds`` unless renewed, so the
work of a killed worker returns to the queue by itself: the next claim or the
sweeper recovers expired claims (R4: nothing is lost).

A claimed delivery ends with one mark (:class:`Marks`: ``sent``, ``failed`` or
``dead``, ``cancelled``), each in its own commit on the worker's connection.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Dialect, Engine, Table, Update, and_, bindparam, func, or_, select, update
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor
from sqlalchemy.pool import PoolProxiedConnection

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


# The mail lane: mail, and any delivery whose subscriber is gone (it is only cancelled).
# Webhooks are claimed one per endpoint by ``notify.endpoints`` (issue 7).
MAIL_LANE = or_(D.c.channel != "webhook", D.c.subscriber_id.is_(None))


def claim(
    engine: Engine, settings: Settings, worker: str, now: dt.datetime | None = None
) -> list[int]:
    """Take up to ``delivery_batch_size`` due mail deliveries for ``worker``; returns their ids.

    Each claim counts as an attempt, so a message that kills every worker
    that touches it still ends as a dead letter instead of looping forever.
    Webhooks are not taken here: a slow endpoint must never hold mail back.
    """
    now = now or utcnow()
    due = _locked(
        select(D.c.id)
        .where(D.c.status.in_(rules.DUE_STATUSES), D.c.next_attempt_at <= now, MAIL_LANE)
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
            last_attempt_at=now,
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


# The per-delivery marks: built once, compiled once per dialect (see Marks).
_OWNED = and_(
    D.c.id == bindparam("delivery_id"),
    D.c.claimed_by == bindparam("worker"),
    D.c.status == "sending",
)
_SENT = (
    update(D)
    .where(D.c.id == bindparam("delivery_id"), D.c.status != "sent")
    .values(status="sent", sent_at=bindparam("now"), claimed_until=None, last_error=None)
)
_FAILED = (
    update(D)
    .where(_OWNED)
    .values(
        status=bindparam("new_status"),
        next_attempt_at=bindparam("next_at"),
        claimed_by=None,
        claimed_until=None,
        last_error=bindparam("error"),
    )
)
_CANCELLED = (
    update(D)
    .where(_OWNED)
    .values(status="cancelled", claimed_by=None, claimed_until=None, last_error=bindparam("error"))
)


@lru_cache(maxsize=4)
def _statements(dialect: Dialect) -> dict[str, _Compiled]:
    return {
        "sent": _Compiled.of(_SENT, dialect),
        "failed": _Compiled.of(_FAILED, dialect),
        "cancelled": _Compiled.of(_CANCELLED, dialect),
    }


@dataclass(frozen=True)
class _Compiled:
    """One UPDATE compiled for one dialect, with what the driver needs besides the SQL."""

    sql: str
    order: tuple[str, ...] | None  # parameter order for positional paramstyles (SQLite)
    fixed: dict[str, Any]  # the values compiled into the statement ('sent', NULL, …)
    processors: dict[str, Callable[[Any], Any]]  # the columns' own bind processing

    @classmethod
    def of(cls, stmt: Update, dialect: Dialect) -> _Compiled:
        compiled = stmt.compile(dialect=dialect)
        binds = {name: bind for bind, name in compiled.bind_names.items()}
        processors: dict[str, Callable[[Any], Any]] = {}
        for name, bind in binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors[name] = process
        return cls(
            sql=compiled.string,
            order=tuple(compiled.positiontup or ()) if compiled.positional else None,
            fixed={name: b.effective_value for name, b in binds.items() if not b.required},
            processors=processors,
        )

    def parameters(self, given: dict[str, Any]) -> Any:
        """The driver's parameters: given and fixed values, bind-processed, in driver order."""
        values = {**self.fixed, **given}
        for name, process in self.processors.items():
            values[name] = process(values[name])
        return values if self.order is None else tuple(values[name] for name in self.order)


class Marks:
    """The worker run's own driver connection for the per-delivery marks.

    One commit per accepted mail is the exactly-once rule (docs/delivery.md), so
    this is the hot path of a fan-out (R4): through SQLAlchemy's execution
    machinery each mark cost about half as much CPU again as the statement and
    the commit themselves. The three UPDATEs below are compiled once per dialect
    and run on the pool's DBAPI connection; values still go through the columns'
    own types (UTC timestamps stored as SQLAlchemy stores them). Any error
    rolls back, drops the connection (a fresh one comes from the pool) and is
    raised, as before.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._statements = _statements(engine.dialect)
        self._raw: PoolProxiedConnection | None = None
        self._driver: DBAPIConnection | None = None
        self._cursor: DBAPICursor | None = None

    def sent(self, delivery_id: int, now: dt.datetime) -> None:
        """``sent``, whoever holds the claim now: the server accepted the mail."""
        self._commit("sent", {"delivery_id": delivery_id, "now": now})

    def failed(
        self, delivery_id: int, worker: str, status: str, next_at: dt.datetime, error: str
    ) -> None:
        """``failed`` (retried at ``next_at``) or ``dead``, if ``worker`` still holds the claim."""
        params = {"delivery_id": delivery_id, "worker": worker, "new_status": status}
        self._commit("failed", {**params, "next_at": next_at, "error": error})

    def cancelled(self, delivery_id: int, worker: str, reason: str) -> None:
        """``cancelled``, if ``worker`` still holds the claim: the recipient left."""
        self._commit("cancelled", {"delivery_id": delivery_id, "worker": worker, "error": reason})

    def _commit(self, statement: str, params: dict[str, Any]) -> None:
        compiled = self._statements[statement]
        if self._raw is None or self._driver is None or self._cursor is None:
            self._raw = self._engine.raw_connection()
            self._driver = self._raw.dbapi_connection
            assert self._driver is not None
            self._cursor = self._driver.cursor()
        try:
            self._cursor.execute(compiled.sql, compiled.parameters(params))
            self._driver.commit()
        except BaseException:
            self._drop(invalidate=True)
            raise

    def _drop(self, *, invalidate: bool) -> None:
        raw, cursor, driver = self._raw, self._cursor, self._driver
        self._raw = self._cursor = self._driver = None
        if raw is None:
            return
        with contextlib.suppress(Exception):
            if cursor is not None:
                cursor.close()
            if driver is not None:
                driver.rollback()
        if invalidate:
            with contextlib.suppress(Exception):
                raw.invalidate()
        raw.close()

    def close(self) -> None:
        """Hand the connection back to the pool."""
        self._drop(invalidate=False)


def seconds_until_next_due(engine: Engine, now: dt.datetime | None = None) -> float | None:
    """How long until a mail retry falls due or a claim expires; None when nothing is waiting.

    Webhooks wait on their endpoints too: ``endpoints.seconds_until_next_due``.
    """
    now = now or utcnow()
    with engine.connect() as conn:
        next_retry = conn.execute(
            select(func.min(D.c.next_attempt_at)).where(
                D.c.status.in_(rules.DUE_STATUSES), D.c.next_attempt_at > now, MAIL_LANE
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
