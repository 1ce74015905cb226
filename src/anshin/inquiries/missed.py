"""Missed commitments (お約束): found, marked once, alerted, shown on the dashboard (R24).

Split from ``inquiries.commitments`` (which records requests and commitments):
this is what happens when a promise's due time passes. An open commitment
past its due time is missed (``rules.commitment_state``); the periodic
:func:`sweep` (named in ``notify.tasks.SWEEP_HOOKS``) marks it with an event
and alerts the team on duty once, and the dashboard lists it until it is kept
(:func:`dashboard_panel`, named in ``incidents.dashboard_views.DASHBOARD_PANELS``).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import make_sessionmaker, utcnow
from anshin.i18n import N_, SUPPORTED_LOCALES, translate
from anshin.inquiries import rules
from anshin.inquiries.commitments import ACTOR
from anshin.inquiries.models import Commitment, Inquiry
from anshin.inquiries.service import record
from anshin.notify import rules as notify_rules
from anshin.notify import service as outbox
from anshin.notify import staff
from anshin.team import duty
from anshin.team.models import User
from anshin.timefmt import format_local

log = logging.getLogger("anshin.inquiries.commitments")


def missed(session: Session, now: dt.datetime | None = None) -> list[tuple[Commitment, Inquiry]]:
    """Every commitment open past its due time, or marked missed and not kept, oldest due first."""
    now = now or utcnow()
    stmt = (
        select(Commitment, Inquiry)
        .join(Inquiry, Inquiry.id == Commitment.inquiry_id)
        .where(
            (Commitment.state == rules.CommitmentState.MISSED)
            | ((Commitment.state == rules.CommitmentState.OPEN) & (Commitment.due_at < now))
        )
        .order_by(Commitment.due_at, Commitment.id)
    )
    return [(c, i) for c, i in session.execute(stmt).all()]


def _alert_texts(
    settings: Settings, inquiry: Inquiry, row: Commitment
) -> dict[str, outbox.MessageTexts]:
    url = f"{settings.base_url.rstrip('/')}/console/inquiries/{inquiry.reference}/handoff"
    found: dict[str, outbox.MessageTexts] = {}
    for locale in SUPPORTED_LOCALES:
        params = {
            "site": settings.site_name,
            "ref": inquiry.reference,
            "owner": row.owner_name,
            "what": row.description,
            "when": format_local(row.due_at, settings.timezone, locale),
            "url": url,
        }
        subject = translate(
            locale, N_("[{site}] {ref}: a promise to the customer was missed"), **params
        )
        lead = translate(
            locale, N_("{owner} promised “{what}” by {when}, and it is not marked kept."), **params
        )
        body = translate(
            locale,
            N_(
                "{lead}\n\nInquiry: {ref}\n\nCall or write to the customer now, then mark it "
                "kept in the console:\n{url}\n\n"
                "A staff alert from {site}; customers do not receive it."
            ),
            lead=lead,
            **params,
        )
        found[locale] = outbox.MessageTexts(subject=subject, text=body, short=f"{lead} {url}")
    return found


def mark_missed(session: Session, settings: Settings, commitment_id: int, now: dt.datetime) -> bool:
    """Mark one open commitment missed, with an event and an alert to the team on duty.

    The conditional UPDATE is the once-only guard: of several sweepers only the
    one whose update changes the row writes the event and queues the alert.
    """
    result = session.execute(
        update(Commitment)
        .where(
            Commitment.id == commitment_id,
            Commitment.state == rules.CommitmentState.OPEN,
            Commitment.due_at < now,
        )
        .values(state=rules.CommitmentState.MISSED)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        return False
    row = session.get(Commitment, commitment_id)
    assert row is not None
    session.refresh(row)
    inquiry = row.inquiry
    record(
        session,
        inquiry,
        actor=ACTOR,
        action="inquiry.commitment_missed",
        before={"commitment_id": row.id, "state": rules.CommitmentState.OPEN},
        after={
            "commitment_id": row.id,
            "state": rules.CommitmentState.MISSED,
            "owner": row.owner_name,
            "due_at": row.due_at.isoformat(),
        },
    )
    people = [(u.email, u.locale) for u in duty.on_duty(session)]
    recipients = staff.recipients(session, settings, people, now)
    if recipients:
        outbox.queue_to(
            session,
            settings,
            recipients,
            kind=notify_rules.STAFF_NUDGE,
            texts=_alert_texts(settings, inquiry, row),
            data={"reference": inquiry.reference, "commitment_id": row.id, "alert": "missed"},
            actor=ACTOR,
            now=now,
        )
    return True


@dataclass(frozen=True)
class SweepReport:
    """What one sweep marked missed."""

    marked: tuple[int, ...]


def sweep(engine: Engine, settings: Settings, now: dt.datetime | None = None) -> SweepReport:
    """Mark every open commitment past due as missed (R24), one transaction each.

    Run every minute by the sweeper (``notify.tasks.SWEEP_HOOKS``); a failure
    costs that commitment a minute, not the others.
    """
    now = now or utcnow()
    factory = make_sessionmaker(engine)
    with factory() as session:
        ids = list(
            session.scalars(
                select(Commitment.id).where(
                    Commitment.state == rules.CommitmentState.OPEN, Commitment.due_at < now
                )
            )
        )
    marked: list[int] = []
    for commitment_id in ids:
        with factory() as session:
            try:
                if mark_missed(session, settings, commitment_id, now):
                    marked.append(commitment_id)
                session.commit()
            except Exception:
                session.rollback()
                log.exception(
                    "marking commitment %s missed failed; next minute again", commitment_id
                )
    return SweepReport(marked=tuple(marked))


def dashboard_panel(
    session: Session, settings: Settings, user: User
) -> tuple[str, dict[str, Any]] | None:
    """The dashboard's missed-commitments panel (R24), or None when nothing is missed."""
    rows = missed(session, utcnow())
    if not rows:
        return None
    return "inquiries/_missed_panel.html", {"missed": rows}
