"""reference counters: one row per series (INC-2026, MNT-2026, …), seeded from stored references

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 09:00:00.000000

A database upgraded from 0004 already holds references; each series starts
after its highest one, so numbering continues where it was (anshin.references).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tables whose reference column already numbers a series: (table, prefix).
NUMBERED = (("incidents", "INC"), ("maintenances", "MNT"))


def _highest(references: list[str], prefix: str) -> dict[int, int]:
    """{year: highest number} among references like ``INC-2026-0007``."""
    found: dict[int, int] = {}
    for ref in references:
        parts = ref.split("-")
        if len(parts) != 3 or parts[0] != prefix or not (parts[1] + parts[2]).isdigit():
            continue
        year, number = int(parts[1]), int(parts[2])
        found[year] = max(found.get(year, 0), number)
    return found


def upgrade() -> None:
    counters = op.create_table(
        "reference_counters",
        sa.Column("prefix", sa.String(length=10), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", "year"),
    )
    bind = op.get_bind()
    rows = []
    for table, prefix in NUMBERED:
        stored = [r[0] for r in bind.execute(sa.text(f"SELECT reference FROM {table}"))]
        for year, last in sorted(_highest(stored, prefix).items()):
            rows.append({"prefix": prefix, "year": year, "last": last})
    if rows:
        op.bulk_insert(counters, rows)


def downgrade() -> None:
    op.drop_table("reference_counters")
