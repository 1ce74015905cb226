"""The skill map (R28): what each agent can take in a surge — levels, languages, incident work.

A lead reads it to decide whom to pull in when a queue's oldest wait passes the
threshold; the desk reads ``max_level`` to decide who may claim what. An agent
without a row has the defaults: their role's level, Japanese, incident-capable.
Only a lead (supervisor) or an administrator changes it, each change an event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin import events
from anshin.db import utcnow
from anshin.errors import Forbidden, InvalidInput, NotFound
from anshin.i18n import N_, SUPPORTED_LOCALES
from anshin.team import rules
from anshin.team.models import AgentSkill, User

MAX_LEVEL = 3
# The languages an agent may answer in: the ones the console and the templates speak.
LANGUAGES: tuple[str, ...] = tuple(SUPPORTED_LOCALES)


def role_cap(role: str) -> int:
    """The highest level a role answers at (R22): operator 1, senior 2, supervisor and admin 3.

    The same table as ``inquiries.rules.ROLE_LEVEL``; team sits below inquiries and
    cannot import it, so a test keeps the two equal.
    """
    return min(rules.ROLE_RANK.get(role, 0), MAX_LEVEL)


def may_edit(actor: User) -> bool:
    """Leads (supervisors) and administrators shape the skill map (R28)."""
    return rules.at_least(actor.role, rules.Role.SUPERVISOR)


@dataclass(frozen=True)
class Skill:
    """One agent's line on the skill map, defaults filled in."""

    user: User
    role_level: int
    max_level: int
    languages: tuple[str, ...]
    incident_capable: bool
    updated_at: dt.datetime | None

    @property
    def level(self) -> int:
        """The level the agent answers at: the role's, lowered by the lead's cap (R22, R28)."""
        return min(self.role_level, self.max_level)


def _skill(user: User, row: AgentSkill | None) -> Skill:
    cap = role_cap(user.role)
    if row is None:
        return Skill(user, cap, cap, ("ja",), True, None)
    return Skill(
        user,
        cap,
        min(row.max_level or cap, cap),
        tuple(row.languages or ()),
        bool(row.incident_capable),
        row.updated_at,
    )


def skill_of(session: Session, user: User) -> Skill:
    """One agent's skills."""
    return _skill(user, session.get(AgentSkill, user.id))


def level_of(session: Session, user: User) -> int:
    """The level ``user`` may answer at: role level capped by ``max_level`` when set (R22, R28)."""
    return skill_of(session, user).level


def skill_map(session: Session) -> list[Skill]:
    """Every active agent with their skills: on duty first, then by level (highest), then name."""
    users = list(session.scalars(select(User).where(User.active.is_(True))))
    rows = {
        row.user_id: row
        for row in session.scalars(
            select(AgentSkill).where(AgentSkill.user_id.in_([u.id for u in users]))
        )
    }
    skills = [_skill(u, rows.get(u.id)) for u in users]
    return sorted(skills, key=lambda s: (not s.user.on_duty, -s.level, s.user.name))


def set_skill(
    session: Session,
    actor: User,
    target_id: int,
    *,
    max_level: int | None = None,
    languages: list[str] | None = None,
    incident_capable: bool | None = None,
    now: dt.datetime | None = None,
) -> Skill:
    """Change an agent's cap, languages or incident work (R28); a lead or admin only.

    ``max_level`` above the role's level is refused rather than silently lowered:
    a lead who asks for L3 from an operator should change the role instead.
    """
    if not may_edit(actor):
        raise Forbidden(N_("Only a supervisor or an administrator may change the skill map."))
    target = session.get(User, target_id)
    if target is None or not target.active:
        raise NotFound(N_("No such user: {id}."), id=target_id)
    cap = role_cap(target.role)
    row = session.get(AgentSkill, target.id)
    if row is None:
        row = AgentSkill(user_id=target.id, max_level=cap, languages=["ja"], incident_capable=True)
        session.add(row)
    before = {
        "max_level": row.max_level,
        "languages": list(row.languages or []),
        "incident_capable": row.incident_capable,
    }
    if max_level is not None:
        if isinstance(max_level, bool) or max_level not in range(1, MAX_LEVEL + 1):
            raise InvalidInput(N_("The level must be 1, 2 or 3."), field="max_level")
        if max_level > cap:
            raise InvalidInput(
                N_("This role answers at level {cap} at most."), field="max_level", cap=cap
            )
        row.max_level = max_level
    if languages is not None:
        chosen = [code for code in LANGUAGES if code in set(languages)]
        unknown = sorted(set(languages) - set(LANGUAGES))
        if unknown:
            raise InvalidInput(
                N_("Unknown language: {value}."), field="languages", value=", ".join(unknown)
            )
        if not chosen:
            raise InvalidInput(N_("Choose at least one language."), field="languages")
        row.languages = chosen
    if incident_capable is not None:
        row.incident_capable = incident_capable
    row.updated_at = now or utcnow()
    session.flush()
    after = {
        "max_level": row.max_level,
        "languages": list(row.languages),
        "incident_capable": row.incident_capable,
    }
    if after != before:
        events.record(
            session,
            actor=actor.actor,
            entity_type="user",
            entity_id=target.id,
            action="user.skills_changed",
            before=before,
            after=after,
        )
    return _skill(target, row)
