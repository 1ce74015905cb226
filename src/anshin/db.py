"""Engine, sessions and the declarative Base shared by every domain.

SQLite runs in WAL mode with foreign keys on (the embedded default); PostgreSQL
through psycopg 3 when several app servers share data (docs/design.md "data").
Times are stored in UTC and always come back timezone-aware.

Concurrency (docs/decisions/0004-concurrency-and-storage-errors.md):

- The pool is sized against the thread pool that runs the routes, and a
  checkout waits at most ``ANSHIN_DB_POOL_TIMEOUT_SECONDS``; what cannot get a
  connection in time fails as a storage error (a 503 with Retry-After), never a
  request that hangs.
- On SQLite a *write session* (:func:`make_sessionmaker` with ``writes=True``)
  begins with ``BEGIN IMMEDIATE``: it holds the database's write lock from its
  first statement, so what it read is still true when it writes. A read
  session, and a bare connection, run their SELECTs outside a transaction and
  take the write lock with their first INSERT/UPDATE/DELETE (or SAVEPOINT) —
  never a deferred read transaction upgraded to a write, which SQLite refuses
  at once with "database is locked" whatever the busy timeout.
- ``ANSHIN_DB_BUSY_TIMEOUT_SECONDS`` is how long SQLite waits for that lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, create_engine, event, inspect, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from anshin.config import Settings

# Execution option carried by a write session's connections (see make_sessionmaker).
WRITE_LOCK = "anshin_write_lock"


def utcnow() -> dt.datetime:
    """The current instant, timezone-aware, in UTC (the only zone stored)."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is UTC in the database and timezone-aware in Python.

    SQLite has no time zones, so values are normalised to naive UTC on the way
    in and marked UTC on the way out; naive input is refused to catch bugs early.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; anshin stores timezone-aware UTC only")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """The metadata every domain's tables belong to."""


def normalise_url(url: str) -> str:
    """Let people write ``postgresql://`` and still get the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _is_memory(url: str) -> bool:
    return url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url


def make_engine(url: str, settings: Settings | None = None, **kwargs: Any) -> Engine:
    """An engine tuned for the backend the URL names, its pool and timeouts from ``settings``.

    Without settings the documented defaults apply (the same as ``Settings()``'s).
    """
    url = normalise_url(url)
    tuning = settings or Settings.model_construct()
    if "poolclass" not in kwargs and not (url.startswith("sqlite") and _is_memory(url)):
        kwargs.setdefault("pool_size", tuning.db_pool_size)
        kwargs.setdefault("max_overflow", tuning.db_max_overflow)
        kwargs.setdefault("pool_timeout", tuning.db_pool_timeout_seconds)
    if url.startswith("sqlite"):
        busy = tuning.db_busy_timeout_seconds
        engine = create_engine(
            url,
            # isolation_level: sqlite3 begins no transaction for a SELECT and begins
            # BEGIN IMMEDIATE (not a deferred BEGIN) before the first write statement.
            connect_args={
                "check_same_thread": False,
                "timeout": busy,
                "isolation_level": "IMMEDIATE",
            },
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={round(busy * 1000)}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _write_lock_up_front(conn: Connection) -> None:
            if conn.get_execution_options().get(WRITE_LOCK):
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        @event.listens_for(engine, "savepoint")
        def _savepoint_in_a_write(conn: Connection, _name: str) -> None:
            # A SAVEPOINT outside a transaction would open a deferred one (and its
            # RELEASE would commit everything early): open the write transaction first.
            if not _in_transaction(conn):
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _in_transaction(conn: Connection) -> bool:
    return bool(conn.connection.dbapi_connection.in_transaction)  # type: ignore[union-attr]


def make_sessionmaker(engine: Engine, *, writes: bool = False) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (templates read them).

    ``writes=True`` makes write sessions: on SQLite each transaction begins with
    ``BEGIN IMMEDIATE``, holding the write lock from its first statement (a
    request that changes data, decided by its HTTP method in ``web.deps``). The
    default suits reads, and work that takes its locks where it needs them
    (:func:`lock_for_update`); on PostgreSQL both are the same.
    """
    bind = engine.execution_options(**{WRITE_LOCK: True}) if writes else engine
    return sessionmaker(bind=bind, expire_on_commit=False)


def lock_for_update(session: Session, instance: Any) -> None:
    """Hold ``instance``'s row until the transaction ends, then reload it with its relations.

    For a decision read from the row and acted on in the same transaction (is
    there a first notice yet? is it resolved already?): a concurrent transaction
    doing the same waits here and then sees the first one's outcome. PostgreSQL
    takes a row lock (``SELECT … FOR UPDATE``); SQLite has no row locks, so the
    transaction takes the database's write lock (``BEGIN IMMEDIATE``) unless it
    holds it already. Pending changes are flushed first, so the reload loses none.
    """
    session.flush()
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        if not _in_transaction(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        state = inspect(instance)
        keys = state.mapper.primary_key
        identity = state.identity or ()
        session.execute(
            select(*keys)
            .where(*(k == v for k, v in zip(keys, identity, strict=True)))
            .with_for_update()
        )
    session.refresh(instance)


# Storage errors: the database cannot do its job right now (read-only, full, locked,
# unreachable, no connection free in time). Bugs and refusals of bad data are not.
_NOT_STORAGE = (sa_exc.IntegrityError, sa_exc.DataError, sa_exc.NotSupportedError)
_PRIVILEGE_SQLSTATE = "42501"  # PostgreSQL insufficient_privilege (a read-only role)


def is_storage_error(exc: BaseException) -> bool:
    """True for a failure of the database rather than of the request or the code.

    Read-only or full database, "database is locked", a lost connection, a
    pool checkout that timed out, a read-only PostgreSQL role. Not: unique or
    foreign-key violations, bad data, SQL errors (except a missing privilege).
    """
    if isinstance(exc, sa_exc.TimeoutError):
        return True
    if not isinstance(exc, sa_exc.DBAPIError) or isinstance(exc, _NOT_STORAGE):
        return False
    if isinstance(exc, sa_exc.ProgrammingError):
        return getattr(exc.orig, "sqlstate", None) == _PRIVILEGE_SQLSTATE
    return True


def storage_cause(exc: BaseException) -> str:
    """The database's own words for a storage error, on one line (for logs and the CLI)."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return (lines[0] if lines else type(cause).__name__)[:300]


def is_busy(exc: BaseException) -> bool:
    """A storage error that passes by itself soon: locked, no connection free, lock timeout."""
    if isinstance(exc, sa_exc.TimeoutError):
        return True
    text = storage_cause(exc).lower()
    return "locked" in text or "deadlock" in text or "could not serialize" in text


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def import_all_models() -> list[str]:
    """Import every domain's ``models`` module so Base.metadata is complete.

    Domains are found by looking for ``anshin/<domain>/models.py``, so a new
    domain's tables reach Alembic, ``create_all`` and the tests without a list
    to keep in step. Returns the modules imported.
    """
    import importlib
    import importlib.util
    import pkgutil

    import anshin
    from anshin import events, ratelimit, references  # noqa: F401  (shared tables outside the domains)

    found: list[str] = []
    for module in pkgutil.iter_modules(anshin.__path__):
        name = f"anshin.{module.name}.models"
        if module.ispkg and importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
            found.append(name)
    return found


LIKE_ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its ``%`` and ``_`` taken literally.

    Use with ``escape=LIKE_ESCAPE``; searches (subscribers, incidents) stay
    plain substring matches whatever the person typed.
    """
    escaped = (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"
