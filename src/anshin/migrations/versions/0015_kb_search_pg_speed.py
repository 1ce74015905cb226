"""knowledge search on PostgreSQL: the tsvector kept in the row, and its words apart (issue 9)

PostgreSQL only; SQLite's FTS5 tables are unchanged.

- ``tsv`` (and ``head``) get ``STORAGE MAIN``: compressed but kept in the table's row. An
  article's vector (about 2.3 kB compressed with its bigrams) was moved to the
  TOAST table, and every row a query tests or ranks cost a TOAST index probe
  and a chunk fetch: 10,000 articles took ~45 ms only to read the vectors,
  ~3 ms in the row. The rows written before are rewritten here.
- ``head``: the title words alone (weight A; tags and components count as
  title words), GIN-indexed: when a common word matches thousands of
  records, only a capped set is ranked, those with the words in the title
  first (docs/knowledge-search.md, "capped ranking"). Filled here from
  ``tsv`` with ``ts_filter``.

Revision ID: 0015
Revises: 0014_departments
Create Date: 2026-12-06 12:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014_departments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FTS_TABLES = ("kb_fts", "kb_fts_records")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in FTS_TABLES:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN tsv SET STORAGE MAIN")
        op.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS head TSVECTOR")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN head SET STORAGE MAIN")
        # A new value (not the old TOAST pointer) so the row is stored the MAIN way.
        op.execute(f"UPDATE {table} SET tsv = tsv || ''::tsvector, head = ts_filter(tsv, '{{a}}')")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN head SET NOT NULL")
        op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_head ON {table} USING gin (head)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in FTS_TABLES:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_head")
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS head")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN tsv SET STORAGE EXTENDED")
