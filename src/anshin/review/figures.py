"""The numbers behind the review report's three charts, read from the record (R5, R31).

* inquiries per 15 minutes (the timeline's ``inquiry_volume``), with each
  public update as a marker where it was published;
* first-response times in buckets of minutes, over the inquiries answered;
* each public update's lateness against the time the update before it
  promised (R5): positive is late, negative early.

The drawing is :mod:`anshin.review.charts`; this module only gathers.
"""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.i18n import N_, translate
from anshin.incidents.models import Incident
from anshin.inquiries.models import Inquiry
from anshin.review import charts, metrics, timeline
from anshin.review.rules import seconds_between
from anshin.timefmt import clock_local

QUARTER = dt.timedelta(minutes=15)


def _volume(
    session: Session, incident: Incident, entries: list[timeline.Entry], zone: str
) -> tuple[list[charts.Bar], list[charts.Marker]]:
    volume = [e for e in entries if e.kind == "inquiry_volume"]
    public = metrics.public_updates(session, incident)
    counts = [(e.at, int(e.detail["count"])) for e in volume]
    # The axis runs to the resolution (or the last update while open), empty periods
    # included, so each update during the incident falls on it; a report notice days
    # later would squeeze the incident into a corner, and is left off.
    end = incident.resolved_at or (public[-1].published_at if public else None)
    while counts and end is not None and counts[-1][0] + QUARTER <= end:
        counts.append((counts[-1][0] + QUARTER, 0))
    if not counts:
        return [], []
    start = counts[0][0]
    last = counts[-1][0] + QUARTER
    bars = [charts.Bar(clock_local(at, zone), n) for at, n in counts]
    markers = [
        charts.Marker((u.published_at - start) / QUARTER, f"#{n}")
        for n, u in enumerate(public, start=1)
        if u.published_at <= last
    ]
    return bars, markers


def _answered(session: Session, incident: Incident) -> list[float]:
    rows = session.execute(
        select(Inquiry.received_at, Inquiry.first_responded_at).where(
            Inquiry.incident_id == incident.id
        )
    )
    return [
        s
        for row in rows
        if (s := seconds_between(row.received_at, row.first_responded_at)) is not None
    ]


def _lateness(session: Session, incident: Incident) -> list[tuple[str, float]]:
    public = metrics.public_updates(session, incident)
    return [
        (f"#{n}", (after.published_at - before.next_update_at).total_seconds() / 60)
        for n, (before, after) in enumerate(itertools.pairwise(public), start=2)
        if before.next_update_at is not None
    ]


def for_incident(
    session: Session,
    incident: Incident,
    entries: list[timeline.Entry],
    zone: str,
    locale: str,
) -> list[tuple[str, str, str]]:
    """The three charts as (heading, what it shows, SVG), in the reader's language."""
    tr = lambda msgid: translate(locale, msgid)  # noqa: E731
    nothing = tr(N_("Nothing to show."))
    bars, markers = _volume(session, incident, entries, zone)
    shown = [
        (
            N_("Inquiries over time"),
            N_("Inquiries per 15 minutes; dashed lines are public updates."),
            bars,
            markers,
            N_("inquiries"),
        ),
        (
            N_("First-response times"),
            N_("Inquiries by minutes from receipt to the first response."),
            charts.response_buckets(_answered(session, incident)),
            [],
            N_("inquiries"),
        ),
        (
            N_("Promised vs actual update times"),
            N_("Minutes each update came after (+) or before (−) the time promised."),
            charts.lateness_bars(_lateness(session, incident)),
            [],
            N_("minutes"),
        ),
    ]
    return [
        (
            tr(heading),
            tr(note),
            charts.bar_chart(found, title=tr(heading), unit=tr(unit), markers=marks, empty=nothing),
        )
        for heading, note, found, marks, unit in shown
    ]
