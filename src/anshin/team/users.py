"""An administrator's changes to people: role, active or not, a new password (R22, issue 7).

Each change ends every console session of that user (team.sessions): a person
whose rank was lowered or who was deactivated must not keep acting with what a
copied or open session allowed, and a reset password must lock out whoever
knew the old one. Bearer tokens follow their owner: a deactivated user's tokens
stop working (team.service.token_for), a changed role applies at once. At least
one active administrator always remains, so the team cannot lock itself out.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anshin import events
from anshin.errors import Conflict, InvalidInput, NotFound
from anshin.i18n import N_
from anshin.team import rules
from anshin.team import service as team_service
from anshin.team.models import User
from anshin.team.rules import Role
from anshin.team.sessions import end_all_for


def get_user(session: Session, user_id: int) -> User:
    """The user with this id, or NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("No such user."))
    return user


def find_user(session: Session, email: str) -> User:
    """The user with this email, or NotFound (the CLI names people by email)."""
    user = team_service.get_user_by_email(session, email)
    if user is None:
        raise NotFound(N_("No user with this email: {email}."), email=email)
    return user


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse to demote or deactivate the last active administrator."""
    if user.role != Role.ADMIN or not user.active:
        return
    admins = session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
    )
    if (admins or 0) <= 1:
        raise Conflict(N_("At least one active administrator must remain."))


def change_role(session: Session, user: User, role: str, *, actor: str) -> bool:
    """Give ``user`` another role (R22 levels); ends their sessions. False: it was the same."""
    if not rules.is_role(role):
        raise InvalidInput(
            N_("Unknown role: {role}. Use one of {roles}."),
            field="role",
            role=role,
            roles=", ".join(rules.ROLES),
        )
    if role == user.role:
        return False
    _keep_an_admin(session, user)
    before = user.role
    user.role = role
    ended = end_all_for(session, user.id)
    events.record(
        session,
        actor=actor,
        entity_type="user",
        entity_id=user.id,
        action="user.role_changed",
        before={"role": before},
        after={"role": role, "sessions_ended": ended},
    )
    return True


def set_active(session: Session, user: User, active: bool, *, actor: str) -> bool:
    """Deactivate (no sign-in, no tokens) or reactivate ``user``; ends their sessions."""
    if user.active == active:
        return False
    if not active:
        _keep_an_admin(session, user)
    user.active = active
    ended = end_all_for(session, user.id)
    events.record(
        session,
        actor=actor,
        entity_type="user",
        entity_id=user.id,
        action="user.reactivated" if active else "user.deactivated",
        after={"active": active, "sessions_ended": ended},
    )
    return True


def reset_password(session: Session, user: User, password: str, *, actor: str) -> None:
    """Set a new password (argon2id); ends every session of the user."""
    if len(password) < team_service.MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            N_("The password must be at least {n} characters."),
            field="password",
            n=team_service.MIN_PASSWORD_LENGTH,
        )
    user.password_hash = team_service.hash_password(password)
    ended = end_all_for(session, user.id)
    events.record(
        session,
        actor=actor,
        entity_type="user",
        entity_id=user.id,
        action="user.password_reset",
        after={"sessions_ended": ended},
    )
