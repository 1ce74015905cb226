"""Claims: one agent holds an inquiry, so two can never both reply (R23).

The lock is the ``claimed_by_id`` column, set by one conditional UPDATE
(``… WHERE claimed_by_id IS NULL AND closed_at IS NULL``): the database
decides, not the page. Two agents racing for the same inquiry both send the
UPDATE; exactly one changes a row, the other is told who holds it and since
when (409). A lead may take an inquiry over with a reason; the event keeps the
previous holder. Code that acts for the holder (replies, commitments) calls
:func:`require_holder` inside its own transaction.

Only an agent whose level covers the inquiry's may claim it (R22): the role's
level, capped by the skill map's ``max_level`` (R28, ``team.skills``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.orm import Session

from anshin.db import lock_for_update, utcnow
from anshin.errors import Conflict, Forbidden, InvalidInput
from anshin.i18n import N_
from anshin.inquiries import rules
from anshin.inquiries.models import Inquiry
from anshin.inquiries.service import record
from anshin.team import skills
from anshin.team.models import User
from anshin.timefmt import format_local

REASON_MAX = rules.NOTE_MAX


class HeldByOther(Conflict):
    """The inquiry is held by someone else: names them and since when (R23)."""

    def __init__(self, holder: User | None, since: dt.datetime | None, zone: str) -> None:
        super().__init__(
            N_("{name} holds this inquiry since {since}."),
            field="claim",
            name=holder.name if holder else "?",
            since=format_local(since, zone) if since else "?",
        )
        # Plain values: the API's error handler reads them after the session has ended.
        self.holder_id = holder.id if holder else None
        self.holder_name = holder.name if holder else None
        self.since = since

    def details(self) -> dict[str, object]:
        """The API's 409 says who holds it and since when, for the widget to show."""
        return {
            "holder": (
                {"id": self.holder_id, "name": self.holder_name} if self.holder_id else None
            ),
            "since": self.since.isoformat() if self.since else None,
        }


def agent_level(session: Session, user: User) -> int:
    """The level ``user`` answers at: ``rules.role_level`` capped by the skill map (R22, R28)."""
    return min(rules.role_level(user.role), skills.level_of(session, user))


def is_lead_for(user: User, inquiry: Inquiry) -> bool:
    """A lead may release or take over anyone's claim: supervisors and admins, seniors up to L2."""
    level = rules.role_level(user.role)
    if level >= 3:
        return True
    return level == 2 and inquiry.level <= 2


def holder_of(session: Session, inquiry: Inquiry) -> User | None:
    """The agent holding the inquiry, or None."""
    if inquiry.claimed_by_id is None:
        return None
    return session.get(User, inquiry.claimed_by_id)


def _held_by_other(session: Session, inquiry: Inquiry, zone: str) -> HeldByOther:
    return HeldByOther(holder_of(session, inquiry), inquiry.claimed_at, zone)


def check_can_handle(session: Session, inquiry: Inquiry, user: User) -> None:
    """Refuse an agent whose level does not cover the inquiry's (R22)."""
    if not rules.can_handle(agent_level(session, user), inquiry.level):
        raise Forbidden(
            N_("This inquiry is at level {level}; your level does not cover it."),
            field="claim",
            level=inquiry.level,
        )


