"""Console pages for delivery: live counts per notice, dead letters and their retry (R4, R26).

* ``GET  /console/messages/{id}/counts`` — htmx fragment beside each published
  notice: queued / sent / failed / dead, and when the last customer got it.
  It polls itself every ``service.POLL_SECONDS`` seconds while anything is
  still on its way.
* ``GET  /console/deliveries?state=dead[&message=ID]`` — the dead letters (or
  deliveries in another state), recipients masked, last error, attempts.
* ``POST /console/deliveries/{id}/retry`` and ``POST /console/messages/{id}/retry-dead``
  (``/console/deliveries/retry-dead`` for every message) — send again.

Permissions mirror the JSON API (``notify.api``): every agent (operator and
up) may read counts and retry dead letters.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.errors import AnshinError, InvalidInput
from anshin.i18n import N_, translate
from anshin.inputs import DbId, parse_id
from anshin.notify import recipients, rules, service, subscriber_views
from anshin.notify.models import Delivery, OutboxMessage, Subscriber
from anshin.notify.recipients import mask_address as mask_address
from anshin.team import rules as team_rules
from anshin.team.models import User
from anshin.web.auth import DbSession, Operator
from anshin.web.deps import request_locale, settings_of
from anshin.web.paging import Paging, page_number
from anshin.web.views_helpers import PostedForm, flash, page, partial, redirect

router = APIRouter(include_in_schema=False)
router.include_router(subscriber_views.router)
LIST_LIMIT = 200
PAGE_SIZE = 50


def full_addresses(user: User) -> bool:
    """Whether this reader sees recipients' email addresses whole (supervisor and up, R22)."""
    return team_rules.can(user.role, "delivery.addresses")


def _counts_context(session: Session, message_id: int) -> dict[str, Any]:
    counts = service.counts(session, message_id)
    return {
        "counts": counts,
        "polling": counts.in_flight,
        "poll_seconds": service.POLL_SECONDS,
    }


@router.get("/console/messages/{message_id}/counts", response_class=HTMLResponse)
def counts_fragment(
    request: Request, session: DbSession, user: Operator, message_id: DbId
) -> Response:
    """htmx: one notice's delivery counts, polling itself while anything is on its way (R4)."""
    return partial(
        request, user, "notify/console_counts.html", **_counts_context(session, message_id)
    )


def _state(value: str) -> str:
    if value not in rules.DELIVERY_STATUSES:
        raise InvalidInput(N_("Unknown delivery status: {value}."), field="state", value=value)
    return value


def _message_id(value: str) -> int | None:
    if not value:
        return None
    number = parse_id(value)
    if number is None:
        raise InvalidInput(N_("Enter a whole number."), field="message")
    return number


def _rows(
    session: Session, state: str, message_id: int | None, locale: str, *, full: bool
) -> list[tuple[Delivery, str, OutboxMessage, str]]:
    """Deliveries in one state, newest first: masked recipient, their message and its subject.

    The rows carry only the delivery and recipient columns; the messages they
    belong to (each with its texts in every language) are read once each, and
    each message's subject is worked out once, however many rows share it.
    """
    stmt = (
        select(Delivery, Subscriber.kind, Subscriber.address)
        .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.status == state)
        .order_by(Delivery.id.desc())
        .limit(LIST_LIMIT)
    )
    if message_id is not None:
        stmt = stmt.where(Delivery.message_id == message_id)
    found = session.execute(stmt).all()
    ids = {delivery.message_id for delivery, _kind, _address in found}
    messages = (
        {m.id: m for m in session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))}
        if ids
        else {}
    )
    subjects = {mid: subject(message, locale) for mid, message in messages.items()}
    return [
        (
            delivery,
            recipients.shown_address(kind or delivery.channel, address, full=full),
            messages[delivery.message_id],
            subjects[delivery.message_id],
        )
        for delivery, kind, address in found
    ]


def subject(message: OutboxMessage, locale: str) -> str:
    """The notice's subject in the reader's language (Japanese when there is no English)."""
    texts = message.texts.get(locale) or message.texts.get("ja") or {}
    return str(texts.get("subject") or message.kind)


def _list_url(state: str, message_id: int | None) -> str:
    url = f"/console/deliveries?state={state}"
    return url + (f"&message={message_id}" if message_id is not None else "")


