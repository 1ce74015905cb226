"""The two reports of an incident as documents: sections of text, tables and charts (R7–R9, R31).

* the **customer** report is the text customers read: once published, the
  report notice's stored body (exactly what the message check passed),
  before that the draft of :mod:`anshin.review.customer`, marked as a draft;
* the **internal** review report puts side by side what the team needs:
  the metrics of docs/review.md, the charts, the timeline, escalations,
  commitments and the important customers' follow-ups.

A :class:`Document` knows nothing of its format; :mod:`anshin.review.export`
writes it as Markdown, HTML or PDF.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.errors import InvalidInput
from anshin.i18n import N_, translate
from anshin.incidents import service as incidents
from anshin.incidents.context import SEVERITY_LABELS, STATUS_LABELS
from anshin.incidents.models import Incident
from anshin.inquiries import commitments as promises
from anshin.inquiries.models import Commitment, Inquiry
from anshin.review import actions, customer, figures, followups, gaps, metrics, timeline
from anshin.review.views import ENTRY_LABELS, METRIC_LABELS
from anshin.timefmt import format_local

KINDS: tuple[str, ...] = ("customer", "internal")
ACTION_STATES = {
    "open": N_("Action open"),
    "done": N_("Action done"),
    "effective": N_("Action effective"),
    "not_effective": N_("Action not effective"),
}


@dataclass
class Section:
    """One heading with paragraphs, an optional table (header + rows) and an optional SVG chart."""

    heading: str
    paragraphs: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    chart: str | None = None


@dataclass
class Document:
    """A report ready to be written in any format, in one language."""

    title: str
    locale: str
    kind: str
    reference: str
    notes: list[str] = field(default_factory=list)  # lines under the title (draft, published at)
    sections: list[Section] = field(default_factory=list)


def shown(name: str, value: Any) -> str:
    """A metric for people: seconds as h:mm:ss, shares as %, nothing measured as —."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"L{level}: {n}" for level, n in value.items())
    if name.endswith("_seconds"):
        secs = round(value)
        return f"{secs // 3600}:{(secs % 3600) // 60:02d}:{secs % 60:02d}"
    if name in ("cadence_kept", "commitments_kept"):
        return f"{value:.0%}"
    if isinstance(value, float):
        return f"{value:.1f}"  # csat_average: one decimal, as a score is read
    return str(value)


def check_kind(kind: str) -> str:
    """Refuse a report kind we do not make, naming the ones we do."""
    if kind not in KINDS:
        raise InvalidInput(
            N_("Unknown report kind: {value}. Choose one of: {choices}."),
            field="kind",
            value=kind,
            choices=", ".join(KINDS),
        )
    return kind


def sections_of(text: str, intro_heading: str) -> list[Section]:
    """Split a report text at its ``■`` heading lines; what comes first is the introduction."""
    out = [Section(intro_heading)]
    for line in text.splitlines():
        if line.startswith(customer.HEADING):
            out.append(Section(line[len(customer.HEADING) :].strip()))
        else:
            out[-1].paragraphs.append(line)
    for section in out:
        section.paragraphs = [p for p in "\n".join(section.paragraphs).strip().split("\n\n") if p]
    return [s for s in out if s.paragraphs]


def customer_document(
    session: Session,
    settings: Settings,
    incident: Incident,
    locale: str,
    now: dt.datetime,
    written: customer.Written = customer.NOTHING_WRITTEN,
) -> Document:
    """The customer report: the published text if there is one, else the draft (marked so)."""
    zone = settings.timezone
    title = translate(locale, N_("Incident report: {title}"), title=_title(incident, locale))
    doc = Document(title, locale, "customer", incident.reference)
    update = customer.published(session, incident)
    text = update.body(locale) if update is not None else None
    if update is not None and text:
        doc.notes.append(
            translate(
                locale,
                N_("Published {at}"),
                at=format_local(update.published_at, zone, locale),
            )
        )
    else:
        text = customer.draft_text(session, settings, incident, locale, written, now)
        doc.notes.append(translate(locale, N_("Draft: not published yet")))
    doc.sections = sections_of(text, translate(locale, N_("Announcement")))
    return doc


def _title(incident: Incident, locale: str) -> str:
    return (incident.title_en or incident.title) if locale == "en" else incident.title


def _detail(value: dict[str, Any], zone: str, locale: str) -> str:
    shown = []
    for key, item in value.items():
        if item is None:
            continue
        if isinstance(item, dt.datetime):
            item = format_local(item, zone, locale)
        shown.append(f"{key}={item}")
    return ", ".join(shown)


def _gaps_and_actions(
    session: Session, incident: Incident, tr: Any, zone: str, locale: str
) -> list[Section]:
    """What customers asked but were not told (R30), and the prevention actions (R31)."""
    found = gaps.as_json(gaps.analyse(session, incident.reference), locale, zone)["gaps"]
    planned = actions.actions(session, incident)
    return [
        Section(
            tr(N_("Gaps")),
            [g["text"] for g in found]
            or [tr(N_("No gaps: every question asked had its answer in the update of the time."))],
        ),
        Section(
            tr(N_("Prevention actions")),
            [] if planned else [tr(N_("None."))],
            header=[tr(N_("What we change")), tr(N_("Owner")), tr(N_("Due")), tr(N_("State"))],
            rows=[
                [
                    a.title,
                    a.owner_name,
                    a.due_on.isoformat(),
                    tr(ACTION_STATES.get(a.state, a.state)),
                ]
                for a in planned
            ],
        ),
    ]


