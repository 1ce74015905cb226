"""Console pages for message templates: the list, and an edit page with a live preview (R11).

Every agent can read templates and preview them; seniors and above (R22)
save a new version or restore an old one. A refused text is shown again with
the reason next to it (the line of a syntax error, the unknown variable), and
nothing is saved. The preview is an htmx fragment: the draft rendered on
sample facts or on a real incident, with the message check's findings.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from anshin.comms import records, rules, service
from anshin.comms.api import EDIT_ROLE
from anshin.comms.variables import variables_for
from anshin.errors import AnshinError
from anshin.i18n import N_, translate
from anshin.inputs import parse_count
from anshin.team import rules as team_rules
from anshin.team.models import User
from anshin.web.auth import DbSession, Operator, Senior
from anshin.web.deps import lock_when_writing, request_locale, settings_of
from anshin.web.views_helpers import (
    FormData,
    PostedForm,
    error_for,
    flash,
    page,
    partial,
    redirect,
)

router = APIRouter(include_in_schema=False)

KIND_LABELS: dict[str, str] = {
    "first_notice": N_("First notice"),
    "update": N_("Update"),
    "no_news_update": N_("No-news update"),
    "resolution": N_("Resolution notice"),
    "reopened": N_("Reopened"),
    "report_notice": N_("Report published"),
    "maintenance_notice": N_("Maintenance notice"),
    "inquiry_ack": N_("Inquiry received"),
    "inquiry_reply": N_("Reply to an inquiry"),
    "key_client_followup": N_("Key client follow-up"),
    "phone_script": N_("Phone script"),
    "harassment_warning": N_("Warning about conduct"),
    "contact_ending": N_("Ending the contact"),
}
CHANNEL_LABELS: dict[str, str] = {
    "status_page": N_("Status page"),
    # Not "Email": that msgid is the address column (メールアドレス) elsewhere.
    "email": N_("Mail"),
    "short": N_("Chat / SMS"),
    "script": N_("Script for agents"),
}
LOCALE_LABELS: dict[str, str] = {"ja": N_("Japanese"), "en": N_("English")}


def _base(kind: str, locale: str, channel: str) -> str:
    return f"/console/templates/{kind}/{locale}/{channel}"


def _labels(request: Request) -> dict[str, Any]:
    locale = request_locale(request)
    return {
        "kind_labels": {k: translate(locale, v) for k, v in KIND_LABELS.items()},
        "channel_labels": {k: translate(locale, v) for k, v in CHANNEL_LABELS.items()},
        "locale_labels": {k: translate(locale, v) for k, v in LOCALE_LABELS.items()},
    }


@router.get("/console/templates", response_class=HTMLResponse)
def list_page(request: Request, session: DbSession, user: Operator) -> Response:
    """Every template, grouped by kind, with its active version and who last changed it."""
    texts = service.list_templates(session)
    groups = [(kind, [t for t in texts if t.kind == kind]) for kind in rules.KINDS]
    return page(request, user, "comms/templates.html", groups=groups, **_labels(request))


def _preview_choices(session: Session, kind: str) -> list[tuple[str, str]]:
    """Records to preview on: recent incidents, or maintenance windows."""
    return records.choices(session, kind)


def _run_preview(
    request: Request,
    session: Session,
    kind: str,
    locale: str,
    channel: str,
    source: rules.Source | None,
    facts: str,
) -> dict[str, Any]:
    """The preview's context: the rendered message and its findings, or the refusal."""
    incident_ref = facts.split(":", 1)[1] if facts.startswith("incident:") else None
    maintenance_ref = facts.split(":", 1)[1] if facts.startswith("maintenance:") else None
    sample = facts if facts in records.SAMPLES else None
    if not (incident_ref or maintenance_ref or sample):
        sample = "unconfirmed"
    try:
        rendered, findings = records.preview(
            session,
            settings_of(request),
            kind,
            locale,
            channel,
            source=source,
            incident_ref=incident_ref,
            maintenance_ref=maintenance_ref,
            sample=sample,
        )
    except AnshinError as exc:
        return {"rendered": None, "findings": [], "preview_error": error_for(request, exc)}
    return {"rendered": rendered, "findings": findings, "preview_error": None}