@router.get("/console/deliveries", response_class=HTMLResponse)
def deliveries_page(
    request: Request, session: DbSession, user: Operator, state: str = "dead", message: str = ""
) -> Response:
    """Dead letters (or another state) with a retry button per row and per message."""
    state = _state(state)
    message_id = _message_id(message)
    focus = service.get_message(session, message_id) if message_id is not None else None
    locale = request_locale(request)
    return page(
        request,
        user,
        "notify/console_deliveries.html",
        state=state,
        states=rules.DELIVERY_STATUSES,
        rows=_rows(session, state, message_id, locale, full=full_addresses(user)),
        focus=focus,
        focus_subject=subject(focus, locale) if focus is not None else "",
        focus_counts=service.counts(session, focus.id) if focus is not None else None,
        message_id=message_id,
        limit=LIST_LIMIT,
        poll_seconds=service.POLL_SECONDS,
    )


@router.get("/console/messages/{message_id}/deliveries", response_class=HTMLResponse)
def message_recipients(
    request: Request,
    session: DbSession,
    user: Operator,
    message_id: DbId,
    state: str = "",
    page_asked: Annotated[str, Query(alias="page", max_length=10)] = "",
) -> Response:
    """Who one notice went to: every delivery, its state, sent time, attempts and last error.

    Addresses in full for supervisors and above, masked for others (R22).
    """
    wanted = recipients.check_state(state)
    number = page_number(page_asked)
    message = service.get_message(session, message_id)
    counts = service.counts(session, message.id)
    rows, total = recipients.of_message(
        session, message.id, status=wanted, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE
    )
    reference = message.data.get("reference") if message.incident_id is not None else None
    return page(
        request,
        user,
        "notify/console_recipients.html",
        message=message,
        subject=subject(message, request_locale(request)),
        counts=counts,
        incident_ref=reference,
        state=wanted or "",
        states=rules.DELIVERY_STATUSES,
        rows=rows,
        full=full_addresses(user),
        paging=Paging(page=number, size=PAGE_SIZE, total=total),
        query={"state": wanted} if wanted else {},
        polling=counts.in_flight,
        poll_seconds=service.POLL_SECONDS,
    )


def _back(form_state: str, form_message: str) -> str:
    """Where a retry returns to: the list it was pressed on (validated, never a free URL)."""
    state = form_state if form_state in rules.DELIVERY_STATUSES else "dead"
    message_id = parse_id(form_message)
    return _list_url(state, message_id)


def _refusal(request: Request, exc: AnshinError, back: str) -> Response:
    # Translated now: the parameters may not travel through the session cookie.
    flash(request, translate(request_locale(request), exc.msgid, **exc.params), kind="error")
    return redirect(back)


@router.post("/console/deliveries/{delivery_id}/retry")
def retry_one(
    request: Request, session: DbSession, user: Operator, delivery_id: DbId, form: PostedForm
) -> Response:
    """Send one dead letter again with a fresh set of attempts."""
    back = _back(form.get("state"), form.get("message"))
    try:
        service.retry(session, settings_of(request), delivery_id, actor=user.actor)
    except AnshinError as exc:
        session.rollback()
        if exc.status == 404:
            raise
        return _refusal(request, exc, back)
    session.commit()
    flash(request, N_("The delivery is queued again."))
    return redirect(back)


@router.post("/console/messages/{message_id}/retry-dead")
def retry_message(
    request: Request, session: DbSession, user: Operator, message_id: DbId, form: PostedForm
) -> Response:
    """Send every dead letter of one notice again."""
    count = service.retry_dead(
        session, settings_of(request), message_id=message_id, actor=user.actor
    )
    session.commit()
    flash(request, N_("{count} dead letters queued again."), count=count)
    return redirect(_back(form.get("state"), form.get("message") or str(message_id)))


@router.post("/console/deliveries/retry-dead")
def retry_all(request: Request, session: DbSession, user: Operator) -> Response:
    """Send every dead letter of every notice again."""
    count = service.retry_dead(session, settings_of(request), actor=user.actor)
    session.commit()
    flash(request, N_("{count} dead letters queued again."), count=count)
    return redirect(_list_url("dead", None))
