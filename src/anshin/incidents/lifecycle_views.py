"""Console routes for an incident's life after the fact: correcting its times, reopening it.

* ``POST /console/incidents/{ref}/times`` — the start and (once resolved) the
  recovery time, from the small form under the record (R1, R7);
* ``POST /console/incidents/{ref}/reopen`` — a senior reopens a resolved
  incident with the ``reopened`` notice, after ticking the confirmation box
  (it goes to every subscriber and cannot be undone).

A refusal shows the record again with what was typed and the reason beside
the field (422; 403 below senior).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from anshin.comms.lint import Finding
from anshin.db import utcnow
from anshin.errors import AnshinError, Conflict
from anshin.i18n import N_
from anshin.incidents import confirm, detail, forms, lifecycle, notices, service, time_rules
from anshin.incidents.models import Incident
from anshin.team import rules as team_rules
from anshin.team.models import User
from anshin.web.auth import DbSession, Operator, Senior
from anshin.web.deps import settings_of
from anshin.web.views_helpers import (
    PostedForm,
    error_for,
    flash,
    partial,
    redirect,
    translate_errors,
)

router = APIRouter(include_in_schema=False)


@dataclass
class ReopenBox:
    """The reopen form as typed, with why it was refused (``values`` re-fill it)."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    findings: dict[str, list[Finding]] = field(default_factory=dict)


def reopen_context(
    request: Request,
    session: Session,
    user: User,
    incident: Incident,
    now: dt.datetime,
    box: ReopenBox | None,
) -> dict[str, Any]:
    """What the record page needs for the reopen form: shown to seniors on a resolved incident.

    Starts from the ``reopened`` template (R11) with the cadence's next update.
    """
    if incident.status != "resolved":
        return {"reopen_values": None, "report_values": None}
    settings = settings_of(request)
    report = {
        "report_due": time_rules.report_due(
            report_due_at=incident.report_due_at,
            published_at=incident.report_published_at,
            now=now,
        ),
        "report_values": (
            None
            if incident.report_published_at
            else lifecycle.report_draft(session, settings, incident, now)
        ),
    }
    if not team_rules.can(user.role, "incident.reopen"):
        return {"reopen_values": None, **report}
    if box is None:
        texts, next_at = lifecycle.reopen_draft(session, settings, incident, now)
        box = ReopenBox(
            values={
                "status": "investigating",
                "body_ja": texts["ja"],
                "body_en": texts["en"],
                "next_update_at": forms.input_value(next_at, settings.timezone),
            }
        )
    return {
        "reopen_values": box.values,
        "reopen_errors": box.errors,
        "reopen_findings": box.findings,
        "reopen_statuses": lifecycle.REOPEN_STATUSES,
        **report,
    }


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
    # The form shows times to the minute: a time sent back as shown is not a correction.
    if values["started_at"] == forms.input_value(incident.started_at, zone):
        started = None
    if values["resolved_at"] == forms.input_value(incident.resolved_at, zone):
        recovered = None
    if not parsed.ok:
        errors = translate_errors(request, parsed.errors)
        return _record_page(request, session, user, ref, status=422, values=values, errors=errors)
    if started is None and recovered is None:
        return redirect(f"/console/incidents/{incident.reference}")  # nothing to correct
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


@router.post("/console/incidents/{ref}/reopen", response_class=HTMLResponse)
def reopen_incident(
    request: Request, session: DbSession, user: Senior, ref: str, form: PostedForm
) -> Response:
    """Reopen a resolved incident that came back (senior or above, box ticked; R5, R22)."""
    from anshin.incidents.views import record_page

    settings = settings_of(request)
    incident = service.get(session, ref)
    values = form.values()
    if not confirm.confirmed(form):
        box = ReopenBox(values, errors=confirm.error(request))
        return record_page(request, session, user, incident, status=422, reopen=box)
    parsed = forms.Parsed(values=values)
    promised = forms.parse_time(parsed, form, "next_update_at", settings.timezone)
    if not parsed.ok:
        box = ReopenBox(values, errors=translate_errors(request, parsed.errors))
        return record_page(request, session, user, incident, status=422, reopen=box)
    try:
        lifecycle.reopen(
            session,
            settings,
            incident,
            body_ja=form.raw("body_ja"),
            body_en=form.raw("body_en") or None,
            status=form.get("status") or "investigating",
            next_update_at=promised,
            actor=user.actor,
            actor_role=user.role,
            override_reason=form.raw("override_reason").strip() or None,
            now=utcnow(),
        )
    except AnshinError as exc:
        session.rollback()
        findings = exc.findings if isinstance(exc, notices.MessageCheckFailed) else {}
        box = ReopenBox(values, errors=error_for(request, exc), findings=findings)
        incident = service.get(session, ref)
        return record_page(request, session, user, incident, status=exc.status, reopen=box)
    session.commit()
    flash(request, N_("Incident reopened and the reopened notice published."))
    return redirect(f"/console/incidents/{incident.reference}")


@router.post("/console/incidents/{ref}/report", response_class=HTMLResponse)
def publish_report(
    request: Request, session: DbSession, user: Operator, ref: str, form: PostedForm
) -> Response:
    """R8: announce the report the resolution notice promised (box ticked); clears its due item."""
    from anshin.incidents.views import record_page

    settings = settings_of(request)
    incident = service.get(session, ref)
    if not confirm.confirmed(form):
        errors = confirm.error(request, "confirm_report")
        return record_page(request, session, user, incident, status=422, errors=errors)
    try:
        lifecycle.publish_report(
            session,
            settings,
            incident,
            body_ja=form.raw("body_ja"),
            body_en=form.raw("body_en") or None,
            actor=user.actor,
            actor_role=user.role,
            override_reason=form.raw("override_reason").strip() or None,
            now=utcnow(),
        )
    except AnshinError as exc:
        session.rollback()
        incident = service.get(session, ref)
        errors = error_for(request, exc, "confirm_report")
        return record_page(request, session, user, incident, status=exc.status, errors=errors)
    session.commit()
    flash(request, N_("Report notice published."))
    return redirect(f"/console/incidents/{incident.reference}")


@router.post("/console/incidents/{ref}/take-time", response_class=HTMLResponse)
def take_time_from_text(
    request: Request, session: DbSession, user: Operator, ref: str, form: PostedForm
) -> Response:
    """R5: the compose box again, its next-update field set to the time the text promises.

    Offered beside a ``next-update-mismatch`` finding: the text and the record
    then agree. Nothing is written; a text promising no time leaves the field.
    """
    settings = settings_of(request)
    incident = service.get(session, ref)
    if incident.status == "resolved":
        raise Conflict(N_("This incident is already resolved; it takes no more updates."))
    values = form.values()
    now = utcnow()
    texts = {locale: str(values.get(f"body_{locale}") or "") for locale in ("ja", "en")}
    promised = notices.time_promised(texts, now, settings.timezone)
    if promised is not None:
        values["next_update_at"] = forms.input_value(promised, settings.timezone)
    findings = detail.check(incident, values, settings.timezone)
    return partial(
        request,
        user,
        "incidents/_compose.html",
        incident=incident,
        values=values,
        errors={},
        **detail.compose_context(session, user, incident, values, findings),
    )
