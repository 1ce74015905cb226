"""The reply panel: the three published articles that best fit what a customer wrote (R17).

While an agent replies to an inquiry, the page shows beside the reply box the
answers that worked before, found with the customer's own words through the
one search entry point (:func:`anshin.knowledge.search.search`, whatever its
internals). Each comes with its text ready to insert into the reply: the
Markdown read as plain lines, since a reply goes out as plain text.

The inquiry's words arrive as text: knowledge never imports the inquiries
package (the inquiries page calls this).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.errors import InvalidInput
from anshin.knowledge import rules, search
from anshin.knowledge.highlight import marked
from anshin.knowledge.models import Article
from anshin.knowledge.render import to_text

# Kinds that can go into a reply; an expression to avoid is guidance, not an answer.
PANEL_KINDS: tuple[str, ...] = (
    rules.Kind.FAQ,
    rules.Kind.EXPLANATION,
    rules.Kind.WORKAROUND,
    rules.Kind.SCRIPT,
)
PANEL_SIZE = 3
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_HEADING = re.compile(r"^\s*#{1,6}\s+")


@dataclass(frozen=True)
class Suggestion:
    """One article the panel offers: what it shows and the text the insert button puts in."""

    key: str
    kind: str
    locale: str
    title: str
    snippet: str  # Markup: escaped, matched words in <mark>
    text: str
    usage_count: int
    url: str


def query_text(*texts: str | None) -> str:
    """The customer's words as one search (subject first), cut to the longest query allowed."""
    words = " ".join(" ".join(t.split()) for t in texts if t and t.strip())
    return words[: rules.QUERY_MAX].strip()


def insertable_text(body: str) -> str:
    """An article's Markdown as the plain text of a reply: markup gone, lines and lists kept."""
    lines: list[str] = []
    for line in (body or "").replace("\r\n", "\n").split("\n"):
        if not line.strip():
            if lines and lines[-1]:
                lines.append("")
            continue
        item = _LIST_ITEM.match(line)
        rest = line[item.end() :] if item else _HEADING.sub("", line)
        plain = to_text(rest) or rest.strip()
        lines.append(f"・{plain}" if item else plain)
    return "\n".join(lines).strip()


def suggestions(session: Session, *texts: str | None, locale: str | None) -> list[Suggestion]:
    """Up to three published reply-ready articles for the customer's words, best first."""
    try:
        query = rules.check_query(
            query_text(*texts),
            kinds=PANEL_KINDS,
            sources=("article",),
            locale=locale if locale in rules.LOCALES else None,
            state=rules.State.PUBLISHED,
            limit=PANEL_SIZE,
        )
    except InvalidInput:
        return []  # nothing the customer wrote can be searched (empty): no panel
    hits = [h for h in search.search(session, query) if h.source == "article"][:PANEL_SIZE]
    if not hits:
        return []
    found = {
        a.key: a
        for a in session.scalars(select(Article).where(Article.key.in_([h.key for h in hits])))
    }
    out: list[Suggestion] = []
    for hit in hits:
        article = found.get(hit.key)
        if article is None or article.state != rules.State.PUBLISHED:
            continue
        body = insertable_text(article.body)
        out.append(
            Suggestion(
                key=article.key,
                kind=article.kind,
                locale=article.locale,
                title=article.title,
                snippet=marked(hit.snippet, hit.marks),
                text=body or article.title,
                usage_count=article.usage_count or 0,
                url=f"/console/kb/{article.key}",
            )
        )
    return out
