"""Staff JSON API: subscribers, per-message delivery counts, dead-letter retries (R4, R26).

Reading counts and retrying dead letters is for every agent (operator and
up): the console shows queued / sent / failed / dead per message live and a
retry button. Managing the subscriber list holds personal data and is for
seniors and up. Mutating routes need the session's CSRF token unless the
caller uses a bearer token.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import Field
from sqlalchemy.orm import Session

from anshin.errors import AnshinError, InvalidInput
from anshin.i18n import N_
from anshin.inputs import BIGINT_MAX, DbId, StrictInput, Text
from anshin.notify import csvio, recipients, service, subscriber_list, subscribers
from anshin.notify.models import Delivery, OutboxMessage, Subscriber
from anshin.team import rules as team_rules
from anshin.timefmt import iso_local
from anshin.web.auth import DbSession, Operator, Senior
from anshin.web.deps import message, settings_of

router = APIRouter(prefix="/api")


class TooLarge(AnshinError):
    """A request body over the limit (HTTP 413)."""

    status = 413


class SubscriberIn(StrictInput):
    """A subscriber staff add: an email address (double opt-in unless confirmed) or a webhook.

    Types are not coerced (``true`` is not a component id, ``1`` is not ``true``),
    text must be storable and a typo'd field (``confirmd``) is a 422, not silently
    ignored (anshin.inputs.StrictInput).
    """

    kind: Literal["email", "webhook"] = "email"
    email: Text | None = Field(default=None, max_length=320)
    url: Text | None = Field(default=None, max_length=2000)
    format: Text = Field(default="anshin", max_length=20)
    secret: Text | None = Field(default=None, max_length=200)
    locale: Text = Field(default="ja", max_length=10)
    components: list[DbId] = Field(default_factory=list, max_length=1000)
    confirmed: bool = False


def subscriber_json(subscriber: Subscriber, zone: str) -> dict[str, Any]:
    """A subscriber as the API shows it (never the webhook secret); times in the team's zone."""
    return {
        "id": subscriber.id,
        "kind": subscriber.kind,
        "address": subscriber.address,
        "locale": subscriber.locale,
        "status": subscriber.status,
        "format": subscriber.webhook_format,
        "components": subscriber.component_ids,
        "source": subscriber.source,
        "created_at": iso_local(subscriber.created_at, zone),
        "confirmed_at": iso_local(subscriber.confirmed_at, zone),
        "unsubscribed_at": iso_local(subscriber.unsubscribed_at, zone),
    }


def delivery_json(delivery: Delivery, zone: str) -> dict[str, Any]:
    """One delivery with its state and last error (the console's dead-letter list)."""
    return {
        "id": delivery.id,
        "message_id": delivery.message_id,
        "subscriber_id": delivery.subscriber_id,
        "channel": delivery.channel,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": iso_local(delivery.next_attempt_at, zone),
        "last_error": delivery.last_error,
        "sent_at": iso_local(delivery.sent_at, zone),
        "last_attempt_at": iso_local(delivery.last_attempt_at, zone),
    }


def recipient_json(row: recipients.Recipient, zone: str, *, full: bool) -> dict[str, Any]:
    """A delivery with who it is for: the address whole or masked (``delivery.addresses``)."""
    return {
        **delivery_json(row.delivery, zone),
        "recipient": row.shown(full=full),
        "recipient_kind": row.kind,
    }


def message_json(session: Session, msg: OutboxMessage, zone: str) -> dict[str, Any]:
    """A message with its subject and delivery counts."""
    texts = msg.texts.get("ja") or next(iter(msg.texts.values()))
    return {
        "id": msg.id,
        "kind": msg.kind,
        "incident_id": msg.incident_id,
        "update_id": msg.update_id,
        "maintenance_id": msg.maintenance_id,
        "subject": texts.get("subject"),
        "created_at": iso_local(msg.created_at, zone),
        "counts": service.counts(session, msg.id).as_dict(zone),
    }


@router.get("/subscribers")
def list_subscribers(
    request: Request,
    session: DbSession,
    user: Senior,
    kind: str | None = None,
    status: str | None = None,
    locale: Annotated[str | None, Query(max_length=5)] = None,
    q: Annotated[
        str | None, Query(max_length=subscriber_list.QUERY_MAX, description="part of the address")
    ] = None,
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0, le=BIGINT_MAX),
) -> dict[str, Any]:
    """A page of subscribers, newest first; ``q`` finds addresses containing it."""
    rows, total = subscriber_list.list_subscribers(
        session, kind=kind, status=status, locale=locale, q=q, limit=limit, offset=offset
    )
    zone = settings_of(request).timezone
    return {"total": total, "items": [subscriber_json(s, zone) for s in rows]}


