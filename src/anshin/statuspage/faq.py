"""The public FAQ: what the status page may show of the knowledge base, and searching it (R34).

R34 asks for clear explanations and an FAQ customers can read before they
write. The status page shows published, public ``faq`` articles in the
reader's language, and customers search them there and from the inquiry form
as they type.

Nothing else may ever leave: every article shown has passed two filters that
do not depend on each other — the SQL filter (kind ``faq``, ``published``,
``public``, the page's locale) and :func:`anshin.knowledge.rules.is_public_faq`
on the row as loaded. Search results are only keys: they are looked up again
through the same filters, so whatever the search's internals return (the
index branch replaces them), a draft or internal article cannot come out.

Searches are counted per client in the database (``anshin.ratelimit``, under
keys of their own) — ``ANSHIN_FAQ_SEARCH_RATE_PER_HOUR`` — like the subscribe
and inquiry forms, so any number of app processes share the limit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.inputs import check_storable
from anshin.knowledge import render, rules, search
from anshin.knowledge.models import Article
from anshin.notify.ratelimit import TooManyRequests
from anshin.ratelimit import admit, client_key

KEY_PREFIX = "faq-search:"
SUGGEST_MIN = 2  # characters before the type-ahead asks at all
SUGGEST_MAX = 100  # the inquiry form sends the start of what was typed, never a whole letter
SUGGEST_LIMIT = 3  # matches shown under the inquiry form's text box
PAGE_LIMIT = 20  # results of a search on the FAQ page
LISTING_MAX = 200  # articles on the FAQ page without a search
SNIPPET_CHARS = 120

__all__ = ["TooManyRequests"]


@dataclass(frozen=True)
class Answer:
    """One public FAQ article as a customer sees it."""

    key: str
    title: str
    body_html: Markup
    snippet: str
    updated_at: dt.datetime


def _public(locale: str) -> Select[Any]:
    return select(Article).where(
        Article.kind == rules.Kind.FAQ.value,
        Article.state == rules.State.PUBLISHED.value,
        Article.public.is_(True),
        Article.locale == locale,
    )


def _shown(article: Article, locale: str) -> bool:
    """The second filter, on the loaded row: R34's rule itself, and the page's language."""
    return article.locale == locale and rules.is_public_faq(
        article.kind, article.state, article.public
    )


def _answer(article: Article) -> Answer:
    text = render.to_text(article.body)
    snippet = text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"
    return Answer(
        key=article.key,
        title=article.title,
        body_html=render.to_html(article.body),
        snippet=snippet,
        updated_at=article.updated_at,
    )


def listing(session: Session, locale: str) -> list[Answer]:
    """Every public FAQ article in ``locale``: the most used first, then by title."""
    statement = _public(locale).order_by(Article.usage_count.desc(), Article.title, Article.id)
    return [_answer(a) for a in session.scalars(statement.limit(LISTING_MAX)) if _shown(a, locale)]


def check_text(text: str, *, longest: int) -> str:
    """The search words as typed: storable, not longer than ``longest``; blank is ``""``."""
    check_storable(text, "q")
    words = " ".join(text.split())
    if len(words) > longest:
        raise InvalidInput(N_("Type at most {n} characters to search."), field="q", n=longest)
    return words


def find(session: Session, text: str, locale: str, limit: int) -> list[Answer]:
    """Public FAQ articles in ``locale`` matching ``text``, best first (``knowledge.search``)."""
    query = rules.check_query(
        text,
        kinds=(rules.Kind.FAQ.value,),
        locale=locale,
        state=rules.State.PUBLISHED.value,
        public_only=True,
        limit=limit,
    )
    keys = [hit.key for hit in search.search(session, query) if hit.source == "article"]
    if not keys:
        return []
    found = {a.key: a for a in session.scalars(_public(locale).where(Article.key.in_(keys)))}
    return [_answer(found[key]) for key in keys if key in found and _shown(found[key], locale)]


def count_search(session: Session, settings: Settings, address: str | None) -> None:
    """Count one search of this client, or refuse it (HTTP 429) at the hourly limit."""
    client = client_key(settings, KEY_PREFIX + (address or "unknown"))
    if not admit(session, client, utcnow(), settings.faq_search_rate_per_hour):
        raise TooManyRequests(
            N_(
                "Many searches have come from your network in the last hour. "
                "Please try again later."
            )
        )
