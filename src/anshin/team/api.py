"""``/api/me`` and the administrator's ``/api/users`` (R22, R27, issue 7).

``GET /api/me``: integrations call it to check their token; the console's
scripts to know which actions to offer. ``/api/users``: list people, change a
role, deactivate or reactivate, set a new password — each change ends that
user's console sessions (team.users).
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from anshin.inputs import DbId, StrictInput, Text
from anshin.team import rules, users
from anshin.team import service as team_service
from anshin.team.models import User
from anshin.web.auth import Admin, DbSession, Operator

router = APIRouter(prefix="/api", tags=["team"])


class MeOut(BaseModel):
    """The caller, and the actions their role allows (team.rules.PERMISSIONS)."""

    id: int
    email: str
    name: str
    role: str
    locale: str
    permissions: list[str]


def me_out(user: User) -> MeOut:
    """The user with the actions their rank allows."""
    return MeOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        locale=user.locale,
        permissions=[action for action in rules.PERMISSIONS if rules.can(user.role, action)],
    )


@router.get("/me", response_model=MeOut)
def me(user: Operator) -> MeOut:
    """The signed-in user or the owner of the bearer token."""
    return me_out(user)


class UserOut(BaseModel):
    """A person who can sign in (never their password hash)."""

    id: int
    email: str
    name: str
    role: str
    locale: str
    active: bool


class UsersOut(BaseModel):
    """Everyone, by role then name."""

    users: list[UserOut]


class UserPatch(StrictInput):
    """Fields not sent keep their value. ``role``: R22 level; ``active``: false deactivates."""

    role: Text | None = Field(default=None, max_length=20)
    active: bool | None = None


class PasswordIn(StrictInput):
    """A new password (at least 8 characters); the user's sessions end."""

    password: Text = Field(max_length=1000)


def user_out(user: User) -> UserOut:
    """The API's view of a user."""
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        locale=user.locale,
        active=user.active,
    )


@router.get("/users", response_model=UsersOut)
def list_users(session: DbSession, user: Admin) -> UsersOut:
    """Admin: everyone who can sign in, active or not."""
    return UsersOut(users=[user_out(u) for u in team_service.list_users(session)])


@router.patch("/users/{user_id}", response_model=UserOut)
def edit_user(session: DbSession, user: Admin, user_id: DbId, body: UserPatch) -> UserOut:
    """Admin: change the role or deactivate/reactivate; the user's sessions end (issue 7)."""
    target = users.get_user(session, user_id)
    if body.role is not None:
        users.change_role(session, target, body.role, actor=user.actor)
    if body.active is not None:
        users.set_active(session, target, body.active, actor=user.actor)
    session.commit()
    return user_out(target)


@router.post("/users/{user_id}/password", response_model=UserOut)
def reset_password(session: DbSession, user: Admin, user_id: DbId, body: PasswordIn) -> UserOut:
    """Admin: set a new password; every session of the user ends."""
    target = users.get_user(session, user_id)
    users.reset_password(session, target, body.password, actor=user.actor)
    session.commit()
    return user_out(target)
