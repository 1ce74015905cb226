"""The knowledge search's feed of inquiries (named hook ``anshin.inquiries.kb_feed:changed_since``).

knowledge never imports inquiries; its index reads what changed through this
function, before a search that includes inquiries and from ``anshin kb
reindex``. Intake does no indexing work: a new inquiry is picked up here by
the next search. An inquiry is one record — its subject, the customer's
words and every message after (replies and the team's notes: the search is
for staff only, never public).

The watermark is ``"<last inquiry id>:<last message id>"``: inquiries and
their messages are only ever added, so ids tell what is new.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.inquiries.models import Inquiry, InquiryMessage

TEXT_MAX = 50_000  # characters of one inquiry's conversation given to the index
TITLE_CHARS = 80


def _parse(watermark: str) -> tuple[int, int]:
    try:
        inquiry, message = watermark.split(":", 1)
        return int(inquiry), int(message)
    except ValueError:
        return 0, 0


def changed_since(session: Session, watermark: str, limit: int) -> tuple[list[dict[str, Any]], str]:
    """Inquiries new or with new messages since ``watermark`` (at most about ``limit``)."""
    last_inquiry, last_message = _parse(watermark)
    new_ids = list(
        session.scalars(
            select(Inquiry.id).where(Inquiry.id > last_inquiry).order_by(Inquiry.id).limit(limit)
        )
    )
    messages = session.execute(
        select(InquiryMessage.id, InquiryMessage.inquiry_id)
        .where(InquiryMessage.id > last_message)
        .order_by(InquiryMessage.id)
        .limit(limit)
    ).all()
    if new_ids:
        last_inquiry = new_ids[-1]
    if messages:
        last_message = messages[-1][0]
    # A message of an inquiry past this batch's inquiries waits for the batch that has it.
    ids = sorted(set(new_ids) | {i for _, i in messages if i <= last_inquiry})
    records = [record for chunk in _chunks(ids) for record in _records(session, chunk)]
    return records, f"{last_inquiry}:{last_message}"


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
