"""JSON API of sharing an inquiry with departments, and the departments' list (R21).

``GET /api/inquiries/{ref}/share`` answers which active departments the routing
suggests; ``POST`` sends the inquiry to the departments named, one outbox
message each, with the note — refused (422, in the caller's language) when
none is named, one is unknown or disabled, or the note is empty; nothing is
written then. The departments themselves: ``departments_api.py``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field

from anshin.inputs import StrictInput, Text
from anshin.inquiries import departments, rules, service, share
from anshin.web.auth import DbSession, Operator
from anshin.web.deps import settings_of

router = APIRouter(prefix="/api", tags=["inquiries"])


class ShareRequest(StrictInput):
    """The departments (their keys) and the note they receive."""

    departments: list[Text] = Field(max_length=50)
    note: Text = Field(max_length=rules.SHARE_NOTE_MAX)


@router.get("/inquiries/{ref}/share")
def share_suggestions(ref: str, session: DbSession, user: Operator) -> dict[str, Any]:
    """The active departments this inquiry concerns by their routing (R21)."""
    inquiry = service.get(session, ref)
    return {
        "reference": inquiry.reference,
        "suggested": share.suggested(session, inquiry),
        "departments": [
            departments.as_dict(d) for d in departments.listing(session, active_only=True)
        ],
    }


@router.post("/inquiries/{ref}/share", status_code=201)
def share_inquiry(
    request: Request, ref: str, session: DbSession, user: Operator, body: ShareRequest
) -> dict[str, Any]:
    """Send the inquiry to the named departments, one internal message each (R21)."""
    inquiry = service.get(session, ref)
    sent = share.share(
        session, settings_of(request), inquiry, list(body.departments), body.note, actor=user.actor
    )
    session.commit()
    return {
        "reference": inquiry.reference,
        "shared_with": [
            {"key": s.key, "email": s.email, "webhook": s.webhook, "message_id": s.message_id}
            for s in sent
        ],
    }
