"""Fixtures shared by the whole suite.

``db_url`` is parametrised over SQLite (always) and PostgreSQL (when
``ANSHIN_TEST_DATABASE_URL`` is set): every test that touches the database
runs on both, each on a clean database. On PostgreSQL the run creates its own
database (``anshin_test_<pid>``) so parallel runs never share tables.
"""

from __future__ import annotations

import os
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from anshin.config import Settings
from anshin.db import Base, import_all_models, make_engine, make_sessionmaker, normalise_url

PG_URL = os.environ.get("ANSHIN_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("ANSHIN_TEST_REDIS_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


_ENGINES_USED: weakref.WeakSet[Engine] = weakref.WeakSet()


@event.listens_for(Engine, "engine_connect")
def _remember_engine(connection: Any) -> None:
    _ENGINES_USED.add(connection.engine)


@pytest.fixture(autouse=True)
def _close_idle_connections() -> Iterator[None]:
    """Close the pooled connections of every engine a test used, when the test ends.

    Apps, CLIs and services under test build engines of their own; their idle
    pooled connections would otherwise stay open until garbage collection, and
    a suite on a shared PostgreSQL would run out of connections
    (``max_connections`` is 100 by default).
    """
    yield
    for engine in list(_ENGINES_USED):
        engine.dispose()
    _ENGINES_USED.clear()


@contextmanager
def new_pg_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database named ``<prefix>_<random>`` beside ``server_url``'s, dropped after.

    Its sessions are ended before the drop, so a test that left a connection
    open cannot keep the database alive.
    """
    base = normalise_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str | None]:
    """A database of this run's own on the PostgreSQL server, dropped at the end."""
    if not PG_URL:
        yield None
        return
    with new_pg_database(PG_URL, f"anshin_test_{os.getpid()}") as url:
        import_all_models()
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        yield url


@pytest.fixture
def fresh_pg_url(pg_server_url: str | None) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test (migrations start from nothing)."""
    if pg_server_url is None:
        pytest.skip("ANSHIN_TEST_DATABASE_URL is not set")
    with new_pg_database(pg_server_url, "anshin_fresh") as url:
        yield url


def _truncate_all(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, pg_server_url: str | None) -> str:
    """A clean, migrated-by-metadata database URL for one test, on each backend."""
    import_all_models()
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'anshin-test.db'}"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        return url
    assert pg_server_url is not None
    _truncate_all(pg_server_url)
    return pg_server_url


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings for one test: its own database, a fixed secret, no export dir."""
    return Settings(
        database_url=db_url,
        secret_key="test-secret-" + uuid.uuid4().hex,
        status_export_dir=None,
        base_url="http://127.0.0.1:8000",
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """An engine on the test's database."""
    eng = make_engine(settings.database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """A session factory on the test's database."""
    return make_sessionmaker(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One session; the test commits what it wants kept."""
    s = sessions()
    yield s
    s.rollback()
    s.close()
