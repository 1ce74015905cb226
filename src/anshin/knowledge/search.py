"""Search: the one entry point every caller uses (console, reply panel, public FAQ, CLI, API).

The query is analysed like the records were (knowledge/analyse.py: folded
SudachiPy normalised forms, bigrams, the team's synonyms) and run against
the index (knowledge/index.py): SQLite FTS5 ranked by bm25 with column
weights, PostgreSQL a ``tsvector`` ranked by ``ts_rank`` and re-ranked with
``pg_trgm`` word similarity (which also finds near-misses when no word
matched). Snippets are cut from the indexed plain text around the first
match, with marks on every matched word. docs/knowledge-search.md.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from anshin.knowledge import analyse, index, match, rules, search_pg
from anshin.knowledge.index_models import (
    FTS_ARTICLES,
    FTS_RECORDS,
    DocumentText,
    SearchDocument,
)
from anshin.knowledge.models import SynonymGroup
from anshin.knowledge.search_filters import conditions
from anshin.knowledge.service import synonym_groups
from anshin.text.normalise import fold

SNIPPET_CHARS = 120
SNIPPET_LEAD = 20  # characters shown before the first match
RANK_CAP = 0  # SQLite: score only the newest RANK_CAP matches by bm25; 0 (default): all


@dataclass(frozen=True)
class Hit:
    """One result, best first. ``snippet`` is plain text; ``marks`` are (start, end) in it."""

    source: str  # rules.SOURCES
    key: str  # article key, inquiry reference, incident reference, update id
    kind: str  # the article's kind, or the source for records
    title: str
    score: float
    snippet: str
    marks: tuple[tuple[int, int], ...]
    record_id: int
    url: str


# --- the synonym list, cached per database and version -----------------------------

_SYNONYMS: dict[tuple[Any, ...], analyse.Synonyms] = {}
_SYNONYMS_LOCK = threading.Lock()


def synonyms(session: Session) -> analyse.Synonyms:
    """The team's synonym list, analysed; re-read whenever the list changed in any process.

    The version is read on every search (count, highest id, latest change: one
    small aggregate), so an edit in the console is used by the next search of
    every server, and nothing assumes there is only one process.
    """
    version = session.execute(
        select(func.count(), func.max(SynonymGroup.id), func.max(SynonymGroup.updated_at))
    ).one()
    key = (str(session.get_bind().engine.url), *version)
    with _SYNONYMS_LOCK:
        found = _SYNONYMS.get(key)
    if found is not None:
        return found
    prepared = analyse.prepare_synonyms(synonym_groups(session))
    with _SYNONYMS_LOCK:
        if len(_SYNONYMS) > 64:
            _SYNONYMS.clear()
        _SYNONYMS[key] = prepared
    return prepared


# --- the query ---------------------------------------------------------------------


def _tables(query: rules.Query) -> list[str]:
    tables = []
    if "article" in query.sources:
        tables.append(FTS_ARTICLES)
    if set(query.sources) - {"article"} and not query.public_only:
        tables.append(FTS_RECORDS)
    return tables


def _sqlite_ranked(
    session: Session, table: str, concepts: tuple[analyse.Concept, ...], query: rules.Query
) -> list[Any]:
    """bm25-ranked ids with their scores: the sort carries two numbers, never the texts."""
    params: dict[str, Any] = {"match": match.fts5(concepts), "limit": query.limit}
    weights = ", ".join(str(w) for w in match.FTS5_WEIGHTS)
    filters = conditions(table, query, params)
    join = f"JOIN kb_documents d ON d.id = {table}.rowid " if filters else ""
    where = "".join(f" AND {clause}" for clause in filters)
    # A very common word matches most rows, and bm25 would score every one: rank only the
    # newest RANK_CAP matches then (found unranked, in rowid order, which FTS5 reads lazily).
    # A query with fewer matches is ranked over all of them, exactly as before.
    floor = None
    if RANK_CAP > 0:  # 0: no cap
        floor = session.execute(
            text(
                f"SELECT {table}.rowid FROM {table} {join}WHERE {table} MATCH :match{where} "
                f"ORDER BY {table}.rowid DESC LIMIT 1 OFFSET {RANK_CAP - 1}"
            ),
            params,
        ).scalar()
    capped = f" AND {table}.rowid >= {int(floor)}" if floor is not None else ""
    sql = (
        f"SELECT {table}.rowid AS id, -bm25({table}, {weights}) AS score FROM {table} {join}"
        f"WHERE {table} MATCH :match{capped}{where} ORDER BY score DESC, id LIMIT :limit"
    )
    return list(session.execute(text(sql), params))


def _rows(session: Session, ranked: list[Any]) -> list[tuple[Any, float]]:
    """The documents of the ranked ids, with their texts, best first."""
    if not ranked:
        return []
    scores = {row.id: float(row.score) for row in ranked}
    docs = {
        doc.id: doc
        for doc in session.execute(
            select(
                SearchDocument.id,
                SearchDocument.source,
                SearchDocument.key,
                SearchDocument.kind,
                SearchDocument.title,
                DocumentText.text,
                SearchDocument.record_id,
                SearchDocument.url,
            )
            .outerjoin(DocumentText, DocumentText.doc_id == SearchDocument.id)
            .where(SearchDocument.id.in_(scores))
        )
    }
    return [(docs[row.id], scores[row.id]) for row in ranked if row.id in docs]


# --- snippets ----------------------------------------------------------------------


def _char_class(ch: str) -> str:
    folded = fold(ch)
    if "\u30a1" <= folded <= "\u30f6":  # katakana: either script matches
        hira = chr(ord(folded) - 0x60)
        return f"[{folded}{hira}]ー?"
    return re.escape(ch)


def mark_pattern(concepts: tuple[analyse.Concept, ...]) -> re.Pattern[str] | None:
    """A regex finding the query's words in normalised text, whatever the kana or case."""
    words = [w for w in analyse.marks(concepts) if len(w) > 1 or not w.isascii()]
    if not words:
        return None
    alternatives = ["".join(_char_class(ch) for ch in word) for word in words]
    return re.compile("|".join(alternatives), re.IGNORECASE)


