"""knowledge search on PostgreSQL: the title vectors in a narrow table of their own (issue 9)

PostgreSQL only; SQLite's FTS5 tables are unchanged.

``kb_fts_heads`` and ``kb_fts_records_heads`` hold each record's title vector
(``head``: the title words, weight A; tags and components count as title
words), GIN-indexed, beside the same column in the full-text tables. When a
common word is in thousands of titles, the capped ranking orders them by
their title words (docs/knowledge-search.md, "capped ranking"): in the
full-text tables every one of them is a wide row of its own page (the whole
vector is kept in the row, migration 0015), here a few hundred bytes, a
few pages for all of them. Filled here from the full-text tables.

Revision ID: 0016_kb_search_heads
Revises: 0015
Create Date: 2026-12-06 15:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016_kb_search_heads"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FTS_TABLES = ("kb_fts", "kb_fts_records")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in FTS_TABLES:
        op.execute(
            f"CREATE TABLE IF NOT EXISTS {table}_heads ("
            "doc_id INTEGER PRIMARY KEY REFERENCES kb_documents (id) ON DELETE CASCADE, "
            "head TSVECTOR NOT NULL)"
        )
        op.execute(
            f"INSERT INTO {table}_heads (doc_id, head) SELECT doc_id, head FROM {table} "
            "ON CONFLICT (doc_id) DO NOTHING"
        )
        op.execute(
            f"CREATE INDEX IF NOT EXISTS ix_{table}_heads_head ON {table}_heads USING gin (head)"
        )
        op.execute(f"ANALYZE {table}_heads")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in FTS_TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table}_heads")
