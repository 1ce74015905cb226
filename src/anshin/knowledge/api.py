"""The knowledge search as JSON for staff: ``GET /api/kb/search`` (issue 9, R17).

``q`` is what the person typed — any characters, searched as text (operators
and quotes are never executed); ``kind`` and ``source`` may repeat or list
values with commas (``source=article,inquiry``); ``component``, ``locale``,
``state`` filter; ``limit`` 1–50. The answer is a list, best first:
``[{source, key, kind, title, score, snippet, marks, url}]`` where ``marks``
are ``[start, end]`` character offsets of the matched words in ``snippet``.
Operators and API tokens may call it, like the other ``/api`` routes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from anshin.inputs import check_storable
from anshin.knowledge import rules, search
from anshin.web.auth import DbSession, Operator

router = APIRouter(prefix="/api/kb", tags=["knowledge"])

# Longer than any query allowed (rules.QUERY_MAX): a long one gets the search's own message.
URL_TEXT_MAX = 20_000


class HitOut(BaseModel):
    """One result."""

    source: str = Field(description="article, inquiry, incident or update")
    key: str = Field(description="article key, inquiry or incident reference, update id")
    kind: str = Field(description="the article's kind, or the source for other records")
    title: str
    score: float = Field(description="relevance; higher is better (comparable within one answer)")
    snippet: str = Field(description="plain text around the first match")
    marks: list[tuple[int, int]] = Field(description="[start, end) of each match in snippet")
    url: str


def _values(raw: list[str] | None, name: str) -> list[str]:
    """Repeated and comma-separated values, checked for characters nothing can store."""
    out: list[str] = []
    for item in raw or []:
        for value in check_storable(item, field=name).split(","):
            if value.strip():
                out.append(value.strip())
    return out


@router.get("/search")
def kb_search(
    session: DbSession,
    user: Operator,
    q: Annotated[str, Query(max_length=URL_TEXT_MAX, description="the words to look for")],
    kind: Annotated[list[str] | None, Query(description="article kinds (repeat or a,b)")] = None,
    source: Annotated[
        list[str] | None, Query(description="article (default), inquiry, incident, update")
    ] = None,
    component: Annotated[str | None, Query(max_length=200)] = None,
    locale: Annotated[str | None, Query(max_length=5)] = None,
    state: Annotated[str | None, Query(max_length=20, description="draft or published")] = None,
    limit: Annotated[int, Query(description="1 to 50")] = 10,
) -> list[HitOut]:
    """Articles and records matching the words, best first; ``[]`` when nothing matches."""
    query = rules.check_query(
        check_storable(q, field="q"),
        kinds=_values(kind, "kind"),
        sources=_values(source, "source") or ("article",),
        component=check_storable(component, field="component") if component else None,
        locale=locale or None,
        state=state or None,
        limit=limit,
    )
    hits = search.search(session, query)
    session.commit()  # what the search's catch-up indexed in this session, if anything
    return [
        HitOut(
            source=hit.source,
            key=hit.key,
            kind=hit.kind,
            title=hit.title,
            score=hit.score,
            snippet=hit.snippet,
            marks=list(hit.marks),
            url=hit.url,
        )
        for hit in hits
    ]
