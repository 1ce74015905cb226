"""The handoff sheet: what the next level needs to take over an inquiry, from stored records (R24).

The customer's own words and temperature; a fact inventory in three columns —
what the customer says (their messages), what is confirmed (the linked
incident's record: status, components, start, the cause and recovery only once
confirmed, the workaround), what we have already told them (our replies and
the incident's published public updates) — with the disagreements between
them and the reason for each (``inquiries.disagreements``); the requests with
our decisions; the commitments with owner, due time and state; the next step
and its deadline. Nothing is inferred that the records do not say.

:func:`build` gathers it; :func:`text` renders it as plain text (the CLI, the
``.txt`` download, and the internal note escalation stores); the console
renders the same :class:`Sheet` as HTML (``inquiries/_handoff.html``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.components.models import Component
from anshin.config import Settings
from anshin.db import utcnow
from anshin.i18n import N_, translate
from anshin.incidents.models import Incident
from anshin.inquiries import disagreements, rules
from anshin.inquiries.commitments import state_of
from anshin.inquiries.models import Inquiry
from anshin.timefmt import format_local
from anshin.web.templating import render

# Incident statuses as people read them (the same msgids as the console's labels).
STATUS_LABELS: dict[str, str] = {
    "investigating": N_("Investigating"),
    "identified": N_("Identified"),
    "monitoring": N_("Monitoring"),
    "resolved": N_("Resolved"),
}
TEMPERATURE_LABELS: dict[int, str] = {
    0: N_("calm"),
    1: N_("worried"),
    2: N_("irritated"),
    3: N_("furious"),
}
DECISION_LABELS: dict[str, str] = {
    "pending": N_("pending"),
    "accepted": N_("accepted"),
    "declined": N_("declined"),
    "alternative": N_("alternative offered"),
}
STATE_LABELS: dict[str, str] = {
    "open": N_("open"),
    "kept": N_("kept"),
    "missed": N_("missed"),
}
KIND_LABELS: dict[str, str] = {
    "callback": N_("call back"),
    "investigation_result": N_("written investigation result"),
    "refund": N_("refund"),
    "credit": N_("credit"),
    "contract_change": N_("contract change"),
}
# What we told them, by the message's kind (the same msgids as the template list).
SOURCE_LABELS: dict[str, str] = {
    "first_notice": N_("First notice"),
    "update": N_("Update"),
    "no_news_update": N_("No-news update"),
    "resolution": N_("Resolution notice"),
    "reopened": N_("Reopened"),
    "report_notice": N_("Report published"),
    "inquiry_ack": N_("Inquiry received"),
    "inquiry_reply": N_("Reply to an inquiry"),
    "phone_script": N_("Phone script"),
    "reply": N_("Our reply"),
}
# Promises that answer a customer's expectation of money back.
MONEY_KINDS = frozenset({rules.CommitmentKind.REFUND, rules.CommitmentKind.CREDIT})


@dataclass(frozen=True)
class Said:
    """One thing said, by the customer or by us, with when and how."""

    at: dt.datetime
    channel: str
    text: str
    source: str = ""  # for what we told them: "reply", "update INC-…", "script"


@dataclass(frozen=True)
class Fact:
    """One confirmed fact from the incident record, labelled."""

    label: str  # translated
    value: str


@dataclass(frozen=True)
class RequestRow:
    """A request with our decision, as the sheet lists it."""

    text: str
    decision: str
    decision_label: str
    alternative: str | None
    decided_by: str | None


@dataclass(frozen=True)
class CommitmentRow:
    """A commitment with owner, due time and state now."""

    id: int
    kind: str
    kind_label: str
    description: str
    owner: str
    due_at: dt.datetime
    state: str
    state_label: str


@dataclass(frozen=True)
class Flag:
    """A disagreement, its reason in the reader's language and the words it matched."""

    topic: str
    reason: str
    quote: str


