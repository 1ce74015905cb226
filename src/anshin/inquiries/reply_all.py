"""One checked answer to everyone who asked about an incident, in one action (R21, R26).

A lead (senior and above) picks the open inquiries on an incident, optionally
only one intent and one channel, and writes the answer once per language. Each
customer gets the ``inquiry_reply`` template rendered for them — their name,
their ``Q-`` reference, the incident's facts, and the lead's answer — through
their own channel (mail threaded to their own mail, chat by the chat webhook).

What is checked is what is sent: the personalisation changes more than a name
(the greeting, the reference line), so the message check runs on every
recipient's rendered text, not on a sample. The first recipient of each language
is checked first so a refusal comes before any work; any refusal sends
nothing. A senior's override reason covers the whole batch and is recorded on
every inquiry it let through.

Inquiries another agent holds are left out unless the lead includes them (the
holder is answering them: R23); phone inquiries without a mail address cannot
be written to and are listed to be called. Neither is changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.comms.gate import Checked
from anshin.comms.kinds import MessageKind
from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.incidents import messages as composer
from anshin.incidents import notices
from anshin.incidents.models import Incident
from anshin.inquiries import rules
from anshin.inquiries.models import Inquiry
from anshin.inquiries.outgoing import route, send_out, thread_subject
from anshin.inquiries.replies import Agent, check_body, compose_options


@dataclass(frozen=True)
class Selection:
    """Which inquiries on the incident one answer goes to."""

    intent: str | None = None
    channel: str | None = None
    include_claimed: bool = False


@dataclass
class Outcome:
    """What one reply-all did: who got it, and who was left out and why."""

    sent: list[str] = field(default_factory=list)  # references
    held: list[str] = field(default_factory=list)  # another agent holds them
    to_call: list[str] = field(default_factory=list)  # phone, no mail address


def check_selection(selection: Selection) -> None:
    """An unknown intent or channel is refused rather than silently selecting nothing."""
    if selection.intent and selection.intent not in tuple(rules.Intent):
        raise InvalidInput(N_("Unknown intent: {value}."), field="intent", value=selection.intent)
    if selection.channel and selection.channel not in tuple(rules.Channel):
        raise InvalidInput(
            N_("Unknown channel: {value}."), field="channel", value=selection.channel
        )


def select_open(session: Session, incident: Incident, selection: Selection) -> list[Inquiry]:
    """The open inquiries on the incident that match the selection, oldest first."""
    check_selection(selection)
    stmt = select(Inquiry).where(Inquiry.incident_id == incident.id, Inquiry.closed_at.is_(None))
    if selection.intent:
        stmt = stmt.where(Inquiry.intent == selection.intent)
    if selection.channel:
        stmt = stmt.where(Inquiry.channel == selection.channel)
    return list(session.scalars(stmt.order_by(Inquiry.received_at, Inquiry.id)))


def split(
    settings: Settings, inquiries: list[Inquiry], user: Agent, selection: Selection
) -> tuple[list[Inquiry], Outcome]:
    """The inquiries the answer goes to, and those left out (held by another, phone only)."""
    outcome = Outcome()
    chosen: list[Inquiry] = []
    for inquiry in inquiries:
        held = inquiry.claimed_by_id is not None and inquiry.claimed_by_id != user.id
        if held and not selection.include_claimed:
            outcome.held.append(inquiry.reference)
        elif route(settings, inquiry, written=True) == "none":
            outcome.to_call.append(inquiry.reference)
        else:
            chosen.append(inquiry)
    return chosen, outcome


def render_for(
    session: Session,
    settings: Settings,
    incident: Incident,
    inquiry: Inquiry,
    answer: str,
    now: dt.datetime,
) -> tuple[str, str]:
    """One customer's subject and text: the reply template with their name, reference and answer."""
    rendered = composer.compose(
        session,
        settings,
        incident,
        MessageKind.INQUIRY_REPLY,
        inquiry.locale,
        "email",
        now,
        options=compose_options(inquiry, answer=answer),
    )
    return thread_subject(inquiry, rendered.subject), rendered.text


def _answers(answers: Mapping[str, str | None], chosen: list[Inquiry]) -> dict[str, str]:
    """Each needed language's answer, checked; a language someone reads must be written."""
    found: dict[str, str] = {}
    for locale in sorted({i.locale for i in chosen}):
        found[locale] = check_body(answers.get(locale), field=f"body_{locale}")
    return found


def reply_all(
    session: Session,
    settings: Settings,
    incident: Incident,
    user: Agent,
    *,
    answers: Mapping[str, str | None],
    selection: Selection | None = None,
    reports_result: bool = False,
    override_reason: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    now: dt.datetime | None = None,
) -> Outcome:
    """Send one checked answer to every selected inquiry on the incident (R21, R26).

    Refused when nothing is selected. Every rendered text is checked before
    anything is written; then each goes out and each inquiry records it.
    ``progress(done, total)`` is told after each inquiry (the CLI's bar).
    """
    now = now or utcnow()
    selection = selection or Selection()
    chosen, outcome = split(settings, select_open(session, incident, selection), user, selection)
    if not chosen:
        raise InvalidInput(
            N_("No open inquiry on this incident matches: nothing was sent."), field="selection"
        )
    texts = _answers(answers, chosen)
    rendered = [render_for(session, settings, incident, i, texts[i.locale], now) for i in chosen]
    order = sorted(range(len(chosen)), key=lambda n: (chosen[n].locale, n))
    firsts = {chosen[n].locale: n for n in reversed(order)}
    checks: dict[int, Checked] = {}
    for n in [*firsts.values(), *order]:  # one per language first: refuse before the rest
        if n in checks:
            continue
        checks[n] = notices.gate(
            incident,
            MessageKind.INQUIRY_REPLY,
            {chosen[n].locale: rendered[n][1]},
            session=session,
            actor_role=user.role,
            override_reason=override_reason,
            zone=settings.timezone,
        )
    for n, inquiry in enumerate(chosen):
        subject, text = rendered[n]
        send_out(
            session,
            settings,
            inquiry,
            kind=MessageKind.INQUIRY_REPLY,
            subject=subject,
            text=text,
            actor=user.actor,
            now=now,
            checked=checks[n],
            reports_result=reports_result,
            data={"reply_all": True},
            extra={"reply_all": True},
            written=True,
        )
        outcome.sent.append(inquiry.reference)
        if progress is not None:
            progress(n + 1, len(chosen))
    return outcome
