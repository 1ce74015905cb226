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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from anshin.db import LIKE_ESCAPE
from anshin.knowledge import analyse, index, match, rules
from anshin.knowledge.index_models import (
    FTS_ARTICLES,
    FTS_RECORDS,
    DocumentText,
    SearchDocument,
)
from anshin.knowledge.models import SynonymGroup
from anshin.knowledge.service import synonym_groups
from anshin.text.normalise import fold

SNIPPET_CHARS = 120
SNIPPET_LEAD = 20  # characters shown before the first match
RANK_CAP = 0  # SQLite: score only the newest RANK_CAP matches by bm25; 0 (default): all
CANDIDATES = 2  # PostgreSQL: re-rank this many times ``limit`` rows by trigram similarity
SIMILARITY_CHARS = 256  # of the folded title and text compared (word_similarity is costly)
TRIGRAM_WEIGHT = 0.5
PG_NORM = 33  # ts_rank's normalisation: 1 | 32, by 1 + log(length), then rank / (rank + 1)
TYPED_WEIGHT = 0.5  # PostgreSQL: the typed word's own rank, added to the rank of the concepts
NEAR_MISS = 0.4  # PostgreSQL: word similarity a near-miss needs when no word matched
NEAR_MISS_CHARS = 10  # PostgreSQL: the longest (folded) query a near-miss is looked for (a word)
# PostgreSQL, a common word's thousands of matches: PG_PRESELECT are taken by what the GIN
# indexes tell alone (tiers, newest first), the best PG_RANK_CAP of them by ts_rank go on
# to ts_rank_cd. Fewer matches are all ranked. PG_PRESELECT = 0: no cap.
PG_PRESELECT = 500
PG_RANK_CAP = 100


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


def _in(name: str, values: tuple[str, ...], params: dict[str, Any]) -> str:
    names = []
    for i, value in enumerate(values):
        params[f"{name}{i}"] = value
        names.append(f":{name}{i}")
    return ", ".join(names)


def _filters(table: str, query: rules.Query, params: dict[str, Any]) -> list[str]:
    """The SQL conditions on ``kb_documents d`` for one full-text table (none: no join needed).

    Kinds, state and public apply to articles; the other records have no kind
    or editorial state and are never public (the public FAQ searches articles).
    """
    clauses = []
    if table == FTS_ARTICLES:
        if query.kinds:
            clauses.append(f"d.kind IN ({_in('kind', query.kinds, params)})")
        if query.state:
            params["state"] = query.state
            clauses.append("d.state = :state")
        if query.public_only:
            params["public"] = True
            clauses.append("d.public = :public")
    else:
        sources = tuple(s for s in query.sources if s != "article")
        if len(sources) < len(rules.SOURCES) - 1:
            clauses.append(f"d.source IN ({_in('src', sources, params)})")
    if query.locale:
        params["locale"] = query.locale
        clauses.append("(d.locale = :locale OR d.locale IS NULL)")
    if query.component:
        escaped = "".join(
            LIKE_ESCAPE + ch if ch in "%_" + LIKE_ESCAPE else ch for ch in query.component
        )
        params["component"] = f"%\n{escaped}\n%"
        clauses.append(f"d.components LIKE :component ESCAPE '{LIKE_ESCAPE}'")
    return clauses


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
    filters = _filters(table, query, params)
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


def _pg_candidates(
    session: Session,
    table: str,
    concepts: tuple[analyse.Concept, ...],
    query: rules.Query,
    params: dict[str, Any],
) -> list[int]:
    """The documents worth ranking: every match, or ``PG_PRESELECT`` of a common word's many.

    Found with :func:`match.tsquery_plain`, which the GIN indexes answer
    without reading a stored vector (no weights, no word order to re-check).
    Up to ``PG_PRESELECT`` matches are all candidates. Past that (a common
    word: thousands of matches; testing and ranking each stored vector costs
    microseconds, ``ts_rank_cd`` tens of them) the candidates are taken in
    tiers the indexes answer alone: every concept with one in the title
    (``head``), every concept, one in the title, any; within a tier the title
    matches by ``ts_rank`` over the title words (a small vector in the row),
    then the newest (docs/knowledge-search.md, "capped ranking").
    """
    each = match.tsquery_plain_concepts(concepts)
    if not each:
        return []
    filters = _filters(table, query, params)
    join = "JOIN kb_documents d ON d.id = f.doc_id " if filters else ""
    where = "".join(f" AND {clause}" for clause in filters)
    params["any"] = " | ".join(each)
    params["all"] = " & ".join(each)
    found = f"FROM {table} f {join}WHERE "
    any_ = "f.tsv @@ to_tsquery('simple', :any)"
    first = f" LIMIT {PG_PRESELECT + 1}" if PG_PRESELECT > 0 else ""
    with _bitmap_scans(session):
        ids = list(
            session.execute(text(f"SELECT f.doc_id {found}{any_}{where}{first}"), params).scalars()
        )
        if PG_PRESELECT <= 0 or len(ids) <= PG_PRESELECT:
            return ids
        title = "f.head @@ to_tsquery('simple', :any)"
        every = "f.tsv @@ to_tsquery('simple', :all)"
        tiers = [f"{every} AND {title}", every, title, any_] if len(each) > 1 else [title, any_]
        # Title matches best first by their title words (a small vector in the row); the
        # newest first within each tier.
        by_title = "ts_rank(f.head, to_tsquery('simple', :any)) DESC, "
        sql = " UNION ALL ".join(
            f"SELECT s.doc_id, {n} AS tier, row_number() OVER () AS pos FROM ("
            f"SELECT f.doc_id {found}{cond}{where} "
            f"ORDER BY {by_title if title in cond else ''}f.doc_id DESC LIMIT {PG_PRESELECT}) s"
            for n, cond in enumerate(tiers)
        )
        rows = session.execute(text(f"{sql} ORDER BY tier, pos"), params).all()
    return list(dict.fromkeys(row.doc_id for row in rows))[:PG_PRESELECT]


