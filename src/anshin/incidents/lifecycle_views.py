"""Console routes for an incident's life after the fact: correcting its times (R1, R7).

``POST /console/incidents/{ref}/times`` — the start and (once resolved) the
recovery time, from the small form under the record. A refusal shows the
record again with the typed times and the reason beside the field (422).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from anshin.errors import AnshinError
from anshin.i18n import N_
from anshin.incidents import forms, lifecycle, service
from anshin.team.models import User
from anshin.web.auth import DbSession, Operator
from anshin.web.deps import settings_of
from anshin.web.views_helpers import PostedForm, error_for, flash, redirect, translate_errors

router = APIRouter(include_in_schema=False)


def _record_page(
    request: Request,
    session: Session,
    user: User,
    ref: str,
    *,
    status: int,
    values: dict[str, Any],
    errors: dict[str, str],
) -> HTMLResponse:
    """The record page again, the times form open with what was typed and why it was refused."""
    from anshin.incidents.views import record_page  # the page lives with its other routes

    incident = service.get(session, ref)
    return record_page(
        request, session, user, incident, status=status, times_values=values, times_errors=errors
    )


@router.post("/console/incidents/{ref}/times", response_class=HTMLResponse)
def correct_times(
    request: Request, session: DbSession, user: Operator, ref: str, form: PostedForm
) -> Response:
    """R1, R7: correct when the outage started and when it recovered; the event keeps both."""
    settings = settings_of(request)
    incident = service.get(session, ref)
    values = {"started_at": form.get("started_at"), "resolved_at": form.get("resolved_at")}
    parsed = forms.Parsed(values=values)
    zone = settings.timezone
    started = forms.parse_time(parsed, form, "started_at", zone, happened=True)
    recovered = forms.parse_time(parsed, form, "resolved_at", zone, happened=True)
    if not parsed.ok:
        errors = translate_errors(request, parsed.errors)
        return _record_page(request, session, user, ref, status=422, values=values, errors=errors)
    try:
        lifecycle.correct_times(
            session, settings, incident, started_at=started, resolved_at=recovered, actor=user.actor
        )
    except AnshinError as exc:
        session.rollback()
        errors = error_for(request, exc)
        return _record_page(
            request, session, user, ref, status=exc.status, values=values, errors=errors
        )
    session.commit()
    flash(request, N_("The times were corrected."))
    return redirect(f"/console/incidents/{incident.reference}")
