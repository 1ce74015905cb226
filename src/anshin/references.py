"""Human references for records (INC-2026-0001, MNT-2026-0001, …) from one counter per series.

Every kind of record people quote on the phone and in mail gets a reference of
the form ``<PREFIX>-<year>-<number>``: incidents (``INC``), maintenance windows
(``MNT``), and every kind added later (``Q`` for inquiries) through
:func:`next_reference`. Counting the existing rows and adding one, as the first
version did, hands the same number to two servers that declare at the same
moment (on PostgreSQL, 33 of 50 concurrent declares failed). Here each series
(prefix and year) has a row in ``reference_counters`` that one atomic
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` moves on: on PostgreSQL a second
transaction waits on the row lock until the first commits, on SQLite the
write lock serialises them. The number is taken in the caller's transaction,
so a declare that fails gives its number back and references stay consecutive.

A series without a counter row yet (a database that was filled before the
counters existed, by hand or by a restore) starts after the highest reference
already stored in the column the caller names; the migration that created the
table seeded it the same way (docs/decisions/0004-concurrency-and-storage-errors.md).
"""

from __future__ import annotations

from sqlalchemy import Integer, String, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import InstrumentedAttribute, Mapped, Session, mapped_column

from anshin.db import Base

WIDTH = 4  # INC-2026-0001: four digits, more when a year needs them


class ReferenceCounter(Base):
    """The last number handed out in one series (prefix and year)."""

    __tablename__ = "reference_counters"

    prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


def format_reference(prefix: str, year: int, number: int, width: int = WIDTH) -> str:
    """``INC``, 2026, 1 → ``INC-2026-0001``; inquiries use six digits (``Q-2026-000123``)."""
    return f"{prefix}-{year}-{number:0{width}d}"


def highest_number(references: list[str], prefix: str, year: int) -> int:
    """The highest number among references of this series (0 when there is none)."""
    start = f"{prefix}-{year}-"
    numbers = [
        int(ref[len(start) :])
        for ref in references
        if ref.startswith(start) and ref[len(start) :].isdigit()
    ]
    return max(numbers, default=0)


def next_number(
    session: Session,
    prefix: str,
    year: int,
    *,
    existing: InstrumentedAttribute[str] | None = None,
    count: int = 1,
) -> int:
    """Take the next number of the series in the caller's transaction (the last of ``count``).

    ``count`` numbers are taken at once, ``last - count + 1`` to the returned
    ``last``: grouped intake numbers every inquiry of its group with one statement.

    ``existing``: the reference column of the records (``Incident.reference``),
    read only when the series has no counter yet, to start after what is there.
    One statement when the series has its counter (every call but a year's first):
    ``UPDATE … RETURNING``; only when it finds no row are the records read and the
    counter written by the upsert (which also covers another transaction writing
    the row in between).
    """
    if existing is not None:
        moved = session.execute(
            update(ReferenceCounter)
            .where(ReferenceCounter.prefix == prefix, ReferenceCounter.year == year)
            .values(last=ReferenceCounter.last + count)
            .returning(ReferenceCounter.last)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        if moved is not None:
            return int(moved)
    seed = 0
    if existing is not None:
        start = f"{prefix}-{year}-"
        stored = list(session.scalars(select(existing).where(existing.like(start + "%"))))
        seed = highest_number(stored, prefix, year)
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(ReferenceCounter)
        .values(prefix=prefix, year=year, last=seed + count)
        .on_conflict_do_update(
            index_elements=["prefix", "year"], set_={"last": ReferenceCounter.last + count}
        )
        .returning(ReferenceCounter.last)
    )
    number = session.execute(statement).scalar_one()
    return int(number)


def next_reference(
    session: Session,
    prefix: str,
    year: int,
    *,
    existing: InstrumentedAttribute[str] | None = None,
    width: int = WIDTH,
) -> str:
    """The next reference of the series, e.g. ``INC-2026-0042`` (see :func:`next_number`)."""
    number = next_number(session, prefix, year, existing=existing)
    return format_reference(prefix, year, number, width)