def snippet(text_: str, pattern: re.Pattern[str] | None) -> tuple[str, tuple[tuple[int, int], ...]]:
    """``SNIPPET_CHARS`` of ``text_`` around the first match, with the matches marked."""
    first = pattern.search(text_) if pattern is not None else None
    start = max(0, first.start() - SNIPPET_LEAD) if first is not None else 0
    cut = text_[start : start + SNIPPET_CHARS]
    if pattern is None:
        return cut, ()
    marks = tuple((m.start(), m.end()) for m in pattern.finditer(cut) if m.end() > m.start())
    return cut, marks


def search(session: Session, query: rules.Query) -> list[Hit]:
    """Records matching the query's words, best first; ``[]`` when nothing matches.

    Records of inquiries, incidents and updates are brought into the index
    first when the query asks for them (index.catch_up).
    """
    index.catch_up(session, query.sources)
    concepts = analyse.query(query.text, synonyms(session))
    if not concepts:
        return []
    ranked: list[Any] = []
    postgresql = session.get_bind().dialect.name == "postgresql"
    folded = "".join(analyse.words_of(fold(query.text)))
    for table in _tables(query):
        if postgresql:
            ranked += search_pg.ranked(session, table, concepts, query, folded)
        else:
            ranked += _sqlite_ranked(session, table, concepts, query)
    ranked.sort(key=lambda row: (-float(row.score), row.id))
    if postgresql:  # the rows came with the ranking (search_pg.ranked)
        rows: list[tuple[Any, float]] = [(row, float(row.score)) for row in ranked[: query.limit]]
    else:
        rows = _rows(session, ranked[: query.limit])
    pattern = mark_pattern(concepts)
    hits = []
    for row, score in rows:
        cut, marks = snippet(row.text or row.title, pattern)
        hits.append(
            Hit(
                source=row.source,
                key=row.key,
                kind=row.kind,
                title=row.title,
                score=round(score, 6),
                snippet=cut,
                marks=marks,
                record_id=row.record_id,
                url=row.url,
            )
        )
    return hits


def baseline(session: Session, text_: str, limit: int = 10) -> list[int]:
    """bench/search.py's bare query: the same words, one FTS query on ``kb_fts``, nothing more.

    No synonyms, filters, catch-up, rows or snippets — what the engine costs
    alone, to compare :func:`search` with (the target: within 1.5 times).
    """
    concepts = analyse.query(text_)
    if not concepts:
        return []
    if session.get_bind().dialect.name == "postgresql":
        sql = (
            f"SELECT doc_id FROM {FTS_ARTICLES} WHERE tsv @@ to_tsquery('simple', :q) "
            "ORDER BY ts_rank(tsv, to_tsquery('simple', :q)) DESC LIMIT :limit"
        )
        params: dict[str, Any] = {"q": match.tsquery(concepts), "limit": limit}
    else:
        sql = (
            f"SELECT rowid FROM {FTS_ARTICLES} WHERE {FTS_ARTICLES} MATCH :q "
            "ORDER BY rank LIMIT :limit"
        )
        params = {"q": match.fts5(concepts), "limit": limit}
    return [int(row[0]) for row in session.execute(text(sql), params)]
