"""The knowledge base's console pages: the article list, one article, votes and uses (R17, R32).

* ``GET /console/kb`` — every article, most recently changed first, filtered by
  kind, state and language.
* ``GET /console/kb/{key}`` — one article: its body rendered safely, tags,
  components, the records it came from and was used in (R32), its usage count
  and votes, every version with author and time; ``?version=N`` shows an old one.
* ``POST /console/kb/{key}/vote`` — an agent's helpful / not helpful.
* ``POST /console/kb/{key}/used`` — the reply panel's insert button: the usage
  count goes up and the inquiry is linked (JSON answer for the page's script).

The form (new, edit, "save as article") is ``form_views``; search is
``search_views``; the synonym list is ``synonym_views``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anshin.errors import AnshinError, InvalidInput, NotFound
from anshin.i18n import N_
from anshin.inputs import parse_id
from anshin.knowledge import console, permissions, rules, service
from anshin.knowledge.console import refusal, source_links
from anshin.knowledge.models import Article, ArticleVote
from anshin.knowledge.render import to_html
from anshin.web.auth import DbSession, Operator
from anshin.web.paging import Paging, page_number
from anshin.web.views_helpers import PostedForm, flash, page, redirect

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
KINDS: tuple[str, ...] = tuple(k.value for k in rules.Kind)
STATES: tuple[str, ...] = tuple(s.value for s in rules.State)


def _filter(value: str, allowed: tuple[str, ...], msgid: str, field: str, **params: Any) -> str:
    """A list filter's value: blank (any) or one of ``allowed``; else a 422 naming it."""
    value = value.strip()
    if value and value not in allowed:
        raise InvalidInput(msgid, field=field, **params)
    return value


def _count(session: Session, kind: str, state: str, locale: str) -> int:
    statement = select(func.count()).select_from(Article)
    for column, value in ((Article.kind, kind), (Article.state, state), (Article.locale, locale)):
        if value:
            statement = statement.where(column == value)
    return int(session.scalar(statement) or 0)


@router.get("/console/kb", response_class=HTMLResponse)
def article_list(
    request: Request,
    session: DbSession,
    user: Operator,
    kind: Annotated[str, Query(max_length=40)] = "",
    state: Annotated[str, Query(max_length=20)] = "",
    locale: Annotated[str, Query(max_length=10)] = "",
    page_asked: Annotated[str, Query(alias="page", max_length=10)] = "",
) -> Response:
    """Every article, filtered by kind, state and language, newest change first (R17)."""
    values = {"kind": kind.strip(), "state": state.strip(), "locale": locale.strip()}
    query = {name: value for name, value in values.items() if value}
    rows: list[Article] = []
    errors: dict[str, str] = {}
    total, number = 0, 1
    try:
        _filter(
            kind, KINDS, N_("The kind must be one of: {kinds}."), "kind", kinds=", ".join(KINDS)
        )
        _filter(state, STATES, N_("The state must be draft or published."), "state")
        _filter(locale, rules.LOCALES, N_("The locale must be ja or en."), "locale")
        number = page_number(page_asked)
        total = _count(session, values["kind"], values["state"], values["locale"])
        rows = service.listing(
            session,
            kind=values["kind"] or None,
            state=values["state"] or None,
            locale=values["locale"] or None,
            limit=PAGE_SIZE,
            offset=(number - 1) * PAGE_SIZE,
        )
    except AnshinError as exc:
        errors = refusal(request, exc)
    return page(
        request,
        user,
        "knowledge/list.html",
        status=422 if errors else 200,
        rows=rows,
        values=values,
        query=query,
        errors=errors,
        paging=Paging(page=number, size=PAGE_SIZE, total=total),
        kinds=KINDS,
        states=STATES,
        locales=rules.LOCALES,
    )


@router.get("/console/kb/{key}", response_class=HTMLResponse)
def article_page(
    request: Request,
    session: DbSession,
    user: Operator,
    key: str,
    version: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """One article with its sources, usage, votes and versions; ``?version=N`` an old one."""
    article = console.article(session, key)
    versions = service.versions(session, article)
    shown = None
    if version.strip():
        number = parse_id(version)
        if number is None:
            raise InvalidInput(N_("The version must be a whole number from 1."), field="version")
        if number != article.version:  # the current version is the page itself
            shown = next((v for v in versions if v.version == number), None)
            if shown is None:
                raise NotFound(N_("Article {key} has no version {n}."), key=article.key, n=number)
    fields: dict[str, Any] = (
        dict(shown.fields) if shown else service.current_draft(article).as_fields()
    )
    my_vote = session.scalar(
        select(ArticleVote.helpful).where(
            ArticleVote.article_id == article.id, ArticleVote.user_id == user.id
        )
    )
    links = source_links(session, service.links(session, article))
    return page(
        request,
        user,
        "knowledge/article.html",
        article=article,
        fields=fields,
        shown=shown,
        body_html=to_html(str(fields.get("body") or "")),
        versions=versions,
        sources=[link for link in links if link.relation == rules.Relation.SOURCE],
        uses=[link for link in links if link.relation == rules.Relation.USED],
        my_vote=my_vote,
        may_edit=permissions.may_edit(user.role, article.kind, article.state),
    )


@router.post("/console/kb/{key}/vote", response_class=HTMLResponse)
def vote(
    request: Request, session: DbSession, user: Operator, key: str, form: PostedForm
) -> Response:
    """Helpful or not helpful; voting again replaces the agent's earlier vote."""
    article = console.article(session, key)
    choice = form.get("helpful")
    if choice not in ("yes", "no"):
        raise InvalidInput(N_("Say whether the article helped: yes or no."), field="helpful")
    service.vote(session, article, user_id=user.id, helpful=choice == "yes", actor=user.actor)
    session.commit()
    flash(request, N_("Thank you: your vote is counted."))
    return redirect(f"/console/kb/{article.key}#votes")


@router.post("/console/kb/{key}/used")
def used(
    request: Request, session: DbSession, user: Operator, key: str, form: PostedForm
) -> Response:
    """The reply panel inserted this article into a reply: count it, link the inquiry (R17)."""
    article = console.article(session, key)
    typed = form.get("inquiry_id")
    inquiry_id = parse_id(typed) if typed else None
    if typed and (inquiry_id is None or inquiry_id > permissions.LINK_ID_MAX):
        raise InvalidInput(N_("The inquiry must be given by its number."), field="inquiry_id")
    service.record_use(session, article, inquiry_id=inquiry_id, actor=user.actor)
    session.commit()
    return JSONResponse({"key": article.key, "usage_count": article.usage_count})
