"""Concurrent API intakes taken together: one triage batch, one write span, one commit (R18).

In a surge a chat widget's backend posts many inquiries at once, and each
intake alone pays the same fixed costs: a pass of the sentence encoder over
its weights (about 2 ms whatever the batch), reading the templates and the
open incidents, taking the reference counter (a row lock on PostgreSQL, the
write turn on SQLite), a flush per table and a commit. Here concurrent
requests join a group (``anshin.combine.Combiner``): the first request to get
the turn stores every inquiry waiting at that moment with
``intake.take_many`` in its own session and commits once; each request answers
with its own inquiry. A request alone is taken at once — no timer — so a quiet
desk sees no delay; under load a group is what arrived during the previous
group's work (bench/RESULTS.md, "Intake").

Nothing is answered before it is committed. A refusal (empty text, a bad
address) is found in the request's own thread before it joins a group, so it
never touches the others. Should a group fail as a whole (a database error),
it is rolled back and each of its inquiries is taken again alone, in its own
transaction: one inquiry that cannot be stored costs no other its place.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from anshin.combine import Combiner
from anshin.config import Settings
from anshin.incidents import reading
from anshin.inquiries import intake
from anshin.inquiries.intake import Arrival
from anshin.inquiries.models import Inquiry

log = logging.getLogger("anshin.inquiries")

# The most inquiries one group takes: enough to spread the fixed costs (the encoder's
# weights, the commit), few enough that the first in a group does not wait long for the last.
GROUP_MOST = 32


@dataclass(frozen=True)
class Taken:
    """What the request answers about its inquiry, read before the group's commit."""

    reference: str
    incident: str | None
    level: int
    intent: str
    first_response_due_at: dt.datetime | None
    acknowledged: bool


# One waiting list per database engine: a group is stored in its first request's session, so
# only requests of the same app (same engine) may share one (tests run several apps at once).
_GROUPS: weakref.WeakKeyDictionary[Any, Combiner[Arrival, Taken]] = weakref.WeakKeyDictionary()
_GROUPS_LOCK = threading.Lock()


def _combiner(session: Session) -> Combiner[Arrival, Taken]:
    engine = session.get_bind()
    with _GROUPS_LOCK:
        found = _GROUPS.get(engine)
        if found is None:
            found = _GROUPS[engine] = Combiner(GROUP_MOST)
        return found


def take(session: Session, settings: Settings, arrival: Arrival) -> Taken:
    """Store ``arrival`` (with any concurrent others) and commit; ``InvalidInput`` for a refusal.

    ``session`` is the request's own; it does the group's work when this
    request gets the turn.
    """
    intake.check_arrival(arrival.new)  # a refusal is this request's alone
    return _combiner(session).run(arrival, lambda group: _take_group(session, settings, group))


def _take_group(
    session: Session, settings: Settings, group: list[Arrival]
) -> list[Taken | BaseException]:
    try:
        return list(_stored(session, settings, group))
    except Exception:
        session.rollback()
        if len(group) == 1:
            raise
        log.exception("a group of %d inquiries failed; each is taken alone", len(group))
    results: list[Taken | BaseException] = []
    for arrival in group:
        try:
            results.extend(_stored(session, settings, [arrival]))
        except Exception as exc:
            session.rollback()
            results.append(exc)
    return results


def _stored(session: Session, settings: Settings, group: list[Arrival]) -> list[Taken]:
    inquiries = intake.take_many(session, settings, group)
    taken = [_taken(session, inquiry) for inquiry in inquiries]
    session.commit()
    return taken


def incident_ref(session: Session, inquiry: Inquiry) -> str | None:
    """The linked incident's reference, or None (the one the acknowledgement read, if it did)."""
    if inquiry.incident_id is None:
        return None
    return reading.reference(session, inquiry.incident_id)


def _taken(session: Session, inquiry: Inquiry) -> Taken:
    return Taken(
        reference=inquiry.reference,
        incident=incident_ref(session, inquiry),
        level=inquiry.level,
        intent=inquiry.intent,
        first_response_due_at=inquiry.first_response_due_at,
        acknowledged=inquiry.contact_id is not None,
    )
