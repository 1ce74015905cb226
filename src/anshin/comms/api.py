"""Template JSON API: list, read, edit (a new version), versions, restore, render (R11).

Reading and rendering are for every agent (L1+); changing the wording
customers read is for seniors (L2+, R22). Cookie-authenticated writes must
send ``X-CSRF-Token``; bearer tokens need none. A refused template (syntax
error, unknown variable, a short text over its limit) is a 422 naming the
line or the variable, and nothing is saved.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from anshin.comms import records, rules, service
from anshin.comms.variables import variables_for
from anshin.inputs import Count, StrictInput, Text, Time, to_utc
from anshin.team.rules import Role
from anshin.web.auth import DbSession, Operator, Senior
from anshin.web.deps import request_locale, settings_of

router = APIRouter(prefix="/api", tags=["templates"])
# R22: seniors and above change the wording every agent sends.
EDIT_ROLE = Role.SENIOR


class _In(StrictInput):
    """Requests refuse unknown fields and coerce no types (anshin.inputs)."""


class TemplateOut(BaseModel):
    """One version of a template (version 0 = the shipped default)."""

    kind: str
    locale: str
    channel: str
    version: int
    source: str
    subject: str | None
    body: str
    created_at: dt.datetime | None
    created_by: str | None
    note: str | None


class TemplateDetail(TemplateOut):
    """The active text with what it may use and whether the last PUT changed it."""

    variables: dict[str, str]
    changed: bool | None = None


class TemplateList(BaseModel):
    """Every template's active version."""

    templates: list[TemplateOut]


class VersionList(BaseModel):
    """Every version of one template, newest first, ending with the default (0)."""

    versions: list[TemplateOut]


class TemplateIn(_In):
    """A new text for a template; ``subject`` for email only."""

    subject: Text | None = Field(default=None, max_length=rules.SUBJECT_MAX)
    body: Text = Field(max_length=rules.BODY_MAX)
    note: Text | None = Field(default=None, max_length=service.NOTE_MAX)
    override_reason: Text | None = Field(
        default=None,
        max_length=service.OVERRIDE_REASON_MAX,
        description="why a text that fails the message check on the sample facts is right",
    )


class RestoreIn(_In):
    """The version to bring back (0 = the shipped default)."""

    version: Count


class RenderIn(_In):
    """What to render: a template (the active one, or a draft) with a record's facts."""

    kind: Text = Field(max_length=40)
    locale: Text = Field(default="ja", max_length=10)
    channel: Text = Field(max_length=40)
    incident: Text | None = Field(default=None, max_length=40)
    maintenance: Text | None = Field(default=None, max_length=40)
    subject: Text | None = Field(default=None, max_length=rules.SUBJECT_MAX)
    body: Text | None = Field(default=None, max_length=rules.BODY_MAX)
    customer_name: Text = Field(default="", max_length=200)
    inquiry_reference: Text = Field(default="", max_length=40)
    answer: Text = Field(default="", max_length=rules.BODY_MAX)
    support_plan: Text = Field(default="", max_length=rules.BODY_MAX)
    next_update_at: Time | None = None
    reply_by: Time | None = None
    # Without a record: the built-in sample facts, nothing confirmed or all confirmed (R3).
    sample: Literal["unconfirmed", "confirmed"] | None = None


class FindingOut(BaseModel):
    """One finding of the message check on the rendered body."""

    rule: str
    severity: str
    start: int
    end: int
    message: str
    suggestion: str


class RenderOut(BaseModel):
    """The rendered message, its length against the short limit, and the check's findings."""

    kind: str
    locale: str
    channel: str
    subject: str | None
    text: str
    html: str | None
    length: int
    limit: int | None
    over_limit: bool
    findings: list[FindingOut]
    has_errors: bool


def template_out(text: service.TemplateText, zone: str) -> TemplateOut:
    """The API shape of one version, its time in the team's zone."""
    return TemplateOut(**text.as_dict(zone))


