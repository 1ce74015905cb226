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
    """The bare index query per text (match strings prepared up front); {} without an index."""
    if not has_index():
        return {}
    from anshin.knowledge import analyse, match, search

    synonyms = search.synonyms(session)
    concepts = {q: analyse.query(q, synonyms) for q in texts}
    if session.get_bind().dialect.name == "sqlite":
        prepared = {q: match.fts5(c) for q, c in concepts.items() if c}
        weights = ", ".join(str(w) for w in match.FTS5_WEIGHTS)
        sql = (
            "SELECT d.key FROM kb_fts JOIN kb_documents d ON d.id = kb_fts.rowid "
            "WHERE kb_fts MATCH :m {filter} "
            f"ORDER BY bm25(kb_fts, {weights}) LIMIT :n"
        )
        name = "bare: FTS5 MATCH + bm25"
    else:
        prepared = {q: match.tsquery(c) for q, c in concepts.items() if c}
        sql = (
            "SELECT d.key FROM kb_fts f JOIN kb_documents d ON d.id = f.doc_id, "
            "to_tsquery('simple', :m) AS q WHERE f.tsv @@ q {filter} "
            "ORDER BY ts_rank(CAST(:w AS real[]), f.tsv, q, 1) DESC LIMIT :n"
        )
        name = "bare: tsvector @@ tsquery + ts_rank"
    statements = {
        f"{name}, articles": text(sql.format(filter="AND d.source = 'article'")),
        f"{name}, all sources": text(sql.format(filter="")),
    }

    def way(statement: Any) -> Callable[[str], Any]:
        def run(q: str) -> list[str]:
            m = prepared.get(q)
            if not m:
                return []
            params = {"m": m, "n": limit, "w": match.PG_WEIGHTS}
            return list(session.execute(statement, params).scalars())

        return run

    return {name: way(statement) for name, statement in statements.items()}


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
                    "OR name LIKE '%kb\\_documents%' ESCAPE '\\'"
                )
            ).scalar()
            if pages:
                found["index (kb_documents, kb_fts)"] = pages / MIB
        except OperationalError:  # dbstat is a compile-time option of SQLite
            pass
        return found
    whole = session.execute(text("SELECT pg_database_size(current_database())")).scalar() or 0
    found = {"whole database": whole / MIB}
    if has_index():
        kb = session.execute(
            text(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "WHERE c.relkind = 'r' AND c.relname IN ('kb_fts', 'kb_documents')"
            )
        ).scalar()
        found["index (kb_documents, kb_fts)"] = (kb or 0) / MIB
    return found
