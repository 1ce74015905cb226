"""The article form: new, edit, and "save as article" from a reply or an update (R17, R32).

* ``GET /console/kb/new`` — an empty form (``?kind=`` preselects a kind).
* ``POST /console/kb/new`` — the form filled from a record: a reply on the
  inquiry page or an incident update posts its text and ``source=type:id``
  here; nothing is saved yet (R32 "save as article"). The record's page posts,
  so knowledge never reads inquiries or incidents.
* ``POST /console/kb`` — save a new article; the posted sources are linked
  back with ``relation=source``.
* ``GET/POST /console/kb/{key}/edit`` — change an article; every save that
  changes something is a new version with its author and time.

Every refusal (a field, a role, someone else's newer version) shows the form
again with everything typed and the reason next to the field (422/403/409).
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.components.service import list_components
from anshin.db import utcnow
from anshin.errors import AnshinError, Conflict, InvalidInput
from anshin.i18n import N_
from anshin.inputs import parse_id
from anshin.knowledge import console, permissions, rules, service
from anshin.knowledge.console import describe, refusal
from anshin.knowledge.models import Article
from anshin.team.models import User
from anshin.web.auth import DbSession, Operator
from anshin.web.views_helpers import FormData, PostedForm, flash, page, redirect

router = APIRouter(include_in_schema=False)

SOURCES_MAX = 5  # records one "save as article" links back to (a reply and its inquiry…)
DRAFT_FIELDS = ("key", "kind", "title", "body", "alternative", "tags", "locale", "state")


def _typed(form: FormData) -> dict[str, Any]:
    """What the form holds, as typed: shown again unchanged when it is refused."""
    return {
        "key": form.get("key"),
        "kind": form.get("kind"),
        "title": form.get("title"),
        "body": form.raw("body"),
        "alternative": form.get("alternative"),
        "tags": form.get("tags"),
        "components": form.getlist("components"),
        "locale": form.get("locale") or "ja",
        "state": form.get("state") or rules.State.DRAFT.value,
        "public": form.checked("public"),
        "sources": form.getlist("source"),
        "version": form.get("version"),
    }


def _empty(kind: str = "") -> dict[str, Any]:
    kind = kind if kind in {k.value for k in rules.Kind} else rules.Kind.FAQ.value
    return {
        **dict.fromkeys(DRAFT_FIELDS, ""),
        "kind": kind,
        "locale": "ja",
        "state": rules.State.DRAFT.value,
        "components": [],
        "public": False,
        "sources": [],
        "version": "",
    }


def _draft(typed: dict[str, Any]) -> rules.Draft:
    """The typed values checked as a draft (every input path shares ``rules.check_draft``)."""
    values: dict[str, object] = {name: typed[name] for name in DRAFT_FIELDS}
    values["components"] = [c.strip() for c in typed["components"] if c.strip()]
    values["public"] = bool(typed["public"])
    return rules.check_draft(values)


def _sources(values: list[str]) -> list[tuple[str, int]]:
    """``type:id`` pairs of the records the article comes from, each a known type and id."""
    if len(values) > SOURCES_MAX:
        raise InvalidInput(
            N_("An article links back to at most {n} records at once."),
            field="source",
            n=SOURCES_MAX,
        )
    found: list[tuple[str, int]] = []
    for value in values:
        target, _, number = value.partition(":")
        target_id = parse_id(number)
        known = target in {t.value for t in rules.LinkTarget}
        if not known or target_id is None or target_id > permissions.LINK_ID_MAX:
            raise InvalidInput(
                N_("The record this article comes from cannot be read: {value}."),
                field="source",
                value=value[:40],
            )
        if (target, target_id) not in found:
            found.append((target, target_id))
    return found


def _new_key(kind: str) -> str:
    """A key for an article whose writer left it blank: kind, day, six random letters."""
    prefix = kind if kind in {k.value for k in rules.Kind} else "article"
    return f"{prefix.replace('_', '-')}-{utcnow():%Y%m%d}-{secrets.token_hex(3)}"


def _form(
    request: Request,
    session: Session,
    user: User,
    values: dict[str, Any],
    *,
    article: Article | None = None,
    status: int = 200,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    editor = permissions.is_editor(user.role)
    names = [c.name for c in list_components(session)]
    names += [c for c in values.get("components", []) if c and c not in names]
    kinds = [k.value for k in rules.Kind if editor or k != rules.Kind.AVOID_EXPRESSION]
    if values.get("kind") and values["kind"] not in kinds:
        kinds.append(values["kind"])  # what was posted stays selectable: nothing typed is lost
    try:
        pairs = _sources(values.get("sources", []))
    except InvalidInput:
        pairs = []
    return page(
        request,
        user,
        "knowledge/form.html",
        status=status,
        values=values,
        errors=errors or {},
        article=article,
        kinds=kinds,
        locales=rules.LOCALES,
        component_names=names,
        editor=editor,
        source_links=describe(session, [(t, i, rules.Relation.SOURCE.value) for t, i in pairs]),
    )


@router.get("/console/kb/new", response_class=HTMLResponse)
def new_form(request: Request, session: DbSession, user: Operator, kind: str = "") -> Response:
    """An empty article form."""
    return _form(request, session, user, _empty(kind.strip()))


@router.post("/console/kb/new", response_class=HTMLResponse)
def prefilled_form(
    request: Request, session: DbSession, user: Operator, form: PostedForm
) -> Response:
    """The form filled from a reply or an update ("save as article", R32); nothing is saved."""
    values = _empty(form.get("kind") or rules.Kind.EXPLANATION.value)
    values["title"] = " ".join(form.get("title").split())[: rules.TITLE_MAX]
    values["body"] = form.raw("body")
    if form.get("locale") in rules.LOCALES:
        values["locale"] = form.get("locale")
    values["sources"] = form.getlist("source")
    errors: dict[str, str] = {}
    try:
        _sources(values["sources"])
    except AnshinError as exc:
        errors = refusal(request, exc)
        values["sources"] = []
    return _form(request, session, user, values, status=422 if errors else 200, errors=errors)


def _save(
    session: Session,
    user: User,
    typed: dict[str, Any],
    article: Article | None,
) -> Article:
    """Check and save, link the sources; raises the first refusal."""
    draft = _draft(typed)
    existing = service.current_draft(article) if article is not None else None
    if article is None:
        permissions.check_new_key(draft.key)
        if session.scalar(select(Article.id).where(Article.key == draft.key)) is not None:
            raise Conflict(
                N_("An article with the key {key} exists already: choose another."),
                field="key",
                key=draft.key,
            )
    permissions.check_save(user.role, draft, existing)
    if article is not None and typed["version"] and parse_id(typed["version"]) != article.version:
        raise Conflict(
            N_(
                "Someone saved version {n} of this article while you were editing. "
                "Your text is kept below: compare it with the article and save again."
            ),
            n=article.version,
        )
    sources = _sources(typed["sources"])
    saved = service.save(session, draft, actor=user.actor)
    for target_type, target_id in sources:
        service.link(
            session,
            saved,
            target_type,
            target_id,
            relation=rules.Relation.SOURCE,
            actor=user.actor,
        )
    return saved


@router.post("/console/kb", response_class=HTMLResponse)
def create(request: Request, session: DbSession, user: Operator, form: PostedForm) -> Response:
    """Save a new article (a draft, or published by a senior) and link its sources."""
    typed = _typed(form)
    try:
        if not typed["key"]:
            typed["key"] = _new_key(typed["kind"])
        article = _save(session, user, typed, None)
    except AnshinError as exc:
        session.rollback()
        if exc.field != "key" and not form.get("key"):
            typed["key"] = ""  # a made-up key is made again on the next try
        errors = refusal(request, exc, kind=typed["kind"])
        return _form(request, session, user, typed, status=exc.status, errors=errors)
    session.commit()
    flash(request, N_("Article saved: version {n}."), n=article.version)
    return redirect(f"/console/kb/{article.key}")


@router.get("/console/kb/{key}/edit", response_class=HTMLResponse)
def edit_form(request: Request, session: DbSession, user: Operator, key: str) -> Response:
    """The article's current fields in the form."""
    article = console.article(session, key)
    current = service.current_draft(article)
    permissions.check_save(user.role, current, current)  # the same refusal a save would get
    values = {**_empty(), **current.as_fields()}
    values["tags"] = ", ".join(article.tags or [])
    values["alternative"] = article.alternative or ""
    values["version"] = str(article.version)
    return _form(request, session, user, values, article=article)


@router.post("/console/kb/{key}/edit", response_class=HTMLResponse)
def save_edit(
    request: Request, session: DbSession, user: Operator, key: str, form: PostedForm
) -> Response:
    """Save the changes as a new version (nothing changed: no new version)."""
    article = console.article(session, key)
    typed = _typed(form)
    typed["key"] = article.key  # the key is the article's identity: never changed here
    try:
        saved = _save(session, user, typed, article)
    except AnshinError as exc:
        session.rollback()
        article = console.article(session, key)
        errors = refusal(request, exc, kind=typed["kind"])
        if isinstance(exc, Conflict):
            typed["version"] = str(article.version)  # saving again replaces that version
        return _form(
            request, session, user, typed, article=article, status=exc.status, errors=errors
        )
    session.commit()
    flash(request, N_("Article saved: version {n}."), n=saved.version)
    return redirect(f"/console/kb/{saved.key}")
