"""Important customers hit by an incident, each with a next-day follow-up task (R9).

R9: after the recovery, the customers who matter most to the business get a
personal follow-up the next day, not only the broadcast. The list is the
incident's inquiries from customers of tier ``important``; each gets the
``key_client_followup`` template drafted for them (their organisation or
name, their language) and a task stored as the inquiry's next step
(:func:`anshin.inquiries.commitments.set_next_action`), which the handoff
sheet and the desk already carry with its deadline. No new table: the draft
is re-rendered from the template and the record whenever it is shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.comms.kinds import MessageKind
from anshin.config import Settings
from anshin.i18n import N_, translate
from anshin.incidents import messages as composer
from anshin.incidents.models import Incident
from anshin.inquiries import commitments
from anshin.inquiries.models import Inquiry
from anshin.inquiries.rules import Tier

FOLLOWUP_HOUR = 10  # the next morning, in the team's zone


@dataclass(frozen=True)
class Followup:
    """One important customer, the drafted follow-up, and the task as stored (if saved)."""

    inquiry: str
    customer: str
    email: str | None
    phone: str | None
    locale: str
    subject: str | None
    draft: str
    task: str
    due_at: dt.datetime
    saved: bool


def due_at(now: dt.datetime, zone: str) -> dt.datetime:
    """The next day at 10:00 in the team's zone, as UTC (R9: the day after)."""
    local = now.astimezone(ZoneInfo(zone))
    next_day = (local + dt.timedelta(days=1)).replace(
        hour=FOLLOWUP_HOUR, minute=0, second=0, microsecond=0
    )
    return next_day.astimezone(dt.UTC)


def task_text(incident: Incident, locale: str = "ja") -> str:
    """The next step stored on the inquiry; the same text each time, so saving twice is once."""
    return translate(
        locale,
        N_(
            "Next-day follow-up after {ref}: contact the customer with the key client "
            "follow-up (key_client_followup)."
        ),
        ref=incident.reference,
    )


def _important(session: Session, incident: Incident) -> list[Inquiry]:
    return list(
        session.scalars(
            select(Inquiry)
            .where(Inquiry.incident_id == incident.id, Inquiry.customer_tier == Tier.IMPORTANT)
            .order_by(Inquiry.received_at, Inquiry.id)
        )
    )


def _one(
    session: Session,
    settings: Settings,
    incident: Incident,
    inquiry: Inquiry,
    now: dt.datetime,
) -> Followup:
    customer = inquiry.customer_org or inquiry.customer_name or ""
    locale = inquiry.locale if inquiry.locale in ("ja", "en") else "ja"
    mail = composer.compose(
        session,
        settings,
        incident,
        MessageKind.KEY_CLIENT_FOLLOWUP,
        locale,
        "email",
        now,
        options={"customer_name": customer},
    )
    task = task_text(incident)
    saved = inquiry.next_action == task
    return Followup(
        inquiry=inquiry.reference,
        customer=customer,
        email=inquiry.customer_email,
        phone=inquiry.customer_phone,
        locale=locale,
        subject=mail.subject,
        draft=mail.text,
        task=task,
        due_at=inquiry.next_action_due_at if saved and inquiry.next_action_due_at else now,
        saved=saved,
    )


def for_incident(
    session: Session, settings: Settings, incident: Incident, now: dt.datetime
) -> list[Followup]:
    """The important customers who asked about the incident, with their drafted follow-up."""
    due = due_at(now, settings.timezone)
    out = []
    for inquiry in _important(session, incident):
        found = _one(session, settings, incident, inquiry, now)
        out.append(found if found.saved else _with_due(found, due))
    return out


def _with_due(found: Followup, due: dt.datetime) -> Followup:
    return Followup(**{**found.__dict__, "due_at": due})


def save(
    session: Session, settings: Settings, incident: Incident, *, actor: str, now: dt.datetime
) -> list[Followup]:
    """Store each follow-up as the inquiry's next step, due the next morning (R9).

    An inquiry that already carries this task keeps it (and its deadline):
    saving twice is saving once. The caller commits.
    """
    due = due_at(now, settings.timezone)
    task = task_text(incident)
    for inquiry in _important(session, incident):
        if inquiry.next_action != task:
            commitments.set_next_action(session, inquiry, task, due, actor=actor, now=now)
    return for_incident(session, settings, incident, now)
