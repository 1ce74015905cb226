"""Who may change what in the knowledge base: pure checks, no I/O (R17, R22, R27).

Everyone on the team (operators, L1) reads, searches, votes, records a use and
writes drafts: the front line knows which answers worked. What everyone then
relies on is decided a rank higher (R22, R27): publishing an article (the
reply panel and the public FAQ show published ones only), changing an article
that is published, anything about an expression to avoid (once published it
feeds the message check at once) and the synonym list (it changes every
search) need a senior (L2) or above.

The article routes take the ``Operator`` alias and ask these checks, so an
operator's draft form is refused with the reason and the text kept; the
synonym list's save route takes ``Senior`` itself.
"""

from __future__ import annotations

from anshin.errors import Forbidden, InvalidInput
from anshin.i18n import N_
from anshin.knowledge import rules
from anshin.team.rules import Role, at_least

EDITOR = Role.SENIOR  # publishes, edits published articles and expressions to avoid
# Paths under /console/kb/ that are pages, not articles: an article may not take these keys.
RESERVED_KEYS = frozenset({"new", "synonyms"})
LINK_ID_MAX = 2**31 - 1  # kb_article_links.target_id is a 32-bit integer


def is_editor(role: str) -> bool:
    """True for a senior (L2) or above: may publish and manage expressions to avoid."""
    return at_least(role, EDITOR)


def may_edit(role: str, kind: str, state: str) -> bool:
    """Whether the edit form is offered on an existing article (``check_save`` decides)."""
    if is_editor(role):
        return True
    return kind != rules.Kind.AVOID_EXPRESSION and state != rules.State.PUBLISHED


def check_new_key(key: str) -> str:
    """A new article's key may not be one of the console's own page names."""
    if key in RESERVED_KEYS:
        raise InvalidInput(
            N_("The key {key} is reserved for a console page: choose another."),
            field="key",
            key=key,
        )
    return key


def check_save(role: str, draft: rules.Draft, existing: rules.Draft | None) -> None:
    """Refuse, with the reason, a save the role may not make (R22, R27)."""
    if is_editor(role):
        return
    if draft.kind == rules.Kind.AVOID_EXPRESSION or (
        existing is not None and existing.kind == rules.Kind.AVOID_EXPRESSION
    ):
        raise Forbidden(
            N_(
                "Only a senior or above may add or change an expression to avoid: "
                "it feeds the message check."
            ),
            field="kind",
        )
    if existing is not None and existing.state == rules.State.PUBLISHED:
        raise Forbidden(
            N_(
                "This article is published: only a senior or above may change it. "
                "Ask one, or vote not helpful."
            ),
            field="state",
        )
    if draft.state == rules.State.PUBLISHED:
        raise Forbidden(
            N_(
                "Only a senior or above may publish an article. Save it as a draft; "
                "a senior reviews and publishes it."
            ),
            field="state",
        )
