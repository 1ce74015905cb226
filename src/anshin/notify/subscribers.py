"""Subscribers: double opt-in from the public page, one-click unsubscribe, webhooks (R26).

Customers who asked for updates get them proactively (R26, fewer repeat
inquiries) and every first notice reaches them by mail (R4). An email
subscription only becomes active after the confirmation link is opened, so
nobody is mailed because someone else typed their address. Every refusal is
an AnshinError raised before anything is written. The staff's search over the
subscribers (the console's list, the API's) is ``notify.subscriber_list``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from anshin import events
from anshin.components.models import Component
from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import Conflict, InvalidInput, NotFound
from anshin.i18n import N_, translate
from anshin.inputs import BadInput, parse_id
from anshin.notify import rules, service, tokens, webhook, wire
from anshin.notify.models import Subscriber, SubscriberComponent
from anshin.notify.tokens import BadToken

ACTOR_PUBLIC = "public"


def check_components(session: Session, component_ids: Sequence[int | str]) -> list[int]:
    """Known component ids, deduplicated; an unknown id is refused (nothing is written)."""
    ids = [parse_id(c) for c in component_ids]
    if None in ids:  # "²", past 2**63-1, not a number: no component has it (anshin.inputs)
        raise InvalidInput(N_("Choose components from the list."), field="components")
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return []
    known = set(session.scalars(select(Component.id).where(Component.id.in_(wanted))))
    unknown = [str(c) for c in wanted if c not in known]
    if unknown:
        raise InvalidInput(
            N_("Unknown component: {value}."), field="components", value=", ".join(unknown)
        )
    return wanted


def set_components(subscriber: Subscriber, component_ids: list[int]) -> None:
    """Replace the chosen components, keeping rows that stay (no unique-key clash in one flush)."""
    wanted = set(component_ids)
    subscriber.components = [c for c in subscriber.components if c.component_id in wanted]
    present = {c.component_id for c in subscriber.components}
    for component_id in sorted(wanted - present):
        subscriber.components.append(SubscriberComponent(component_id=component_id))


def _record(
    session: Session, subscriber: Subscriber, action: str, actor: str, **after: object
) -> None:
    events.record(
        session,
        actor=actor,
        entity_type="notify_subscriber",
        entity_id=subscriber.id,
        action=action,
        after={"kind": subscriber.kind, "status": subscriber.status, **after},
    )


def find(session: Session, kind: str, address: str) -> Subscriber | None:
    """The subscriber with this address, if any."""
    return session.scalar(
        select(Subscriber).where(Subscriber.kind == kind, Subscriber.address == address)
    )


def get(session: Session, subscriber_id: int) -> Subscriber:
    """A subscriber by id, or 404."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise NotFound(N_("No such subscriber: {id}."), id=subscriber_id)
    return subscriber


def confirmation_texts(
    settings: Settings, locale: str, url: str
) -> dict[str, service.MessageTexts]:
    """The double opt-in mail, in the language the person chose."""
    hours = rules.CONFIRM_MAX_AGE_SECONDS // 3600
    subject = translate(
        locale, N_("[{site}] Please confirm your subscription"), site=settings.site_name
    )
    body = translate(
        locale,
        N_(
            "Thank you for subscribing to status updates from {site}.\n\n"
            "Open this link to confirm your subscription (valid for {hours} hours):\n"
            "{url}\n\n"
            "If you did not ask for this, please ignore this mail. "
            "You will not be subscribed and will receive no further mail."
        ),
        site=settings.site_name,
        hours=hours,
        url=url,
    )
    return {locale: service.MessageTexts(subject=subject, text=body)}


def send_confirmation(
    session: Session, settings: Settings, subscriber: Subscriber, now: dt.datetime
) -> None:
    """Queue the confirmation mail through the outbox (same retries and guarantees)."""
    token = tokens.confirm_token(settings, subscriber.id, subscriber.address)
    url = f"{settings.base_url.rstrip('/')}/subscribe/confirm/{token}"
    service.queue_single(
        session,
        settings,
        subscriber,
        kind="confirmation",
        texts=confirmation_texts(settings, subscriber.locale, url),
        actor=ACTOR_PUBLIC,
        now=now,
    )
    subscriber.confirmation_sent_at = now


