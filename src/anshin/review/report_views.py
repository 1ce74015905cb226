"""Console page of an incident's reports: download them, publish the customer report (R7–R9).

* ``GET  /console/incidents/{ref}/review/report`` — the page: downloads of
  both reports in every format, the customer report's form (what we are
  changing, our reflection) with the draft as it will read, the important
  customers with their drafted next-day follow-up;
* ``GET  /console/incidents/{ref}/review/export/{kind}/{fmt}`` — one report
  (customer | internal) as md, html or pdf, in the reader's language;
* ``POST /console/incidents/{ref}/review/publish`` — check and publish the
  customer report as the report notice (box ticked; operators, as for the
  report notice on the record; a senior may override the check with a reason);
* ``POST /console/incidents/{ref}/review/check`` — the message check on the
  report as typed, nothing published (the draft and its findings shown);
* ``POST /console/incidents/{ref}/review/followups`` — store each important
  customer's follow-up as their inquiry's next step, due the next morning.

A refusal shows the page again with what was typed, the reason beside the
field and the message check's findings (422; 403 for an override below senior).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from anshin.comms.kinds import MessageKind
from anshin.comms.lint import has_errors
from anshin.db import utcnow
from anshin.errors import AnshinError
from anshin.i18n import N_
from anshin.incidents import confirm, notices
from anshin.incidents import service as incidents
from anshin.incidents.models import Incident
from anshin.incidents.notices import MessageCheckFailed
from anshin.review import customer, document, export, followups
from anshin.team import rules as team_rules
from anshin.team.models import User
from anshin.web.auth import DbSession, Operator
from anshin.web.deps import request_locale, settings_of
from anshin.web.views_helpers import FormData, PostedForm, error_for, flash, page, redirect

router = APIRouter(include_in_schema=False)
FIELDS = ("changes_ja", "reflection_ja", "changes_en", "reflection_en")


def _written(values: dict[str, str]) -> customer.Written:
    return customer.Written(
        {"ja": values.get("changes_ja", ""), "en": values.get("changes_en", "")},
        {"ja": values.get("reflection_ja", ""), "en": values.get("reflection_en", "")},
    )


def _page(
    request: Request,
    session: DbSession,
    user: User,
    incident: Incident,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    findings: dict[str, Any] | None = None,
    checked: bool = False,
    status: int = 200,
) -> Response:
    settings = settings_of(request)
    now = utcnow()
    # A first visit starts "what we are changing" from the prevention actions (R31).
    values = values or {"changes_ja": customer.changes_from_actions(session, incident, "ja")}
    locale = request_locale(request)
    drafts = customer.texts_for(session, settings, incident, _written(values), now)
    return page(
        request,
        user,
        "review/report.html",
        status=status,
        incident=incident,
        formats=export.FORMATS,
        kinds=document.KINDS,
        published=customer.published(session, incident),
        drafts=drafts,
        values=values,
        errors=errors or {},
        findings=findings or {},
        checked=checked,
        blocking=any(has_errors(items) for items in (findings or {}).values()),
        can_override=team_rules.can(user.role, "message.override_check"),
        followups=followups.for_incident(session, settings, incident, now),
        report_lang=locale,
    )


@router.get("/console/incidents/{ref}/review/report", response_class=HTMLResponse)
def report_page(request: Request, session: DbSession, user: Operator, ref: str) -> Response:
    """The incident's reports: downloads, the customer report's form, important customers."""
    return _page(request, session, user, incidents.get(session, ref))


@router.get("/console/incidents/{ref}/review/export/{kind}/{fmt}")
def download(
    request: Request, session: DbSession, user: Operator, ref: str, kind: str, fmt: str
) -> Response:
    """One report as a file in the reader's language (the customer one as published, or drafted)."""
    document.check_kind(kind)
    export.check_format(fmt)
    settings = settings_of(request)
    doc = document.build(session, settings, ref, kind, request_locale(request), utcnow())
    return Response(
        export.write(doc, fmt),
        media_type=export.MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{export.file_name(doc, fmt)}"',
            "Cache-Control": "no-store",
        },
    )


def _typed(form: FormData) -> dict[str, str]:
    return {name: form.raw(name) for name in (*FIELDS, "override_reason")}


@router.post("/console/incidents/{ref}/review/publish", response_class=HTMLResponse)
def publish(
    request: Request, session: DbSession, user: Operator, ref: str, form: PostedForm
) -> Response:
    """R8: check and publish the customer report as the report notice, box ticked."""
    settings = settings_of(request)
    incident = incidents.get(session, ref)
    values = _typed(form)
    if not confirm.confirmed(form):
        errors = confirm.error(request, "confirm_report")
        return _page(request, session, user, incident, values=values, errors=errors, status=422)
    try:
        customer.publish(
            session,
            settings,
            incident,
            _written(values),
            actor=user.actor,
            actor_role=user.role,
            override_reason=values["override_reason"].strip() or None,
            now=utcnow(),
        )
    except AnshinError as exc:
        session.rollback()
        incident = incidents.get(session, ref)
        found = exc.findings if isinstance(exc, MessageCheckFailed) else {}
        return _page(
            request,
            session,
            user,
            incident,
            values=values,
            errors=error_for(request, exc, "confirm_report"),
            findings=found,
            status=exc.status,
        )
    session.commit()
    flash(request, N_("Report notice published."))
    return redirect(f"/console/incidents/{incident.reference}/review/report")


@router.post("/console/incidents/{ref}/review/check", response_class=HTMLResponse)
def check(
    request: Request, session: DbSession, user: Operator, ref: str, form: PostedForm
) -> Response:
    """The message check on the report as typed, without publishing: findings beside it (R3)."""
    settings = settings_of(request)
    incident = incidents.get(session, ref)
    values = _typed(form)
    texts = customer.texts_for(session, settings, incident, _written(values), utcnow())
    found = notices.check_texts(incident, MessageKind.REPORT_NOTICE, texts, zone=settings.timezone)
    return _page(request, session, user, incident, values=values, findings=found, checked=True)


@router.post("/console/incidents/{ref}/review/followups", response_class=HTMLResponse)
def save_followups(
    request: Request, session: DbSession, user: Operator, ref: str, form: PostedForm
) -> Response:
    """R9: each important customer's next-day follow-up, stored as their inquiry's next step."""
    incident = incidents.get(session, ref)
    saved = followups.save(session, settings_of(request), incident, actor=user.actor, now=utcnow())
    session.commit()
    flash(request, N_("Follow-up tasks saved: {n}."), n=len(saved))
    return redirect(f"/console/incidents/{incident.reference}/review/report#followups")
