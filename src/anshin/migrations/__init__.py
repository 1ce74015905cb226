"""Alembic, configured in code: ``anshin db upgrade`` works from any directory.

The migration scripts ship inside the package (``migrations/versions``), so an
installed anshin needs no ``alembic.ini``; the database URL comes from
settings (``ANSHIN_DATABASE_URL``). SQLite runs in batch mode, because it can
only alter a table by copying it (docs/design.md "data").
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from anshin.db import import_all_models, make_engine, normalise_url

MIGRATIONS_DIR = Path(__file__).resolve().parent


def load_models() -> list[str]:
    """Every domain's tables, for Alembic (see ``db.import_all_models``)."""
    return import_all_models()


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged scripts and the given database.

    The URL travels in ``attributes`` rather than the ini options, where a
    ``%`` in a password would be read as interpolation.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("version_locations", str(MIGRATIONS_DIR / "versions"))
    config.set_main_option("path_separator", "os")
    config.attributes["url"] = normalise_url(url)
    if connection is not None:
        config.attributes["connection"] = connection
    if importlib.util.find_spec("ruff") is not None:
        # New scripts come out formatted like the rest of the code (development installs).
        config.set_section_option("post_write_hooks", "hooks", "ruff_format")
        config.set_section_option("post_write_hooks", "ruff_format.type", "module")
        config.set_section_option("post_write_hooks", "ruff_format.module", "ruff")
        config.set_section_option(
            "post_write_hooks", "ruff_format.options", "format REVISION_SCRIPT_FILENAME"
        )
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the newest by default)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Step the database back to ``revision``."""
    command.downgrade(alembic_config(url), revision)


def heads() -> set[str]:
    """The revisions the packaged scripts end at."""
    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current(url: str) -> set[str]:
    """The revisions the database is at; empty for a database never migrated."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()


def next_revision_id() -> str:
    """Revisions are numbered 0001, 0002… so the files sort in the order they apply."""
    numbers = [
        int(match.group(1))
        for path in (MIGRATIONS_DIR / "versions").glob("*.py")
        if (match := re.match(r"(\d{4})_", path.name))
    ]
    return f"{max(numbers, default=0) + 1:04d}"


def revision(url: str, message: str, *, autogenerate: bool = True) -> Path:
    """Write a new migration script comparing the models with the database at ``url``.

    The database must be at head first, so the script holds only the new change.
    """
    rev_id = next_revision_id()
    script = command.revision(
        alembic_config(url), message=message, autogenerate=autogenerate, rev_id=rev_id
    )
    scripts = script if isinstance(script, list) else [script]
    path = scripts[0].path if scripts and scripts[0] is not None else ""
    return Path(path)
