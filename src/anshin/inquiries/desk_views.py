"""The inquiry page's actions: claim, release, take over, level, stage, triage (R19-R23).

Each posts a small form from ``/console/inquiries/{ref}`` and, done, comes back
to the page with a flash (Post/Redirect/Get). A refusal shows the page again
with what was typed and the reason beside the field: a claim lost to another
agent says who holds it and since when (409).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from anshin.errors import AnshinError
from anshin.i18n import N_
from anshin.inquiries import claims, escalation, service, share
from anshin.inquiries.models import Inquiry
from anshin.inquiries.views import render_detail
from anshin.team.models import User
from anshin.web.auth import DbSession, Operator, Senior
from anshin.web.deps import settings_of
from anshin.web.views_helpers import PostedForm, error_for, flash, redirect

router = APIRouter(include_in_schema=False)


def _act(
    request: Request,
    session: Session,
    user: User,
    ref: str,
    action: Callable[[Inquiry], Any],
    done: str,
    *,
    values: dict[str, Any] | None = None,
    rename: dict[str, str] | None = None,
) -> Response:
    """Run one action on the inquiry; commit and redirect, or show the page with the refusal.

    ``rename`` maps a refusal's field to the form's (two forms share "reason").
    """
    inquiry = service.get(session, ref)
    try:
        action(inquiry)
    except AnshinError as exc:
        session.rollback()
        errors = error_for(request, exc)
        if rename:
            errors = {rename.get(k, k): v for k, v in errors.items()}
        return render_detail(
            request,
            session,
            user,
            service.get(session, ref),
            status=exc.status,
            errors=errors,
            values=values or {},
        )
    session.commit()
    flash(request, done)
    return redirect(f"/console/inquiries/{inquiry.reference}")


@router.post("/console/inquiries/{ref}/claim", response_class=HTMLResponse)
def claim_inquiry(request: Request, session: DbSession, user: Operator, ref: str) -> Response:
    """Hold the inquiry (R23): refused with the holder's name when someone was quicker."""
    zone = settings_of(request).timezone
    return _act(
        request,
        session,
        user,
        ref,
        lambda i: claims.claim(session, i, user, zone=zone),
        N_("You hold this inquiry now."),
    )


@router.post("/console/inquiries/{ref}/release", response_class=HTMLResponse)
def release_inquiry(request: Request, session: DbSession, user: Operator, ref: str) -> Response:
    """Let go of the inquiry: its holder, or a lead (R23)."""
    zone = settings_of(request).timezone
    return _act(
        request,
        session,
        user,
        ref,
        lambda i: claims.release(session, i, user, zone=zone),
        N_("Released: the inquiry is back in its queue."),
    )


@router.post("/console/inquiries/{ref}/takeover", response_class=HTMLResponse)
def take_over_inquiry(
    request: Request, session: DbSession, user: Senior, ref: str, form: PostedForm
) -> Response:
    """A lead takes the inquiry over with a reason (R23): seniors up to L2, supervisors all."""
    zone = settings_of(request).timezone
    reason = form.get("reason")
    return _act(
        request,
        session,
        user,
        ref,
        lambda i: claims.take_over(session, i, user, reason, zone=zone),
        N_("You took the inquiry over."),
        values={"reason": reason},
    )


@router.post("/console/inquiries/{ref}/level", response_class=HTMLResponse)
def change_level(
    request: Request, session: DbSession, user: Operator, ref: str, form: PostedForm
) -> Response:
    """Escalate or hand back down with a reason (R22)."""
    settings = settings_of(request)
    reason = form.get("reason")
    return _act(
        request,
        session,
        user,
        ref,
        lambda i: escalation.change_level(session, settings, i, user, form.get("level"), reason),
        N_("The level was changed."),
        values={"level_reason": reason},
        rename={"reason": "level_reason"},
    )


@router.post("/console/inquiries/{ref}/stage", response_class=HTMLResponse)
def move_stage(
    request: Request, session: DbSession, user: Operator, ref: str, form: PostedForm
) -> Response:
    """Move to the next stage of the flow, with what it asks for (R19)."""
    settings = settings_of(request)
    note = form.raw("note")
    target = form.get("stage")
    keys = form.getlist("department")

    def move(inquiry: Inquiry) -> None:
        escalation.move_stage(session, settings, inquiry, user, target, note=note or None)
        # R21: moving to 社内共有 with departments ticked sends them the inquiry too.
        share.on_move(session, settings, inquiry, target, keys, note, actor=user.actor)

    return _act(
        request,
        session,
        user,
        ref,
        move,
        N_("The stage was changed."),
        values={"note": note, "picked": keys, "picked_sent": "1"},
    )


@router.post("/console/inquiries/{ref}/triage", response_class=HTMLResponse)
def correct_triage(
    request: Request, session: DbSession, user: Operator, ref: str, form: PostedForm
) -> Response:
    """Correct one triage value with a reason (R20)."""
    settings = settings_of(request)
    reason = form.get("reason")
    return _act(
        request,
        session,
        user,
        ref,
        lambda i: escalation.correct_triage(
            session, settings, i, user, form.get("field"), form.get("value"), reason
        ),
        N_("The triage was corrected."),
        values={"value": form.get("value"), "triage_reason": reason},
        rename={"reason": "triage_reason"},
    )
