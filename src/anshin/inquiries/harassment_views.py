"""Console pages of the harassment path (R25): the supervisor's queue, the evidence, the handover.

The queue and the evidence are for supervisors; handing a contact over is one
button for the agent who took it (any operator). The evidence is a download of
the stored words, never a form: nothing here can edit them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.inquiries import harassment, service
from anshin.inquiries.views import HARASSMENT_QUEUE, queue_tabs
from anshin.web.auth import DbSession, Operator, Supervisor
from anshin.web.deps import request_locale, settings_of
from anshin.web.views_helpers import PostedForm, flash, page, redirect

router = APIRouter(include_in_schema=False)

FORMATS = ("json", "text")


def evidence_response(body: str, reference: str, fmt: str) -> Response:
    """The evidence as a download named after the inquiry (JSON or plain text)."""
    media = "application/json" if fmt == "json" else "text/plain; charset=utf-8"
    suffix = "json" if fmt == "json" else "txt"
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{reference}-evidence.{suffix}"',
            "Cache-Control": "no-store",
        },
    )


def check_format(value: str) -> str:
    """json or text, else a clear refusal."""
    if value not in FORMATS:
        raise InvalidInput(
            N_("Unknown format: {value}. Use one of: {choices}."),
            field="format",
            value=value,
            choices=", ".join(FORMATS),
        )
    return value


@router.get(HARASSMENT_QUEUE, response_class=HTMLResponse)
def harassment_queue(request: Request, session: DbSession, user: Supervisor) -> Response:
    """Flagged contacts waiting for a supervisor, and how many each agent handled today."""
    return page(
        request,
        user,
        "inquiries/harassment.html",
        rows=harassment.queue(session),
        today=harassment.handled_today(session, settings_of(request)),
        tabs=queue_tabs(request_locale(request), user.role),
        current_tab=HARASSMENT_QUEUE,
    )


@router.get("/console/inquiries/{ref}/evidence")
def evidence(
    request: Request,
    ref: str,
    session: DbSession,
    user: Supervisor,
    format: Annotated[str, Query(max_length=10)] = "json",
) -> Response:
    """The customer's words as stored, with times, channel and history, as a download (R25)."""
    fmt = check_format(format)
    inquiry = service.get(session, ref)
    body = harassment.evidence_body(session, inquiry, fmt)
    return evidence_response(body, inquiry.reference, fmt)


@router.post("/console/inquiries/{ref}/hand-to-supervisor")
def hand_to_supervisor(
    request: Request, ref: str, session: DbSession, user: Operator, form: PostedForm
) -> Response:
    """One click: release the contact to the supervisors at level 3 (R25)."""
    inquiry = service.get(session, ref)
    harassment.hand_to_supervisor(session, inquiry, by=user)
    session.commit()
    flash(request, N_("{ref} was handed to a supervisor."), ref=inquiry.reference)
    return redirect(f"/console/inquiries/{inquiry.reference}/handoff")
