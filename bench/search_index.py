"""What bench/search.py needs from the index: rebuild it, query it bare, weigh it.

The index (anshin.knowledge.index, branch kbsearch) keeps its text in
``kb_documents`` and its words in ``kb_fts`` — an FTS5 table on SQLite, a
``tsvector`` table on PostgreSQL. The bare query is what any application
would write against that index by hand: the same analysed words
(``analyse.query`` → ``match.fts5`` / ``match.tsquery``, computed before the
clock starts), one SQL statement, keys out — no filters built from a Query,
no snippets, no Hit objects. Where the tree has no index yet (the naive
search of main), there is nothing to rebuild and no bare query.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

MIB = 1024 * 1024


def has_index() -> bool:
    return importlib.util.find_spec("anshin.knowledge.index") is not None


def rebuild(session: Session, progress: Callable[[int], None]) -> int | None:
    """Index every article and inquiry through the product's rebuild; None without an index."""
    if not has_index():
        return None
    from anshin.knowledge import index

    per_feed: dict[str, int] = {}

    def step(feed: str, count: int) -> None:
        per_feed[feed] = count
        progress(sum(per_feed.values()))

    indexed: int = index.reindex(session, progress=step)
    session.commit()
    return indexed


def bare_queries(session: Session, texts: list[str], limit: int) -> dict[str, Callable[[str], Any]]:
    """The bare index queries per text (match strings prepared up front); {} without an index.

    Articles: one ranked query on the articles' full-text table. All sources:
    the articles' and the other records' tables ranked together (UNION ALL,
    one ORDER BY). The index's own ``search.baseline`` (analysis included, no
    synonyms, articles) is timed beside them when the tree has it.
    """
    if not has_index():
        return {}
    from anshin.knowledge import analyse, match, search
    from anshin.knowledge.index_models import FTS_ARTICLES, FTS_RECORDS

    synonyms = search.synonyms(session)
    concepts = {q: analyse.query(q, synonyms) for q in texts}
    if session.get_bind().dialect.name == "sqlite":
        prepared = {q: match.fts5(c) for q, c in concepts.items() if c}
        weights = ", ".join(str(w) for w in match.FTS5_WEIGHTS)
        one = "SELECT rowid AS id, bm25({t}, " + weights + ") AS score FROM {t} WHERE {t} MATCH :m"
        name = "bare: FTS5 MATCH + bm25"
        order = "ORDER BY score LIMIT :n"
    else:
        prepared = {q: match.tsquery(c) for q, c in concepts.items() if c}
        one = (
            "SELECT doc_id AS id, ts_rank(CAST(:w AS real[]), tsv, to_tsquery('simple', :m), 1) "
            "AS score FROM {t} WHERE tsv @@ to_tsquery('simple', :m)"
        )
        name = "bare: tsvector @@ tsquery + ts_rank"
        order = "ORDER BY score DESC LIMIT :n"
    articles = one.format(t=FTS_ARTICLES)
    everything = f"{articles} UNION ALL {one.format(t=FTS_RECORDS)}"
    statements = {
        f"{name}, articles": text(f"{articles} {order}"),
        f"{name}, all sources": text(f"SELECT id, score FROM ({everything}) AS u {order}"),
    }

    def way(statement: Any) -> Callable[[str], Any]:
        def run(q: str) -> list[int]:
            m = prepared.get(q)
            if not m:
                return []
            params = {"m": m, "n": limit, "w": match.PG_WEIGHTS}
            return list(session.execute(statement, params).scalars())

        return run

    ways = {name: way(statement) for name, statement in statements.items()}
    baseline = getattr(search, "baseline", None)
    if baseline is not None:
        ways["search.baseline (analysis + one FTS query), articles"] = lambda q: baseline(
            session, q, limit
        )
    return ways


def sizes(session: Session, url: str) -> dict[str, float]:
    """The database's size on disk and the index's share of it, in MiB."""
    if session.get_bind().dialect.name == "sqlite":
        path = url.split("///", 1)[1]
        session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        found = {"whole file": os.path.getsize(path) / MIB}
        try:
            pages = session.execute(
                text(
                    "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'kb\\_fts%' ESCAPE '\\' "
                    "OR name LIKE '%kb\\_document%' ESCAPE '\\'"
                )
            ).scalar()
            if pages:
                found["index (kb_documents, kb_document_texts, kb_fts*)"] = pages / MIB
        except OperationalError:  # dbstat is a compile-time option of SQLite
            pass
        return found
    whole = session.execute(text("SELECT pg_database_size(current_database())")).scalar() or 0
    found = {"whole database": whole / MIB}
    if has_index():
        kb = session.execute(
            text(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "WHERE c.relkind = 'r' "
                "AND (c.relname LIKE 'kb\\_fts%' OR c.relname LIKE 'kb\\_document%')"
            )
        ).scalar()
        found["index (kb_documents, kb_document_texts, kb_fts*)"] = (kb or 0) / MIB
    return found
