"""Training drills in the console (R33).

* ``GET /console/drills`` — the shared library (good and bad examples), the
  signed-in agent's own attempts, and for supervisors the new-drill form.
* ``GET /console/drills/new?from=Q-…`` / ``POST /console/drills`` — a supervisor
  reads the anonymised draft of a past inquiry, edits it and saves the drill.
* ``GET /console/drills/{id}`` / ``POST /console/drills/{id}/attempts`` — a
  trainee writes the reply and sees the check, matching articles and the sent reply.
* ``GET /console/drills/trainees`` — supervisors follow each trainee's history.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from anshin.errors import AnshinError
from anshin.i18n import N_
from anshin.inputs import DbId
from anshin.review import drills
from anshin.review.models import Drill
from anshin.team import users
from anshin.team.models import User
from anshin.web.auth import DbSession, Operator, Supervisor
from anshin.web.views_helpers import PostedForm, error_for, flash, page, redirect

router = APIRouter(include_in_schema=False)


def _library(
    request: Request, session: Session, user: User, label: str, **extra: Any
) -> HTMLResponse:
    status = extra.pop("status", 200)
    return page(
        request,
        user,
        "review/drills.html",
        status=status,
        drills=drills.library(session, label if label in ("good", "bad") else None),
        label=label,
        mine=drills.attempts_of(session, user)[:20],
        is_supervisor=user.role in drills.SUPERVISORS,
        **extra,
    )


@router.get("/console/drills", response_class=HTMLResponse)
def library(request: Request, session: DbSession, user: Operator, label: str = "") -> Response:
    """The shared library of drills and the agent's own attempts (R33)."""
    return _library(request, session, user, label)


def _new_page(request: Request, user: User, values: dict[str, Any], **extra: Any) -> HTMLResponse:
    status = extra.pop("status", 200)
    return page(request, user, "review/drill_new.html", status=status, values=values, **extra)


@router.get("/console/drills/new", response_class=HTMLResponse)
def new_drill(request: Request, session: DbSession, user: Supervisor) -> Response:
    """The new-drill form, filled from a past inquiry when ``?from=Q-…`` names one."""
    source = request.query_params.get("from", "").strip()
    values: dict[str, Any] = {
        "customer_text": "",
        "sent_reply": "",
        "incident_title": "",
        "source": "",
    }
    if source:
        try:
            draft = drills.draft_from_inquiry(session, source)
        except AnshinError as exc:
            return _new_page(
                request,
                user,
                values | {"source": source},
                status=exc.status,
                errors=error_for(request, exc, "source"),
            )
        values = {
            "customer_text": draft.customer_text,
            "sent_reply": draft.sent_reply,
            "incident_title": draft.incident_title,
            "source": draft.source_reference,
            "locale": draft.locale,
        }
    return _new_page(request, user, values, errors={})


@router.post("/console/drills", response_class=HTMLResponse)
def create_drill(
    request: Request, session: DbSession, user: Supervisor, form: PostedForm
) -> Response:
    """Save the drill as the supervisor edited it."""
    values = {
        "customer_text": form.get("customer_text") or "",
        "sent_reply": form.get("sent_reply") or "",
        "incident_title": form.get("incident_title") or "",
        "source": form.get("source") or "",
        "locale": form.get("locale") or "ja",
        "label": form.get("label") or "",
        "note": form.get("note") or "",
    }
    try:
        drill = drills.create(
            session,
            user,
            customer_text=values["customer_text"],
            sent_reply=values["sent_reply"],
            incident_title=values["incident_title"],
            locale=values["locale"],
            label=values["label"],
            note=values["note"],
            source_reference=values["source"] or None,
        )
    except AnshinError as exc:
        session.rollback()
        return _new_page(request, user, values, status=exc.status, errors=error_for(request, exc))
    session.commit()
    flash(request, N_("The drill was saved."))
    return redirect(f"/console/drills/{drill.id}")


def _drill_page(
    request: Request, session: Session, user: User, drill: Drill, **extra: Any
) -> HTMLResponse:
    status = extra.pop("status", 200)
    return page(request, user, "review/drill.html", status=status, drill=drill, **extra)


@router.get("/console/drills/trainees", response_class=HTMLResponse)
def trainees(request: Request, session: DbSession, user: Supervisor, trainee: str = "") -> Response:
    """Each trainee's attempts, for the supervisor (R33)."""
    chosen = None
    history: list[Any] = []
    if trainee.isascii() and trainee.isdigit() and len(trainee) <= 9:
        chosen = users.get_user(session, int(trainee))
        history = [(a, drills.stored_findings(a)) for a in drills.attempts_of(session, chosen)]
    return page(
        request,
        user,
        "review/drill_trainees.html",
        summaries=drills.trainees(session),
        chosen=chosen,
        history=history,
        titles={d.id: d.customer_text[:40] for d in drills.library(session)},
    )


@router.get("/console/drills/{drill_id}", response_class=HTMLResponse)
def show_drill(request: Request, session: DbSession, user: Operator, drill_id: DbId) -> Response:
    """The customer's words and a box for the trainee's reply."""
    return _drill_page(request, session, user, drills.get(session, drill_id), reply="", errors={})


@router.post("/console/drills/{drill_id}/attempts", response_class=HTMLResponse)
def attempt(
    request: Request, session: DbSession, user: Operator, drill_id: DbId, form: PostedForm
) -> Response:
    """Check the reply and show the feedback beside it (the reply is kept on the page)."""
    drill = drills.get(session, drill_id)
    reply = form.get("reply") or ""
    try:
        feedback = drills.attempt(session, drill, user, reply)
    except AnshinError as exc:
        session.rollback()
        return _drill_page(
            request,
            session,
            user,
            drill,
            status=exc.status,
            reply=reply,
            errors=error_for(request, exc),
        )
    session.commit()
    return _drill_page(request, session, user, drill, reply=reply, errors={}, feedback=feedback)