def subscribe_email(
    session: Session,
    settings: Settings,
    *,
    email: str,
    locale: str = "ja",
    component_ids: Sequence[int | str] = (),
    confirmed: bool = False,
    actor: str = ACTOR_PUBLIC,
    now: dt.datetime | None = None,
) -> Subscriber:
    """Start an email subscription: ``pending`` plus a confirmation mail (double opt-in).

    ``confirmed=True`` is for staff who already hold the person's consent.
    From the public form (``actor`` public) the answer never tells whether the
    address is known (R26, no address probing): a confirmed address changes
    nothing and gets nothing; a pending one gets its confirmation mail again
    with a fresh link (the per-client limit of ``notify.ratelimit`` bounds how
    often). Staff adding an address already subscribed or waiting for a
    confirmation that has not expired get 409 and nothing changes.
    """
    now = now or utcnow()
    address = rules.normalise_email(email)
    locale = rules.check_locale(locale)
    chosen = check_components(session, component_ids)
    public = actor == ACTOR_PUBLIC
    subscriber = find(session, "email", address)
    again = subscriber is not None and subscriber.status == "pending"
    if subscriber is not None:
        if subscriber.status == "active":
            if public and not confirmed:
                return subscriber
            raise Conflict(N_("This address is already subscribed."), field="email")
        sent = subscriber.confirmation_sent_at
        fresh = sent is not None and (now - sent).total_seconds() < rules.CONFIRM_MAX_AGE_SECONDS
        if subscriber.status == "pending" and fresh and not confirmed and not public:
            raise Conflict(
                N_(
                    "A confirmation mail was already sent to this address. "
                    "Open the link in it to finish subscribing."
                ),
                field="email",
            )
    else:
        subscriber = Subscriber(kind="email", address=address, source="public", created_at=now)
        try:
            with session.begin_nested():
                session.add(subscriber)
                session.flush()
        except IntegrityError:  # the same address, subscribed at the same instant
            if public:
                existing = find(session, "email", address)
                if existing is not None:
                    return existing
            raise Conflict(N_("This address is already subscribed."), field="email") from None
    subscriber.locale = locale
    subscriber.source = "public" if actor == ACTOR_PUBLIC else "staff"
    subscriber.unsubscribed_at = None
    set_components(subscriber, chosen)
    if confirmed:
        subscriber.status = "active"
        subscriber.confirmed_at = now
    else:
        subscriber.status = "pending"
        session.flush()
        send_confirmation(session, settings, subscriber, now)
    session.flush()
    action = (
        "notify.subscriber.confirmation_resent"
        if again and public
        else "notify.subscriber.subscribed"
    )
    _record(session, subscriber, action, actor, components=chosen)
    return subscriber


def confirm(
    session: Session, settings: Settings, token: str, now: dt.datetime | None = None
) -> Subscriber:
    """Open the confirmation link: ``pending`` becomes ``active`` (opening it twice is fine)."""
    now = now or utcnow()
    subscriber_id, tag = tokens.read_confirm_token(settings, token)
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or wire.address_tag(subscriber.address) != tag:
        raise BadToken(N_("This link is not valid. Check that it was copied completely."))
    if subscriber.status == "unsubscribed":
        raise Conflict(N_("This subscription was cancelled. Please subscribe again."))
    if subscriber.status == "pending":
        subscriber.status = "active"
        subscriber.confirmed_at = now
        session.flush()
        _record(session, subscriber, "notify.subscriber.confirmed", ACTOR_PUBLIC)
    return subscriber


def for_unsubscribe_token(session: Session, settings: Settings, token: str) -> Subscriber:
    """The subscriber an unsubscribe link names, or BadToken (tampered, or no longer exists)."""
    subscriber_id, tag = tokens.read_unsubscribe_token(settings, token)
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or wire.address_tag(subscriber.address) != tag:
        raise BadToken(N_("This link is not valid. Check that it was copied completely."))
    return subscriber


