"""knowledge search: the index of articles, inquiries, incidents and updates (issue 9)

- ``kb_documents``: one row per indexed record (filters, title, snippet text);
- ``kb_index_feeds``: how far the index has read each feed (watermarks);
- ``kb_fts``: the full-text part, by dialect — SQLite: an FTS5 virtual table
  (``unicode61`` over pre-tokenised title, body and bigram columns);
  PostgreSQL: a weighted ``tsvector`` with a GIN index and the folded text
  with a ``pg_trgm`` GIN index (``CREATE EXTENSION IF NOT EXISTS pg_trgm``).

The same DDL as knowledge/index_models.py (SQLITE_FTS, PG_FTS), written out here as a
migration never imports the models. The index starts empty: the first search
(or ``anshin kb reindex``) fills it (docs/knowledge-search.md).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 09:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_FTS = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS kb_fts USING fts5("
    "title, body, grams, tokenize = 'unicode61 remove_diacritics 0')"
)
PG_FTS = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE TABLE IF NOT EXISTS kb_fts ("
    "doc_id INTEGER PRIMARY KEY REFERENCES kb_documents (id) ON DELETE CASCADE, "
    "tsv TSVECTOR NOT NULL, folded TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_kb_fts_tsv ON kb_fts USING gin (tsv)",
    "CREATE INDEX IF NOT EXISTS ix_kb_fts_trgm ON kb_fts USING gin (folded gin_trgm_ops)",
)


def upgrade() -> None:
    op.create_table(
        "kb_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("locale", sa.String(length=5), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("components", sa.Text(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("indexed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "record_id"),
    )
    with op.batch_alter_table("kb_documents", schema=None) as batch_op:
        batch_op.create_index("ix_kb_documents_filters", ["source", "kind", "state"], unique=False)
    op.create_table(
        "kb_index_feeds",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("watermark", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_FTS:
            op.execute(statement)
    else:
        op.execute(SQLITE_FTS)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS kb_fts")
    op.drop_table("kb_index_feeds")
    with op.batch_alter_table("kb_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_kb_documents_filters")
    op.drop_table("kb_documents")
