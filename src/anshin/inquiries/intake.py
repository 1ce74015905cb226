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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
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
from anshin.notify.models import OutboxMessage

log = logging.getLogger("anshin.inquiries")

# ``for_intake(session, settings, [(text, tier, received_at), …]) -> [service.TriageValues, …]``,
# one answer per inquiry, in order (a group of concurrent intakes is triaged together).
# Named, not imported, so intake runs (at level 1) while triage is not installed.
# It must only read: intake runs it before anything is written (see the module's doc).
TRIAGE_HOOK = "anshin.inquiries.triage:for_intake"


def triage_function(name: str) -> Callable[..., list[service.TriageValues]] | None:
    """The triage function the hook names, or None while its module is not installed.

    Only the named module missing means "no triage yet"; a module that exists
    but fails to import (a missing dependency of its own) is an error, raised.
    """
    module_name = name.partition(":")[0]
    try:
        found: Callable[..., list[service.TriageValues]] = resolve(name)
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


@dataclass
class Arrival:
    """One inquiry to take in: what came, who took it in, the incident an agent chose."""

    new: service.NewInquiry
    actor: str
    incident_id: int | None = None  # the phone form's choice; it wins over triage's


def _triage_first(
    session: Session, settings: Settings, arrivals: Sequence[Arrival], now: dt.datetime
) -> tuple[list[service.TriageValues] | None, str | None]:
    """Triage's answers for inquiries not yet stored, or (None, the stage that failed).

    R18: a triage that cannot load or raises leaves the inquiries to be stored
    as they came, at level 1 (logged).
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
    asked = [(a.new.text, a.new.customer_tier, a.new.received_at or now) for a in arrivals]
    try:
        with _reads_only(session), guard or session.begin_nested():
            values = list(function(session, settings, asked))
        if len(values) != len(arrivals):
            raise ValueError(f"triage answered {len(values)} of {len(arrivals)} inquiries")
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


Events = list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]]


def _record_all(session: Session, items: Sequence[tuple[Inquiry, str, Events]]) -> None:
    """The intakes' events (action, before, after) in one INSERT, in the caller's transaction.

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
        for inquiry, actor, history in items
        for action, before, after in history
    ]
    session.execute(insert(events.Event), rows)


def check_arrival(new: service.NewInquiry) -> None:
    """Refuse what could not be stored (``InvalidInput``), before anything is done for it."""
    check_address(new)
    service.check(new)


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
    return take_many(session, settings, [Arrival(new, actor, incident_id)], now=now)[0]


@dataclass
class _Taking:
    """One inquiry of a group on its way in: what was read for it before the first write."""

    arrival: Arrival
    inquiry: Inquiry
    values: service.TriageValues | None
    as_received: dict[str, Any]
    channel: str | None
    prepared: intake_ack.Prepared | None = None
    ack_failed: bool = False
    ack: intake_ack.Ack | None = None
    sent: OutboxMessage | None = None  # the acknowledgement queued


def _read_first(
    session: Session,
    settings: Settings,
    arrival: Arrival,
    values: service.TriageValues | None,
    inquiry: Inquiry,
    reads: intake_ack.Reads,
) -> _Taking:
    """The inquiry (not yet added) with triage's values, and its acknowledgement's reads."""
    taking = _Taking(arrival, inquiry, values, service.received(inquiry), None)
    if values is not None:
        _apply_triage(settings, inquiry, values, arrival.incident_id)
    elif arrival.incident_id is not None:
        inquiry.incident_id = arrival.incident_id
    taking.channel = intake_ack.channel_for(settings, inquiry)
    if taking.channel is not None:
        try:
            taking.prepared = intake_ack.prepare(session, settings, inquiry, taking.channel, reads)
        except Exception:
            log.exception("the acknowledgement of an inquiry could not be prepared")
            taking.ack_failed = True
    return taking


