"""The inquiry page's 「関係部署に共有」 panel, and departments on the move to 社内共有 (R19, R21).

``share_context`` gives the inquiry page the active departments with the ones
the routing suggests ticked (``share.suggested``); the panel posts to
``/console/inquiries/{ref}/share``, and the stage form that moves the inquiry
to ``shared`` carries the same ticks (``inquiries.desk_views``). A refusal —
no department, an unknown or disabled one, an empty note — shows the page
again with the reason beside the field, what was typed and ticked kept.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from anshin.errors import AnshinError
from anshin.i18n import N_
from anshin.inquiries import departments, service, share
from anshin.inquiries.models import Inquiry
from anshin.web.auth import DbSession, Operator
from anshin.web.deps import request_locale, settings_of
from anshin.web.views_helpers import PostedForm, error_for, flash, redirect

router = APIRouter(include_in_schema=False)
# The share panel's fields on the inquiry page (the stage form has its own "note").
RENAME = {"note": "share_note", "departments": "share_departments"}


def share_context(session: Session, inquiry: Inquiry, locale: str) -> dict[str, Any]:
    """What ``_share.html`` and the stage form need: departments, the suggested ticks."""
    active = departments.listing(session, active_only=True)
    return {
        "share_departments": active,
        "share_suggested": share.suggested(session, inquiry),
        "share_components": {
            d.key: departments.component_names(session, list(d.component_ids or ()), locale)
            for d in active
        },
    }


@router.post("/console/inquiries/{ref}/share", response_class=HTMLResponse)
def share_inquiry(
    request: Request, ref: str, session: DbSession, user: Operator, form: PostedForm
) -> Response:
    """Send the inquiry to the ticked departments through the outbox, with a note (R21)."""
    from anshin.inquiries.views import render_detail  # the page includes this panel

    settings = settings_of(request)
    inquiry = service.get(session, ref)
    keys = form.getlist("department")
    note = form.raw("note")
    try:
        sent = share.share(session, settings, inquiry, keys, note, actor=user.actor)
    except AnshinError as exc:
        session.rollback()
        errors = {RENAME.get(k, k): v for k, v in error_for(request, exc).items()}
        return render_detail(
            request,
            session,
            user,
            service.get(session, ref),
            status=exc.status,
            errors=errors,
            values={"share_note": note, "share_picked": keys},
        )
    session.commit()
    flash(
        request,
        N_("Shared with {names}."),
        names=", ".join(s.name_en for s in sent)
        if request_locale(request) == "en"
        else "、".join(s.name for s in sent),
    )
    return redirect(f"/console/inquiries/{inquiry.reference}#share")
