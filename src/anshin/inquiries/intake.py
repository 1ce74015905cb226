"""Taking an inquiry in, from any channel: triage it, store it, acknowledge it (R18, R20).

Every front door (the status page's form, ``POST /api/inquiries``, the console's
phone form, inbound mail) calls :func:`take`. What it does, in this order
(docs/decisions/0008-triage-before-the-write.md says why this order):

1. refuse what could not be stored (empty or too long text, an unknown
   channel, tier or language, a malformed address) — nothing is done for it;
2. triage (``inquiries.triage.for_intake``, named in :data:`TRIAGE_HOOK`)
   reads the open incidents and computes the incident, intent, level and
   temperature *before any write*: on SQLite the database's write lock is
   not held while it computes (the API's route takes it with its first
   write). Triage only reads; a hook that tries to write is refused, and a
   triage that is missing or fails leaves the inquiry at level 1 for a person
   to read (logged, an ``inquiry.triage_failed`` event);
3. the inquiry is stored with what triage found (``service.new_record``:
   reference, unaltered words, first-response due time) and, where an address
   is known, the ``inquiry_ack`` template in the customer's language is queued
   through the outbox to the customer's contact row (mail; a chat inquiry
   without one goes to the chat backend's webhook) — in one flush, the events
   (received, triaged, acknowledged) in one INSERT.

All in the caller's transaction, the caller commits: the inquiry, its triage
and its acknowledgement are stored together or not at all. An acknowledgement
that cannot be composed (a template that fails to render) is skipped before
any of its rows is written (``inquiry.ack_failed``), never the inquiry. The
acknowledgement is not the first response: ``first_responded_at`` waits for a
person's reply.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from anshin import events
from anshin.config import Settings
from anshin.db import utcnow
from anshin.hooks import resolve
from anshin.inquiries import intake_ack, intake_turn, rules, service
from anshin.inquiries.models import ENTITY, Inquiry
from anshin.inquiries.policy import policy
from anshin.notify import rules as notify_rules

log = logging.getLogger("anshin.inquiries")

# ``for_intake(session, settings, text, tier, received_at) -> service.TriageValues``.
# Named, not imported, so intake runs (at level 1) while triage is not installed.
# It must only read: intake runs it before anything is written (see the module's doc).
TRIAGE_HOOK = "anshin.inquiries.triage:for_intake"


def triage_function(name: str) -> Callable[..., service.TriageValues] | None:
    """The triage function the hook names, or None while its module is not installed.

    Only the named module missing means "no triage yet"; a module that exists
    but fails to import (a missing dependency of its own) is an error, raised.
    """
    module_name = name.partition(":")[0]
    try:
        found: Callable[..., service.TriageValues] = resolve(name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise
    return found


class TriageWrote(RuntimeError):
    """A triage hook tried to write: triage reads, intake writes (the write never happens)."""


@contextmanager
def _reads_only(session: Session) -> Iterator[None]:
    """Run a triage hook on ``session``, refusing any write it attempts.

    Triage runs before the inquiry is written and outside any savepoint, so
    a write of its own could neither be undone alone nor be allowed to take
    SQLite's write lock early. A flush or a non-SELECT statement raises
    :class:`TriageWrote` (the hook fails, the inquiry is stored at level 1);
    objects the hook added, changed or deleted are dropped from the session.
    The caller's own pending changes are flushed first, so the hook reads them.
    """
    session.flush()
    before = (set(session.new), set(session.dirty), set(session.deleted))

    def refuse_flush(*_: Any) -> None:
        raise TriageWrote("triage tried to write (flush)")

    def refuse_statement(state: Any) -> None:
        if not state.is_select:
            raise TriageWrote("triage tried to write (statement)")

    event.listen(session, "before_flush", refuse_flush)
    event.listen(session, "do_orm_execute", refuse_statement)
    try:
        yield
    finally:
        event.remove(session, "before_flush", refuse_flush)
        event.remove(session, "do_orm_execute", refuse_statement)
        for obj in (set(session.new) - before[0]) | (set(session.deleted) - before[2]):
            session.expunge(obj)
        for obj in set(session.dirty) - before[1]:
            session.expire(obj)


# The write turn (within and across processes, SQLite only): inquiries.intake_turn.
_WRITE_TURN = intake_turn._WRITE_TURN
_write_turn = intake_turn.take


def _triage_first(
    session: Session, settings: Settings, new: service.NewInquiry, received_at: dt.datetime
) -> tuple[service.TriageValues | None, str | None]:
    """Triage's answer for an inquiry not yet stored, or (None, the stage that failed).

    R18: a triage that cannot load or raises leaves the inquiry to be stored
    as it came, at level 1 (logged).
    """
    try:
        function = triage_function(TRIAGE_HOOK)
    except Exception:
        log.exception("triage could not be loaded; the inquiry stays at level 1")
        return None, "import"
    if function is None:
        return None, None
    # PostgreSQL aborts a transaction at its first failed statement: a savepoint keeps a
    # failing read of triage's from costing the inquiry. SQLite does not, and there a
    # savepoint would take the write lock before triage computes (anshin.db).
    guard = nullcontext() if session.get_bind().dialect.name == "sqlite" else None
    try:
        with _reads_only(session), guard or session.begin_nested():
            values = function(session, settings, new.text, new.customer_tier, received_at)
    except Exception:
        log.exception("triage failed; the inquiry stays at level 1")
        return None, "error"
    return values, None


def _apply_triage(
    settings: Settings, inquiry: Inquiry, values: service.TriageValues, incident_id: int | None
) -> None:
    """Store what triage found; an incident the agent chose wins over triage's guess."""
    level = rules.check_level(values.level)
    inquiry.incident_id = incident_id if incident_id is not None else values.incident_id
    inquiry.intent = values.intent
    inquiry.level = level
    inquiry.temperature = values.temperature
    inquiry.harassment = values.harassment
    inquiry.triage_reasons = list(values.reasons)
    inquiry.suggested_template = values.suggested_template
    # R18: the due time follows the level triage found (L2/L3 get their own).
    inquiry.first_response_due_at = rules.first_response_due(
        policy(settings), inquiry.received_at, level=level, tier=inquiry.customer_tier
    )


