"""PostgreSQL's ranking: ``ts_rank`` over capped candidates, re-ranked by ``pg_trgm`` (issue 9).

Apart from knowledge/search.py because PostgreSQL needs its own path to stay
fast at size: a common word matches thousands of records, so candidates are
taken in tiers the GIN indexes answer alone, pre-ranked by ``ts_rank`` over
the query's words, and only the best go on to ``ts_rank_cd`` and word
similarity; near-misses by trigrams when no word matched.
docs/knowledge-search.md, "capped ranking".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from anshin.knowledge import analyse, match, rules
from anshin.knowledge.search_filters import conditions

CANDIDATES = 2  # PostgreSQL: re-rank this many times ``limit`` rows by trigram similarity
SIMILARITY_CHARS = 256  # of the folded title and text compared (word_similarity is costly)
TRIGRAM_WEIGHT = 0.5
PG_NORM = 33  # ts_rank's normalisation: 1 | 32, by 1 + log(length), then rank / (rank + 1)
TYPED_WEIGHT = 0.5  # PostgreSQL: the typed word's own rank, added to the rank of the concepts
NEAR_MISS = 0.4  # PostgreSQL: word similarity a near-miss needs when no word matched
NEAR_MISS_CHARS = 10  # PostgreSQL: the longest (folded) query a near-miss is looked for (a word)
# PostgreSQL, a common word's thousands of matches: PG_PRESELECT are taken by what the GIN
# indexes tell alone (tiers), the best PG_RANK_CAP of them by ts_rank over the query's
# words go on to ts_rank_cd. PG_PRESELECT = 0: every match is ranked (no cap).
PG_PRESELECT = 500
PG_RANK_CAP = 100


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
    Taken in tiers, one statement each, until ``PG_PRESELECT`` are found:
    every concept (those with one in the title, ``head``, first), one in the
    title (ordered by ``ts_rank`` over the title words, a small vector in the
    row, with the query's words alone), any. The last tier has no order, so
    the index stops at ``PG_PRESELECT`` rows; with no more matches than that
    it returns every match, and every match is a candidate. A tier is only
    run when the ones before it found too few (docs/knowledge-search.md,
    "capped ranking").
    """
    each = match.tsquery_plain_concepts(concepts)
    if not each:
        return []
    filters = conditions(table, query, params)
    join = "JOIN kb_documents d ON d.id = f.doc_id " if filters else ""
    where = "".join(f" AND {clause}" for clause in filters)
    params["any"] = " | ".join(each)
    found = f"FROM {table} f {join}WHERE "
    any_ = "f.tsv @@ to_tsquery('simple', :any)"
    if PG_PRESELECT <= 0:
        with _bitmap_scans(session):
            return list(
                session.execute(text(f"SELECT f.doc_id {found}{any_}{where}"), params).scalars()
            )
    title = "f.head @@ to_tsquery('simple', :any)"
    tiers: list[str] = []
    if len(each) > 1:
        params["all"] = " & ".join(each)
        # Every concept: those with one in the title first (the flag is read from the
        # small title vector of the rows found), then the newest.
        tiers.append(
            f"SELECT f.doc_id {found}f.tsv @@ to_tsquery('simple', :all){where} "
            f"ORDER BY {title} DESC, f.doc_id DESC LIMIT {PG_PRESELECT}"
        )
    # Titles with more of the query's words first (ts_rank over an OR of words counts them),
    # read from the narrow table of title vectors: thousands of them are a few pages.
    tiers.append(
        f"SELECT f.doc_id FROM {table}_heads f {join}WHERE {title}{where} ORDER BY "
        f"ts_rank(f.head, to_tsquery('simple', :words)) DESC, f.doc_id DESC LIMIT {PG_PRESELECT}"
    )
    tiers.append(f"SELECT f.doc_id {found}{any_}{where} LIMIT {PG_PRESELECT}")
    ids: dict[int, None] = {}
    with _bitmap_scans(session):
        for sql in tiers:
            ids.update(dict.fromkeys(session.execute(text(sql), params).scalars()))
            if len(ids) >= PG_PRESELECT:
                break
    return list(ids)[:PG_PRESELECT]


# The tiers' settings: the GIN indexes only, and a plan made for this query's words.
_TIER_SETTINGS = {
    "enable_seqscan": "off",
    "enable_indexscan": "off",
    "plan_cache_mode": "force_custom_plan",
}


