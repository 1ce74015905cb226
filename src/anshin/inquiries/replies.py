"""Our answer to one customer: drafted from a template, checked, sent the way they came (R21).

A reply starts from the template the inquiry suggests (``suggested_template``,
``phone_script`` for a call about an incident, else ``inquiry_reply``),
composed with the incident's facts (``incidents.messages.compose``). The agent
edits it; the edited text passes the same message check and senior override
as an incident notice (``incidents.notices.gate``), and exactly that text goes
out:

* email — through the outbox to the customer's contact row, threaded: the
  subject keeps the ``Q-`` reference, the mail answers the customer's last
  Message-ID (``In-Reply-To``/``References`` from the message's ``data``), and
  the Message-ID we send is kept on the conversation so their answer threads back;
* chat — through the outbox to the chat backend's webhook
  (``ANSHIN_CHAT_WEBHOOK_URL``) with the inquiry reference in the payload;
* phone — nothing is sent: the script read out and the call's outcome are recorded.

Only the agent holding the inquiry's claim replies (R23, ``claims.require_holder``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from anshin.comms.kinds import MessageKind
from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import Conflict, InvalidInput
from anshin.i18n import N_
from anshin.incidents import messages as composer
from anshin.incidents import notices
from anshin.incidents.models import Incident
from anshin.inputs import text_problem
from anshin.inquiries import claims, rules
from anshin.inquiries.models import Inquiry, InquiryMessage
from anshin.inquiries.outgoing import route, send_out, thread_subject
from anshin.inquiries.service import _clean
from anshin.team.models import User

REPLY_KINDS = (MessageKind.INQUIRY_REPLY, MessageKind.PHONE_SCRIPT)
BODY_MAX = 20_000
NOTE_MAX = 2_000


class Agent(Protocol):
    """Who replies: a console user, or the command line acting as an administrator."""

    @property
    def id(self) -> int | None: ...

    @property
    def role(self) -> str: ...

    @property
    def actor(self) -> str: ...


@dataclass(frozen=True)
class Draft:
    """The text a reply starts from, and how it will travel."""

    kind: str
    locale: str
    route: str  # email | chat | phone (``route``)
    subject: str | None
    text: str


def incident_of(session: Session, inquiry: Inquiry) -> Incident | None:
    """The incident the inquiry is linked to, if any."""
    return session.get(Incident, inquiry.incident_id) if inquiry.incident_id else None


def template_kind(inquiry: Inquiry) -> str:
    """The template a reply starts from: the suggestion, else by channel (R21).

    A phone script needs the incident it speaks about; a call about none
    starts from the written reply, read out.
    """
    suggested = inquiry.suggested_template
    if suggested not in REPLY_KINDS:
        suggested = (
            MessageKind.PHONE_SCRIPT
            if inquiry.channel == rules.Channel.PHONE
            else MessageKind.INQUIRY_REPLY
        )
    if suggested == MessageKind.PHONE_SCRIPT and inquiry.incident_id is None:
        return MessageKind.INQUIRY_REPLY
    return str(suggested)


def compose_options(
    inquiry: Inquiry, *, answer: str = "", reply_by: dt.datetime | None = None
) -> dict[str, Any]:
    """What the inquiry templates need beyond the incident: name, reference, times, answer."""
    return {
        "customer_name": inquiry.customer_name or "",
        "inquiry_reference": inquiry.reference,
        "received_at": inquiry.received_at,
        "reply_by": reply_by or inquiry.next_action_due_at,
        "answer": answer,
    }


def draft(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    *,
    answer: str = "",
    now: dt.datetime | None = None,
) -> Draft:
    """The reply the agent starts from: the suggested template on the record's facts."""
    now = now or utcnow()
    kind = template_kind(inquiry)
    way = route(settings, inquiry)
    channel = "script" if kind == MessageKind.PHONE_SCRIPT else "email"
    if way == "chat":
        channel = "short"
    rendered = composer.compose(
        session,
        settings,
        incident_of(session, inquiry),
        kind,
        inquiry.locale,
        channel,
        now,
        options=compose_options(inquiry, answer=answer),
    )
    return Draft(
        kind, inquiry.locale, way, thread_subject(inquiry, rendered.subject), rendered.text
    )


def check_body(text: str | None, field: str = "body") -> str:
    """The reply's text: refused when empty or too long, never cut."""
    if text is None or not text.strip():
        raise InvalidInput(N_("Write the reply: the text is empty."), field=field)
    if len(text) > BODY_MAX:
        raise InvalidInput(N_("The reply must be at most {n} characters."), field=field, n=BODY_MAX)
    problem = text_problem(text)
    if problem:
        raise InvalidInput(problem, field=field)
    return text.strip("\n")


def reply(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    user: User,
    *,
    text: str,
    subject: str | None = None,
    reports_result: bool = False,
    override_reason: str | None = None,
    outcome: str | None = None,
    next_action: str | None = None,
    next_action_due_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> InquiryMessage:
    """Check the agent's text and send it by the inquiry's channel, or record the call (R21).

    The text checked is the text sent (R3, R12–R16); an override is recorded
    on the inquiry naming the message it let through. The first reply sets
    ``first_responded_at`` (the due time in the queues stops counting).
    """
    now = now or utcnow()
    claims.require_holder(session, inquiry, user, zone=settings.timezone)  # locks the row
    if not inquiry.is_open:
        raise Conflict(N_("This inquiry is closed: reopen it to reply."), field="stage")
    body = check_body(text)
    note = _clean(outcome, "outcome", NOTE_MAX)
    action = _clean(next_action, "next_action", NOTE_MAX)
    if next_action_due_at is not None and action is None:
        raise InvalidInput(N_("Say what the next action is."), field="next_action")
    kind = template_kind(inquiry)
    checked = notices.gate(
        incident_of(session, inquiry),
        kind,
        {inquiry.locale: body},
        session=session,
        actor_role=user.role,
        override_reason=override_reason,
        zone=settings.timezone,
    )
    title = thread_subject(inquiry, subject or draft(session, settings, inquiry, now=now).subject)
    if action is not None or next_action_due_at is not None:
        inquiry.next_action = action
        inquiry.next_action_due_at = next_action_due_at
    phone = route(settings, inquiry) == "phone"
    message = send_out(
        session,
        settings,
        inquiry,
        kind=kind,
        subject=title,
        text=body,
        actor=user.actor,
        now=now,
        checked=checked,
        reports_result=reports_result,
        data={"outcome": note} if phone else {},
        action="inquiry.call_recorded" if phone else "inquiry.replied",
        extra={"outcome": note, "next_action": inquiry.next_action},
    )
    return message