def check_address(new: service.NewInquiry) -> None:
    """Refuse a mail address no mail server would take, before anything is stored.

    The customer can correct it on the form or in the widget; an inquiry
    stored with it could never be acknowledged or answered.
    """
    if new.customer_email and new.customer_email.strip():
        new.customer_email = notify_rules.normalise_email(new.customer_email)


def _record_all(
    session: Session,
    inquiry: Inquiry,
    actor: str,
    items: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]],
) -> None:
    """The intake's events (action, before, after) in one INSERT, in the caller's transaction.

    The same rows ``events.record`` writes, as one executemany: the ORM would
    send one INSERT per event to fetch ids nobody reads.
    """
    at = utcnow()
    rows = [
        {
            "at": at,
            "actor": actor,
            "entity_type": ENTITY,
            "entity_id": inquiry.id,
            "action": action,
            "before": events.jsonable(before) if before is not None else None,
            "after": events.jsonable(after) if after is not None else None,
        }
        for action, before, after in items
    ]
    session.execute(insert(events.Event), rows)


def take(
    session: Session,
    settings: Settings,
    new: service.NewInquiry,
    *,
    actor: str,
    now: dt.datetime | None = None,
    incident_id: int | None = None,
) -> Inquiry:
    """Take an inquiry in from any channel: triaged, stored, acknowledged (R18).

    Refuses (``InvalidInput``) only what could not be stored: empty or
    too long text, an unknown channel, tier or language, a malformed address.
    Past that the inquiry is stored whatever triage or the acknowledgement do.
    ``incident_id`` is the incident an agent chose (the phone form); it wins
    over triage's. The caller commits.
    """
    now = now or utcnow()
    check_address(new)
    service.check(new)
    values, failed = _triage_first(session, settings, new, new.received_at or now)
    inquiry = service.new_record(session, settings, new, now=now, numbered=False)
    as_received = service.received(inquiry)
    if values is not None:
        _apply_triage(settings, inquiry, values, incident_id)
    elif incident_id is not None:
        inquiry.incident_id = incident_id
    channel = intake_ack.channel_for(settings, inquiry)
    prepared: intake_ack.Prepared | None = None
    ack_failed = False
    if channel is not None:
        try:
            prepared = intake_ack.prepare(session, settings, inquiry, channel)
        except Exception:
            log.exception("the acknowledgement of an inquiry could not be prepared")
            ack_failed = True
    # From here on the inquiry is written: the reference counter is the first write. Its row
    # lock (PostgreSQL) or the write turn (SQLite) orders intakes from here to the commit, so
    # every read was done above.
    _write_turn(session, settings)
    inquiry.reference = as_received["reference"] = service.next_reference(
        session, inquiry.received_at
    )
    ack: intake_ack.Ack | None = None
    if prepared is not None and channel is not None:
        try:
            mail, short = intake_ack.render(settings, inquiry, prepared, now)
            row = intake_ack.contact_row(session, settings, inquiry, channel, now, prepared.row)
            ack = intake_ack.Ack(row, channel, mail, short)
        except Exception:
            log.exception("the acknowledgement of %s could not be composed", inquiry.reference)
            ack_failed = True
    if ack is not None:
        inquiry.contact_id = ack.row.id
    session.add(inquiry)
    acknowledged = (
        intake_ack.queue(session, settings, inquiry, ack, actor=actor, now=now) if ack else None
    )
    session.flush()
    # The history (R20), in one INSERT: as received, then what triage or the agent set.
    history: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]] = [
        ("inquiry.received", None, as_received)
    ]
    before = {k: as_received[k] for k in service.snapshot(inquiry)}
    if values is not None:
        after = {**service.snapshot(inquiry), "reasons": list(values.reasons)}
        history.append(("inquiry.triaged", before, after))
    else:
        if failed is not None:
            history.append(("inquiry.triage_failed", None, {"stage": failed}))
        if incident_id is not None:
            history.append(("inquiry.linked", before, service.snapshot(inquiry)))
    if acknowledged is not None:
        history.append(("inquiry.acknowledged", None, acknowledged))
    if ack_failed:
        history.append(("inquiry.ack_failed", None, None))
    _record_all(session, inquiry, actor, history)
    return inquiry
