"""Sharing an inquiry with the departments it concerns (R21: technical faults to development).

The departments the routing suggests (``rules.suggest_departments`` over the
active departments' data: the inquiry's intent, the linked incident's
components, the customer's tier) are pre-selected; the agent adds or removes,
writes a note, and each chosen department gets one internal message through
the outbox (a ``staff_nudge``: staff rows only, never a customer, no
unsubscribe footer) at its mail address and its webhook if it has one, in the
department's language: the reference and console link, the note, the
customer's own words, the triage, the linked incident, and the handoff sheet
when the inquiry was escalated. The inquiry's history records who shared with
whom (``inquiry.shared_with_departments``) and a note keeps it in the
conversation, all in the caller's transaction.

Refusals come before anything is written: no department chosen, an unknown or
disabled one, an empty note.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import InvalidInput, NotFound
from anshin.i18n import N_, translate
from anshin.incidents.models import Incident
from anshin.inquiries import departments, handoff, rules, service
from anshin.inquiries.models import Department, Inquiry, InquiryMessage
from anshin.notify import rules as notify_rules
from anshin.notify import service as outbox
from anshin.notify import staff
from anshin.notify.models import Subscriber
from anshin.notify.rules import SubscriberKind, SubscriberStatus
from anshin.web.templating import render

# ``source`` of the outbox rows a department's address or webhook is reached at.
SOURCE = "department"
SHARE_KIND = "department_share"  # the kind of the note kept in the conversation
ACTION = "inquiry.shared_with_departments"


@dataclass(frozen=True)
class Sent:
    """One department reached: which, at what address, by which outbox message."""

    key: str
    name: str  # Japanese
    name_en: str
    email: str
    webhook: bool
    message_id: int


def incident_of(session: Session, inquiry: Inquiry) -> Incident | None:
    """The inquiry's linked incident, if any."""
    return session.get(Incident, inquiry.incident_id) if inquiry.incident_id else None


def suggested(session: Session, inquiry: Inquiry) -> list[str]:
    """The keys of the active departments this inquiry concerns, by their routing (R21)."""
    incident = incident_of(session, inquiry)
    components = (
        frozenset(link.component_id for link in incident.components) if incident else frozenset()
    )
    return rules.suggest_departments(
        departments.routes(session),
        intent=inquiry.intent,
        component_ids=components,
        tier=inquiry.customer_tier,
    )


def chosen(session: Session, keys: list[str]) -> list[Department]:
    """The departments named by ``keys``, each once, in the order given; refused when
    none is named, or one is unknown or disabled (nothing is sent to any then)."""
    wanted: list[str] = []
    for key in keys:
        key = (key or "").strip().lower()
        if key and key not in wanted:
            wanted.append(key)
    if not wanted:
        raise InvalidInput(N_("Choose at least one department."), field="departments")
    found: list[Department] = []
    for key in wanted:
        try:
            row = departments.get(session, key)
        except NotFound:  # an unknown key is the caller's input: a 4xx naming it
            raise InvalidInput(
                N_("No such department: {key}."), field="departments", key=key
            ) from None
        if not row.active:
            raise InvalidInput(
                N_("The department {name_en} is disabled; choose another one."),
                field="departments",
                name=row.name_ja,
                name_en=row.name_en,
            )
        found.append(row)
    return found


def _title(incident: Incident, locale: str) -> str:
    return incident.title_en if locale == "en" and incident.title_en else incident.title


def _handoff_text(
    session: Session, settings: Settings, inquiry: Inquiry, locale: str, now: dt.datetime
) -> str | None:
    """The handoff sheet in the department's language, when the inquiry was escalated (R24)."""
    if not any(m.kind == "handoff_sheet" for m in inquiry.messages):
        return None
    return handoff.text(session, settings, inquiry, locale=locale, now=now)


