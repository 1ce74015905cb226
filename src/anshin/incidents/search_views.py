"""Console page of every incident, open and past, with search and filters (R2).

``GET /console/incidents?q=&component=&severity=&status=&since=&until=&page=``:
words in the titles, summaries and updates; one component, severity or
status (or ``open``); the days it was declared on, in the team's zone. A
filter that cannot be read comes back on the same page with the reason beside
it (422), the values still in the form. Included by ``incidents.views.router``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from anshin.db import utcnow
from anshin.errors import AnshinError, InvalidInput
from anshin.i18n import N_
from anshin.incidents import cadence, rules, search
from anshin.incidents import components as components_service
from anshin.incidents.models import Incident
from anshin.web.auth import DbSession, Operator
from anshin.web.deps import settings_of
from anshin.web.paging import Paging, page_number
from anshin.web.views_helpers import error_for, page

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 30


def _day(value: str, field: str) -> dt.date | None:
    """A day typed in a date field (2026-11-22); blank is none."""
    text = value.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text.replace("/", "-"))
    except ValueError:
        raise InvalidInput(N_("Enter a date like 2026-11-22."), field=field) from None


@router.get("/console/incidents", response_class=HTMLResponse)
def incidents_page(
    request: Request,
    session: DbSession,
    user: Operator,
    q: Annotated[str, Query(max_length=search.QUERY_MAX)] = "",
    component: Annotated[str, Query(max_length=200)] = "",
    severity: Annotated[str, Query(max_length=10)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    since: Annotated[str, Query(max_length=20)] = "",
    until: Annotated[str, Query(max_length=20)] = "",
    page_asked: Annotated[str, Query(alias="page", max_length=10)] = "",
) -> Response:
    """Incidents matching the filters, newest declared first, a page at a time."""
    settings = settings_of(request)
    values = {
        "q": q.strip(),
        "component": component.strip(),
        "severity": severity.strip(),
        "status": status.strip(),
        "since": since.strip(),
        "until": until.strip(),
    }
    query = {name: value for name, value in values.items() if value}
    rows: list[Incident] = []
    total = 0
    number = 1
    errors: dict[str, str] = {}
    try:
        number = page_number(page_asked)
        filters = search.Filters(
            q=values["q"],
            component=values["component"],
            severity=values["severity"],
            status=values["status"],
            since=_day(values["since"], "since"),
            until=_day(values["until"], "until"),
        )
        rows, total = search.search(
            session,
            filters,
            settings.timezone,
            limit=PAGE_SIZE,
            offset=(number - 1) * PAGE_SIZE,
        )
    except AnshinError as exc:
        errors = error_for(request, exc)
    now = utcnow()
    return page(
        request,
        user,
        "incidents/list.html",
        status=422 if errors else 200,
        rows=[(i, cadence.due(settings, i, now)) for i in rows],
        values=values,
        query=query,
        errors=errors,
        components=components_service.list_components(session),
        severities=rules.SEVERITIES,
        statuses=rules.STATUSES,
        paging=Paging(page=number, size=PAGE_SIZE, total=total),
    )
