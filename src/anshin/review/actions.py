"""The review's notes and prevention actions, with effect checks and re-fixes (R31, R32).

Each change is an event on the note or action in the same transaction, so
the review of the review (who classified the cause, who judged the fix
effective, when) is in the shared history. Callers commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin import events
from anshin.db import utcnow
from anshin.errors import NotFound
from anshin.i18n import N_
from anshin.incidents.models import Incident
from anshin.review import action_rules as rules
from anshin.review.models import (
    ENTITY_ACTION,
    ENTITY_NOTE,
    EffectCheck,
    PreventionAction,
    ReviewNote,
)
from anshin.team.models import User


def add_note(
    session: Session,
    incident: Incident,
    *,
    kind: object,
    body: object,
    cause_class: object = None,
    actor: str,
) -> ReviewNote:
    """A note of the review: went well, to improve, or a cause with its class (R31)."""
    clean_kind, text, cls = rules.check_note(kind, body, cause_class)
    note = ReviewNote(
        incident_id=incident.id,
        kind=clean_kind,
        cause_class=cls,
        body=text,
        author=actor,
        created_at=utcnow(),
    )
    session.add(note)
    session.flush()
    events.record(
        session,
        actor=actor,
        entity_type=ENTITY_NOTE,
        entity_id=note.id,
        action="review.note_added",
        after={"incident_id": incident.id, "kind": clean_kind, "cause_class": cls, "body": text},
    )
    return note


def notes(session: Session, incident: Incident) -> list[ReviewNote]:
    return list(
        session.scalars(
            select(ReviewNote).where(ReviewNote.incident_id == incident.id).order_by(ReviewNote.id)
        )
    )


def _snapshot(action: PreventionAction) -> dict[str, object]:
    return {
        "title": action.title,
        "owner": action.owner_name,
        "due_on": action.due_on.isoformat(),
        "state": action.state,
    }


def _record(
    session: Session, action: PreventionAction, name: str, actor: str, **after: object
) -> None:
    events.record(
        session,
        actor=actor,
        entity_type=ENTITY_ACTION,
        entity_id=action.id,
        action=name,
        after=_snapshot(action) | after,
    )


def add_action(
    session: Session,
    incident: Incident,
    *,
    title: object,
    owner: User,
    due_on: object,
    today: dt.date,
    cause_note: ReviewNote | None = None,
    refix_of: PreventionAction | None = None,
    actor: str,
) -> PreventionAction:
    """A prevention action with an owner and a due date (R31)."""
    text, due = rules.check_action(title, due_on, today=today)
    now = utcnow()
    action = PreventionAction(
        incident_id=incident.id,
        title=text,
        cause_note_id=cause_note.id if cause_note else None,
        owner_id=owner.id,
        owner_name=owner.name,
        due_on=due,
        state=rules.ActionState.OPEN,
        refix_of_id=refix_of.id if refix_of else None,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(action)
    session.flush()
    _record(
        session,
        action,
        "review.action_added",
        actor,
        refix_of=refix_of.id if refix_of else None,
    )
    return action


def get_action(session: Session, action_id: int) -> PreventionAction:
    action = session.get(PreventionAction, action_id)
    if action is None:
        raise NotFound(N_("No such prevention action: {id}."), id=action_id)
    return action


def mark_done(session: Session, action: PreventionAction, *, actor: str) -> PreventionAction:
    rules.check_done(action.state)
    action.state = rules.ActionState.DONE
    action.done_at = action.updated_at = utcnow()
    _record(session, action, "review.action_done", actor)
    return action


@dataclass(frozen=True)
class CheckResult:
    check: EffectCheck
    action: PreventionAction


def record_check(
    session: Session,
    action: PreventionAction,
    *,
    checked_on: object,
    effective: bool,
    note: str,
    actor: str,
    zone: dt.tzinfo,
    today: dt.date | None = None,
) -> CheckResult:
    """The effect check (効果検証): effective closes the action; not effective asks for a re-fix."""
    done_on = (action.done_at or utcnow()).astimezone(zone).date()
    day = rules.check_effect(action.state, checked_on, done_on=done_on, today=today)
    check = EffectCheck(
        action_id=action.id,
        checked_on=day,
        effective=effective,
        note=(note or "").strip()[: rules.NOTE_MAX],
        checked_by=actor,
        created_at=utcnow(),
    )
    session.add(check)
    action.state = rules.ActionState.EFFECTIVE if effective else rules.ActionState.NOT_EFFECTIVE
    action.updated_at = utcnow()
    session.flush()
    _record(
        session,
        action,
        "review.effect_checked",
        actor,
        checked_on=day.isoformat(),
        effective=effective,
        note=check.note,
    )
    return CheckResult(check, action)


def add_refix(
    session: Session,
    failed: PreventionAction,
    *,
    title: object,
    owner: User,
    due_on: object,
    today: dt.date,
    actor: str,
) -> PreventionAction:
    """A new action for one whose effect check failed, linked to it (R31)."""
    rules.check_refix(failed.state)
    incident = session.get(Incident, failed.incident_id)
    assert incident is not None  # the foreign key cascades
    return add_action(
        session,
        incident,
        title=title,
        owner=owner,
        due_on=due_on,
        today=today,
        refix_of=failed,
        actor=actor,
    )


def actions(session: Session, incident: Incident) -> list[PreventionAction]:
    return list(
        session.scalars(
            select(PreventionAction)
            .where(PreventionAction.incident_id == incident.id)
            .order_by(PreventionAction.id)
        )
    )


def checks(session: Session, action: PreventionAction) -> list[EffectCheck]:
    return list(
        session.scalars(
            select(EffectCheck).where(EffectCheck.action_id == action.id).order_by(EffectCheck.id)
        )
    )


def overdue(session: Session, today: dt.date) -> list[PreventionAction]:
    """Open actions past their due date, across incidents, oldest due first (the dashboard)."""
    return list(
        session.scalars(
            select(PreventionAction)
            .where(
                PreventionAction.state == rules.ActionState.OPEN,
                PreventionAction.due_on < today,
            )
            .order_by(PreventionAction.due_on, PreventionAction.id)
        )
    )