def _edit_page(
    request: Request,
    session: Session,
    user: User,
    kind: str,
    locale: str,
    channel: str,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    facts: str = "unconfirmed",
) -> HTMLResponse:
    active = service.get_active(session, kind, locale, channel)
    if values is None:
        values = {"subject": active.subject or "", "body": active.body, "note": ""}
    source = rules.Source(
        subject=values.get("subject") if channel == "email" else None, body=values["body"]
    )
    ui_locale = request_locale(request)
    index = 0 if ui_locale == "ja" else 1
    return page(
        request,
        user,
        "comms/template_edit.html",
        status=status,
        kind=kind,
        template_locale=locale,
        channel=channel,
        action=_base(kind, locale, channel),
        active=active,
        versions=service.list_versions(session, kind, locale, channel),
        variables={name: docs[index] for name, docs in variables_for(kind).items()},
        values=values,
        errors=errors or {},
        can_edit=team_rules.at_least(user.role, EDIT_ROLE),
        choices=_preview_choices(session, kind),
        facts=facts,
        short_limit=rules.SHORT_LIMITS[locale] if channel == "short" else None,
        **_run_preview(request, session, kind, locale, channel, source, facts),
        **_labels(request),
    )


@router.get("/console/templates/{kind}/{locale}/{channel}", response_class=HTMLResponse)
def edit_page(
    request: Request, session: DbSession, user: Operator, kind: str, locale: str, channel: str
) -> Response:
    """The active text, its variables, its versions, and a preview on sample facts."""
    rules.check_key(kind, locale, channel)
    return _edit_page(request, session, user, kind, locale, channel)


def _form_values(form: FormData) -> dict[str, str]:
    return {
        "subject": form.get("subject"),
        "body": form.raw("body"),
        "note": form.get("note"),
        "override_reason": form.get("override_reason"),
    }


@router.post("/console/templates/{kind}/{locale}/{channel}", response_class=HTMLResponse)
def save(
    request: Request,
    session: DbSession,
    user: Senior,
    kind: str,
    locale: str,
    channel: str,
    form: PostedForm,
) -> Response:
    """Save the edited text as a new version (seniors and above)."""
    rules.check_key(kind, locale, channel)
    values = _form_values(form)
    try:
        text, changed = service.save(
            session,
            settings_of(request),
            kind,
            locale,
            channel,
            subject=values["subject"] if channel == "email" else None,
            body=values["body"],
            note=values["note"],
            actor=user.actor,
            override_reason=values["override_reason"],
        )
    except AnshinError as exc:
        session.rollback()
        return _edit_page(
            request,
            session,
            user,
            kind,
            locale,
            channel,
            status=exc.status,
            values=values,
            errors=error_for(request, exc, "body"),
            facts=form.get("facts") or "unconfirmed",
        )
    session.commit()
    if changed:
        flash(request, N_("Saved as version {version}."), version=text.version)
    else:
        flash(request, N_("Nothing changed; no new version was saved."), kind="warn")
    return redirect(_base(kind, locale, channel))


@router.post("/console/templates/{kind}/{locale}/{channel}/preview", response_class=HTMLResponse)
@lock_when_writing  # only reads: no write lock while rendering; the session's last use kept apart
def preview_fragment(
    request: Request,
    session: DbSession,
    user: Operator,
    kind: str,
    locale: str,
    channel: str,
    form: PostedForm,
) -> Response:
    """htmx: the draft in the editor rendered and checked, without saving anything."""
    rules.check_key(kind, locale, channel)
    values = _form_values(form)
    source = rules.Source(
        subject=values["subject"] if channel == "email" else None, body=values["body"]
    )
    context = _run_preview(request, session, kind, locale, channel, source, form.get("facts"))
    return partial(
        request,
        user,
        "comms/_template_preview.html",
        channel=channel,
        short_limit=rules.SHORT_LIMITS[locale] if channel == "short" else None,
        **context,
    )


@router.post("/console/templates/{kind}/{locale}/{channel}/restore")
def restore(
    request: Request,
    session: DbSession,
    user: Senior,
    kind: str,
    locale: str,
    channel: str,
    form: PostedForm,
) -> Response:
    """Bring an old version back as the newest one (seniors and above)."""
    rules.check_key(kind, locale, channel)
    raw = form.get("version")
    version = parse_count(raw)
    if version is None:
        flash(request, N_("Choose a version to restore."), kind="error")
        return redirect(_base(kind, locale, channel))
    try:
        text = service.restore(
            session, settings_of(request), kind, locale, channel, version, actor=user.actor
        )
    except AnshinError as exc:
        session.rollback()
        # The reason is translated here: its parameters may not travel through the session.
        flash(request, translate(request_locale(request), exc.msgid, **exc.params), kind="error")
        return redirect(_base(kind, locale, channel))
    session.commit()
    flash(
        request,
        N_("Version {old} restored as version {version}."),
        old=version,
        version=text.version,
    )
    return redirect(_base(kind, locale, channel))