def unsubscribe(
    session: Session,
    settings: Settings,
    token: str,
    *,
    actor: str = ACTOR_PUBLIC,
    now: dt.datetime | None = None,
) -> Subscriber:
    """One-click unsubscribe (RFC 8058): no session, no CSRF; the signed token is the proof."""
    subscriber = for_unsubscribe_token(session, settings, token)
    if subscriber.status != "unsubscribed":
        subscriber.status = "unsubscribed"
        subscriber.unsubscribed_at = now or utcnow()
        session.flush()
        _record(session, subscriber, "notify.subscriber.unsubscribed", actor)
    return subscriber


# How long adding a webhook waits for its host's name to resolve.
RESOLVE_SECONDS = 5.0


def check_webhook_target(settings: Settings, url: str) -> str:
    """A webhook URL whose host resolves to no address a webhook may not reach (SSRF guard).

    Loopback, private, link-local and other non-public addresses are refused
    unless ``ANSHIN_WEBHOOK_ALLOWED_NETWORKS`` allows them; the same check is
    made again at every send on the address connected to (DNS rebinding).
    """
    address = rules.check_webhook_url(url)
    blocked = webhook.blocked_addresses(address, settings.webhook_networks(), RESOLVE_SECONDS)
    if blocked:
        raise BadInput(  # the URL or the allowed networks must change (HTTP 422, CLI exit 2)
            N_(
                "The webhook URL leads to an address inside a private or local network "
                "({address}). Use a public address, or ask an administrator to allow "
                "that network (ANSHIN_WEBHOOK_ALLOWED_NETWORKS)."
            ),
            field="url",
            address=", ".join(blocked[:3]),
        )
    return address


def add_webhook(
    session: Session,
    settings: Settings,
    *,
    url: str,
    fmt: str = "anshin",
    secret: str | None = None,
    locale: str = "ja",
    component_ids: Sequence[int | str] = (),
    actor: str,
    now: dt.datetime | None = None,
) -> Subscriber:
    """A webhook subscriber, active at once; a secret is generated unless one is given."""
    now = now or utcnow()
    address = check_webhook_target(settings, url)
    fmt = rules.check_webhook_format(fmt)
    locale = rules.check_locale(locale)
    chosen = check_components(session, component_ids)
    secret = (secret or "").strip() or secrets.token_urlsafe(32)
    if len(secret) < 16 or len(secret) > 200:
        raise InvalidInput(N_("The secret must be 16 to 200 characters."), field="secret")
    if find(session, "webhook", address) is not None:
        raise Conflict(N_("This webhook URL is already registered."), field="url")
    subscriber = Subscriber(
        kind="webhook",
        address=address,
        locale=locale,
        status="active",
        webhook_format=fmt,
        secret=secret,
        source="staff",
        created_at=now,
        confirmed_at=now,
    )
    set_components(subscriber, chosen)
    try:
        with session.begin_nested():
            session.add(subscriber)
            session.flush()
    except IntegrityError:
        raise Conflict(N_("This webhook URL is already registered."), field="url") from None
    _record(session, subscriber, "notify.subscriber.webhook_added", actor, format=fmt)
    return subscriber


# A second click within this long sends nothing more (the mail is already on its way).
RESEND_AFTER_SECONDS = 60


def resend_confirmation(
    session: Session,
    settings: Settings,
    subscriber_id: int,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> Subscriber:
    """Send a pending subscription's confirmation mail again, with a fresh link (R26).

    The same mail the public form sends, through the outbox; only an email
    subscription still waiting for its confirmation gets it.
    """
    now = now or utcnow()
    subscriber = get(session, subscriber_id)
    if subscriber.kind != "email" or subscriber.status != "pending":
        raise Conflict(
            N_("Only a subscription waiting for its confirmation can get the mail again.")
        )
    sent = subscriber.confirmation_sent_at
    if sent is not None and (now - sent).total_seconds() < RESEND_AFTER_SECONDS:
        raise Conflict(N_("The confirmation mail was sent less than a minute ago."))
    send_confirmation(session, settings, subscriber, now)
    session.flush()
    _record(session, subscriber, "notify.subscriber.confirmation_resent", actor)
    return subscriber


def delete(session: Session, subscriber_id: int, *, actor: str) -> None:
    """Remove a subscriber and its address; past deliveries stay (without the address)."""
    subscriber = get(session, subscriber_id)
    _record(session, subscriber, "notify.subscriber.deleted", actor)
    session.delete(subscriber)
    session.flush()
