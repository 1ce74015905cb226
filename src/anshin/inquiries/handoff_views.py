"""Console pages of the handoff sheet: the sheet, its forms, its text download (R24, R27).

``/console/inquiries/{ref}/handoff`` shows the sheet (``_handoff.html``, also
included by the inquiry page) with the forms that feed it: a customer's
request and our decision, a commitment (refused beyond the agent's level by
the authority matrix, R27, with the reason shown next to the form and status
409), a kept mark, the next step with its deadline. ``handoff.txt`` is the
same sheet as plain text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.db import utcnow
from anshin.errors import AnshinError, InvalidInput
from anshin.i18n import N_
from anshin.inputs import parse_time
from anshin.inquiries import commitments, handoff, rules, service
from anshin.inquiries.models import Inquiry
from anshin.inquiries.page_links import after_post
from anshin.inquiries.policy import policy
from anshin.team.models import User
from anshin.web.auth import DbSession, Operator
from anshin.web.deps import request_locale, settings_of
from anshin.web.views_helpers import FormData, PostedForm, error_for, flash, page, redirect

router = APIRouter(include_in_schema=False)


def handoff_context(
    request: Request, session: Session, inquiry: Inquiry, now: dt.datetime | None = None
) -> dict[str, object]:
    """What ``_handoff.html`` needs: the sheet, the kinds this agent may promise, the owners."""
    settings = settings_of(request)
    sheet = handoff.build(session, settings, inquiry, locale=request_locale(request), now=now)
    team = list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)))
    return {
        "inquiry": inquiry,
        "sheet": sheet,
        "authority": dict(policy(settings).authority),
        "kind_labels": handoff.KIND_LABELS,
        "decisions": [d for d in rules.RequestDecision if d != rules.RequestDecision.PENDING],
        "decision_labels": handoff.DECISION_LABELS,
        "team": team,
    }


def _page(
    request: Request,
    session: Session,
    user: User,
    inquiry: Inquiry,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, object] | None = None,
) -> HTMLResponse:
    return page(
        request,
        user,
        "inquiries/handoff.html",
        status=status,
        errors=errors or {},
        values=values or {},
        my_level=rules.role_level(user.role),
        **handoff_context(request, session, inquiry),
    )


def _time(form: FormData, name: str, zone: str) -> dt.datetime | None:
    text = form.get(name)
    return parse_time(text, zone, field=name) if text else None


@router.get("/console/inquiries/{ref}/handoff", response_class=HTMLResponse)
def handoff_page(request: Request, ref: str, session: DbSession, user: Operator) -> Response:
    """The handoff sheet with its forms (R24)."""
    return _page(request, session, user, service.get(session, ref))


@router.get("/console/inquiries/{ref}/handoff.txt", response_class=PlainTextResponse)
def handoff_text(request: Request, ref: str, session: DbSession, user: Operator) -> Response:
    """The handoff sheet as plain text, in the reader's language."""
    inquiry = service.get(session, ref)
    body = handoff.text(session, settings_of(request), inquiry, locale=request_locale(request))
    return PlainTextResponse(body, headers={"Cache-Control": "no-store"})


def _apply(
    request: Request,
    session: Session,
    user: User,
    ref: str,
    form: FormData,
    change: Callable[[Inquiry], object],
    done: str,
    *,
    field: str = "_form",
) -> Response:
    """Run one change on the inquiry: commit and go back with ``done`` (to the sheet, or to
    the inquiry page the form came from), or roll back and show the sheet again with the
    reason next to the form (and what was typed)."""
    inquiry = service.get(session, ref)
    try:
        change(inquiry)
    except AnshinError as exc:
        session.rollback()
        return _page(
            request,
            session,
            user,
            service.get(session, ref),
            status=exc.status,
            errors=error_for(request, exc, field),
            values=form.values(),
        )
    session.commit()
    flash(request, done)
    own = f"/console/inquiries/{inquiry.reference}/handoff"
    return redirect(after_post(form, inquiry.reference, own))


@router.post("/console/inquiries/{ref}/requests")
def add_request(
    request: Request, ref: str, session: DbSession, user: Operator, form: PostedForm
) -> Response:
    """Record a customer's request (お願い)."""
    return _apply(
        request,
        session,
        user,
        ref,
        form,
        lambda inquiry: commitments.add_request(
            session, inquiry, form.raw("text"), actor=user.actor
        ),
        N_("The request was recorded."),
    )


@router.post("/console/inquiries/{ref}/requests/{request_id}")
def decide_request(
    request: Request,
    ref: str,
    request_id: int,
    session: DbSession,
    user: Operator,
    form: PostedForm,
) -> Response:
    """Decide a request: accepted, declined, or an alternative offered."""
    return _apply(
        request,
        session,
        user,
        ref,
        form,
        lambda inquiry: commitments.decide_request(
            session,
            inquiry,
            request_id,
            form.get("decision"),
            alternative=form.raw("alternative"),
            actor=user.actor,
        ),
        N_("The decision was recorded."),
    )


@router.post("/console/inquiries/{ref}/commitments")
def add_commitment(
    request: Request, ref: str, session: DbSession, user: Operator, form: PostedForm
) -> Response:
    """Record a commitment (お約束) — only within the agent's authority (R27)."""
    settings = settings_of(request)

    def change(inquiry: Inquiry) -> object:
        owner = session.get(User, form.choice_id("owner")) if form.get("owner") else user
        if owner is None:
            raise InvalidInput(N_("Choose one from the list."), field="owner")
        return commitments.add_commitment(
            session,
            settings,
            inquiry,
            by=user,
            kind=form.get("kind"),
            description=form.raw("description"),
            due_at=_time(form, "due_at", settings.timezone),
            owner=owner,
            now=utcnow(),
        )

    return _apply(
        request, session, user, ref, form, change, N_("The commitment was recorded."), field="kind"
    )


@router.post("/console/inquiries/{ref}/commitments/{commitment_id}/kept")
def keep_commitment(
    request: Request,
    ref: str,
    commitment_id: int,
    session: DbSession,
    user: Operator,
    form: PostedForm,
) -> Response:
    """Mark a commitment kept."""
    return _apply(
        request,
        session,
        user,
        ref,
        form,
        lambda inquiry: commitments.keep(session, inquiry, commitment_id, actor=user.actor),
        N_("The commitment is marked kept."),
    )


@router.post("/console/inquiries/{ref}/next-action")
def set_next_action(
    request: Request, ref: str, session: DbSession, user: Operator, form: PostedForm
) -> Response:
    """Set the proposed next step and its deadline."""
    zone = settings_of(request).timezone
    return _apply(
        request,
        session,
        user,
        ref,
        form,
        lambda inquiry: commitments.set_next_action(
            session,
            inquiry,
            form.raw("next_action"),
            _time(form, "next_action_due_at", zone),
            actor=user.actor,
        ),
        N_("The next step was saved."),
    )
