"""The SQL conditions a search puts on the index's documents: one place for both databases.

Kinds, state and public apply to articles; the other records are filtered by
source. SQLite's ranking (knowledge/search.py) and PostgreSQL's
(knowledge/search_pg.py) take the same conditions, so the filters cannot
drift apart between the two databases. docs/knowledge-search.md.
"""

from __future__ import annotations

from typing import Any

from anshin.db import LIKE_ESCAPE
from anshin.knowledge import rules
from anshin.knowledge.index_models import FTS_ARTICLES


def in_list(name: str, values: tuple[str, ...], params: dict[str, Any]) -> str:
    names = []
    for i, value in enumerate(values):
        params[f"{name}{i}"] = value
        names.append(f":{name}{i}")
    return ", ".join(names)


def conditions(table: str, query: rules.Query, params: dict[str, Any]) -> list[str]:
    """The SQL conditions on ``kb_documents d`` for one full-text table (none: no join needed).

    Kinds, state and public apply to articles; the other records have no kind
    or editorial state and are never public (the public FAQ searches articles).
    """
    clauses = []
    if table == FTS_ARTICLES:
        if query.kinds:
            clauses.append(f"d.kind IN ({in_list('kind', query.kinds, params)})")
        if query.state:
            params["state"] = query.state
            clauses.append("d.state = :state")
        if query.public_only:
            params["public"] = True
            clauses.append("d.public = :public")
    else:
        sources = tuple(s for s in query.sources if s != "article")
        if len(sources) < len(rules.SOURCES) - 1:
            clauses.append(f"d.source IN ({in_list('src', sources, params)})")
    if query.locale:
        params["locale"] = query.locale
        clauses.append("(d.locale = :locale OR d.locale IS NULL)")
    if query.component:
        escaped = "".join(
            LIKE_ESCAPE + ch if ch in "%_" + LIKE_ESCAPE else ch for ch in query.component
        )
        params["component"] = f"%\n{escaped}\n%"
        clauses.append(f"d.components LIKE :component ESCAPE '{LIKE_ESCAPE}'")
    return clauses