@dataclass
class Sheet:
    """Everything the handoff sheet shows, in one reader's language (R24)."""

    reference: str
    locale: str  # the reader's language
    zone: str
    generated_at: dt.datetime
    customer: str
    organisation: str | None
    tier: str
    channel: str
    level: int
    stage: str
    temperature: int
    temperature_label: str
    harassment: bool
    customer_locale: str  # the language the customer wrote in (ja or en): marks their words
    incident_reference: str | None
    incident_title: str | None
    words: list[Said] = field(default_factory=list)
    confirmed: list[Fact] = field(default_factory=list)
    told: list[Said] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    requests: list[RequestRow] = field(default_factory=list)
    commitments: list[CommitmentRow] = field(default_factory=list)
    next_action: str | None = None
    next_action_due_at: dt.datetime | None = None


def _when(value: dt.datetime, settings: Settings, locale: str) -> str:
    return format_local(value, settings.timezone, locale)


def _confirmed(
    incident: Incident, settings: Settings, locale: str
) -> tuple[list[Fact], list[tuple[str, ...]]]:
    """The incident's confirmed facts, and the names of its affected components (R3)."""
    t = lambda msgid: translate(locale, msgid)  # noqa: E731 - a local shorthand
    facts = [
        Fact(t(N_("Incident")), f"{incident.reference} {_title(incident, locale)}"),
        Fact(t(N_("Status")), t(STATUS_LABELS.get(incident.status, incident.status))),
    ]
    affected = [
        tuple(n for n in (link.component.name, link.component.name_en) if n)
        for link in incident.components
    ]
    if affected:
        names = [n[1] if locale == "en" and len(n) > 1 else n[0] for n in affected]
        facts.append(Fact(t(N_("Affected components")), ", ".join(names)))
    facts.append(Fact(t(N_("Started at")), _when(incident.started_at, settings, locale)))
    if incident.cause_confirmed and incident.cause:
        facts.append(Fact(t(N_("Cause (confirmed)")), incident.cause))
    if incident.recovery_confirmed and incident.resolved_at:
        facts.append(Fact(t(N_("Recovered at")), _when(incident.resolved_at, settings, locale)))
    elif incident.recovery_confirmed and incident.estimated_recovery_at:
        facts.append(
            Fact(
                t(N_("Recovery expected (confirmed)")),
                _when(incident.estimated_recovery_at, settings, locale),
            )
        )
    workaround = incident.workaround_en if locale == "en" and incident.workaround_en else None
    workaround = workaround or incident.workaround
    if workaround:
        facts.append(Fact(t(N_("Workaround")), workaround))
    return facts, affected


def _title(incident: Incident, locale: str) -> str:
    return incident.title_en if locale == "en" and incident.title_en else incident.title


def _told(inquiry: Inquiry, incident: Incident | None, locale: str) -> list[Said]:
    """Our outbound messages to this customer and the incident's published public updates."""

    def label(kind: str | None) -> str:
        return translate(locale, SOURCE_LABELS.get(kind or "reply", kind or "reply"))

    told = [
        Said(m.at, m.channel, m.body, label(m.kind))
        for m in inquiry.messages
        if m.direction == "out"
    ]
    if incident is not None:
        for u in incident.updates:
            if u.audience != "public":
                continue
            body = u.body_en if locale == "en" and u.body_en else u.body_ja
            told.append(
                Said(u.published_at, "status_page", body, f"{incident.reference} · {label(u.kind)}")
            )
    return sorted(told, key=lambda s: s.at)


