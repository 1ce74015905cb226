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

from anshin.db import LIKE_ESCAPE
from anshin.knowledge import analyse, index, match, rules
from anshin.knowledge.index_models import FTS_TABLE
from anshin.knowledge.models import SynonymGroup
from anshin.knowledge.service import synonym_groups
from anshin.text.normalise import fold

SNIPPET_CHARS = 120
SNIPPET_LEAD = 20  # characters shown before the first match
CANDIDATES = 4  # PostgreSQL: re-rank this many times ``limit`` rows by trigram similarity
TRIGRAM_WEIGHT = 0.5


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


def _filters(query: rules.Query, params: dict[str, Any]) -> str:
    clauses = []
    names = []
    for i, source in enumerate(query.sources):
        params[f"src{i}"] = source
        names.append(f":src{i}")
    clauses.append(f"d.source IN ({', '.join(names)})")
    if query.kinds:
        kinds = []
        for i, kind in enumerate(query.kinds):
            params[f"kind{i}"] = kind
            kinds.append(f":kind{i}")
        clauses.append(f"(d.source <> 'article' OR d.kind IN ({', '.join(kinds)}))")
    if query.locale:
        params["locale"] = query.locale
        clauses.append("(d.locale = :locale OR d.locale IS NULL)")
    if query.state:
        params["state"] = query.state
        clauses.append("(d.source <> 'article' OR d.state = :state)")
    if query.public_only:
        clauses.append("d.public = :public")
        params["public"] = True
    if query.component:
        escaped = "".join(
            LIKE_ESCAPE + ch if ch in "%_" + LIKE_ESCAPE else ch for ch in query.component
        )
        params["component"] = f"%\n{escaped}\n%"
        clauses.append(f"d.components LIKE :component ESCAPE '{LIKE_ESCAPE}'")
    return " AND ".join(clauses)


_COLUMNS = "d.id, d.source, d.key, d.kind, d.title, d.text, d.record_id, d.url"


def _sqlite_rows(
    session: Session, concepts: tuple[analyse.Concept, ...], query: rules.Query
) -> list[Any]:
    params: dict[str, Any] = {"match": match.fts5(concepts), "limit": query.limit}
    weights = ", ".join(str(w) for w in match.FTS5_WEIGHTS)
    sql = (
        f"SELECT {_COLUMNS}, -bm25({FTS_TABLE}, {weights}) AS score "
        f"FROM {FTS_TABLE} JOIN kb_documents d ON d.id = {FTS_TABLE}.rowid "
        f"WHERE {FTS_TABLE} MATCH :match AND {_filters(query, params)} "
        "ORDER BY score DESC, d.id LIMIT :limit"
    )
    return list(session.execute(text(sql), params))


def _pg_rows(
    session: Session, concepts: tuple[analyse.Concept, ...], query: rules.Query, folded: str
) -> list[Any]:
    params: dict[str, Any] = {
        "tsq": match.tsquery(concepts),
        "limit": query.limit,
        "candidates": query.limit * CANDIDATES,
        "folded": folded,
        "weights": match.PG_WEIGHTS,
        "tw": TRIGRAM_WEIGHT,
    }
    where = _filters(query, params)
    sql = (
        "WITH q AS (SELECT to_tsquery('simple', :tsq) AS query), hits AS ("
        f"SELECT {_COLUMNS}, f.folded, "
        "ts_rank(CAST(:weights AS real[]), f.tsv, q.query, 1) AS rank "
        f"FROM q, {FTS_TABLE} f JOIN kb_documents d ON d.id = f.doc_id "
        f"WHERE f.tsv @@ q.query AND {where} "
        "ORDER BY rank DESC, d.id LIMIT :candidates) "
        "SELECT id, source, key, kind, title, text, record_id, url, "
        "rank + :tw * word_similarity(:folded, folded) AS score FROM hits "
        "ORDER BY score DESC, id LIMIT :limit"
    )
    rows = list(session.execute(text(sql), params))
    if rows or len(folded) < 3:
        return rows
    # Nothing matched a word: near-misses by trigram word similarity (GIN pg_trgm index).
    sql = (
        f"SELECT {_COLUMNS}, word_similarity(:folded, f.folded) AS score "
        f"FROM {FTS_TABLE} f JOIN kb_documents d ON d.id = f.doc_id "
        f"WHERE :folded <% f.folded AND {where} ORDER BY score DESC, d.id LIMIT :limit"
    )
    return list(session.execute(text(sql), params))


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
    if session.get_bind().dialect.name == "postgresql":
        folded = "".join(analyse.words_of(fold(query.text)))
        rows = _pg_rows(session, concepts, query, folded)
    else:
        rows = _sqlite_rows(session, concepts, query)
    pattern = mark_pattern(concepts)
    hits = []
    for row in rows:
        cut, marks = snippet(row.text or row.title, pattern)
        hits.append(
            Hit(
                source=row.source,
                key=row.key,
                kind=row.kind,
                title=row.title,
                score=round(float(row.score), 6),
                snippet=cut,
                marks=marks,
                record_id=row.record_id,
                url=row.url,
            )
        )
    return hits
