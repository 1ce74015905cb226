"""The inquiries' panel on the console dashboard (R28): waiting counts and the oldest wait.

Named in ``incidents.dashboard_views.DASHBOARD_PANELS`` and resolved by name, so
the dashboard (incidents) does not import inquiries. A level whose oldest wait
passes ``policy.wait_alert_minutes`` warns a lead to pull more people in; the
on-duty count says how many there are to pull from.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.inquiries import queues
from anshin.inquiries.policy import policy
from anshin.team import duty, skills
from anshin.team.models import User

TEMPLATE = "inquiries/_dashboard_panel.html"


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
