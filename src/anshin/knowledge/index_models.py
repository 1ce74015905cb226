"""The search index's tables: one row per indexed record, the feeds' watermarks, the FTS part.

``kb_documents`` describes every record the search can return (an article,
an inquiry, an incident, an incident update): what the filters need and the
plain text the snippets are cut from. The full-text part is not a model —
neither SQLite's FTS5 virtual table nor PostgreSQL's ``tsvector`` column
can be described portably — so :data:`FTS_DDL` creates it next to
``kb_documents`` (``create_all`` in tests and ``anshin db init``) and
migration 0012 creates the same by hand. Alembic's comparison skips the
names in :data:`FTS_TABLES` (``Base.metadata.info["unmodelled_tables"]``).
docs/knowledge-search.md explains the analysis and both indexes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DDL, Boolean, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from anshin.db import Base, UTCDateTime, utcnow

FTS_TABLE = "kb_fts"
# The FTS5 virtual table and the shadow tables SQLite keeps for it.
FTS_TABLES = frozenset(
    {
        FTS_TABLE,
        *(f"{FTS_TABLE}_{part}" for part in ("data", "idx", "content", "docsize", "config")),
    }
)

# Column weights: a word in the title counts most, a bigram (partial word) least.
# SQLite: FTS5 over the pre-tokenised columns, ``unicode61`` splitting at the spaces
# analyse.py put there (its rowid is kb_documents.id).
SQLITE_FTS = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "title, body, grams, tokenize = 'unicode61 remove_diacritics 0')"
)
# PostgreSQL: a weighted tsvector ('simple': the tokens as they are) and the folded
# text for pg_trgm; both GIN-indexed.
PG_FTS = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE TABLE IF NOT EXISTS {FTS_TABLE} ("
    "doc_id INTEGER PRIMARY KEY REFERENCES kb_documents (id) ON DELETE CASCADE, "
    "tsv TSVECTOR NOT NULL, folded TEXT NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS ix_{FTS_TABLE}_tsv ON {FTS_TABLE} USING gin (tsv)",
    f"CREATE INDEX IF NOT EXISTS ix_{FTS_TABLE}_trgm ON {FTS_TABLE} "
    "USING gin (folded gin_trgm_ops)",
)
DROP_FTS = f"DROP TABLE IF EXISTS {FTS_TABLE}"


class SearchDocument(Base):
    """One indexed record: its filters, its title and the plain text snippets come from.

    ``source`` is ``article``, ``inquiry``, ``incident`` or ``update``;
    ``kind`` is the article's kind, or the source for other records.
    ``components`` is ``"\\n"``-framed (``"\\nAPI\\nWeb\\n"``) so a component
    filter is one LIKE on both databases. ``locale`` NULL: any language
    (an incident carries both). ``text`` is the normalised plain text.
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
    text: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(300))
    indexed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


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
event.listen(_documents, "after_create", DDL(SQLITE_FTS).execute_if(dialect="sqlite"))
for _statement in PG_FTS:
    event.listen(_documents, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
event.listen(_documents, "before_drop", DDL(DROP_FTS))
