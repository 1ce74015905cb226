"""The console's phone form: an agent records a call while it lasts (R18, R20).

Built for typing during the call: the cursor starts in "what they said", the
few other fields follow in the order a caller gives them, Enter in a one-line
field (or Ctrl+Enter in the text) saves. After saving the page shows the
reference to read to the caller and a fresh form for the next call
(Post/Redirect/Get, so a reload never stores the call twice). The incident is
preselected when exactly one is open; the agent's choice wins over triage's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.errors import AnshinError, InvalidInput
from anshin.i18n import N_
from anshin.incidents import rules as incident_rules
from anshin.incidents.models import Incident
from anshin.inputs import Ref, parse_id
from anshin.inquiries import intake, rules, service
from anshin.inquiries.models import Inquiry
from anshin.team.models import User
from anshin.web.auth import DbSession, Operator
from anshin.web.deps import request_locale, settings_of
from anshin.web.views_helpers import PostedForm, error_for, page, redirect

router = APIRouter()

PATH = "/console/inquiries/phone"
FIELDS = ("text", "name", "phone", "organisation", "tier", "incident", "locale")
FORM_FIELD = {
    "customer_name": "name",
    "customer_phone": "phone",
    "customer_org": "organisation",
    "customer_tier": "tier",
}


def _open_incidents(session: Session) -> list[Incident]:
    return list(
        session.scalars(
            select(Incident)
            .where(Incident.status.in_(incident_rules.OPEN_STATUSES))
            .order_by(Incident.declared_at.desc())
        )
    )


def _form(
    request: Request,
    session: Session,
    user: User,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    taken: Inquiry | None = None,
    status: int = 200,
) -> Response:
    incidents = _open_incidents(session)
    if values is None:
        values = {
            "tier": rules.Tier.STANDARD,
            "keep_informed": True,
            "locale": "ja",
            # One outage open: the call is almost surely about it.
            "incident": str(incidents[0].id) if len(incidents) == 1 else "",
        }
    taken_incident = (
        session.get(Incident, taken.incident_id) if taken and taken.incident_id else None
    )
    return page(
        request,
        user,
        "inquiries/phone.html",
        status=status,
        values=values,
        errors=errors or {},
        incidents=incidents,
        taken=taken,
        taken_incident=taken_incident,
        tiers=tuple(rules.Tier),
        text_max=service.TEXT_MAX,
        name_max=service.NAME_MAX,
        phone_max=service.PHONE_MAX,
    )


@router.get(PATH)
def phone_form(
    request: Request,
    session: DbSession,
    user: Operator,
    taken: Annotated[Ref | None, Query(description="The reference just saved")] = None,
) -> Response:
    """A fresh form; after a save, the reference to read to the caller above it."""
    saved: Inquiry | None = None
    if taken:
        try:
            saved = service.get(session, taken)
        except AnshinError:
            saved = None  # a stale or hand-typed link: the form is what matters
    return _form(request, session, user, taken=saved)


def _incident_id(session: Session, value: str) -> int | None:
    """The incident the agent chose (an open one), or None for "let triage decide"."""
    if not value:
        return None
    number = parse_id(value)
    incident = session.get(Incident, number) if number is not None else None
    if incident is None or incident.status not in incident_rules.OPEN_STATUSES:
        raise InvalidInput(N_("Choose an open incident from the list."), field="incident")
    return incident.id


@router.post(PATH)
def phone_save(request: Request, session: DbSession, user: Operator, form: PostedForm) -> Response:
    """Store the call (stored first, triaged, R18) and show its reference with a fresh form."""
    settings = settings_of(request)
    values: dict[str, Any] = {name: form.get(name) for name in FIELDS}
    values["text"] = form.raw("text")
    values["keep_informed"] = form.checked("keep_informed")
    try:
        incident_id = _incident_id(session, values["incident"])
        inquiry = intake.take(
            session,
            settings,
            service.NewInquiry(
                channel=rules.Channel.PHONE,
                text=values["text"],
                customer_name=values["name"],
                customer_phone=values["phone"],
                customer_org=values["organisation"],
                customer_tier=values["tier"] or rules.Tier.STANDARD,
                locale=values["locale"] or request_locale(request),
                keep_informed=values["keep_informed"],
                extra={"taken_by": user.name},
            ),
            actor=user.actor,
            incident_id=incident_id,
        )
    except AnshinError as exc:
        session.rollback()
        exc.field = FORM_FIELD.get(exc.field or "", exc.field)
        return _form(
            request,
            session,
            user,
            values=values,
            errors=error_for(request, exc),
            status=exc.status,
        )
    session.commit()
    return redirect(f"{PATH}?taken={inquiry.reference}")
