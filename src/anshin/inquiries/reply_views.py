"""Console pages for replying: to one inquiry, and to everyone who asked about an incident.

* ``GET/POST /console/inquiries/{ref}/reply`` — the reply box, started from the
  suggested template, checked on send; the holder of the claim replies (R21, R23).
  The same box renders inside the inquiry page as ``inquiries/_reply.html``
  when that page passes ``reply=reply_context(...)``.
* ``GET/POST /console/incidents/{ref}/inquiries/reply-all`` — a lead (senior+)
  picks the open inquiries on the incident (intent, channel), writes one answer
  per language, and sends it to each in one action (R21, R26).

A refused check shows the findings next to the text, with what was typed kept.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from anshin.comms.gate import MessageCheckFailed
from anshin.config import Settings
from anshin.errors import AnshinError
from anshin.i18n import N_
from anshin.incidents import service as incidents
from anshin.incidents.models import Incident
from anshin.inputs import parse_time
from anshin.inquiries import replies, reply_all, rules, service
from anshin.inquiries.models import Inquiry
from anshin.inquiries.page_links import after_post
from anshin.knowledge import panel as kb_panel
from anshin.team import rules as team_rules
from anshin.team.models import User
from anshin.web.auth import DbSession, Operator, Senior
from anshin.web.deps import settings_of
from anshin.web.views_helpers import FormData, PostedForm, error_for, flash, page, redirect

router = APIRouter(include_in_schema=False)


def reply_context(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    user: User,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    findings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What ``inquiries/_reply.html`` needs: the draft, the typed values, any refusal,
    and the knowledge base's three best articles for the customer's words (R17)."""
    found = replies.draft(session, settings, inquiry)
    start = {"body": found.text, "subject": found.subject or ""}
    return {
        "inquiry": inquiry,
        "draft": found,
        "values": {**start, **(values or {})},
        "errors": errors or {},
        "findings": findings or {},
        "holder": inquiry.claimed_by_id == user.id,
        "can_override": team_rules.can(user.role, "message.override_check"),
        "articles": kb_panel.suggestions(
            session, inquiry.subject, inquiry.original_text, locale=inquiry.locale
        ),
    }


def _reply_page(
    request: Request,
    session: Session,
    user: User,
    inquiry: Inquiry,
    *,
    status: int = 200,
    **extra: Any,
) -> HTMLResponse:
    settings = settings_of(request)
    return page(
        request,
        user,
        "inquiries/reply.html",
        status=status,
        reply=reply_context(session, settings, inquiry, user, **extra),
    )


@router.get("/console/inquiries/{ref}/reply", response_class=HTMLResponse)
def reply_page(request: Request, session: DbSession, user: Operator, ref: str) -> Response:
    """The conversation so far and the reply box, started from the suggested template."""
    return _reply_page(request, session, user, service.get(session, ref))


def _findings(exc: AnshinError) -> dict[str, Any] | None:
    return exc.findings if isinstance(exc, MessageCheckFailed) else None


@router.post("/console/inquiries/{ref}/reply", response_class=HTMLResponse)
def send_reply(
    request: Request, session: DbSession, user: Operator, ref: str, form: PostedForm
) -> Response:
    """Check the text and send it (or record the call); refused texts come back with findings."""
    settings = settings_of(request)
    inquiry = service.get(session, ref)
    values = form.values()
    values["body"] = form.raw("body")
    try:
        typed = form.get("next_action_due_at")
        due = parse_time(typed, settings.timezone, field="next_action_due_at") if typed else None
        replies.reply(
            session,
            settings,
            inquiry,
            user,
            text=form.raw("body"),
            subject=form.get("subject") or None,
            reports_result=form.checked("reports_result"),
            override_reason=form.get("override_reason") or None,
            outcome=form.raw("outcome") or None,
            next_action=form.get("next_action") or None,
            next_action_due_at=due,
        )
    except AnshinError as exc:
        session.rollback()
        inquiry = service.get(session, ref)
        return _reply_page(
            request,
            session,
            user,
            inquiry,
            status=exc.status,
            values=values,
            errors=error_for(request, exc, "body"),
            findings=_findings(exc),
        )
    session.commit()
    if inquiry.channel == rules.Channel.PHONE:
        flash(request, N_("The call is recorded in the inquiry's conversation."))
    else:
        flash(request, N_("Reply sent: it is on its way through the outbox."))
    own = f"/console/inquiries/{inquiry.reference}/reply"
    return redirect(after_post(form, inquiry.reference, own))


def _selection(form: FormData | None, request: Request) -> reply_all.Selection:
    """The filters, from the posted form or the page's query string."""
    get = form.get if form is not None else (lambda n: request.query_params.get(n, "").strip())
    claimed = form.checked("include_claimed") if form is not None else bool(get("include_claimed"))
    return reply_all.Selection(get("intent") or None, get("channel") or None, claimed)


def _reply_all_page(
    request: Request,
    session: Session,
    user: User,
    incident: Incident,
    selection: reply_all.Selection,
    *,
    status: int = 200,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    findings: dict[str, Any] | None = None,
) -> HTMLResponse:
    settings = settings_of(request)
    try:
        found = reply_all.select_open(session, incident, selection)
    except AnshinError as exc:
        errors = {**(errors or {}), **error_for(request, exc)}
        found, selection = [], reply_all.Selection()
    chosen, left = reply_all.split(settings, found, user, selection)
    return page(
        request,
        user,
        "inquiries/reply_all.html",
        status=status,
        incident=incident,
        selection=selection,
        chosen=chosen,
        left=left,
        intents=rules.INTENT_ORDER,
        channels=tuple(rules.Channel),
        locales=sorted({i.locale for i in chosen}) or ["ja"],
        values=values or {},
        errors=errors or {},
        findings=findings or {},
        can_override=team_rules.can(user.role, "message.override_check"),
    )


@router.get("/console/incidents/{ref}/inquiries/reply-all", response_class=HTMLResponse)
def reply_all_page(request: Request, session: DbSession, user: Senior, ref: str) -> Response:
    """Who the answer would go to (filtered by intent and channel) and the answer box."""
    incident = incidents.get(session, ref)
    return _reply_all_page(request, session, user, incident, _selection(None, request))


@router.post("/console/incidents/{ref}/inquiries/reply-all", response_class=HTMLResponse)
def send_reply_all(
    request: Request, session: DbSession, user: Senior, ref: str, form: PostedForm
) -> Response:
    """Send the one checked answer to every selected inquiry in one action (R21, R26)."""
    settings = settings_of(request)
    incident = incidents.get(session, ref)
    selection = _selection(form, request)
    values = form.values()
    values.update(body_ja=form.raw("body_ja"), body_en=form.raw("body_en"))
    try:
        outcome = reply_all.reply_all(
            session,
            settings,
            incident,
            user,
            answers={"ja": form.raw("body_ja"), "en": form.raw("body_en")},
            selection=selection,
            reports_result=form.checked("reports_result"),
            override_reason=form.get("override_reason") or None,
        )
    except AnshinError as exc:
        session.rollback()
        incident = incidents.get(session, ref)
        return _reply_all_page(
            request,
            session,
            user,
            incident,
            selection,
            status=exc.status,
            values=values,
            errors=error_for(request, exc, "body_ja"),
            findings=_findings(exc),
        )
    session.commit()
    flash(request, N_("The answer went to {n} inquiries."), n=len(outcome.sent))
    return redirect(f"/console/incidents/{incident.reference}/inquiries/reply-all")
