"""Inquiries and replies as the knowledge base shows its links to them (R32).

Named by ``anshin.knowledge.console.SOURCE_HOOKS`` and resolved by name, so
knowledge never imports inquiries: an article drawn from a reply, or used in
a reply to an inquiry, shows the inquiry's reference and links to its page.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.inquiries.models import Inquiry, InquiryMessage


def describe(session: Session, target_type: str, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """``{id: (reference, console url)}`` for the inquiries or replies that exist."""
    if not ids:
        return {}
    if target_type == "inquiry":
        rows = session.execute(select(Inquiry.id, Inquiry.reference).where(Inquiry.id.in_(ids)))
        return {id_: (ref, f"/console/inquiries/{ref}") for id_, ref in rows}
    if target_type == "reply":
        rows = session.execute(
            select(InquiryMessage.id, Inquiry.reference)
            .join(Inquiry, Inquiry.id == InquiryMessage.inquiry_id)
            .where(InquiryMessage.id.in_(ids))
        )
        return {id_: (ref, f"/console/inquiries/{ref}#msg-{id_}") for id_, ref in rows}
    return {}
