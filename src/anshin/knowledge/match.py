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


def _fts5_concept(concept: Concept) -> str:
    alternatives = [_fts5_phrase(p) for p in concept.terms if p]
    # bm25 sums over the query's phrases: the word the customer typed, written
    # once more, counts twice as much as its synonyms (障害 above エラー).
    alternatives += [_fts5_phrase(p) for p in concept.typed if p and len(concept.terms) > 1]
    alternatives += [_fts5_phrase((word,)) + "*" for word in concept.prefix]
    pieces = []
    if alternatives:
        pieces.append("{title body} : (" + " OR ".join(alternatives) + ")")
    grams = [_fts5_phrase(p) for p in concept.grams if p]
    if concept.parts:
        grams.append("(" + " AND ".join(_fts5_phrase(p) for p in concept.parts) + ")")
    if grams:
        pieces.append("grams : (" + " OR ".join(grams) + ")")
    return "(" + " OR ".join(pieces) + ")" if pieces else ""


def _combine(main: list[str], boosters: list[str], either: str, both: str) -> str:
    """Any main concept; light words only raise the rank: ``M AND (L OR M)``."""
    found = f" {either} ".join(main)
    if not boosters or not found:
        return found or f" {either} ".join(boosters)
    return f"({found}) {both} ({f' {either} '.join(boosters)} {either} {found})"


def fts5(concepts: Sequence[Concept]) -> str:
    """The MATCH expression for a full-text table (columns title, body, grams)."""
    main = [e for c in concepts if not c.booster and (e := _fts5_concept(c))]
    boosters = [e for c in concepts if c.booster and (e := _fts5_concept(c))]
    return _combine(main, boosters, "OR", "AND")


def _pg_phrase(phrase: Phrase, weights: str) -> str:
    words = [f"'{word.replace(chr(39), chr(39) * 2)}':{weights}" for word in phrase]
    return "(" + " <-> ".join(words) + ")"


def _pg_concept(concept: Concept) -> str:
    alternatives = [_pg_phrase(p, "AB") for p in concept.terms if p]
    alternatives += [f"'{word.replace(chr(39), chr(39) * 2)}':*AB" for word in concept.prefix]
    alternatives += [_pg_phrase(p, "D") for p in concept.grams if p]
    if concept.parts:
        alternatives.append("(" + " & ".join(_pg_phrase(p, "D") for p in concept.parts) + ")")
    # Each once: synonyms often share a normalised form (出来ない, できない). ts_rank and
    # ts_rank_cd score a word once however often it is written (not so FTS5's bm25, whose
    # expression keeps them), but ts_rank_cd pays for every copy.
    alternatives = list(dict.fromkeys(alternatives))
    return "(" + " | ".join(alternatives) + ")" if alternatives else ""


def tsquery(concepts: Sequence[Concept]) -> str:
    """The text for ``to_tsquery('simple', …)``: the same concepts, title/body A-B, grams D."""
    main = [e for c in concepts if not c.booster and (e := _pg_concept(c))]
    boosters = [e for c in concepts if c.booster and (e := _pg_concept(c))]
    return _combine(main, boosters, "|", "&")


def _quoted(word: str) -> str:
    return "'" + word.replace("'", "''") + "'"


def _pg_plain_concept(concept: Concept) -> str:
    """A concept without weights or word order: what PostgreSQL's GIN index answers alone."""
    phrases = [*concept.terms, *concept.grams]
    alternatives = [" & ".join(_quoted(w) for w in dict.fromkeys(p)) for p in phrases if p]
    alternatives += [f"{_quoted(word)}:*" for word in concept.prefix]
    if concept.parts:
        words = dict.fromkeys(w for p in concept.parts for w in p)
        alternatives.append(" & ".join(_quoted(w) for w in words))
    return " | ".join(f"({a})" for a in dict.fromkeys(alternatives))


def tsquery_plain_concepts(concepts: Sequence[Concept]) -> list[str]:
    """Each main concept as :func:`tsquery_plain` writes it (for "all of them": join with &)."""
    main = [c for c in concepts if not c.booster] or list(concepts)
    return [f"({e})" for c in main if (e := _pg_plain_concept(c))]


def tsquery_plain(concepts: Sequence[Concept]) -> str:
    """Any main concept, each phrase as its words in any order and column ('' if none).

    Every record :func:`tsquery` matches matches this too (a phrase's words
    are all there; ``M & (L | M)`` implies ``M``), but the GIN index decides it
    without reading a row: weights (``:AB``) and phrases (``<->``) make
    PostgreSQL re-check each candidate against its stored vector. The capped
    ranking (search.py) finds its candidates with this.
    """
    return " | ".join(tsquery_plain_concepts(concepts))


def tsquery_words(concepts: Sequence[Concept]) -> str:
    """The main concepts' words, each once, ORed ('' if none): to order title matches by.

    ``ts_rank`` over an OR of words counts the distinct query words a vector
    holds; leaving out the bigram phrases (never in the title vector) makes it
    several times cheaper a row than with the whole query.
    """
    main = [c for c in concepts if not c.booster] or list(concepts)
    words = [_quoted(w) for w in dict.fromkeys(w for c in main for p in c.terms for w in p)]
    words += [f"{_quoted(word)}:*" for word in dict.fromkeys(w for c in main for w in c.prefix)]
    return " | ".join(words)


def tsquery_typed(concepts: Sequence[Concept]) -> str:
    """The words the customer typed that have synonyms, for a second ``ts_rank`` ('' if none).

    ts_rank counts a lexeme once however often the query repeats it, so on
    PostgreSQL the typed word's lead over its synonyms is a rank of its own.
    """
    typed = [_pg_phrase(p, "AB") for c in concepts if len(c.terms) > 1 for p in c.typed if p]
    return " | ".join(typed)
