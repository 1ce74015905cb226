"""Where a notice stands: queued / sent / failed / dead, and when it reached its last subscriber.

The console polls these while a notice is in flight (R4) and the first-notice
clock keeps the time the notice reached everyone (R4, for the review). One
``GROUP BY`` serves any number of messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anshin.errors import NotFound
from anshin.i18n import N_
from anshin.notify.models import Delivery, OutboxMessage
from anshin.timefmt import iso_local

# How often the console asks again for counts that are still in flight (R4); the
# counts fragment, the incident page and the first-notice clock share this one rate.
POLL_SECONDS = 3


@dataclass(frozen=True)
class DeliveryCounts:
    """Where a message's deliveries stand (the console shows these live, R4)."""

    message_id: int
    total: int
    queued: int
    sent: int
    failed: int
    dead: int
    cancelled: int
    last_sent_at: dt.datetime | None
    last_delivered_at: dt.datetime | None

    @property
    def in_flight(self) -> bool:
        """Something is still on its way: queued, or failed and waiting for its next try.

        The console keeps polling these counts while this holds (R4).
        """
        return self.queued > 0 or self.failed > 0

    def as_dict(self, zone: str) -> dict[str, Any]:
        """JSON-ready, times as ISO 8601 in the team's zone (as every JSON answer gives them)."""
        data = asdict(self)
        for key in ("last_sent_at", "last_delivered_at"):
            data[key] = iso_local(data[key], zone)
        return data


def _tally(
    message_id: int,
    stamped_at: dt.datetime | None,
    rows: Sequence[tuple[str, int, dt.datetime | None]],
) -> DeliveryCounts:
    """One message's counts from its ``(status, count, latest sent_at)`` rows.

    ``stamped_at`` is the message's stored ``last_delivered_at`` (set when it
    had nobody to reach, or by the worker once nothing was left to send).
    """
    by_status = {status: int(n) for status, n, _ in rows}
    sent_times = [t for status, _, t in rows if status == "sent" and t is not None]
    last_sent = sent_times[0] if sent_times else None
    if last_sent is not None and last_sent.tzinfo is None:
        last_sent = last_sent.replace(tzinfo=dt.UTC)
    queued = by_status.get("pending", 0) + by_status.get("sending", 0)
    failed = by_status.get("failed", 0)
    finished = queued == 0 and failed == 0
    last_delivered = stamped_at or (last_sent if finished else None)
    return DeliveryCounts(
        message_id=message_id,
        total=sum(by_status.values()),
        queued=queued,
        sent=by_status.get("sent", 0),
        failed=failed,
        dead=by_status.get("dead", 0),
        cancelled=by_status.get("cancelled", 0),
        last_sent_at=last_sent,
        last_delivered_at=last_delivered if finished else None,
    )


def counts_many(session: Session, message_ids: Iterable[int]) -> dict[int, DeliveryCounts]:
    """Delivery counts of several messages in one query, by message id (R4, R26).

    The incident page shows every notice's counts; one ``GROUP BY message,
    status`` serves them all instead of a query per notice. Ids with no
    message are left out.
    """
    ids = sorted({int(i) for i in message_ids})
    if not ids:
        return {}
    stmt = (
        select(
            OutboxMessage.id,
            OutboxMessage.last_delivered_at,
            Delivery.status,
            func.count(Delivery.id),
            func.max(Delivery.sent_at),
        )
        .outerjoin(Delivery, Delivery.message_id == OutboxMessage.id)
        .where(OutboxMessage.id.in_(ids))
        .group_by(OutboxMessage.id, OutboxMessage.last_delivered_at, Delivery.status)
    )
    stamped: dict[int, dt.datetime | None] = {}
    rows: dict[int, list[tuple[str, int, dt.datetime | None]]] = {}
    for message_id, stamped_at, status, n, last_sent in session.execute(stmt).all():
        stamped[message_id] = stamped_at
        found = rows.setdefault(message_id, [])
        if status is not None:  # a message without deliveries joins to one empty row
            found.append((status, int(n), last_sent))
    return {i: _tally(i, stamped[i], rows[i]) for i in ids if i in stamped}


def counts(session: Session, message_id: int) -> DeliveryCounts:
    """Queued / sent / failed / dead per message, and when it reached its last subscriber.

    ``last_delivered_at`` is set only once no delivery is still queued or
    waiting for a retry: the moment the notice had reached everyone it would (R4).
    """
    found = counts_many(session, [message_id]).get(message_id)
    if found is None:
        raise NotFound(N_("No such message: {id}."), id=message_id)
    return found
