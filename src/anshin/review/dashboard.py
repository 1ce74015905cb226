"""The dashboard's panel of overdue prevention actions (R31), through incidents' DASHBOARD_PANELS.

A prevention action that slips past its due date is how the same incident
happens twice; the team sees it where it starts its day.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.incidents.models import Incident
from anshin.review import actions
from anshin.team.models import User
from anshin.timefmt import today_local


def overdue_panel(
    session: Session, settings: Settings, user: User
) -> tuple[str, dict[str, Any]] | None:
    """Open prevention actions past due, with their incidents; None when there are none."""
    today = today_local(settings.timezone)
    rows = actions.overdue(session, today)
    if not rows:
        return None
    references = dict(
        session.execute(
            select(Incident.id, Incident.reference).where(
                Incident.id.in_({row.incident_id for row in rows})
            )
        ).all()
    )
    return "review/_overdue_panel.html", {
        "overdue": [(row, references.get(row.incident_id, "")) for row in rows],
        "today": today,
    }
