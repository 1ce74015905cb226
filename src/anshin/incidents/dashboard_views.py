"""The console's dashboard: open incidents by what they owe next, and the ones resolved lately.

R4/R5: each open incident shows a live countdown to the next message it owes
(the first notice 15 minutes after declaring, then the time the last update
promised), red once overdue; R7/R8: the reports promised by resolution notices
are due items too. The table is polled by htmx, so a surge of updates from
other agents shows up without a reload.

Higher packages add panels (R28: the inquiry queues' waits) through
:data:`DASHBOARD_PANELS`, named hooks resolved when the page renders, so
incidents never imports them.
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
    cadence,
    lifecycle,
    rules,
    service,
)
from anshin.incidents.models import Incident
from anshin.team.models import User
from anshin.web.auth import DbSession, Operator
from anshin.web.deps import settings_of
from anshin.web.views_helpers import (
    page,
    partial,
)

router = APIRouter(include_in_schema=False)

RECENTLY_RESOLVED = 10

# Panels of higher packages on the dashboard: "module:function" names, each called
# with (session, settings, user) and returning (template name, context) or None to
# show nothing. Resolved by name (anshin.hooks), so incidents imports none of them.
DASHBOARD_PANELS: tuple[str, ...] = (
    "anshin.inquiries.dashboard:panel",
    "anshin.inquiries.missed:dashboard_panel",
    "anshin.review.dashboard:overdue_panel",
)


def _panels(session: Session, settings: Settings, user: User) -> list[tuple[str, dict[str, Any]]]:
    """Each hook's panel, in the order named; a hook may decline with None."""
    found: list[tuple[str, dict[str, Any]]] = []
    for name in DASHBOARD_PANELS:
        panel = hooks.resolve(name)(session, settings, user)
        if panel is not None:
            found.append(panel)
    return found


def _open_rows(
    session: Session, settings: Settings, now: dt.datetime
) -> list[tuple[Incident, rules.Due | None]]:
    """Open incidents with what each owes next, most urgent first (R4, R5)."""
    rows = [
        (i, cadence.due(settings, i, now)) for i in service.list_incidents(session, open_only=True)
    ]
    far = now + dt.timedelta(days=3650)
    return sorted(rows, key=lambda row: row[1].due_at if row[1] else far)


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
        "first_notice_minutes": settings.first_notice_minutes,
    }


@router.get("/console", response_class=HTMLResponse)
def dashboard(request: Request, session: DbSession, user: Operator) -> Response:
    """Open incidents with their due timers, and the ones resolved lately."""
    settings = settings_of(request)
    context = _dashboard_context(session, settings)
    panels = _panels(session, settings, user)
    return page(request, user, "incidents/dashboard.html", panels=panels, **context)


@router.get("/console/partials/open-incidents", response_class=HTMLResponse)
def open_incidents_partial(request: Request, session: DbSession, user: Operator) -> Response:
    """The open-incidents table alone, polled by htmx every 30 seconds."""
    context = _dashboard_context(session, settings_of(request))
    return partial(request, user, "incidents/_open_incidents.html", **context)