def texts(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    department: Department,
    *,
    note: str,
    actor: str,
    now: dt.datetime,
) -> dict[str, outbox.MessageTexts]:
    """The internal message to one department, in its own language only."""
    locale = department.locale
    incident = incident_of(session, inquiry)
    url = f"{settings.base_url.rstrip('/')}/console/inquiries/{inquiry.reference}"
    subject = translate(
        locale,
        N_("[{site}] {ref}: an inquiry shared with {department}"),
        site=settings.site_name,
        ref=inquiry.reference,
        department=department.name(locale),
    )
    body = render(
        "inquiries/share.txt",
        {
            "locale": locale,
            "zone": settings.timezone,
            "site": settings.site_name,
            "inquiry": inquiry,
            "department": department.name(locale),
            "note": note,
            "actor": actor,
            "url": url,
            "words": [m for m in inquiry.messages if m.direction == "in"],
            "incident": incident,
            "incident_title": _title(incident, locale) if incident else None,
            "incident_status": (
                translate(locale, handoff.STATUS_LABELS.get(incident.status, incident.status))
                if incident
                else None
            ),
            "temperature": translate(
                locale, handoff.TEMPERATURE_LABELS.get(inquiry.temperature, "-")
            ),
            "handoff": _handoff_text(session, settings, inquiry, locale, now),
            "now": now,
        },
    )
    short = f"{subject}\n{note}\n{url}"
    return {locale: outbox.MessageTexts(subject=subject, text=body.rstrip() + "\n", short=short)}


def _rows(
    session: Session, settings: Settings, department: Department, now: dt.datetime
) -> list[Subscriber]:
    """The outbox rows that reach a department: its mail address, and its webhook if set."""
    rows = [
        staff.direct_row(
            session,
            kind=SubscriberKind.EMAIL,
            address=department.email,
            locale=department.locale,
            webhook_format=None,
            status=SubscriberStatus.STAFF,
            source=SOURCE,
            now=now,
        )
    ]
    if department.webhook_url:
        rows.append(
            staff.direct_row(
                session,
                kind=SubscriberKind.WEBHOOK,
                address=department.webhook_url,
                locale=department.locale,
                webhook_format=settings.staff_webhook_format,
                status=SubscriberStatus.STAFF,
                source=SOURCE,
                now=now,
            )
        )
    return list({row.id: row for row in rows}.values())


def share(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    keys: list[str],
    note: str | None,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> list[Sent]:
    """Send the inquiry to each chosen department through the outbox and record it (R20, R21).

    One outbox message per department, in the caller's transaction: either every
    department is queued and the history says so, or (a refusal) nothing is.
    """
    now = now or utcnow()
    text = rules.check_share_note(note)
    targets = chosen(session, keys)
    sent: list[Sent] = []
    for department in targets:
        message = outbox.queue_to(
            session,
            settings,
            _rows(session, settings, department, now),
            kind=notify_rules.STAFF_NUDGE,
            texts=texts(session, settings, inquiry, department, note=text, actor=actor, now=now),
            data={"reference": inquiry.reference, "department": department.key, "alert": "share"},
            actor=actor,
            now=now,
        )
        sent.append(
            Sent(
                key=department.key,
                name=department.name_ja,
                name_en=department.name_en,
                email=department.email,
                webhook=bool(department.webhook_url),
                message_id=message.id,
            )
        )
    names = "、".join(s.name for s in sent)
    inquiry.messages.append(
        InquiryMessage(
            direction="note",
            channel=inquiry.channel,
            kind=SHARE_KIND,
            body=f"{names}\n{text}",
            author=actor,
            at=now,
            data={"departments": [s.key for s in sent]},
        )
    )
    inquiry.updated_at = now
    session.flush()
    service.record(
        session,
        inquiry,
        actor=actor,
        action=ACTION,
        after={
            "departments": [s.key for s in sent],
            "names": [s.name for s in sent],
            "names_en": [s.name_en for s in sent],
            "addresses": [s.email for s in sent],
            "note": text,
            "suggested": suggested(session, inquiry),
            "outbox_message_ids": [s.message_id for s in sent],
        },
    )
    return sent


def on_move(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    target: str,
    keys: list[str],
    note: str | None,
    *,
    actor: str,
) -> list[Sent]:
    """After a stage move: moving to 社内共有 with departments named shares it with them too
    (R19, R21), with the note for the team; any other move, or none named, sends nothing."""
    if target != rules.Stage.SHARED or not [k for k in keys if k.strip()]:
        return []
    return share(session, settings, inquiry, keys, note, actor=actor)
