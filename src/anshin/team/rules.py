"""Roles and what each may do — pure, no I/O.

R22: L1 operator (basic explanation and apology), L2 senior (detailed
explanation, alternatives), L3 supervisor (special handling and decisions);
``admin`` manages people and tokens. R27: authority is delegated by rank so
front-line agents can act within limits.
"""

from __future__ import annotations

ROLES: tuple[str, ...] = ("operator", "senior", "supervisor", "admin")
ROLE_RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES, start=1)}

# The lowest role allowed to do each thing.
PERMISSIONS: dict[str, str] = {
    "incident.declare": "operator",
    "incident.update": "operator",
    "incident.resolve": "operator",
    "component.manage": "senior",
    "maintenance.manage": "senior",
    "message.override_check": "senior",
    "user.manage": "admin",
    "token.manage": "admin",
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