def internal_document(
    session: Session, settings: Settings, incident: Incident, locale: str, now: dt.datetime
) -> Document:
    """The internal review report: facts, metrics, charts, timeline, escalations, promises."""
    zone = settings.timezone
    tr = lambda msgid, **kw: translate(locale, msgid, **kw)  # noqa: E731
    doc = Document(
        tr(N_("Internal review: {title}"), title=_title(incident, locale)),
        locale,
        "internal",
        incident.reference,
        [tr(N_("Made {at}"), at=format_local(now, zone, locale))],
    )
    facts = [
        (N_("Reference"), incident.reference),
        (N_("Severity"), f"{incident.severity} ({SEVERITY_LABELS[locale].get(incident.severity)})"),
        (N_("Status"), STATUS_LABELS[locale].get(incident.status, incident.status)),
        (N_("Started"), format_local(incident.started_at, zone, locale)),
        (N_("Detected"), format_local(incident.detected_at, zone, locale)),
        (N_("Declared"), format_local(incident.declared_at, zone, locale)),
        (N_("Resolved"), format_local(incident.resolved_at, zone, locale) or "—"),
        (
            N_("Components"),
            ", ".join(
                (ic.component.name_en if locale == "en" else None) or ic.component.name
                for ic in incident.components
            ),
        ),
        (N_("Customers affected (estimate)"), str(incident.estimated_affected_customers or "—")),
        (
            N_("Cause"),
            (incident.cause or "—")
            + (
                "" if incident.cause_confirmed or not incident.cause else tr(N_(" (not confirmed)"))
            ),
        ),
        (
            N_("Customer report"),
            format_local(incident.report_published_at, zone, locale)
            or tr(N_("Draft: not published yet")),
        ),
    ]
    doc.sections.append(
        Section(
            tr(N_("Summary")),
            header=[tr(N_("Item")), tr(N_("Value"))],
            rows=[[tr(k), v] for k, v in facts],
        )
    )
    measured = metrics.for_incident(session, incident.reference)
    doc.sections.append(
        Section(
            tr(N_("Metrics")),
            [tr(N_("Each metric is defined in docs/review.md; — means nothing to measure."))],
            header=[tr(N_("Metric")), tr(N_("Value"))],
            rows=[
                [f"{tr(METRIC_LABELS.get(k, k))}\n{k}", shown(k, v)]
                for k, v in measured.items()
                if k != "incident"
            ],
        )
    )
    entries = timeline.for_incident(session, incident.id, now=now)
    doc.sections += [
        Section(heading, [note], chart=svg)
        for heading, note, svg in figures.for_incident(session, incident, entries, zone, locale)
    ]
    doc.sections.append(
        Section(
            tr(N_("Timeline")),
            header=[tr(N_("Time")), tr(N_("What happened")), tr(N_("Detail"))],
            rows=[
                [
                    format_local(e.at, zone, locale),
                    tr(ENTRY_LABELS.get(e.kind, e.kind)),
                    _detail(e.detail, zone, locale),
                ]
                for e in entries
            ],
        )
    )
    doc.sections.append(
        Section(
            tr(N_("Escalations")),
            [] if any(e.kind == "escalation" for e in entries) else [tr(N_("None."))],
            header=[tr(N_("Time")), tr(N_("Inquiry")), tr(N_("Level")), tr(N_("By"))],
            rows=[
                [
                    format_local(e.at, zone, locale),
                    str(e.detail.get("inquiry") or ""),
                    f"{e.detail.get('from')} → {e.detail.get('to')}",
                    str(e.detail.get("actor")),
                ]
                for e in entries
                if e.kind == "escalation"
            ],
        )
    )
    promised = list(
        session.execute(
            select(Commitment, Inquiry.reference)
            .join(Inquiry, Inquiry.id == Commitment.inquiry_id)
            .where(Inquiry.incident_id == incident.id)
            .order_by(Commitment.due_at, Commitment.id)
        )
    )
    doc.sections.append(
        Section(
            tr(N_("Commitments")),
            [] if promised else [tr(N_("None."))],
            header=[
                tr(N_("Inquiry")),
                tr(N_("What we promised")),
                tr(N_("Owner")),
                tr(N_("Due")),
                tr(N_("State")),
            ],
            rows=[
                [
                    ref,
                    row.description,
                    row.owner_name,
                    format_local(row.due_at, zone, locale),
                    promises.state_of(row, now),
                ]
                for row, ref in promised
            ],
        )
    )
    important = followups.for_incident(session, settings, incident, now)
    doc.sections.append(
        Section(
            tr(N_("Important customers: next-day follow-up")),
            [] if important else [tr(N_("None."))],
            header=[tr(N_("Inquiry")), tr(N_("Customer")), tr(N_("Task")), tr(N_("Due"))],
            rows=[
                [
                    f.inquiry,
                    f.customer,
                    f.task if f.saved else tr(N_("(not saved yet)")),
                    format_local(f.due_at, zone, locale),
                ]
                for f in important
            ],
        )
    )
    doc.sections += _gaps_and_actions(session, incident, tr, zone, locale)
    return doc


def build(
    session: Session,
    settings: Settings,
    reference: str,
    kind: str,
    locale: str,
    now: dt.datetime,
    written: customer.Written = customer.NOTHING_WRITTEN,
) -> Document:
    """The report of ``kind`` for the incident ``reference`` (unknown ones: NotFound)."""
    check_kind(kind)
    incident = incidents.get(session, reference)
    if kind == "customer":
        return customer_document(session, settings, incident, locale, now, written)
    return internal_document(session, settings, incident, locale, now)
