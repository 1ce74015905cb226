"""Alembic environment: the URL and connection come from :func:`anshin.migrations.alembic_config`.

Timestamps are anshin's ``UTCDateTime`` in the models but plain
``sa.DateTime()`` in the scripts: the decorator only converts values in
Python, the column is the same, and a script that imports no anshin types
keeps working whatever later happens to the models.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext

from anshin.db import Base, UTCDateTime, make_engine
from anshin.migrations import load_models

config = context.config
load_models()
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Render UTCDateTime as the plain DateTime it is stored as."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """Skip tables a domain creates by hand (``Base.metadata.info["unmodelled_tables"]``)."""
    unmodelled = target_metadata.info.get("unmodelled_tables", set())
    return name not in unmodelled and parent_names.get("table_name") not in unmodelled


def _options(dialect_name: str) -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        "include_name": include_name,
        "render_as_batch": dialect_name == "sqlite",
        "render_item": render_item,
        "compare_type": True,
    }


def run_offline() -> None:
    """``--sql`` mode: print the SQL instead of running it."""
    url = config.attributes["url"]
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **_options(url.split(":", 1)[0].split("+", 1)[0]),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run the migrations on a given connection, or on one opened from the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **_options(connection.dialect.name))
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.attributes["url"])
    try:
        with engine.connect() as conn:
            context.configure(connection=conn, **_options(conn.dialect.name))
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
