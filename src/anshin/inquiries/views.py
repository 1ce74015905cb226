"""The desk's pages: the queues and one inquiry's page (R19-R23, R28).

* ``GET /console/inquiries`` — a queue: ``?level=1|2|3``, ``?view=mine|unassigned``,
  filtered by ``incident``, ``intent``, ``channel``; earliest due first, 50 a
  page (``?page=``, 「次の50件」 under the list).
* ``GET /console/inquiries/{ref}`` — the inquiry: the customer's words, triage,
  the flow, the conversation, the claim, escalation, the history. Other parts of
  the desk include their panels (reply, handoff, commitments) by name.

The actions the page posts to live in ``inquiries.desk_views``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.db import utcnow
from anshin.i18n import N_, translate
from anshin.incidents.models import Incident
from anshin.inquiries import claims, queues, rules, service
from anshin.inquiries.handoff_views import handoff_context
from anshin.inquiries.models import Inquiry
from anshin.inquiries.reply_views import reply_context
from anshin.inquiries.share_views import share_context
from anshin.team import rules as team_rules
from anshin.team.models import User
from anshin.web.auth import DbSession, Operator
from anshin.web.deps import request_locale, settings_of
from anshin.web.paging import Paging, page_number
from anshin.web.views_helpers import page

router = APIRouter(include_in_schema=False)


def open_incidents(session: Session) -> list[Incident]:
    """Incidents not resolved yet, newest first: the filter's and the correction's choices."""
    stmt = select(Incident).where(Incident.status != "resolved").order_by(Incident.id.desc())
    return list(session.scalars(stmt.limit(50)))


HARASSMENT_QUEUE = "/console/inquiries/harassment"


def queue_tabs(locale: str, role: str) -> list[tuple[str, str]]:
    """The queues' tabs: per level, mine, unassigned, and for supervisors the
    harassment queue (R25), which only they may open."""

    def t(msgid: str, **params: Any) -> str:
        return translate(locale, msgid, **params)

    tabs = [
        ("/console/inquiries", t(N_("All levels"))),
        *((f"/console/inquiries?level={lv}", t(N_("Level {n}"), n=lv)) for lv in rules.LEVELS),
        ("/console/inquiries?view=mine", t(N_("Mine"))),
        ("/console/inquiries?view=unassigned", t(N_("Unassigned"))),
    ]
    if team_rules.at_least(role, team_rules.Role.SUPERVISOR):
        tabs.append((HARASSMENT_QUEUE, t(N_("Harassment queue"))))
    return tabs


@router.get("/console/inquiries", response_class=HTMLResponse)
def inquiry_queue(
    request: Request,
    session: DbSession,
    user: Operator,
    level: str = "",
    view: str = "",
    incident: str = "",
    intent: str = "",
    channel: str = "",
    page_asked: Annotated[str, Query(alias="page", max_length=10)] = "",
) -> Response:
    """A queue of open inquiries, earliest due first, hottest first among equals (R22)."""
    flt = queues.parse_filter(
        level=level, view=view, incident=incident, intent=intent, channel=channel
    )
    number = page_number(page_asked)
    now = utcnow()
    paging = Paging(
        page=number, size=queues.QUEUE_PAGE_SIZE, total=queues.count(session, flt, user)
    )
    found = queues.queue(session, flt, user, limit=paging.size, offset=paging.offset)
    incident_ids = {i.incident_id for i in found if i.incident_id}
    refs = (
        {
            row[0]: row[1]
            for row in session.execute(
                select(Incident.id, Incident.reference).where(Incident.id.in_(incident_ids))
            )
        }
        if incident_ids
        else {}
    )
    if flt.view != "all":
        current = f"/console/inquiries?view={flt.view}"
    elif flt.level:
        current = f"/console/inquiries?level={flt.level}"
    else:
        current = "/console/inquiries"
    return page(
        request,
        user,
        "inquiries/queue.html",
        rows=[(i, queues.due_of(i, now)) for i in found],
        flt=flt,
        paging=paging,
        query=queues.filter_query(flt),
        tabs=queue_tabs(request_locale(request), user.role),
        current_tab=current,
        holders=queues.names_of(session, {i.claimed_by_id for i in found if i.claimed_by_id}),
        incident_refs=refs,
        incidents=open_incidents(session),
        intents=rules.INTENT_ORDER,
        channels=tuple(rules.Channel),
        my_level=claims.agent_level(session, user),
    )


def detail_context(
    session: Session, user: User, inquiry: Inquiry, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Everything the inquiry page shows, and what ``user`` may do on it.

    Other panels (reply, handoff, commitments) read this context too: ``inquiry``,
    ``holder``, ``may``, ``my_level``, ``messages``, ``history``.
    """
    now = now or utcnow()
    my_level = claims.agent_level(session, user)
    holder = claims.holder_of(session, inquiry)
    is_open = inquiry.closed_at is None
    mine = holder is not None and holder.id == user.id
    lead = claims.is_lead_for(user, inquiry)
    can_handle = rules.can_handle(my_level, inquiry.level)
    may_act = mine or holder is None or lead
    next_stages = sorted(rules.TRANSITIONS.get(inquiry.stage, frozenset()), key=rules.STAGES.index)
    if not may_act:
        next_stages = []
    if holder is None and not can_handle:
        next_stages = []
    levels = []
    if is_open and may_act:
        levels = [
            lv
            for lv in rules.LEVELS
            if lv > inquiry.level or (lv < inquiry.level and my_level >= inquiry.level)
        ]
    return {
        "inquiry": inquiry,
        "due": queues.due_of(inquiry, now),
        "holder": holder,
        "my_level": my_level,
        "may": {
            "claim": is_open and holder is None and can_handle,
            "release": holder is not None and (mine or lead),
            "take_over": is_open and holder is not None and not mine and lead and can_handle,
            "act": may_act,
            "reply": mine,
        },
        "level_choices": levels,
        "next_stages": next_stages,
        "stages": rules.STAGES,
        "messages": inquiry.messages,
        "history": service.history(session, inquiry),
        "incident": session.get(Incident, inquiry.incident_id) if inquiry.incident_id else None,
        "open_incidents": open_incidents(session),
        "intents": rules.INTENT_ORDER,
        "errors": {},
        "values": {},
    }


def render_detail(
    request: Request,
    session: Session,
    user: User,
    inquiry: Inquiry,
    *,
    status: int = 200,
    **extra: Any,
) -> HTMLResponse:
    """The inquiry page, with a refused form's values and errors when given.

    The panels of the other parts of the desk get their context from their own
    builders, so the page shows one inquiry whole: the reply box from the checked
    template (R21) while it is open, the handoff sheet's summary and the requests
    and commitments with their forms (R24, R27).
    """
    context = detail_context(session, user, inquiry)
    context.update(handoff_context(request, session, inquiry))
    context.update(share_context(session, inquiry, request_locale(request)))
    if inquiry.closed_at is None:
        context["reply"] = reply_context(session, settings_of(request), inquiry, user)
    context["on_inquiry_page"] = True
    context.update(extra)
    return page(request, user, "inquiries/detail.html", status=status, **context)


@router.get("/console/inquiries/{ref}", response_class=HTMLResponse)
def inquiry_detail(request: Request, session: DbSession, user: Operator, ref: str) -> Response:
    """One inquiry: the customer's words, triage, flow, conversation, claim, history (R19-R23)."""
    return render_detail(request, session, user, service.get(session, ref))