@contextmanager
def _bitmap_scans(session: Session) -> Iterator[None]:
    """The tiers read the GIN indexes only: no scan that would test every row's vector.

    A plain tsquery is decided by the GIN index without re-checking the row,
    but the planner, seeing a third of the table match, would rather read the
    table in order and test each stored vector. And the tiers' statements are
    the same text for every query: after five runs on a connection psycopg
    prepares them, and PostgreSQL may settle on one generic plan, blind to
    how many rows the query's words match (a title tier of 2 ms took 30).
    Set for these statements only (the transaction's settings are put back).
    """
    names = list(_TIER_SETTINGS)
    before = session.execute(
        text(
            "SELECT "
            + ", ".join(f"current_setting('{name}')" for name in names)
            + ", "
            + ", ".join(f"set_config('{n}', '{v}', true)" for n, v in _TIER_SETTINGS.items())
        )
    ).one()
    try:
        yield
    finally:
        session.execute(
            text(
                "SELECT "
                + ", ".join(f"set_config('{n}', :s{i}, true)" for i, n in enumerate(names))
            ),
            {f"s{i}": before[i] for i in range(len(names))},
        )


def ranked(
    session: Session,
    table: str,
    concepts: tuple[analyse.Concept, ...],
    query: rules.Query,
    folded: str,
) -> list[Any]:
    """ts_rank over the tsvector, re-ranked by pg_trgm word similarity; near-misses if nothing.

    Each row carries the document's fields and text as well (``id``, ``score``,
    then what :class:`search.Hit` needs), so no second query reads them.
    """
    typed = match.tsquery_typed(concepts)
    params: dict[str, Any] = {
        "tsq": match.tsquery(concepts),
        "words": match.tsquery_words(concepts) or match.tsquery_plain(concepts),
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
            "WITH q AS (SELECT to_tsquery('simple', :tsq) AS query, "
            "to_tsquery('simple', :words) AS words"
            + (", to_tsquery('simple', :typed) AS typed" if typed else "")
            + "), "
            # The candidates by their keys: the planner, not knowing the query's words,
            # would rather test every row the tsquery's index finds (thousands).
            # ts_rank_cd costs tens of microseconds a row: of the candidates that match,
            # the best PG_RANK_CAP by ts_rank over the query's words alone (a few µs; the
            # bigram phrases left out) go on to it.
            f"c AS MATERIALIZED (SELECT f.doc_id, f.tsv FROM {table} f "
            "WHERE f.doc_id = ANY(CAST(:ids AS integer[]))), "
            "pre AS (SELECT f.doc_id, f.tsv FROM q, c f WHERE f.tsv @@ q.query "
            f"ORDER BY ts_rank(CAST(:weights AS real[]), f.tsv, q.words, {PG_NORM}) DESC, "
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
        ranked = list(session.execute(text(_with_rows(sql)), params))
    if not ranked and NEAR_MISS_CHARS >= len(folded) >= 3:
        # Nothing matched a word: near-misses by trigram word similarity (GIN pg_trgm index).
        # A typo inside a katakana word leaves about half its trigrams: 0.4, not the default 0.6.
        # Only for a short query (a mistyped word): a sentence's trigrams find every record.
        filters = conditions(table, query, params)
        join = "JOIN kb_documents d ON d.id = f.doc_id " if filters else ""
        where = "".join(f" AND {clause}" for clause in filters)
        session.execute(text(f"SET LOCAL pg_trgm.word_similarity_threshold = {NEAR_MISS}"))
        sql = (
            f"SELECT f.doc_id AS id, word_similarity(:folded, f.folded) AS score FROM {table} f "
            f"{join}WHERE :folded <% f.folded{where} ORDER BY score DESC, id LIMIT :limit"
        )
        ranked = list(session.execute(text(_with_rows(sql)), params))
    return ranked


def _with_rows(ranked_sql: str) -> str:
    """The ranked ids with what a hit shows (search.py's ``_rows``): no second round trip."""
    return (
        "SELECT r.id, r.score, d.source, d.key, d.kind, d.title, x.text, d.record_id, d.url "
        f"FROM ({ranked_sql}) r JOIN kb_documents d ON d.id = r.id "
        "LEFT JOIN kb_document_texts x ON x.doc_id = r.id ORDER BY r.score DESC, r.id"
    )
