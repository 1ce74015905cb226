"""An incident world for the publish tests: components, subscribers who should and should not hear.

Shared by ``test_incidents_notices.py`` (the message check on publish) and
``test_incidents_notices_delivery.py`` (what the subscribers get).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anshin import events
from anshin.config import Settings
from anshin.events import Event
from anshin.incidents import components, service
from anshin.incidents.models import Component, Incident
from anshin.notify import subscribers
from anshin.notify.models import Delivery, OutboxMessage, Subscriber

ACTOR = "user:lead"


@dataclass
class World:
    """An open incident on the sign-in component and who hears about it."""

    incident: Incident
    login: Component
    payments: Component
    ja: Subscriber  # chose the sign-in component
    en: Subscriber  # chose nothing: hears about everything
    hook: Subscriber  # a webhook for the sign-in component
    payments_only: Subscriber  # chose payments only: not told about sign-in


def build(session: Session, settings: Settings, hook_url: str) -> World:
    """Components, three subscribers who should hear about sign-in and one who should not."""
    login = components.add_component(session, "ログイン", name_en="Sign-in", actor=ACTOR)
    payments = components.add_component(session, "決済", name_en="Payments", actor=ACTOR)
    ja = subscribers.subscribe_email(
        session,
        settings,
        email="ja@example.com",
        locale="ja",
        component_ids=[login.id],
        confirmed=True,
        actor=ACTOR,
    )
    en = subscribers.subscribe_email(
        session, settings, email="en@example.com", locale="en", confirmed=True, actor=ACTOR
    )
    local = settings.model_copy(update={"webhook_allowed_networks": ["127.0.0.1/32"]})
    hook = subscribers.add_webhook(  # the receivers of the tests listen on 127.0.0.1
        session, local, url=hook_url, component_ids=[login.id], actor=ACTOR
    )
    payments_only = subscribers.subscribe_email(
        session,
        settings,
        email="payments@example.com",
        component_ids=[payments.id],
        confirmed=True,
        actor=ACTOR,
    )
    incident = service.declare(
        session,
        settings,
        service.IncidentInput(
            title="ログインできない障害",
            title_en="Sign-in failures",
            severity="sev2",
            components=["ログイン"],
        ),
        actor=ACTOR,
    )
    session.commit()
    return World(incident, login, payments, ja, en, hook, payments_only)


def count(session: Session, model: type) -> int:
    """Rows of a table, as the session sees them (flushing what is pending)."""
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def recipients(session: Session, message: OutboxMessage) -> set[int | None]:
    """The subscribers a message was queued for."""
    return set(
        session.scalars(select(Delivery.subscriber_id).where(Delivery.message_id == message.id))
    )


def overrides(session: Session, incident: Incident) -> list[Event]:
    """The message-check overrides recorded on the incident, oldest first."""
    return [
        e
        for e in events.history(session, "incident", incident.id)
        if e.action == "message.check_overridden"
    ]
