"""The console's search: articles, inquiries, incidents and updates in one ranked list (R17).

``GET /console/search?q=&source=&kind=&component=&locale=&state=`` — the box
in every console page's header lands here. The words go through
``rules.check_query`` and the one entry point ``knowledge.search.search``
(whatever its internals: the naive scan or the index), best first; each hit's
snippet is escaped and its matched words marked (``knowledge.highlight``).
A query that cannot be searched (too long, an unknown filter) comes back on
the same page with the reason and the words kept.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from anshin.components.service import list_components
from anshin.errors import AnshinError
from anshin.inputs import check_storable
from anshin.knowledge import rules, search
from anshin.knowledge.console import refusal
from anshin.knowledge.highlight import language_of, marked
from anshin.web.auth import DbSession, Operator
from anshin.web.views_helpers import page, safe_next

router = APIRouter(include_in_schema=False)

RESULTS = 20
# Longer than any query allowed, so a pasted page reaches check_query and is refused
# beside the box with the words kept, rather than by the framework.
QUERY_TYPED_MAX = 20_000


@router.get("/console/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    session: DbSession,
    user: Operator,
    q: Annotated[str, Query(max_length=QUERY_TYPED_MAX)] = "",
    source: Annotated[str, Query(max_length=20)] = "",
    kind: Annotated[str, Query(max_length=40)] = "",
    component: Annotated[str, Query(max_length=200)] = "",
    locale: Annotated[str, Query(max_length=10)] = "",
    state: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """Ranked results for the words typed, with the filters set; the form alone without words."""
    values = {
        "q": " ".join(q.split()),
        "source": source.strip(),
        "kind": kind.strip(),
        "component": component.strip(),
        "locale": locale.strip(),
        "state": state.strip(),
    }
    errors: dict[str, str] = {}
    results = []
    asked = bool(values["q"])
    if asked:
        try:
            for name, value in values.items():
                check_storable(value, name)  # a NUL no keyboard types: refused, never queried
            query = rules.check_query(
                values["q"],
                kinds=(values["kind"],) if values["kind"] else (),
                sources=(values["source"],) if values["source"] else rules.SOURCES,
                component=values["component"] or None,
                locale=values["locale"] or None,
                state=values["state"] or None,
                limit=RESULTS,
            )
            hits = search.search(session, query)
        except AnshinError as exc:
            errors = refusal(request, exc)
            hits = []
        # A hit's page only when it is a path on this site (never another site or a script).
        results = [
            (hit, marked(hit.snippet, hit.marks), safe_next(hit.url, ""), language_of(hit.title))
            for hit in hits
        ]
    return page(
        request,
        user,
        "knowledge/search.html",
        status=422 if errors else 200,
        values=values,
        errors=errors,
        asked=asked,
        results=results,
        sources=rules.SOURCES,
        kinds=[k.value for k in rules.Kind],
        states=[s.value for s in rules.State],
        locales=rules.LOCALES,
        component_names=[c.name for c in list_components(session)],
    )
