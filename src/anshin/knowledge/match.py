"""An analysed query written as an FTS5 MATCH expression or a PostgreSQL tsquery (pure).

Only words that analyse.py made reach these strings — letters and digits,
each quoted — so nothing a user typed is ever read as an operator: ``OR``,
``NEAR(``, ``*``, ``-``, ``^`` and stray quotes are words or nothing. Each
concept is "any of its words in the title or body, or any of its bigram
phrases in the grams column"; concepts are joined with OR and the engine's
ranking (bm25, ts_rank) rewards records that match more of them.
"""

from __future__ import annotations

from collections.abc import Sequence

from anshin.knowledge.analyse import Concept, Phrase

# FTS5 column weights for bm25 (title, body, grams); tsvector weights A, B, D.
FTS5_WEIGHTS = (4.0, 1.0, 0.5)
# ts_rank takes {D, C, B, A}.
PG_WEIGHTS = "{0.2, 0.1, 0.4, 1.0}"


def _fts5_phrase(phrase: Phrase) -> str:
    return '"' + " ".join(phrase).replace('"', '""') + '"'


def fts5(concepts: Sequence[Concept]) -> str:
    """The MATCH expression for the ``kb_fts`` table (columns title, body, grams)."""
    parts = []
    for concept in concepts:
        alternatives = [_fts5_phrase(p) for p in concept.terms if p]
        alternatives += [_fts5_phrase((word,)) + "*" for word in concept.prefix]
        pieces = []
        if alternatives:
            pieces.append("{title body} : (" + " OR ".join(alternatives) + ")")
        grams = [_fts5_phrase(p) for p in concept.grams if p]
        if grams:
            pieces.append("grams : (" + " OR ".join(grams) + ")")
        if pieces:
            parts.append("(" + " OR ".join(pieces) + ")")
    return " OR ".join(parts)


def _pg_phrase(phrase: Phrase, weights: str) -> str:
    words = [f"'{word.replace(chr(39), chr(39) * 2)}':{weights}" for word in phrase]
    return "(" + " <-> ".join(words) + ")"


def tsquery(concepts: Sequence[Concept]) -> str:
    """The text for ``to_tsquery('simple', …)``: the same concepts, title/body A-B, grams D."""
    parts = []
    for concept in concepts:
        alternatives = [_pg_phrase(p, "AB") for p in concept.terms if p]
        alternatives += [f"'{word.replace(chr(39), chr(39) * 2)}':*AB" for word in concept.prefix]
        alternatives += [_pg_phrase(p, "D") for p in concept.grams if p]
        if alternatives:
            parts.append("(" + " | ".join(alternatives) + ")")
    return " | ".join(parts)
