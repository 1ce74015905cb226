"""The review page's forms: notes, prevention actions, effect checks, re-fixes (R31, R32).

* ``POST /console/incidents/{ref}/review/notes`` — any operator: went well, to
  improve, or a cause with its class (person, process, system).
* ``POST /console/incidents/{ref}/review/actions`` — seniors and above: a
  prevention action with an owner from the active team and a due date.
* ``POST …/review/actions/{id}/done``, ``…/check``, ``…/refix`` — seniors and
  above: mark done, record the effect check, add a re-fix to a failed action.

Each route reads the form, calls review.actions, commits and redirects back to
the section it changed; a refusal re-renders the review page (4xx) with the
message beside the field and what was typed kept (review.views.render_review).
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from anshin.errors import AnshinError, InvalidInput, NotFound
from anshin.i18n import N_
from anshin.incidents import service as incidents
from anshin.incidents.models import Incident
from anshin.inputs import DbId
from anshin.review import action_rules, actions
from anshin.review.models import PreventionAction
from anshin.review.views import render_review
from anshin.team.models import User
from anshin.timefmt import today_local
from anshin.web.auth import DbSession, Operator, Senior
from anshin.web.deps import settings_of
from anshin.web.views_helpers import FormData, PostedForm, error_for, flash, redirect

router = APIRouter(include_in_schema=False)

BASE = "/console/incidents/{ref}/review"


def _owner(session: Session, form: FormData) -> User:
    """The owner chosen from the list of active team members."""
    owner = session.get(User, form.choice_id("owner"))
    if owner is None or not owner.active:
        raise InvalidInput(N_("Choose one from the list."), field="owner")
    return owner


def _action_of(session: Session, incident: Incident, action_id: int) -> PreventionAction:
    """An action of this incident (another incident's id is not found here)."""
    action = actions.get_action(session, action_id)
    if action.incident_id != incident.id:
        raise NotFound(N_("No such prevention action: {id}."), id=action_id)
    return action


def _apply(
    request: Request,
    session: Session,
    user: User,
    ref: str,
    form: FormData,
    failed: str,
    change: Callable[[Incident], object],
    done: str,
    anchor: str,
) -> Response:
    """Run one change; commit and go back to the section, or re-render with the error."""
    incident = incidents.get(session, ref)
    try:
        change(incident)
    except AnshinError as exc:
        session.rollback()
        return render_review(
            request,
            session,
            user,
            incident.reference,
            status=exc.status,
            errors=error_for(request, exc),
            failed=failed,
            values=form.values(),
        )
    session.commit()
    flash(request, done)
    return redirect(f"/console/incidents/{incident.reference}/review#{anchor}")


@router.post(BASE + "/notes")
def add_note(
    request: Request, session: DbSession, user: Operator, ref: str, form: PostedForm
) -> Response:
    """A note of the review; a cause needs its class (R31)."""

    def change(incident: Incident) -> object:
        return actions.add_note(
            session,
            incident,
            kind=form.get("kind"),
            body=form.raw("body"),
            cause_class=form.get("cause_class") or None,
            actor=user.actor,
        )

    return _apply(
        request, session, user, ref, form, "note", change, N_("The note was added."), "notes"
    )


@router.post(BASE + "/actions")
def add_action(
    request: Request, session: DbSession, user: Senior, ref: str, form: PostedForm
) -> Response:
    """A prevention action with its owner and due date (R31)."""

    def change(incident: Incident) -> object:
        return actions.add_action(
            session,
            incident,
            title=form.get("title"),
            owner=_owner(session, form),
            due_on=action_rules.parse_day(form.get("due_on"), "due_on"),
            today=today_local(settings_of(request).timezone),
            actor=user.actor,
        )

    return _apply(
        request,
        session,
        user,
        ref,
        form,
        "action",
        change,
        N_("The prevention action was added."),
        "actions",
    )


@router.post(BASE + "/actions/{action_id}/done")
def mark_done(
    request: Request, session: DbSession, user: Senior, ref: str, action_id: DbId, form: PostedForm
) -> Response:
    """The action was carried out; its effect is checked later."""

    def change(incident: Incident) -> object:
        action = _action_of(session, incident, action_id)
        return actions.mark_done(session, action, actor=user.actor)

    return _apply(
        request,
        session,
        user,
        ref,
        form,
        f"done-{action_id}",
        change,
        N_("The action was marked done."),
        f"action-{action_id}",
    )


@router.post(BASE + "/actions/{action_id}/check")
def record_check(
    request: Request, session: DbSession, user: Senior, ref: str, action_id: DbId, form: PostedForm
) -> Response:
    """The effect check (効果検証): the day, effective or not, what was seen."""

    def change(incident: Incident) -> object:
        action = _action_of(session, incident, action_id)
        effective = action_rules.check_result(form.get("result"))
        return actions.record_check(
            session,
            action,
            checked_on=action_rules.parse_day(form.get("checked_on"), "checked_on"),
            effective=effective,
            note=form.raw("note"),
            actor=user.actor,
            zone=ZoneInfo(settings_of(request).timezone),
            today=today_local(settings_of(request).timezone),
        )

    return _apply(
        request,
        session,
        user,
        ref,
        form,
        f"check-{action_id}",
        change,
        N_("The effect check was recorded."),
        f"action-{action_id}",
    )


@router.post(BASE + "/actions/{action_id}/refix")
def add_refix(
    request: Request, session: DbSession, user: Senior, ref: str, action_id: DbId, form: PostedForm
) -> Response:
    """A new action for one whose effect check failed, linked to it (R31)."""

    def change(incident: Incident) -> object:
        return actions.add_refix(
            session,
            _action_of(session, incident, action_id),
            title=form.get("title"),
            owner=_owner(session, form),
            due_on=action_rules.parse_day(form.get("due_on"), "due_on"),
            today=today_local(settings_of(request).timezone),
            actor=user.actor,
        )

    return _apply(
        request,
        session,
        user,
        ref,
        form,
        f"refix-{action_id}",
        change,
        N_("The re-fix was added."),
        "actions",
    )