def claim(
    session: Session,
    inquiry: Inquiry,
    user: User,
    *,
    zone: str = "UTC",
    now: dt.datetime | None = None,
) -> Inquiry:
    """Hold the inquiry for ``user``: one conditional UPDATE, the database decides (R23).

    Claiming one's own inquiry again changes nothing. A closed inquiry cannot
    be claimed; one held by someone else answers 409 naming the holder.
    """
    now = now or utcnow()
    check_can_handle(session, inquiry, user)
    result = session.execute(
        update(Inquiry)
        .where(
            Inquiry.id == inquiry.id,
            Inquiry.claimed_by_id.is_(None),
            Inquiry.closed_at.is_(None),
        )
        .values(claimed_by_id=user.id, claimed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(inquiry)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        if inquiry.closed_at is not None:
            raise Conflict(N_("This inquiry is closed; reopen it first."), field="claim")
        if inquiry.claimed_by_id == user.id:
            return inquiry
        raise _held_by_other(session, inquiry, zone)
    record(
        session,
        inquiry,
        actor=user.actor,
        action="inquiry.claimed",
        before={"claimed_by_id": None},
        after={"claimed_by_id": user.id, "claimed_by": user.name},
    )
    return inquiry


def release(
    session: Session,
    inquiry: Inquiry,
    user: User,
    *,
    zone: str = "UTC",
    now: dt.datetime | None = None,
) -> Inquiry:
    """Let go of the inquiry: its holder, or a lead (R23). It goes back to its queue."""
    now = now or utcnow()
    lock_for_update(session, inquiry)
    if inquiry.claimed_by_id is None:
        raise Conflict(N_("Nobody holds this inquiry."), field="claim")
    if inquiry.claimed_by_id != user.id and not is_lead_for(user, inquiry):
        raise _held_by_other(session, inquiry, zone)
    previous = holder_of(session, inquiry)
    before = {"claimed_by_id": inquiry.claimed_by_id, "claimed_at": inquiry.claimed_at}
    inquiry.claimed_by_id = None
    inquiry.claimed_at = None
    inquiry.updated_at = now
    session.flush()
    record(
        session,
        inquiry,
        actor=user.actor,
        action="inquiry.released",
        before={**before, "claimed_by": previous.name if previous else None},
        after={"claimed_by_id": None},
    )
    return inquiry


def check_reason(reason: str | None, field: str = "reason") -> str:
    """A reason is required for a takeover, an escalation, a correction (R20: why, on record)."""
    text = (reason or "").strip()
    if not text:
        raise InvalidInput(N_("Give a reason."), field=field)
    if len(text) > REASON_MAX:
        raise InvalidInput(
            N_("The reason must be at most {n} characters."), field=field, n=REASON_MAX
        )
    return text


def take_over(
    session: Session,
    inquiry: Inquiry,
    user: User,
    reason: str | None,
    *,
    zone: str = "UTC",
    now: dt.datetime | None = None,
) -> Inquiry:
    """A lead takes the inquiry from its holder, with a reason kept in the event (R23).

    Leads are supervisors and admins, and seniors for inquiries up to level 2;
    the lead must also be able to handle the inquiry's level.
    """
    now = now or utcnow()
    text = check_reason(reason)
    lock_for_update(session, inquiry)
    if not is_lead_for(user, inquiry):
        raise Forbidden(
            N_("Only a supervisor, or a senior up to level 2, may take over an inquiry."),
            field="claim",
        )
    check_can_handle(session, inquiry, user)
    if inquiry.closed_at is not None:
        raise Conflict(N_("This inquiry is closed; reopen it first."), field="claim")
    if inquiry.claimed_by_id is None:
        raise Conflict(N_("Nobody holds this inquiry: claim it instead."), field="claim")
    if inquiry.claimed_by_id == user.id:
        raise Conflict(N_("You hold this inquiry already."), field="claim")
    previous = holder_of(session, inquiry)
    before = {
        "claimed_by_id": inquiry.claimed_by_id,
        "claimed_by": previous.name if previous else None,
        "claimed_at": inquiry.claimed_at,
    }
    inquiry.claimed_by_id = user.id
    inquiry.claimed_at = now
    inquiry.updated_at = now
    session.flush()
    record(
        session,
        inquiry,
        actor=user.actor,
        action="inquiry.taken_over",
        before=before,
        after={"claimed_by_id": user.id, "claimed_by": user.name, "reason": text},
    )
    return inquiry


def require_holder(session: Session, inquiry: Inquiry, user: User, *, zone: str = "UTC") -> None:
    """Refuse anyone but the holder, inside the caller's transaction (R23).

    Locks the row first (``lock_for_update``), so a takeover committed a moment
    ago is seen and the replaced holder cannot reply after it.
    """
    lock_for_update(session, inquiry)
    if inquiry.claimed_by_id == user.id:
        return
    if inquiry.claimed_by_id is None:
        raise Conflict(N_("Claim the inquiry before acting on it."), field="claim")
    raise _held_by_other(session, inquiry, zone)


def require_actor(session: Session, inquiry: Inquiry, user: User, *, zone: str = "UTC") -> None:
    """The holder or a lead may act on a held inquiry; anyone at its level on an unheld one.

    For changes that are not a reply to the customer (stage, escalation, triage
    corrections): a held inquiry stays its holder's, but a lead can step in.
    """
    lock_for_update(session, inquiry)
    if inquiry.claimed_by_id == user.id:
        return
    if inquiry.claimed_by_id is not None and not is_lead_for(user, inquiry):
        raise _held_by_other(session, inquiry, zone)
