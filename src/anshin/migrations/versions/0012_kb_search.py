"""knowledge search: the index of articles, inquiries, incidents and updates (issue 9)

- ``kb_documents``: one row per indexed record (filters, title, link);
- ``kb_document_texts``: its plain text, for snippets;
- ``kb_index_feeds``: how far the index has read each feed (watermarks);
- ``kb_fts`` (articles) and ``kb_fts_records`` (inquiries, incidents,
  updates): the full-text part, by dialect — SQLite: an FTS5 virtual table
  (``unicode61`` over pre-tokenised title, body and bigram columns);
  PostgreSQL: a weighted ``tsvector`` with a GIN index and the folded text
  with a ``pg_trgm`` GIN index (``CREATE EXTENSION IF NOT EXISTS pg_trgm``).

The same DDL as knowledge/index_models.py (sqlite_fts, pg_fts), written out here as a
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

FTS_TABLES = ("kb_fts", "kb_fts_records")  # articles; inquiries, incidents and updates


def sqlite_fts(table: str) -> str:
    return (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5("
        "title, body, grams, tokenize = 'unicode61 remove_diacritics 0')"
    )


def pg_fts(table: str) -> tuple[str, ...]:
    return (
        f"CREATE TABLE IF NOT EXISTS {table} ("
        "doc_id INTEGER PRIMARY KEY REFERENCES kb_documents (id) ON DELETE CASCADE, "
        "tsv TSVECTOR NOT NULL, folded TEXT NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS ix_{table}_tsv ON {table} USING gin (tsv)",
        f"CREATE INDEX IF NOT EXISTS ix_{table}_trgm ON {table} USING gin (folded gin_trgm_ops)",
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
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("indexed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "record_id"),
    )
    with op.batch_alter_table("kb_documents", schema=None) as batch_op:
        batch_op.create_index("ix_kb_documents_filters", ["source", "kind", "state"], unique=False)
    op.create_table(
        "kb_document_texts",
        sa.Column("doc_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["doc_id"], ["kb_documents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("doc_id"),
    )
    op.create_table(
        "kb_index_feeds",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("watermark", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table in FTS_TABLES:
        for statement in pg_fts(table) if postgresql else (sqlite_fts(table),):
            op.execute(statement)


def downgrade() -> None:
    for table in FTS_TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table}")
    op.drop_table("kb_index_feeds")
    op.drop_table("kb_document_texts")
    with op.batch_alter_table("kb_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_kb_documents_filters")
    op.drop_table("kb_documents")