@contextmanager
def _bitmap_scans(session: Session) -> Iterator[None]:
    """The tiers read the GIN indexes only: no scan that would test every row's vector.

    A plain tsquery is decided by the GIN index without re-checking the row,
    but the planner, seeing a third of the table match, would rather read the
    table in order and test each stored vector. Set for this statement only
    (the transaction's settings are put back).
    """
    before = session.execute(
        text(
            "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan'), "
            "set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', 'off', true)"
        )
    ).one()
    try:
        yield
    finally:
        session.execute(
            text(
                "SELECT set_config('enable_seqscan', :s, true), "
                "set_config('enable_indexscan', :i, true)"
            ),
            {"s": before[0], "i": before[1]},
        )


def _pg_ranked(
    session: Session,
    table: str,
    concepts: tuple[analyse.Concept, ...],
    query: rules.Query,
    folded: str,
) -> list[Any]:
    """ts_rank over the tsvector, re-ranked by pg_trgm word similarity; near-misses if nothing."""
    typed = match.tsquery_typed(concepts)
    params: dict[str, Any] = {
        "tsq": match.tsquery(concepts),
        "typed": typed,
        "limit": query.limit,
        "candidates": query.limit * CANDIDATES,
        "folded": folded,
        "weights": match.PG_WEIGHTS,
        "tw": TRIGRAM_WEIGHT,
    }
    ids = _pg_candidates(session, table, concepts, query, params)
    ranked: list[Any] = []
    if ids:
        params["ids"] = ids
        sql = (
            "WITH q AS (SELECT to_tsquery('simple', :tsq) AS query"
            + (", to_tsquery('simple', :typed) AS typed" if typed else "")
            + "), "
            # ts_rank_cd costs tens of microseconds a row: over PG_RANK_CAP candidates
            # that match, the best PG_RANK_CAP by ts_rank (a few) go on to it.
            f"pre AS (SELECT f.doc_id, f.tsv FROM q, {table} f "
            "WHERE f.doc_id = ANY(CAST(:ids AS integer[])) AND f.tsv @@ q.query "
            f"ORDER BY ts_rank(CAST(:weights AS real[]), f.tsv, q.query, {PG_NORM}) DESC, "
            f"f.doc_id DESC{f' LIMIT {PG_RANK_CAP}' if PG_PRESELECT > 0 else ''}), hits AS ("
            "SELECT f.doc_id AS id, "
            f"ts_rank_cd(CAST(:weights AS real[]), f.tsv, q.query, {PG_NORM})"
            + (
                f" + {TYPED_WEIGHT} * ts_rank(CAST(:weights AS real[]), f.tsv, q.typed, {PG_NORM})"
                if typed
                else ""
            )
            + " AS rank FROM q, pre f ORDER BY rank DESC, f.doc_id LIMIT :candidates) "
            # The folded text is read for the candidates only.
            "SELECT h.id, h.rank + :tw * word_similarity(:folded, "
            f"left(t.folded, {SIMILARITY_CHARS})) AS score "
            f"FROM hits h JOIN {table} t ON t.doc_id = h.id ORDER BY score DESC, h.id LIMIT :limit"
        )
        ranked = list(session.execute(text(sql), params))
    if not ranked and NEAR_MISS_CHARS >= len(folded) >= 3:
        # Nothing matched a word: near-misses by trigram word similarity (GIN pg_trgm index).
        # A typo inside a katakana word leaves about half its trigrams: 0.4, not the default 0.6.
        # Only for a short query (a mistyped word): a sentence's trigrams find every record.
        filters = _filters(table, query, params)
        join = "JOIN kb_documents d ON d.id = f.doc_id " if filters else ""
        where = "".join(f" AND {clause}" for clause in filters)
        session.execute(text(f"SET LOCAL pg_trgm.word_similarity_threshold = {NEAR_MISS}"))
        sql = (
            f"SELECT f.doc_id AS id, word_similarity(:folded, f.folded) AS score FROM {table} f "
            f"{join}WHERE :folded <% f.folded{where} ORDER BY score DESC, id LIMIT :limit"
        )
        ranked = list(session.execute(text(sql), params))
    return ranked


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
            ranked += _pg_ranked(session, table, concepts, query, folded)
        else:
            ranked += _sqlite_ranked(session, table, concepts, query)
    ranked.sort(key=lambda row: (-float(row.score), row.id))
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
