"""What the knowledge base's console pages share: field names, refusals, links to sources.

A refusal from :mod:`anshin.knowledge.rules` names a field by its code name
(``{name} is required.`` with ``name="title"``); the form shows it next to the
field with the field's label in the reader's language instead (「タイトル」,
or 「避けたい表現」 when the article is an expression to avoid).

The records an article was drawn from (R32) live in other domains, which
knowledge never imports: their labels and pages come through named hooks
(``anshin.hooks.resolve``), one per record type, each answering
``describe(session, target_type, ids) -> {id: (label, url)}``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from anshin import hooks
from anshin.errors import AnshinError, NotFound
from anshin.i18n import N_, translate
from anshin.inputs import printable
from anshin.knowledge import rules, service
from anshin.knowledge.models import Article, ArticleLink
from anshin.web.deps import request_locale

log = logging.getLogger(__name__)

FIELD_LABELS: dict[str, str] = {
    "key": N_("Key"),
    "kind": N_("Kind"),
    "title": N_("Title"),
    "body": N_("Body"),
    "alternative": N_("What to write instead"),
    "tags": N_("Tags"),
    "components": N_("Related components"),
    "locale": N_("Language"),
    "state": N_("State"),
    "public": N_("Shown to customers"),
}
AVOID_LABELS: dict[str, str] = {
    "title": N_("Expression to avoid"),
    "body": N_("Why it hurts"),
}
SOURCE_HOOKS: dict[str, str] = {
    rules.LinkTarget.INQUIRY: "anshin.inquiries.kb_sources:describe",
    rules.LinkTarget.REPLY: "anshin.inquiries.kb_sources:describe",
    rules.LinkTarget.INCIDENT: "anshin.incidents.kb_sources:describe",
    rules.LinkTarget.UPDATE: "anshin.incidents.kb_sources:describe",
    rules.LinkTarget.REVIEW_NOTE: "anshin.review.kb_sources:describe",
}


def article(session: Session, key: str) -> Article:
    """The article a page's path names; a key no article can have (a NUL, a space) is a 404
    at once, before any query (PostgreSQL refuses a NUL in a parameter)."""
    if not rules.KEY_PATTERN.fullmatch(key):
        shown = printable(key[:120]).replace("\x00", "")
        raise NotFound(N_("No such article: {key}."), key=shown)
    return service.get(session, key)


def field_label(name: str, kind: str | None = None) -> str:
    """The msgid of a field's label; an expression to avoid names title and body its own way."""
    if kind == rules.Kind.AVOID_EXPRESSION and name in AVOID_LABELS:
        return AVOID_LABELS[name]
    return FIELD_LABELS.get(name, name)


def refusal(request: Request, exc: AnshinError, *, kind: str | None = None) -> dict[str, str]:
    """One refusal as ``{field: message}`` in the reader's language, field names translated."""
    locale = request_locale(request)
    params: dict[str, Any] = dict(exc.params)
    if isinstance(params.get("name"), str):
        params["name"] = translate(locale, field_label(params["name"], kind))
    return {exc.field or "_form": translate(locale, exc.msgid, **params)}


@dataclass(frozen=True)
class SourceLink:
    """A record an article is linked to, as the article page shows it (R32)."""

    target_type: str
    target_id: int
    relation: str
    label: str
    url: str | None


def source_links(session: Session, links: Iterable[ArticleLink]) -> list[SourceLink]:
    """Each link with its record's label and page, asked of the domain that owns the record."""
    return describe(session, [(row.target_type, row.target_id, row.relation) for row in links])


def describe(session: Session, links: Iterable[tuple[str, int, str]]) -> list[SourceLink]:
    """(type, id, relation) as labelled links; a record nobody describes keeps ``#id``."""
    rows = list(links)
    described: dict[tuple[str, int], tuple[str, str]] = {}
    for target_type in sorted({row[0] for row in rows}):
        name = SOURCE_HOOKS.get(target_type)
        if name is None:
            continue
        ids = [target_id for kind, target_id, _relation in rows if kind == target_type]
        try:
            found = hooks.resolve(name)(session, target_type, ids)
        except (ImportError, AttributeError):  # a domain not installed: plain labels
            log.warning("no source hook %s for %s links", name, target_type)
            continue
        for target_id, (label, url) in found.items():
            described[(target_type, target_id)] = (label, url)
    out = []
    for target_type, target_id, relation in rows:
        label, url = described.get((target_type, target_id), (f"#{target_id}", ""))
        out.append(SourceLink(target_type, target_id, relation, label, url or None))
    return out
