"""The search index's tables: one row per indexed record, the feeds' watermarks, the FTS part.

``kb_documents`` describes every record the search can return (an article,
an inquiry, an incident, an incident update): what the filters need;
``kb_document_texts`` holds the plain text the snippets are cut from. The
full-text part is not a model — neither SQLite's FTS5 virtual table nor
PostgreSQL's ``tsvector`` column can be described portably — so
:func:`sqlite_fts` / :func:`pg_fts` create it next to ``kb_documents`` when
``create_all`` builds the schema (the tests), and migration 0012 creates the
same by hand. Alembic's comparison skips the
names in :data:`FTS_TABLES` (``Base.metadata.info["unmodelled_tables"]``).
docs/knowledge-search.md explains the analysis and both indexes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    DDL,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from anshin.db import Base, UTCDateTime, utcnow

# Articles and the other records (inquiries, incidents, updates) have a full-text
# table each: the reply panel's article search never wades through 100,000 inquiries.
FTS_ARTICLES = "kb_fts"
FTS_RECORDS = "kb_fts_records"
FTS_NAMES = (FTS_ARTICLES, FTS_RECORDS)
# The full-text tables and the shadow tables SQLite keeps for each.
FTS_TABLES = frozenset(
    name
    for table in FTS_NAMES
    for name in (
        table,
        *(f"{table}_{part}" for part in ("data", "idx", "content", "docsize", "config")),
        f"{table}_heads",  # PostgreSQL: the title words apart (migration 0016)
    )
)


def fts_table(source: str) -> str:
    """The full-text table a record of ``source`` is in."""
    return FTS_ARTICLES if source == "article" else FTS_RECORDS


# Column weights are given at query time (match.py). SQLite: FTS5 over the
# pre-tokenised columns, ``unicode61`` splitting at the spaces analyse.py put there
# (its rowid is kb_documents.id).
def sqlite_fts(table: str) -> str:
    return (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5("
        "title, body, grams, tokenize = 'unicode61 remove_diacritics 0')"
    )


# PostgreSQL: a weighted tsvector ('simple': the words as they are) and the folded
# text for pg_trgm; both GIN-indexed (migration 0012). Migration 0014: the vector is
# kept in the row (STORAGE MAIN: no TOAST fetch per row tested), and ``head`` holds the
# title words alone (weight A), GIN-indexed: capped ranking's first candidates.
# Migration 0016: ``{table}_heads`` holds the same title vector in a narrow table of its
# own, so ordering thousands of title matches reads a few pages, not a wide row each.
def pg_fts(table: str) -> tuple[str, ...]:
    return (
        f"CREATE TABLE IF NOT EXISTS {table} ("
        "doc_id INTEGER PRIMARY KEY REFERENCES kb_documents (id) ON DELETE CASCADE, "
        "tsv TSVECTOR NOT NULL, folded TEXT NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS ix_{table}_tsv ON {table} USING gin (tsv)",
        f"CREATE INDEX IF NOT EXISTS ix_{table}_trgm ON {table} USING gin (folded gin_trgm_ops)",
        f"ALTER TABLE {table} ALTER COLUMN tsv SET STORAGE MAIN",
        f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS head TSVECTOR NOT NULL",
        f"ALTER TABLE {table} ALTER COLUMN head SET STORAGE MAIN",
        f"CREATE INDEX IF NOT EXISTS ix_{table}_head ON {table} USING gin (head)",
        f"CREATE TABLE IF NOT EXISTS {table}_heads ("
        "doc_id INTEGER PRIMARY KEY REFERENCES kb_documents (id) ON DELETE CASCADE, "
        "head TSVECTOR NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS ix_{table}_heads_head ON {table}_heads USING gin (head)",
    )


PG_EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm"


class SearchDocument(Base):
    """One indexed record: its filters, its title and the plain text snippets come from.

    ``source`` is ``article``, ``inquiry``, ``incident`` or ``update``;
    ``kind`` is the article's kind, or the source for other records.
    ``components`` is ``"\\n"``-framed (``"\\nAPI\\nWeb\\n"``) so a component
    filter is one LIKE on both databases. ``locale`` NULL: any language
    (an incident carries both). The text is in :class:`DocumentText`, so
    the rows a ranked search joins stay small.
    """

    __tablename__ = "kb_documents"
    __table_args__ = (
        UniqueConstraint("source", "record_id"),
        Index("ix_kb_documents_filters", "source", "kind", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(10))
    record_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str | None] = mapped_column(String(5), nullable=True)
    state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    components: Mapped[str] = mapped_column(Text, default="\n")
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(300))
    digest: Mapped[str] = mapped_column(String(64), default="")  # index.Record.digest
    indexed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DocumentText(Base):
    """The normalised plain text of an indexed record: what snippets are cut from."""

    __tablename__ = "kb_document_texts"

    doc_id: Mapped[int] = mapped_column(
        ForeignKey("kb_documents.id", ondelete="CASCADE"), primary_key=True
    )
    text: Mapped[str] = mapped_column(Text, default="")


class IndexFeed(Base):
    """How far the index has read one feed (``inquiries``, ``incidents``, ``articles``).

    The watermark's format belongs to the feed (anshin.inquiries.kb_feed…);
    the index only stores it, so every process catches up from the same place.
    """

    __tablename__ = "kb_index_feeds"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    watermark: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


Base.metadata.info.setdefault("unmodelled_tables", set()).update(FTS_TABLES)

_documents = SearchDocument.__table__
event.listen(_documents, "after_create", DDL(PG_EXTENSION).execute_if(dialect="postgresql"))
for _table in FTS_NAMES:
    event.listen(_documents, "after_create", DDL(sqlite_fts(_table)).execute_if(dialect="sqlite"))
    for _statement in pg_fts(_table):
        event.listen(_documents, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
    event.listen(_documents, "before_drop", DDL(f"DROP TABLE IF EXISTS {_table}_heads"))
    event.listen(_documents, "before_drop", DDL(f"DROP TABLE IF EXISTS {_table}"))
