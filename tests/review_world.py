"""A hand-built incident for the review's gap analysis and page (tests/test_review_*.py).

Updates and record edits are written as incidents.service writes them (the
update row, its publication event, the record snapshot in ``incident.edited``)
but at chosen Tokyo clock times, so the gaps can be worked out by hand.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin import events
from anshin.config import Settings
from anshin.events import Event
from anshin.incidents.models import Incident, IncidentUpdate
from anshin.incidents.record import snapshot
from inquiry_world import incident, inquiry

T0 = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)  # 10:00 in Tokyo


def at(hhmm: str) -> dt.datetime:
    """A Tokyo clock time on the incident's day, as UTC."""
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return T0 + dt.timedelta(hours=hours - 10, minutes=minutes)


def publish(
    session: Session, on: Incident, when: str, kind: str = "update", status: str = "investigating"
) -> IncidentUpdate:
    """A public update with its publication event, as incidents.service writes them."""
    update = IncidentUpdate(
        incident_id=on.id,
        kind=kind,
        status=status,
        body_ja="ログインできない障害が発生しています。",
        audience="public",
        published_at=at(when),
        author="test",
    )
    session.add(update)
    session.flush()
    action = "incident.resolved" if kind == "resolution" else f"incident.{kind}"
    after = snapshot(on) if kind == "resolution" else {"update_id": update.id}
    event = events.record(
        session, actor="test", entity_type="incident", entity_id=on.id, action=action, after=after
    )
    event.at = at(when)
    session.flush()
    return update


def edit(session: Session, on: Incident, when: str, **facts: object) -> Event:
    for name, value in facts.items():
        setattr(on, name, value)
    event = events.record(
        session,
        actor="test",
        entity_type="incident",
        entity_id=on.id,
        action="incident.edited",
        after=snapshot(on),
    )
    event.at = at(when)
    session.flush()
    return event


def world(session: Session, settings: Settings) -> tuple[Incident, dict[str, IncidentUpdate]]:
    """The incident of the worked example (Tokyo times):

    10:05 first notice (nothing known) · 11:20 record: recovery 12:00, workaround
    (its event stamped 11:26, after the update, yet written before it) · 11:25 update ·
    12:20 record: cause confirmed, resolution.
    """
    on = incident(session, settings)
    on.started_at = on.detected_at = on.declared_at = at("10:00")
    for declared in session.scalars(
        select(Event).where(Event.entity_type == "incident", Event.entity_id == on.id)
    ):
        declared.at = at("10:00")
    ups = {"first": publish(session, on, "10:05", kind="first_notice")}
    edit(session, on, "11:26", estimated_recovery_at=at("12:00"), workaround="アプリから利用可")
    ups["second"] = publish(session, on, "11:25")
    edit(session, on, "12:20", cause="設定の誤り", cause_confirmed=True)
    ups["resolution"] = publish(session, on, "12:20", kind="resolution", status="resolved")
    for when, intent in (
        ("10:02", "status_inquiry"),
        ("10:10", "status_inquiry"),
        ("10:15", "workaround_request"),
        ("10:40", "status_inquiry"),
        ("10:50", "complaint"),
        ("11:10", "status_inquiry"),
        ("11:40", "status_inquiry"),
        ("11:45", "workaround_request"),
        ("11:50", "technical_question"),
        ("12:10", "status_inquiry"),
        ("12:25", "technical_question"),
        ("12:26", "status_inquiry"),
    ):
        email = f"c{when.replace(':', '')}@example.com"
        inquiry(session, settings, on, intent=intent, email=email, now=at(when))
    on.status, on.resolved_at = "resolved", at("12:20")
    session.commit()
    return on, ups
