"""Staff nudges: tell the on-duty team when the next message an incident owes is near or late.

R4 (the first notice within 15 minutes) and R5 (updates by the promised time)
are promises to customers. The console's countdown shows them to whoever is
looking; a nudge reaches the team when nobody is: ``ANSHIN_NUDGE_BEFORE_MINUTES``
(default 5) before the due time, and once more after it has passed. It goes by
mail to every on-duty team member (``users.on_duty``) in their own language and
to the staff webhook (``ANSHIN_STAFF_WEBHOOK_URL``, Slack or Teams), through the
outbox as a ``staff_nudge`` that never reaches a customer (``notify.staff``).

Each nudge is sent once per incident, kind and due time however many processes
run the sweeper: its :class:`IncidentNudge` row has a unique key and is written
in the same transaction as the outbox message, so the process that loses the
race writes nothing. The periodic sweeper (``notify.tasks``) calls :func:`sweep`
every minute, in ``anshin serve``'s embedded queue and in every ``anshin worker``.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import make_sessionmaker, utcnow
from anshin.i18n import N_, SUPPORTED_LOCALES, translate
from anshin.incidents import cadence, rules
from anshin.incidents.models import Incident, IncidentNudge
from anshin.notify import rules as notify_rules
from anshin.notify import service as outbox
from anshin.notify import staff
from anshin.team import duty
from anshin.timefmt import format_local

log = logging.getLogger("anshin.incidents.nudges")
ACTOR = "system:nudges"


@dataclass(frozen=True)
class Sent:
    """One nudge this sweep sent."""

    reference: str
    kind: str
    due_at: dt.datetime
    recipients: int


def console_url(settings: Settings, incident: Incident) -> str:
    """The incident's page in the console, where the owed message is published."""
    return f"{settings.base_url.rstrip('/')}/console/incidents/{incident.reference}"


def texts(
    settings: Settings, incident: Incident, due: rules.Due, kind: str, now: dt.datetime
) -> dict[str, outbox.MessageTexts]:
    """The nudge in every language: the title, what is owed, the due time in the team's zone."""
    minutes = max(1, math.ceil(abs((due.due_at - now).total_seconds()) / 60))
    url = console_url(settings, incident)
    found: dict[str, outbox.MessageTexts] = {}
    for locale in SUPPORTED_LOCALES:
        owed = translate(
            locale, N_("first notice") if due.kind == "first_notice" else N_("next update")
        )
        params = {
            "site": settings.site_name,
            "ref": incident.reference,
            "owed": owed,
            "minutes": minutes,
            "when": format_local(due.due_at, settings.timezone, locale),
            "title": incident.title_en if locale == "en" and incident.title_en else incident.title,
            "url": url,
        }
        if kind == rules.NudgeKind.OVERDUE:
            subject = translate(
                locale, N_("[{site}] {ref}: the {owed} is {minutes} min overdue"), **params
            )
            lead = translate(
                locale,
                N_("The {owed} of this incident was due at {when} and is {minutes} min overdue."),
                **params,
            )
        else:
            subject = translate(
                locale, N_("[{site}] {ref}: the {owed} is due in {minutes} min"), **params
            )
            lead = translate(
                locale,
                N_("The {owed} of this incident is due at {when}, in {minutes} min."),
                **params,
            )
        body = translate(
            locale,
            N_(
                "{lead}\n\n"
                "Incident: {title} ({ref})\n"
                "Owed: the {owed}\n"
                "Due: {when}\n\n"
                "Publish it from the console:\n{url}\n\n"
                "A staff nudge from {site} to the team on duty; customers do not receive it."
            ),
            lead=lead,
            **params,
        )
        found[locale] = outbox.MessageTexts(subject=subject, text=body, short=f"{lead} {url}")
    return found


def _nudge_one(
    session: Session,
    settings: Settings,
    incident: Incident,
    due: rules.Due,
    kind: str,
    now: dt.datetime,
) -> Sent | None:
    """Send one nudge unless another process already has; the caller commits."""
    people = [(u.email, u.locale) for u in duty.on_duty(session)]
    if not people and not settings.staff_webhook_url:
        return None  # nobody to tell: look again next minute (someone may come on duty)
    row = IncidentNudge(incident_id=incident.id, kind=kind, due_at=due.due_at, sent_at=now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return None  # sent already, by this process earlier or by another one
    recipients = staff.recipients(session, settings, people, now)
    message = outbox.queue_to(
        session,
        settings,
        recipients,
        kind=notify_rules.STAFF_NUDGE,
        texts=texts(settings, incident, due, kind, now),
        data={
            "url": console_url(settings, incident),
            "reference": incident.reference,
            "nudge": kind,
            "owed": due.kind,
            "due_at": due.due_at.isoformat(),
        },
        incident_id=incident.id,
        actor=ACTOR,
        now=now,
    )
    row.message_id = message.id
    row.recipients = len(recipients)
    session.flush()
    return Sent(incident.reference, kind, due.due_at, len(recipients))


def sweep(engine: Engine, settings: Settings, now: dt.datetime | None = None) -> list[Sent]:
    """Nudge the team about every open incident whose next message is due soon or overdue.

    One transaction per nudge, so one failure (a database error) costs that
    nudge a minute's delay, not the others.
    """
    now = now or utcnow()
    factory = make_sessionmaker(engine)
    with factory() as session:
        pending: list[tuple[int, rules.Due, str]] = []
        for found in session.scalars(
            select(Incident).where(Incident.status.in_(rules.OPEN_STATUSES))
        ):
            due = cadence.due(settings, found, now)
            nudge = rules.nudge_for(due, settings.nudge_before_minutes)
            if due is not None and nudge is not None:
                pending.append((found.id, due, nudge))
    sent: list[Sent] = []
    for incident_id, due, kind in pending:
        with factory() as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                continue
            try:
                done = _nudge_one(session, settings, incident, due, kind, now)
                session.commit()
            except Exception:
                session.rollback()
                log.exception("staff nudge for incident %s failed; next minute again", incident_id)
                continue
            if done is not None:
                sent.append(done)
    return sent


def recent(session: Session, limit: int = 20) -> list[tuple[IncidentNudge, Incident]]:
    """The latest nudges with their incidents, newest first (the on-duty page)."""
    stmt = (
        select(IncidentNudge, Incident)
        .join(Incident, Incident.id == IncidentNudge.incident_id)
        .order_by(IncidentNudge.sent_at.desc(), IncidentNudge.id.desc())
        .limit(limit)
    )
    return [(nudge, incident) for nudge, incident in session.execute(stmt).all()]
