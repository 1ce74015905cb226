"""The inquiries' panels on console pages of incidents: the dashboard and an incident's record.

The dashboard (R28) shows waiting counts and the oldest wait per level; an
incident's record (R26) shows the inquiries linked to it, with the way to the
queue filtered by it and, for leads, to one reply to everyone who asked.

Named in ``incidents.dashboard_views.DASHBOARD_PANELS`` and
``incidents.views.RECORD_PANELS`` and resolved by name, so incidents does not
import inquiries. A level whose oldest wait
passes ``policy.wait_alert_minutes`` warns a lead to pull more people in; the
on-duty count says how many there are to pull from.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents.models import Incident
from anshin.inquiries import queues
from anshin.inquiries.models import Inquiry
from anshin.inquiries.policy import policy
from anshin.team import duty, skills
from anshin.team import rules as team_rules
from anshin.team.models import User

TEMPLATE = "inquiries/_dashboard_panel.html"
INCIDENT_TEMPLATE = "inquiries/_incident_panel.html"


def panel(session: Session, settings: Settings, user: User) -> tuple[str, dict[str, Any]]:
    """The waits per level, which pass their threshold, and who is on duty at each level."""
    now = utcnow()
    waits = queues.waits(session, dict(policy(settings).wait_alert_minutes), now=now)
    on_duty = duty.on_duty(session)
    levels = [skills.level_of(session, u) for u in on_duty]
    alerting = [w for w in waits if w.alert]
    return TEMPLATE, {
        "waits": waits,
        "alerting": alerting,
        "alerting_levels": ", ".join(f"L{w.level}" for w in alerting),
        "on_duty_at": {w.level: sum(1 for lv in levels if lv >= w.level) for w in waits},
        "is_lead": skills.may_edit(user),
    }


def incident_panel(
    session: Session, settings: Settings, user: User, incident: Incident
) -> tuple[str, dict[str, Any]]:
    """The open inquiries linked to the incident, how many nobody holds yet, and the ways
    to them: the queue filtered by the incident, and (leads) one reply to all (R26)."""
    rows = session.execute(
        select(Inquiry.level, func.count(), func.count(Inquiry.claimed_by_id))
        .where(Inquiry.incident_id == incident.id, Inquiry.closed_at.is_(None))
        .group_by(Inquiry.level)
    ).all()
    total = session.scalar(
        select(func.count()).select_from(Inquiry).where(Inquiry.incident_id == incident.id)
    )
    return INCIDENT_TEMPLATE, {
        "reference": incident.reference,
        "open": sum(n for _, n, _ in rows),
        "unassigned": sum(n - held for _, n, held in rows),
        "by_level": {level: n for level, n, _ in rows},
        "total": total or 0,
        "may_reply_all": team_rules.at_least(user.role, team_rules.Role.SENIOR),
    }
