"""The knowledge search's feed of inquiries (named hook ``anshin.inquiries.kb_feed:changed_since``).

knowledge never imports inquiries; its index reads what changed through this
function, before a search that includes inquiries and from ``anshin kb
reindex``. Intake does no indexing work: a new inquiry is picked up here by
the next search. An inquiry is one record — its subject, the customer's
words and every message after (replies and the team's notes: the search is
for staff only, never public).

Inquiries and their messages are only ever added, so ids tell what is new.
On PostgreSQL ids are handed out before commit: a transaction still running
may commit a lower id after a higher one was read. So the watermark
``"<settled inquiry>:<settled message>:<read inquiry>:<read message>"`` has
two positions: rows past *read* are new; rows between *settled* and *read*
are read again (the index skips a record it holds unchanged) until they are
older than :data:`SETTLE`. On SQLite, one writer at a time, both are equal.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.db import utcnow
from anshin.inquiries.models import Inquiry, InquiryMessage

TEXT_MAX = 50_000  # characters of one inquiry's conversation given to the index
TITLE_CHARS = 80
SETTLE = dt.timedelta(seconds=60)  # longer than any intake transaction runs


def _parse(watermark: str) -> tuple[int, int, int, int]:
    """(settled inquiry, settled message, read inquiry, read message) ids."""
    try:
        parts = [int(part) for part in watermark.split(":")]
    except ValueError:
        return 0, 0, 0, 0
    if len(parts) == 2:
        return parts[0], parts[1], parts[0], parts[1]
    if len(parts) == 4:
        return parts[0], parts[1], parts[2], parts[3]
    return 0, 0, 0, 0


def _ids(
    session: Session, column: Any, at: Any, low: int, high: int | None, limit: int
) -> list[Any]:
    statement = select(column, at, *([] if column is Inquiry.id else [InquiryMessage.inquiry_id]))
    statement = statement.where(column > low)
    if high is not None:
        statement = statement.where(column <= high)
    return list(session.execute(statement.order_by(column).limit(limit)).all())


def changed_since(session: Session, watermark: str, limit: int) -> tuple[list[dict[str, Any]], str]:
    """Inquiries new or with new messages since ``watermark`` (at most about ``limit`` of each).

    Rows between the settled and the read position are read again until they
    settle: on PostgreSQL one may have committed there since (module docstring).
    """
    settled_i, settled_m, read_i, read_m = _parse(watermark)
    window_i = _ids(session, Inquiry.id, Inquiry.received_at, settled_i, read_i, limit)
    window_m = _ids(session, InquiryMessage.id, InquiryMessage.at, settled_m, read_m, limit)
    new_i = _ids(session, Inquiry.id, Inquiry.received_at, read_i, None, limit)
    new_m = _ids(session, InquiryMessage.id, InquiryMessage.at, read_m, None, limit)
    read_i = new_i[-1][0] if new_i else read_i
    read_m = new_m[-1][0] if new_m else read_m
    # A message of an inquiry past this batch's inquiries waits for the batch that has it.
    ids = sorted(
        {row[0] for row in window_i + new_i}
        | {row[2] for row in window_m + new_m if row[2] <= read_i}
    )
    records = [record for chunk in _chunks(ids) for record in _records(session, chunk)]
    cutoff = _cutoff(session)
    settled_i = _settled(settled_i, [(r[0], r[1]) for r in window_i + new_i], cutoff, read_i)
    settled_m = _settled(settled_m, [(r[0], r[1]) for r in window_m + new_m], cutoff, read_m)
    return records, f"{settled_i}:{settled_m}:{read_i}:{read_m}"


def _cutoff(session: Session) -> dt.datetime | None:
    """Rows written before this are committed or gone (PostgreSQL); None: ids are in order."""
    if session.get_bind().dialect.name != "postgresql":
        return None  # SQLite has one writer at a time: ids are committed in order
    return utcnow() - SETTLE


def _settled(
    start: int, rows: list[tuple[int, dt.datetime]], cutoff: dt.datetime | None, read: int
) -> int:
    """The highest id up to which every row read is old enough to be sure of."""
    if cutoff is None:
        return read
    last = start
    for row_id, at in rows:
        if at >= cutoff:
            break
        last = row_id
    return last


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _records(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    inquiries = session.scalars(select(Inquiry).where(Inquiry.id.in_(ids)).order_by(Inquiry.id))
    bodies: dict[int, list[str]] = {}
    for inquiry_id, body in session.execute(
        select(InquiryMessage.inquiry_id, InquiryMessage.body)
        .where(InquiryMessage.inquiry_id.in_(ids))
        .order_by(InquiryMessage.id)
    ):
        bodies.setdefault(inquiry_id, []).append(body or "")
    out = []
    for inquiry in inquiries:
        words = " ".join(inquiry.original_text.split())
        title = inquiry.subject or words[:TITLE_CHARS]
        # The customer's words are the first message too: once is enough.
        later = [body for body in bodies.get(inquiry.id, []) if body != inquiry.original_text]
        text = "\n".join([inquiry.original_text, *later])[:TEXT_MAX]
        out.append(
            {
                "source": "inquiry",
                "record_id": inquiry.id,
                "key": inquiry.reference,
                "kind": "inquiry",
                "title": f"{inquiry.reference} {title}",
                "text": text,
                "locale": inquiry.locale,
                "state": inquiry.stage,
                "public": False,
                "url": f"/console/inquiries/{inquiry.reference}",
            }
        )
    return out