def _detail(
    request: Request, text: service.TemplateText, changed: bool | None = None
) -> TemplateDetail:
    index = 0 if request_locale(request) == "ja" else 1
    variables = {name: docs[index] for name, docs in variables_for(text.kind).items()}
    zone = settings_of(request).timezone
    return TemplateDetail(**text.as_dict(zone), variables=variables, changed=changed)


@router.get("/templates", response_model=TemplateList)
def list_templates(request: Request, session: DbSession, user: Operator) -> TemplateList:
    """The active text of every (kind, locale, channel)."""
    zone = settings_of(request).timezone
    return TemplateList(templates=[template_out(t, zone) for t in service.list_templates(session)])


@router.get("/templates/{kind}/{locale}/{channel}", response_model=TemplateDetail)
def get_template(
    request: Request, session: DbSession, user: Operator, kind: str, locale: str, channel: str
) -> TemplateDetail:
    """The active text and the variables it may use (described in the caller's language)."""
    text = service.get_active(session, kind, locale, channel)
    return _detail(request, text)


@router.put("/templates/{kind}/{locale}/{channel}", response_model=TemplateDetail)
def put_template(
    request: Request,
    session: DbSession,
    user: Senior,
    kind: str,
    locale: str,
    channel: str,
    body: TemplateIn,
) -> TemplateDetail:
    """Save a new version (seniors and above); the old one stays in the history."""
    text, changed = service.save(
        session,
        settings_of(request),
        kind,
        locale,
        channel,
        subject=body.subject,
        body=body.body,
        note=body.note,
        actor=user.actor,
        override_reason=body.override_reason,
    )
    session.commit()
    return _detail(request, text, changed)


@router.get("/templates/{kind}/{locale}/{channel}/versions", response_model=VersionList)
def list_versions(
    request: Request, session: DbSession, user: Operator, kind: str, locale: str, channel: str
) -> VersionList:
    """Who changed the template and when, newest first."""
    versions = service.list_versions(session, kind, locale, channel)
    zone = settings_of(request).timezone
    return VersionList(versions=[template_out(v, zone) for v in versions])


@router.post("/templates/{kind}/{locale}/{channel}/restore", response_model=TemplateOut)
def restore_version(
    request: Request,
    session: DbSession,
    user: Senior,
    kind: str,
    locale: str,
    channel: str,
    body: RestoreIn,
) -> TemplateOut:
    """Bring an old version back as the newest one (seniors and above)."""
    settings = settings_of(request)
    text = service.restore(session, settings, kind, locale, channel, body.version, actor=user.actor)
    session.commit()
    return template_out(text, settings.timezone)


@router.post("/templates/render", response_model=RenderOut)
def render(request: Request, session: DbSession, user: Operator, body: RenderIn) -> RenderOut:
    """Preview: the active template (or a draft ``body``) rendered with a record's facts.

    Name an ``incident`` (or a ``maintenance``), or ask for a ``sample``; the
    rendered body comes back with the message check's findings.
    """
    settings = settings_of(request)
    draft = None
    if body.body is not None:
        draft = rules.Source(subject=body.subject, body=body.body)
    options: dict[str, Any] = {
        "customer_name": body.customer_name,
        "inquiry_reference": body.inquiry_reference,
        "answer": body.answer,
        "support_plan": body.support_plan,
        "next_update_at": to_utc(body.next_update_at, settings.timezone, field="next_update_at"),
        "reply_by": to_utc(body.reply_by, settings.timezone, field="reply_by"),
    }
    rendered, findings = records.preview(
        session,
        settings,
        body.kind,
        body.locale,
        body.channel,
        source=draft,
        incident_ref=body.incident,
        maintenance_ref=body.maintenance,
        sample=body.sample,
        options=options,
    )
    return RenderOut(
        kind=rendered.kind,
        locale=rendered.locale,
        channel=rendered.channel,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        length=rendered.length,
        limit=rendered.limit,
        over_limit=rendered.over_limit,
        findings=[FindingOut.model_validate(f.as_dict()) for f in findings],
        has_errors=any(f.severity == "error" for f in findings),
    )
