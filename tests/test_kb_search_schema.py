"""The search index's tables as migration 0012 makes them, and several processes at once.

The full-text tables are not models: migration 0012 writes their DDL and
knowledge/index_models.py attaches the same to ``create_all``; both must
agree. Catch-ups racing from two engines (two processes) index each record
once. PostgreSQL's pg_trgm answers a near-miss no word matched.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from anshin import migrations
from anshin.config import Settings
from anshin.db import Base, make_engine, make_sessionmaker, utcnow
from anshin.inquiries import service as inquiries
from anshin.inquiries.service import NewInquiry
from anshin.knowledge import rules, search, service
from anshin.knowledge.index_models import FTS_NAMES, SearchDocument


def _sqlite_fts(url: str) -> dict[str, str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT name, sql FROM sqlite_master WHERE name IN ('kb_fts', 'kb_fts_records')")
        ).all()
    engine.dispose()
    return {name: sql for name, sql in rows}


def test_the_migration_and_the_models_make_the_same_fts_tables(tmp_path: Path) -> None:
    migrated = f"sqlite:///{tmp_path / 'migrated.db'}"
    migrations.upgrade(migrated)
    created = f"sqlite:///{tmp_path / 'created.db'}"
    migrations.load_models()
    engine = make_engine(created)
    Base.metadata.create_all(engine)
    engine.dispose()
    assert set(_sqlite_fts(migrated)) == set(FTS_NAMES)
    assert _sqlite_fts(migrated) == _sqlite_fts(created)
    migrations.downgrade(migrated, "0011")
    assert _sqlite_fts(migrated) == {}


def _pg_shape(url: str) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        columns = conn.execute(
            text(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_name IN ('kb_fts', 'kb_fts_records') ORDER BY 1, 2"
            )
        ).all()
        indexes = conn.execute(
            text(
                "SELECT tablename, indexdef FROM pg_indexes "
                "WHERE tablename IN ('kb_fts', 'kb_fts_records') ORDER BY 1, 2"
            )
        ).all()
    engine.dispose()
    return [tuple(r) for r in columns], [tuple(r) for r in indexes]


def test_postgresql_migration_matches_create_all(fresh_pg_url: str, pg_server_url: str) -> None:
    migrations.upgrade(fresh_pg_url)
    columns, indexes = _pg_shape(fresh_pg_url)
    assert ("kb_fts", "tsv", "tsvector") in columns
    assert any("gin_trgm_ops" in definition for _, definition in indexes)
    assert (columns, indexes) == _pg_shape(pg_server_url)  # the suite's create_all database


def _receive(session: Session, settings: Settings, words: str) -> None:
    inquiries.receive(
        session,
        settings,
        NewInquiry(channel="form", text=words, locale="ja", customer_email="c@example.com"),
        actor="test",
        now=utcnow(),
    )


def test_racing_catch_ups_index_each_record_once(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with sessions() as session:
        for n in range(40):
            _receive(session, settings, f"アプリが落ちる件{n}")
        session.commit()

    def one_process(_: int) -> int:
        engine = make_engine(settings.database_url)  # a process of its own: its own pool
        try:
            with make_sessionmaker(engine)() as session:
                found = search.search(session, rules.check_query("アプリ", sources=("inquiry",)))
                return len(found)
        finally:
            engine.dispose()

    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = list(pool.map(one_process, range(4)))
    assert all(0 <= c <= 10 for c in counts)
    with sessions() as session:
        while search.search(session, rules.check_query("アプリ", sources=("inquiry",))) == []:
            pass  # a racer that lost skipped: the next search catches up
        indexed = session.scalar(
            select(func.count())
            .select_from(SearchDocument)
            .where(SearchDocument.source == "inquiry")
        )
        assert indexed == 40
        assert len(search.search(session, rules.check_query("アプリ", sources=("inquiry",)))) == 10


def test_a_near_miss_by_trigrams_on_postgresql(session: Session) -> None:
    service.save(
        session,
        {"key": "faq-lock", "kind": "faq", "title": "アカウントロックの解除手順"},
        actor="t",
    )
    session.commit()
    found = [h.key for h in search.search(session, rules.check_query("アカウンドロック"))]
    if session.get_bind().dialect.name == "postgresql":
        assert found == ["faq-lock"]  # no word matched; pg_trgm word similarity did
    else:
        assert found == []  # SQLite has no trigram fallback (docs/knowledge-search.md)
