"""The packaged Alembic migrations build exactly the schema the models describe.

``anshin db upgrade`` runs on a fresh SQLite file and on a fresh PostgreSQL
database, then Alembic's own comparison must find no difference. When this
fails after a model change, write the migration: ``anshin db revision -m "…"``
(docs/cli.md, "Changing the schema").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from typer.testing import CliRunner

from anshin import migrations
from anshin.cli import app
from anshin.db import Base, make_engine


def differences(url: str) -> list[Any]:
    migrations.load_models()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            opts = {"compare_type": True, "include_name": modelled}
            context = MigrationContext.configure(conn, opts=opts)
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def modelled(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """Leave out what a domain creates by hand next to its models (the search's FTS tables)."""
    unmodelled = Base.metadata.info.get("unmodelled_tables", set())
    return name not in unmodelled and parent_names.get("table_name") not in unmodelled


def describe(diff: list[Any]) -> list[str]:
    """Alembic's difference tuples as short lines: ``add_table notify_messages``."""
    lines = []
    for item in diff:
        op = item[0] if isinstance(item, tuple) else item[0][0]
        detail = item if isinstance(item, tuple) else item[0]
        names = [
            getattr(part, "name", None) or (part if isinstance(part, str) else None)
            for part in detail[1:]
        ]
        lines.append(" ".join([str(op), *[n for n in names if n]]))
    return sorted(lines)


def upgrade_with_cli(url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["db", "upgrade"], env={"ANSHIN_DATABASE_URL": url, "LANG": "C.UTF-8"}
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"The database is at revision {', '.join(migrations.heads())}."


def check_schema(url: str, tmp_path: Path) -> None:
    upgrade_with_cli(url, tmp_path)
    diff = differences(url)
    assert diff == [], (
        "The models and the migrations differ; write a migration with "
        "`anshin db revision -m '…'` (docs/cli.md) and commit it:\n  " + "\n  ".join(describe(diff))
    )
    engine = make_engine(url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert migrations.current(url) == migrations.heads()
    upgrade_with_cli(url, tmp_path)  # a second run changes nothing
    migrations.downgrade(url, "base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()
    upgrade_with_cli(url, tmp_path)
    assert differences(url) == []


def test_every_domains_models_are_loaded() -> None:
    found = migrations.load_models()
    assert "anshin.incidents.models" in found and "anshin.team.models" in found
    tables = set(Base.metadata.tables)
    assert {"events", "incidents", "users", "status_artefacts"} <= tables


def test_one_head_and_numbered_files() -> None:
    assert len(migrations.heads()) == 1
    names = sorted(p.name for p in (migrations.MIGRATIONS_DIR / "versions").glob("*.py"))
    assert names and names[0].startswith("0001_")
    for path in (migrations.MIGRATIONS_DIR / "versions").glob("*.py"):
        assert "anshin" not in path.read_text(encoding="utf-8").split('"""', 2)[2], (
            f"{path.name} imports anshin; migrations must not depend on the models"
        )


def test_upgrade_fresh_sqlite_matches_the_models(tmp_path: Path) -> None:
    check_schema(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path)


def test_upgrade_fresh_postgresql_matches_the_models(fresh_pg_url: str, tmp_path: Path) -> None:
    check_schema(fresh_pg_url, tmp_path)


def test_the_comparison_notices_a_missing_migration(tmp_path: Path) -> None:
    """Guard for the checks above: a model without a migration is reported."""
    from sqlalchemy import Column, Integer, MetaData, Table

    url = f"sqlite:///{tmp_path / 'drift.db'}"
    migrations.upgrade(url)
    migrations.load_models()
    drifted = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(drifted)
    Table("unmigrated_things", drifted, Column("id", Integer, primary_key=True))
    drifted.tables["incidents"].append_column(Column("colour", Integer, nullable=True))
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), drifted)
    engine.dispose()
    found = describe(diff)
    assert "add_table unmigrated_things" in found
    assert any(
        line.startswith("add_column") and line.endswith("incidents colour") for line in found
    )


def test_timestamps_keep_utc_through_the_migrated_schema(tmp_path: Path) -> None:
    """Columns created by the scripts (plain DateTime) still round-trip aware UTC times."""
    import datetime as dt

    from anshin.db import make_sessionmaker
    from anshin.events import Event, record

    url = f"sqlite:///{tmp_path / 'tz.db'}"
    migrations.upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        event = record(session, actor="t", entity_type="x", entity_id=1, action="a")
        event.at = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))
        session.commit()
        session.expire_all()
        stored = session.get(Event, event.id)
        assert stored is not None
        assert stored.at == dt.datetime(2026, 11, 22, 6, 0, tzinfo=dt.UTC)
        assert stored.at.tzinfo is not None
    engine.dispose()
