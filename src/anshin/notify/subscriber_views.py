"""Console page of the subscribers (R26): find one, remove one, send a confirmation again.

* ``GET  /console/subscribers?q=&status=&kind=&locale=&page=`` — the list with
  counts per status; ``q`` finds addresses containing it.
* ``GET  /console/subscribers/{id}/remove`` — the confirmation step; the
  ``POST`` removes the subscriber and their address (it cannot be undone).
* ``POST /console/subscribers/{id}/resend`` — the double opt-in mail again.

The list holds customers' personal data: seniors and above, as the API's
subscriber routes (``team.rules`` ``subscriber.manage``). The on-duty staff's
rows of the staff channel are not customers' and never listed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from anshin.components import service as components_service
from anshin.errors import AnshinError, InvalidInput
from anshin.i18n import N_, translate
from anshin.inputs import DbId
from anshin.notify import recipients, rules, subscriber_list, subscribers
from anshin.team.models import User
from anshin.web.auth import DbSession, Senior
from anshin.web.deps import request_locale, settings_of
from anshin.web.paging import Paging, page_number
from anshin.web.views_helpers import FormData, PostedForm, flash, page, redirect

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
LIST = "/console/subscribers"
FILTERS = ("q", "status", "kind", "locale")


def _filters(values: dict[str, str]) -> dict[str, str]:
    """The list's filters that are set, checked (an unknown value is a 422)."""
    chosen = {name: " ".join((values.get(name) or "").split()) for name in FILTERS}
    if len(chosen["q"]) > subscriber_list.QUERY_MAX:
        raise InvalidInput(
            N_("The search is too long (at most {n} characters)."),
            field="q",
            n=subscriber_list.QUERY_MAX,
        )
    if chosen["status"]:
        rules.check_subscriber_status(chosen["status"])
    if chosen["locale"]:
        rules.check_locale(chosen["locale"])
    if chosen["kind"] and chosen["kind"] not in rules.SUBSCRIBER_KINDS:
        raise InvalidInput(
            N_("Unknown subscriber kind: {value}."), field="kind", value=chosen["kind"][:20]
        )
    return {name: value for name, value in chosen.items() if value}


def _back(form: FormData) -> str:
    """The list with the filters and page it was used from (rebuilt, never a free URL)."""
    try:
        query = _filters({name: form.get(name) for name in FILTERS})
        number = page_number(form.get("page"))
    except AnshinError:
        return LIST
    if number > 1:
        query["page"] = str(number)
    return LIST + ("?" + urlencode(query) if query else "")


def _component_names(session: Session, locale: str) -> dict[int, str]:
    return {
        c.id: (c.name_en if locale == "en" and c.name_en else c.name)
        for c in components_service.list_components(session)
    }


@dataclass(frozen=True)
class ListQuery:
    """The list's search, filters and page as sent (checked where they are used)."""

    q: str
    status: str
    kind: str
    locale: str
    page: str


def list_query(
    q: Annotated[str, Query(max_length=subscriber_list.QUERY_MAX)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    kind: Annotated[str, Query(max_length=10)] = "",
    locale: Annotated[str, Query(max_length=5)] = "",
    page_asked: Annotated[str, Query(alias="page", max_length=10)] = "",
) -> ListQuery:
    """The list's query parameters, for the list and for the pages that return to it."""
    return ListQuery(q=q, status=status, kind=kind, locale=locale, page=page_asked)


ListParams = Annotated[ListQuery, Depends(list_query)]


@router.get("/console/subscribers", response_class=HTMLResponse)
def subscribers_page(
    request: Request, session: DbSession, user: Senior, asked: ListParams
) -> Response:
    """Subscribers, newest first, with search, filters and counts per status."""
    query = _filters(
        {"q": asked.q, "status": asked.status, "kind": asked.kind, "locale": asked.locale}
    )
    number = page_number(asked.page)
    rows, total = subscriber_list.list_subscribers(
        session,
        q=query.get("q"),
        status=query.get("status"),
        kind=query.get("kind"),
        locale=query.get("locale"),
        limit=PAGE_SIZE,
        offset=(number - 1) * PAGE_SIZE,
    )
    return page(
        request,
        user,
        "notify/console_subscribers.html",
        rows=rows,
        query=query,
        counts=subscriber_list.status_counts(session),
        statuses=rules.SUBSCRIBER_STATUSES,
        kinds=rules.SUBSCRIBER_KINDS,
        locales=rules.LOCALES,
        component_names=_component_names(session, request_locale(request)),
        shown=recipients.shown_address,
        paging=Paging(page=number, size=PAGE_SIZE, total=total),
        page_query={**query, **({"page": str(number)} if number > 1 else {})},
    )


def _confirm_page(
    request: Request, session: Session, user: User, subscriber_id: int, back: dict[str, Any]
) -> HTMLResponse:
    subscriber = subscribers.get(session, subscriber_id)
    return page(
        request,
        user,
        "notify/console_subscriber_remove.html",
        subscriber=subscriber,
        shown=recipients.shown_address,
        component_names=_component_names(session, request_locale(request)),
        back=back,
    )


@router.get("/console/subscribers/{subscriber_id}/remove", response_class=HTMLResponse)
def remove_confirm(
    request: Request, session: DbSession, user: Senior, subscriber_id: DbId, asked: ListParams
) -> Response:
    """The confirmation step before a subscriber is removed for good."""
    return _confirm_page(request, session, user, subscriber_id, asdict(asked))


@router.post("/console/subscribers/{subscriber_id}/remove")
def remove(
    request: Request, session: DbSession, user: Senior, subscriber_id: DbId, form: PostedForm
) -> Response:
    """Remove the subscriber and their address once confirmed; past deliveries stay."""
    if form.get("confirm") != "yes":
        return redirect(f"{LIST}/{subscriber_id}/remove")
    subscriber = subscribers.get(session, subscriber_id)
    address = subscriber.address
    subscribers.delete(session, subscriber_id, actor=user.actor)
    session.commit()
    flash(request, N_("{address} was removed."), address=address)
    return redirect(_back(form))


@router.post("/console/subscribers/{subscriber_id}/resend")
def resend(
    request: Request, session: DbSession, user: Senior, subscriber_id: DbId, form: PostedForm
) -> Response:
    """Send the confirmation mail of a pending subscription again."""
    back = _back(form)
    try:
        subscriber = subscribers.resend_confirmation(
            session, settings_of(request), subscriber_id, actor=user.actor
        )
    except AnshinError as exc:
        session.rollback()
        if exc.status == 404:
            raise
        message = translate(request_locale(request), exc.msgid, **exc.params)
        flash(request, message, kind="error")
        return redirect(back)
    session.commit()
    flash(
        request, N_("The confirmation mail to {address} is on its way."), address=subscriber.address
    )
    return redirect(back)
