"""Roles and what each may do — pure, no I/O.

R22: L1 operator (basic explanation and apology), L2 senior (detailed
explanation, alternatives), L3 supervisor (special handling and decisions);
``admin`` manages people and tokens. R27: authority is delegated by rank so
front-line agents can act within limits.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A console user's rank, lowest first (the order is the rank)."""

    OPERATOR = "operator"
    SENIOR = "senior"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


ROLES: tuple[str, ...] = tuple(Role)
ROLE_RANK: dict[str, int] = {role: rank for rank, role in enumerate(Role, start=1)}

# The lowest role allowed to do each thing. Routes name the same role through the
# typed aliases of anshin.web.auth; pages and checks ask ``can()``.
PERMISSIONS: dict[str, Role] = {
    "incident.declare": Role.OPERATOR,
    "incident.update": Role.OPERATOR,
    "incident.resolve": Role.OPERATOR,
    # Reopening tells every subscriber the resolution was wrong: a senior decides (R22).
    "incident.reopen": Role.SENIOR,
    "component.manage": Role.SENIOR,
    "maintenance.manage": Role.SENIOR,
    "message.override_check": Role.SENIOR,
    # Subscribers hold customers' personal data (the API's subscriber routes, the console page).
    "subscriber.manage": Role.SENIOR,
    # Full recipient addresses of deliveries; below this they are masked (R22).
    "delivery.addresses": Role.SUPERVISOR,
    # Put someone else on or off duty (everyone may set their own flag).
    "duty.set_others": Role.ADMIN,
    "user.manage": Role.ADMIN,
    "token.manage": Role.ADMIN,
}


def is_role(value: str) -> bool:
    """True for a known role name."""
    return value in ROLE_RANK


def at_least(role: str, minimum: str) -> bool:
    """True when ``role`` ranks at or above ``minimum``."""
    return ROLE_RANK.get(role, 0) >= ROLE_RANK[minimum]


def can(role: str, action: str) -> bool:
    """True when ``role`` may perform ``action`` (an entry of PERMISSIONS)."""
    return at_least(role, PERMISSIONS[action])
