"""The team's expressions to avoid, read afresh for every message check (R17).

A lead publishes an ``avoid_expression`` article in the knowledge base and the
next check anywhere — ``POST /api/lint`` as an editor types, the publish gate
of a notice, an inquiry reply, one answer to everyone who asked, a template's
preview — flags the expression with the article's alternative as its
suggestion. No restart, and nothing held in a process's memory that another
server process could not see: the pairs are one indexed query per check
(``bench/avoid.py`` measures what it adds to a check), and the compiled
patterns are cached by the pairs themselves (``comms.lint.engine``), so a
changed list is a new cache entry, never a stale one.

comms sits below the knowledge base (docs/design.md "Dependency direction"),
so the providers are named here, not imported, like ``comms.records``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from anshin.hooks import resolve

# ``provider(session) -> [(expression, recommended alternative)]``, published ones only.
PROVIDERS: tuple[str, ...] = ("anshin.knowledge.service:published_avoid_expressions",)

Pairs = tuple[tuple[str, str], ...]


def expressions(session: Session | None) -> Pairs:
    """Every provider's (expression, alternative) pairs as stored now; none without a session.

    ``None`` is for callers that check a text with no database at hand (the
    CLI's ``anshin lint`` on a file, the shipped templates' own tests).
    """
    if session is None:
        return ()
    found: list[tuple[str, str]] = []
    for name in PROVIDERS:
        provider: Callable[[Session], Sequence[tuple[str, str]]] = resolve(name)
        found.extend(
            (str(expression), str(alternative)) for expression, alternative in provider(session)
        )
    return tuple(found)