def _flags(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    incident: Incident | None,
    affected: list[tuple[str, ...]],
    told: list[Said],
    locale: str,
) -> list[Flag]:
    """Every disagreement between the customer's messages and the record, with its reason."""
    found: list[disagreements.Disagreement] = []
    inbound = [m for m in inquiry.messages if m.direction == "in"]
    everything = "\n".join(m.body for m in inbound)
    zone = ZoneInfo(settings.timezone)
    if incident is not None:
        start = disagreements.check_start(
            everything,
            incident.started_at.astimezone(zone),
            recorded=_when(incident.started_at, settings, locale),
        )
        if start:
            found.append(start)
        known = [
            tuple(n for n in (c.name, c.name_en) if n)
            for c in session.scalars(select(Component).order_by(Component.position, Component.id))
        ]
        found.extend(disagreements.check_components(everything, affected, known))
        if incident.resolved_at is not None:
            after = "\n".join(m.body for m in inbound if m.at >= incident.resolved_at)
            recovery = disagreements.check_recovery(
                after, resolved=_when(incident.resolved_at, settings, locale)
            )
            if recovery:
                found.append(recovery)
    for message in inbound:
        before = [s for s in told if s.at <= message.at]
        notice = disagreements.check_notice(
            message.body,
            len(before),
            first=_when(before[0].at, settings, locale) if before else None,
        )
        if notice:
            found.append(notice)
            break
    promised = any(c.kind in MONEY_KINDS for c in inquiry.commitments)
    money = disagreements.check_compensation(everything, promised)
    if money:
        found.append(money)
    return [Flag(d.topic, translate(locale, d.msgid, **d.params), d.quote) for d in found]


def build(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    *,
    locale: str = "ja",
    now: dt.datetime | None = None,
) -> Sheet:
    """The handoff sheet of ``inquiry`` from its stored records, in ``locale`` (R24)."""
    now = now or utcnow()
    incident = session.get(Incident, inquiry.incident_id) if inquiry.incident_id else None
    sheet = Sheet(
        reference=inquiry.reference,
        locale=locale,
        zone=settings.timezone,
        generated_at=now,
        customer=inquiry.customer_name or inquiry.customer_email or inquiry.customer_phone or "-",
        organisation=inquiry.customer_org,
        tier=inquiry.customer_tier,
        channel=inquiry.channel,
        level=inquiry.level,
        stage=inquiry.stage,
        temperature=inquiry.temperature,
        temperature_label=translate(locale, TEMPERATURE_LABELS.get(inquiry.temperature, "-")),
        harassment=inquiry.harassment,
        customer_locale=inquiry.locale,
        incident_reference=incident.reference if incident else None,
        incident_title=_title(incident, locale) if incident else None,
        next_action=inquiry.next_action,
        next_action_due_at=inquiry.next_action_due_at,
    )
    sheet.words = [
        Said(m.at, m.channel, m.body, "original" if i == 0 else "later")
        for i, m in enumerate(m for m in inquiry.messages if m.direction == "in")
    ]
    if not sheet.words:  # the record's own words, should the first message be missing
        sheet.words = [Said(inquiry.received_at, inquiry.channel, inquiry.original_text)]
    affected: list[tuple[str, ...]] = []
    if incident is not None:
        sheet.confirmed, affected = _confirmed(incident, settings, locale)
    sheet.told = _told(inquiry, incident, locale)
    sheet.flags = _flags(session, settings, inquiry, incident, affected, sheet.told, locale)
    sheet.requests = [
        RequestRow(
            r.text,
            r.decision,
            translate(locale, DECISION_LABELS.get(r.decision, r.decision)),
            r.alternative,
            r.decided_by,
        )
        for r in inquiry.requests
    ]
    for c in inquiry.commitments:
        state = state_of(c, now)
        sheet.commitments.append(
            CommitmentRow(
                c.id,
                c.kind,
                translate(locale, KIND_LABELS.get(c.kind, c.kind)),
                c.description,
                c.owner_name,
                c.due_at,
                state,
                translate(locale, STATE_LABELS.get(state, state)),
            )
        )
    return sheet


def text(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    *,
    locale: str = "ja",
    now: dt.datetime | None = None,
) -> str:
    """The handoff sheet as plain text: the CLI, the download, escalation's internal note."""
    sheet = build(session, settings, inquiry, locale=locale, now=now)
    return render_text(sheet)


def render_text(sheet: Sheet) -> str:
    """A built sheet as plain text in its own language."""
    out = render(
        "inquiries/handoff.txt", {"sheet": sheet, "locale": sheet.locale, "zone": sheet.zone}
    )
    return out.rstrip() + "\n"
