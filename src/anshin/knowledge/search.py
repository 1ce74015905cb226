"""Search: the one entry point every caller uses (console, reply panel, public FAQ, CLI, API).

This first version matches the query's analyser words (anshin.text: NFKC,
kana and width folded, SudachiPy normalised forms) against each article's,
in Python. The indexed version (FTS5 / tsvector over the same tokens) keeps
this signature and the :class:`Hit` shape.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.knowledge import rules
from anshin.knowledge.models import Article
from anshin.text.normalise import fold, fold_word
from anshin.text.tokens import content_words

SNIPPET_CHARS = 120


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


def _words(text: str) -> set[str]:
    return {fold_word(w) for w in content_words(text)} or {fold(text)}


def _snippet(body: str, words: set[str]) -> tuple[str, tuple[tuple[int, int], ...]]:
    text = " ".join(body.split())
    folded = fold(text)
    start = min((folded.find(w) for w in words if w and folded.find(w) >= 0), default=0)
    start = max(0, start - 20)
    snippet = text[start : start + SNIPPET_CHARS]
    folded_snippet = fold(snippet)
    marks = []
    if len(folded_snippet) == len(snippet):
        for word in words:
            at = folded_snippet.find(word)
            if word and at >= 0:
                marks.append((at, at + len(word)))
    return snippet, tuple(sorted(marks))


def search(session: Session, query: rules.Query) -> list[Hit]:
    """Articles matching the query's words, best first (more words matched, title first)."""
    words = _words(query.text)
    statement = select(Article)
    if query.kinds:
        statement = statement.where(Article.kind.in_(query.kinds))
    if query.locale:
        statement = statement.where(Article.locale == query.locale)
    if query.state:
        statement = statement.where(Article.state == query.state)
    if query.public_only:
        statement = statement.where(Article.public.is_(True))
    hits: list[Hit] = []
    for article in session.scalars(statement):
        if query.component and query.component not in (article.components or []):
            continue
        title_words = _words(article.title)
        body_words = _words(article.body) | {fold_word(t) for t in article.tags or []}
        score = 2.0 * len(words & title_words) + len(words & body_words)
        if score <= 0:
            continue
        snippet, marks = _snippet(article.body or article.title, words)
        hits.append(
            Hit(
                source="article",
                key=article.key,
                kind=article.kind,
                title=article.title,
                score=score,
                snippet=snippet,
                marks=marks,
                record_id=article.id,
                url=f"/console/kb/{article.key}",
            )
        )
    hits.sort(key=lambda hit: (-hit.score, hit.key))
    return hits[: query.limit]