@router.post("/subscribers", status_code=201)
def create_subscriber(
    body: SubscriberIn, request: Request, session: DbSession, user: Senior
) -> dict[str, Any]:
    """Add a subscriber; a webhook's secret is returned once, here, and never again."""
    settings = settings_of(request)
    if body.kind == "webhook":
        subscriber = subscribers.add_webhook(
            session,
            settings,
            url=body.url or "",
            fmt=body.format,
            secret=body.secret,
            locale=body.locale,
            component_ids=body.components,
            actor=user.actor,
        )
        secret = subscriber.secret
    else:
        subscriber = subscribers.subscribe_email(
            session,
            settings,
            email=body.email or "",
            locale=body.locale,
            component_ids=body.components,
            confirmed=body.confirmed,
            actor=user.actor,
        )
        secret = None
    session.commit()
    return {"subscriber": subscriber_json(subscriber, settings.timezone), "secret": secret}


@router.delete("/subscribers/{subscriber_id}", status_code=204)
def delete_subscriber(
    subscriber_id: DbId, request: Request, session: DbSession, user: Senior
) -> Response:
    """Remove a subscriber and their address."""
    subscribers.delete(session, subscriber_id, actor=user.actor)
    session.commit()
    return Response(status_code=204)


async def csv_body(request: Request) -> bytes:
    """The uploaded CSV, read on the event loop up to its size limit (413 past it).

    The limit is ``ANSHIN_MAX_IMPORT_BYTES``; anshin.web.limits enforces the same
    one on this route before the body is read.
    """
    limit = settings_of(request).max_import_bytes
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise TooLarge(N_("The file is too large (at most {n} MB)."), n=limit // 2**20)
    return bytes(raw)


@router.post("/subscribers/import")
def import_subscribers(
    request: Request, session: DbSession, user: Senior, raw: Annotated[bytes, Depends(csv_body)]
) -> Response:
    """Import a CSV body (email, locale, components, status); all rows or none."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(N_("The file must be UTF-8 text.")) from None
    try:
        report = csvio.import_csv(session, text, actor=user.actor)
    except csvio.ImportFailed as exc:
        session.rollback()
        errors = [{"line": e.line, "message": message(request, e.error)} for e in exc.errors]
        payload = {
            "error": {"code": "InvalidInput", "message": message(request, exc), "details": errors}
        }
        return JSONResponse(payload, status_code=422)
    session.commit()
    return JSONResponse(
        {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}
    )


@router.get("/subscribers/export")
def export_subscribers(request: Request, session: DbSession, user: Senior) -> Response:
    """The email subscribers as CSV."""
    return StreamingResponse(
        csvio.export_csv(session),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="subscribers.csv"'},
    )


@router.get("/messages")
def list_messages(
    request: Request,
    session: DbSession,
    user: Operator,
    limit: int = Query(default=50, ge=1, le=500),
) -> dict[str, Any]:
    """Recent messages with their delivery counts."""
    zone = settings_of(request).timezone
    return {
        "items": [
            message_json(session, m, zone) for m in service.list_messages(session, limit=limit)
        ]
    }


@router.get("/messages/{message_id}/deliveries")
def message_deliveries(
    message_id: DbId,
    request: Request,
    session: DbSession,
    user: Operator,
    status: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
) -> dict[str, Any]:
    """Counts and every delivery, a page at a time (``?status=`` for one state only).

    Each item names its recipient: the address whole for supervisors and up,
    masked for others (R22); a webhook shows its host only.
    """
    wanted = recipients.check_state(status, field="status")
    zone = settings_of(request).timezone
    counts = service.counts(session, message_id).as_dict(zone)
    full = team_rules.can(user.role, "delivery.addresses")
    rows, total = recipients.of_message(
        session, message_id, status=wanted, limit=limit, offset=offset
    )
    return {
        "counts": counts,
        "total": total,
        "limit": limit,
        "offset": offset,
        "addresses": "full" if full else "masked",
        "items": [recipient_json(r, zone, full=full) for r in rows],
    }


@router.post("/deliveries/{delivery_id}/retry")
def retry_delivery(
    delivery_id: DbId, request: Request, session: DbSession, user: Operator
) -> dict[str, Any]:
    """Send a dead letter again (fresh attempts)."""
    settings = settings_of(request)
    delivery = service.retry(session, settings, delivery_id, actor=user.actor)
    session.commit()
    return delivery_json(delivery, settings.timezone)


@router.post("/messages/{message_id}/retry-dead")
def retry_message_dead(
    message_id: DbId, request: Request, session: DbSession, user: Operator
) -> dict[str, Any]:
    """Send every dead letter of a message again."""
    count = service.retry_dead(
        session, settings_of(request), message_id=message_id, actor=user.actor
    )
    session.commit()
    return {"retried": count}
