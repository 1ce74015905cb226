"""Who is on duty: the team members the staff nudges go to (incidents.nudges).

Anyone may put themselves on or off duty; an admin may do it for anyone
(``team.rules`` ``duty.set_others``). Every change is an event.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin import events
from anshin.errors import Forbidden, NotFound
from anshin.i18n import N_
from anshin.team import rules
from anshin.team.models import User


def staff(session: Session) -> list[User]:
    """Everyone who can sign in, on-duty first, then by name."""
    stmt = select(User).where(User.active.is_(True)).order_by(User.on_duty.desc(), User.name)
    return list(session.scalars(stmt))


def on_duty(session: Session) -> list[User]:
    """The active users on duty now, by id."""
    stmt = select(User).where(User.active.is_(True), User.on_duty.is_(True)).order_by(User.id)
    return list(session.scalars(stmt))


def may_set(actor: User, target_id: int) -> bool:
    """Everyone decides their own flag; only ``duty.set_others`` may set another's."""
    return actor.id == target_id or rules.can(actor.role, "duty.set_others")


def set_on_duty(session: Session, actor: User, target_id: int, value: bool) -> User:
    """Put ``target_id`` on or off duty; 404 for nobody, 403 for someone else's flag."""
    target = session.get(User, target_id)
    if target is None or not target.active:
        raise NotFound(N_("No such user: {id}."), id=target_id)
    if not may_set(actor, target_id):
        raise Forbidden(N_("Only an administrator may put someone else on or off duty."))
    if target.on_duty != value:
        before = {"on_duty": target.on_duty}
        target.on_duty = value
        session.flush()
        events.record(
            session,
            actor=actor.actor,
            entity_type="user",
            entity_id=target.id,
            action="user.on_duty" if value else "user.off_duty",
            before=before,
            after={"on_duty": value},
        )
    return target
