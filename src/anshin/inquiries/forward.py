"""A published incident update reaches everyone who asked about the incident (R26).

``incidents.notices.send_update`` calls :func:`update_published` by name
(``UPDATE_LISTENERS``: incidents must not import inquiries) in the same
transaction as the update, so the update and its forwards commit together.

Who gets it: every OPEN inquiry linked to the incident whose customer asked to
be kept informed, in the inquiry's language, through the outbox (kind
``inquiry_update``): the update's text as published — it passed the message
check when it was published — under one line naming their inquiry reference.

Told once: a customer whose mail address holds an active status-page
subscription covering the incident's components already got the update from
the fan-out; the forward is skipped and the skip recorded in the inquiry's
history. A phone-only customer (no mail address) cannot be written to: the
skip is recorded too, so the agent knows to call.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.i18n import N_, translate
from anshin.incidents.models import Incident, IncidentUpdate
from anshin.inquiries.models import Inquiry
from anshin.inquiries.outgoing import route, send_out
from anshin.inquiries.service import record
from anshin.notify import rules as notify_rules
from anshin.notify import subscribers
from anshin.notify.rules import SubscriberStatus


def waiting(session: Session, incident: Incident) -> list[Inquiry]:
    """The open inquiries on the incident whose customers asked to be kept informed."""
    return list(
        session.scalars(
            select(Inquiry)
            .where(
                Inquiry.incident_id == incident.id,
                Inquiry.closed_at.is_(None),
                Inquiry.keep_informed.is_(True),
            )
            .order_by(Inquiry.id)
        )
    )


def subscribed(session: Session, incident: Incident, address: str | None) -> bool:
    """True when the address's active subscription already covers the incident (told once)."""
    if not address:
        return False
    row = subscribers.find(session, notify_rules.SubscriberKind.EMAIL, address.strip().lower())
    if row is None or row.status != SubscriberStatus.ACTIVE:
        return False
    chosen = set(row.component_ids)
    return not chosen or bool(chosen & {ic.component_id for ic in incident.components})


def forward_text(inquiry: Inquiry, update: IncidentUpdate) -> str:
    """The update as published, under a line naming the customer's inquiry."""
    line = translate(
        inquiry.locale,
        N_("About your inquiry {reference}: the status was updated."),
        reference=inquiry.reference,
    )
    return f"{line}\n\n{update.body(inquiry.locale)}"


def forward_subject(inquiry: Inquiry, incident: Incident) -> str:
    """The subject: the incident's title in their language, and their reference."""
    title = incident.title_en if inquiry.locale == "en" and incident.title_en else incident.title
    label = translate(inquiry.locale, N_("Status update"))
    return f"{label}: {title} [{inquiry.reference}]"[:300]


def update_published(
    session: Session,
    settings: Settings,
    incident: Incident,
    update: IncidentUpdate,
    *,
    actor: str,
    now: dt.datetime,
) -> int:
    """Forward a public update to each waiting inquirer; returns how many were queued (R26)."""
    sent = 0
    for inquiry in waiting(session, incident):
        reason = None
        if subscribed(session, incident, inquiry.customer_email):
            reason = "subscribed"
        elif route(settings, inquiry, written=True) == "none":
            reason = "no_address"
        if reason is not None:
            record(
                session,
                inquiry,
                actor=actor,
                action="inquiry.update_not_forwarded",
                after={"update_id": update.id, "reason": reason},
            )
            continue
        send_out(
            session,
            settings,
            inquiry,
            kind=notify_rules.INQUIRY_UPDATE,
            outbox_kind=notify_rules.INQUIRY_UPDATE,
            subject=forward_subject(inquiry, incident),
            text=forward_text(inquiry, update),
            actor=actor,
            now=now,
            data={"update_id": update.id},
            payload={"incident_reference": incident.reference, "update_id": update.id},
            action="inquiry.update_forwarded",
            extra={"update_id": update.id},
            written=True,
        )
        sent += 1
    return sent
