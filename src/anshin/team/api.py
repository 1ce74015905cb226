"""``GET /api/me``: who the caller is and what their role allows (R22, R27).

Integrations call it to check their token; the console's scripts to know which
actions to offer.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from anshin.team import rules
from anshin.team.models import User
from anshin.web.auth import Operator

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
