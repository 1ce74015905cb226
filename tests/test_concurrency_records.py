"""Concurrent declares, publishes and resolves, in real threads with a session each (issue 7).

On PostgreSQL, counting rows to pick the next reference handed the same number
to concurrent declares (33 of 50 got 409), and publishes that decided "first
notice or update" without a lock stored 8 first notices out of 25. Every test
here starts its threads together at a barrier, each with its own session and
connection, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from anshin import migrations, references
from anshin.config import Settings
from anshin.db import make_engine, make_sessionmaker, transaction, utcnow
from anshin.errors import Conflict
from anshin.incidents import maintenance, service
from anshin.incidents.models import Incident, IncidentUpdate
from anshin.notify.models import OutboxMessage
from notice_texts import FIRST_NOTICE_EN, FIRST_NOTICE_JA, RESOLUTION_EN, RESOLUTION_JA
from notice_world import ACTOR, build

T = TypeVar("T")


@pytest.fixture
def patient(settings: Settings) -> Iterator[Engine]:
    """An engine whose waits for locks and connections outlast the test (correctness, not time)."""
    tuned = settings.model_copy(
        update={"db_busy_timeout_seconds": 120.0, "db_pool_timeout_seconds": 120.0}
    )
    engine = make_engine(settings.database_url, tuned)
    yield engine
    engine.dispose()


def together(count: int, work: Callable[[int], T]) -> list[T | BaseException]:
    """Run ``work(i)`` in ``count`` threads released at once; results or exceptions, in order."""
    barrier = threading.Barrier(count)

    def run(i: int) -> T | BaseException:
        barrier.wait()
        try:
            return work(i)
        except BaseException as exc:  # reported by the test, not lost in the thread
            return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def declare(factory: sessionmaker[Session], settings: Settings, title: str) -> str:
    with transaction(factory) as session:
        incident = service.declare(
            session,
            settings,
            service.IncidentInput(title=title, severity="sev2"),
            actor=ACTOR,
        )
        return incident.reference


@pytest.mark.parametrize("writes", [False, True], ids=["session", "write-session"])
def test_fifty_concurrent_declares_get_fifty_consecutive_references(
    settings: Settings, patient: Engine, writes: bool
) -> None:
    factory = make_sessionmaker(patient, writes=writes)
    results = together(50, lambda i: declare(factory, settings, f"同時に起票された障害 {i}"))
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == [], failures[:3]
    year = utcnow().year
    assert sorted(results) == [f"INC-{year}-{n:04d}" for n in range(1, 51)]  # type: ignore[type-var]
    with factory() as session:
        stored = session.scalars(select(Incident.reference)).all()
        assert sorted(stored) == sorted(results)  # type: ignore[type-var]


def test_concurrent_maintenance_windows_get_consecutive_references(
    settings: Settings, patient: Engine
) -> None:
    factory = make_sessionmaker(patient)
    start = utcnow().replace(microsecond=0) + dt.timedelta(days=3)

    def schedule(i: int) -> str:
        with transaction(factory) as session:
            window = maintenance.schedule(
                session,
                settings,
                title=f"定期メンテナンス {i}",
                scheduled_start=start,
                scheduled_end=start + dt.timedelta(hours=1),
                notify_subscribers=False,
                actor=ACTOR,
            )
            return window.reference

    results = together(20, schedule)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert sorted(results) == [  # type: ignore[type-var]
        f"MNT-{start.year}-{n:04d}" for n in range(1, 21)
    ]


def _publish_first(factory: sessionmaker[Session], settings: Settings, ref: str) -> str:
    with transaction(factory) as session:
        incident = service.get(session, ref)
        update = service.publish_update(
            session,
            settings,
            incident,
            body_ja=FIRST_NOTICE_JA,
            body_en=FIRST_NOTICE_EN,
            actor=ACTOR,
        )
        return update.kind


@pytest.mark.parametrize("writes", [False, True], ids=["session", "write-session"])
def test_twenty_five_concurrent_publishes_store_one_first_notice(
    settings: Settings, patient: Engine, writes: bool
) -> None:
    factory = make_sessionmaker(patient, writes=writes)
    with factory() as session:
        world = build(session, settings, "http://127.0.0.1:9/hook")
        ref = world.incident.reference
    results = together(25, lambda _i: _publish_first(factory, settings, ref))
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert sorted(results) == ["first_notice"] + ["update"] * 24  # type: ignore[type-var]
    with factory() as session:
        kinds = session.execute(
            select(IncidentUpdate.kind, func.count()).group_by(IncidentUpdate.kind)
        ).all()
        assert dict(kinds) == {"first_notice": 1, "update": 24}
        messages = session.execute(
            select(OutboxMessage.kind, func.count()).group_by(OutboxMessage.kind)
        ).all()
        assert dict(messages) == {"first_notice": 1, "update": 24}


def test_concurrent_resolves_send_one_resolution_notice(
    settings: Settings, patient: Engine
) -> None:
    factory = make_sessionmaker(patient, writes=True)
    with factory() as session:
        world = build(session, settings, "http://127.0.0.1:9/hook")
        ref = world.incident.reference
    _publish_first(factory, settings, ref)

    def resolve(_i: int) -> str:
        with transaction(factory) as session:
            incident = service.get(session, ref)
            service.resolve(
                session,
                settings,
                incident,
                body_ja=RESOLUTION_JA,
                body_en=RESOLUTION_EN,
                actor=ACTOR,
            )
            return "resolved"

    results = together(10, resolve)
    assert results.count("resolved") == 1
    refused = [r for r in results if r != "resolved"]
    assert len(refused) == 9 and all(isinstance(r, Conflict) for r in refused), refused
    with factory() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.kind == "resolution")
            )
            == 1
        )
        assert (
            session.scalar(
                select(func.count())
                .select_from(IncidentUpdate)
                .where(IncidentUpdate.kind == "resolution")
            )
            == 1
        )


def test_a_series_without_a_counter_continues_after_the_stored_references(
    settings: Settings, session: Session
) -> None:
    """Rows written before the counters existed (by hand, by a restore) are not numbered again."""
    year = utcnow().year
    now = utcnow()
    session.add(
        Incident(
            reference=f"INC-{year}-0041",
            title="手で登録された障害",
            severity="sev3",
            started_at=now,
            detected_at=now,
            declared_at=now,
            created_by=ACTOR,
        )
    )
    session.commit()
    incident = service.declare(
        session, settings, service.IncidentInput(title="次の障害", severity="sev3"), actor=ACTOR
    )
    assert incident.reference == f"INC-{year}-0042"
    assert references.next_reference(session, "Q", year) == f"Q-{year}-0001"
    assert references.next_reference(session, "Q", year) == f"Q-{year}-0002"


def test_the_migration_seeds_each_series_after_its_highest_reference(tmp_path: Path) -> None:
    """A database from before the counters goes on numbering where it was (SQLite file)."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrations.upgrade(url, "0004")
    engine = make_engine(url)
    stamp = "2026-03-01 00:00:00"
    rows: list[dict[str, Any]] = [
        {"ref": "INC-2026-0007"},
        {"ref": "INC-2026-0012"},
        {"ref": "INC-2025-0003"},
    ]
    with engine.begin() as conn:
        for row in rows:
            conn.execute(
                text(
                    "INSERT INTO incidents (reference, title, summary, severity, status, "
                    "started_at, detected_at, declared_at, recovery_confirmed, cause_confirmed, "
                    "created_by, updated_at) VALUES (:ref, 't', '', 'sev3', 'investigating', "
                    ":at, :at, :at, 0, 0, 'old', :at)"
                ),
                {**row, "at": stamp},
            )
        conn.execute(
            text(
                "INSERT INTO maintenances (reference, title, body, status, scheduled_start, "
                "scheduled_end, created_at, updated_at, created_by) VALUES "
                "('MNT-2026-0004', 't', '', 'scheduled', :at, :at, :at, :at, 'old')"
            ),
            {"at": stamp},
        )
    migrations.upgrade(url)
    with make_sessionmaker(engine)() as session:
        assert references.next_reference(session, "INC", 2026) == "INC-2026-0013"
        assert references.next_reference(session, "INC", 2025) == "INC-2025-0004"
        assert references.next_reference(session, "MNT", 2026) == "MNT-2026-0005"
        assert references.next_reference(session, "INC", 2027) == "INC-2027-0001"
        session.commit()
    engine.dispose()


def test_a_series_with_its_counter_takes_a_number_in_one_statement(
    engine: Engine, session: Session
) -> None:
    """Intake takes a reference per inquiry: one UPDATE … RETURNING once the counter exists."""
    year = utcnow().year
    first = references.next_reference(session, "INC", year, existing=Incident.reference)
    sent: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        second = references.next_reference(session, "INC", year, existing=Incident.reference)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert (first, second) == (f"INC-{year}-0001", f"INC-{year}-0002")
    assert len(sent) == 1 and sent[0].lstrip().upper().startswith("UPDATE")