def _compose(session: Session, settings: Settings, taking: _Taking, now: dt.datetime) -> None:
    """The acknowledgement's texts and its contact row (written if new); nothing added yet.

    Before any inquiry of the group is added to the session: the contact
    row's INSERT would otherwise flush the inquiries added so far, one by one.
    """
    inquiry, channel, prepared = taking.inquiry, taking.channel, taking.prepared
    if prepared is None or channel is None:
        return
    try:
        mail, short = intake_ack.render(settings, inquiry, prepared, now)
        row = intake_ack.contact_row(session, settings, inquiry, channel, now, prepared.row)
        taking.ack = intake_ack.Ack(row, channel, mail, short)
    except Exception:
        log.exception("the acknowledgement of %s could not be composed", inquiry.reference)
        taking.ack_failed = True


def _add(session: Session, settings: Settings, taking: _Taking, now: dt.datetime) -> None:
    """Add the inquiry, its first message and its acknowledgement (queued) to the session."""
    inquiry, ack = taking.inquiry, taking.ack
    if ack is not None:
        inquiry.contact_id = ack.row.id
    session.add(inquiry)
    if ack is not None:
        actor = taking.arrival.actor
        taking.sent = intake_ack.queue(session, settings, inquiry, ack, actor=actor, now=now)


def _history(taking: _Taking, failed: str | None) -> Events:
    """The intake's events (R20): as received, then what triage or the agent set."""
    inquiry, as_received = taking.inquiry, taking.as_received
    history: Events = [("inquiry.received", None, as_received)]
    before = {k: as_received[k] for k in service.snapshot(inquiry)}
    if taking.values is not None:
        after = {**service.snapshot(inquiry), "reasons": list(taking.values.reasons)}
        history.append(("inquiry.triaged", before, after))
    else:
        if failed is not None:
            history.append(("inquiry.triage_failed", None, {"stage": failed}))
        if taking.arrival.incident_id is not None:
            history.append(("inquiry.linked", before, service.snapshot(inquiry)))
    if taking.ack is not None and taking.sent is not None:
        acknowledged = intake_ack.acknowledged(inquiry, taking.ack, taking.sent)
        history.append(("inquiry.acknowledged", None, acknowledged))
    if taking.ack_failed:
        history.append(("inquiry.ack_failed", None, None))
    return history


def take_many(
    session: Session,
    settings: Settings,
    arrivals: Sequence[Arrival],
    *,
    now: dt.datetime | None = None,
) -> list[Inquiry]:
    """Take inquiries in together: one triage batch, one write span, one flush (R18).

    What :func:`take` does for one, for a group of concurrent arrivals
    (``inquiries.intake_group``): triage reads once for all of them and the
    unsure share one encoder batch; the templates are read once; the
    references come from one counter statement; the rows go in one flush and
    the events in one INSERT. Every inquiry's own failures (its
    acknowledgement) stay its own; the caller commits all or none.
    """
    now = now or utcnow()
    for arrival in arrivals:
        check_arrival(arrival.new)
    triaged, failed = _triage_first(session, settings, arrivals, now)
    built = [
        service.new_record(session, settings, arrival.new, now=now, numbered=False)
        for arrival in arrivals
    ]
    reads = intake_ack.read_for(session, built)
    takings = [
        _read_first(session, settings, arrival, triaged[i] if triaged else None, built[i], reads)
        for i, arrival in enumerate(arrivals)
    ]
    # From here on the inquiries are written: the reference counter is the first write. Its
    # row lock (PostgreSQL) or the write turn (SQLite) orders intakes from here to the commit,
    # so every read was done above.
    _write_turn(session, settings)
    numbers = service.next_references(session, [t.inquiry.received_at for t in takings])
    for taking, reference in zip(takings, numbers, strict=True):
        taking.inquiry.reference = taking.as_received["reference"] = reference
        _compose(session, settings, taking, now)
    for taking in takings:
        _add(session, settings, taking, now)
    session.flush()
    _record_all(session, [(t.inquiry, t.arrival.actor, _history(t, failed)) for t in takings])
    return [t.inquiry for t in takings]
