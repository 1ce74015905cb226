"""Intake: every channel's way in (R18). Minimal form: store the inquiry.

The full intake (triage, incident link, acknowledgement through the outbox)
replaces this module; callers depend only on :func:`take`'s signature.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.inquiries import service
from anshin.inquiries.models import Inquiry


def take(session: Session, settings: Settings, new: service.NewInquiry, *, actor: str) -> Inquiry:
    """Store a new inquiry in the caller's transaction (R18: stored before anything else)."""
    return service.receive(session, settings, new, actor=actor)
