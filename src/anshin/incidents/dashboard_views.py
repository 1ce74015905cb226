"""The console's dashboard: open incidents by what they owe next, and the ones resolved lately.

R4/R5: each open incident shows a live countdown to the next message it owes
(the first notice 15 minutes after declaring, then the time the last update
promised), red once overdue; R7/R8: the reports promised by resolution notices
are due items too. The table is polled by htmx, so a surge of updates from
other agents shows up without a reload.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from anshin import hooks
from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents import (
    lifecycle,
    rules,
    service,
)
from anshin.incidents.models import Incident
from anshin.web.auth import DbSession, Operator
from anshin.web.deps import settings_of
from anshin.web.views_helpers import (
    page,
    partial,
)

router = APIRouter(include_in_schema=False)

RECENTLY_RESOLVED = 10
# Panels of the domains above incidents, named not imported (docs/design.md "dependency
# direction"): each ``function(session, settings, now)`` returns None (nothing to show)
# or a dict with the ``template`` to include and its values, read there as ``panel``.
DASHBOARD_PANELS: tuple[str, ...] = ("anshin.inquiries.commitments:dashboard_panel",)


def _open_rows(
    session: Session, settings: Settings, now: dt.datetime
) -> list[tuple[Incident, rules.Due | None]]:
    """Open incidents with what each owes next, most urgent first (R4, R5)."""
    rows = [
        (i, service.due(settings, i, now)) for i in service.list_incidents(session, open_only=True)
    ]
    far = now + dt.timedelta(days=3650)
    return sorted(rows, key=lambda row: row[1].due_at if row[1] else far)


def _panels(session: Session, settings: Settings, now: dt.datetime) -> list[dict[str, Any]]:
    """The panels the higher domains have to show now (missed commitments, R24)."""
    found = (hooks.resolve(name)(session, settings, now) for name in DASHBOARD_PANELS)
    return [panel for panel in found if panel]


def _dashboard_context(session: Session, settings: Settings) -> dict[str, Any]:
    now = utcnow()
    resolved = [
        i
        for i in service.list_incidents(session, limit=RECENTLY_RESOLVED * 5)
        if i.status == "resolved"
    ]
    return {
        "rows": _open_rows(session, settings, now),
        "reports": lifecycle.reports_owed(session, now),
        "resolved": resolved[:RECENTLY_RESOLVED],
        "now": now,
        "panels": _panels(session, settings, now),
        "first_notice_minutes": settings.first_notice_minutes,
    }


@router.get("/console", response_class=HTMLResponse)
def dashboard(request: Request, session: DbSession, user: Operator) -> Response:
    """Open incidents with their due timers, and the ones resolved lately."""
    context = _dashboard_context(session, settings_of(request))
    return page(request, user, "incidents/dashboard.html", **context)


@router.get("/console/partials/open-incidents", response_class=HTMLResponse)
def open_incidents_partial(request: Request, session: DbSession, user: Operator) -> Response:
    """The open-incidents table alone, polled by htmx every 30 seconds."""
    context = _dashboard_context(session, settings_of(request))
    return partial(request, user, "incidents/_open_incidents.html", **context)
