"""The gap analysis of one incident, read from what was stored (R30; docs/review.md "Gaps").

What a public update told customers is taken from stored facts, not from
reading its text: the incident record as it stood when the update was
published, which the incident's events keep as snapshots (``incident.declared``,
``incident.edited``, ``incident.resolved``, ``incident.reopened``). The
update's own publication event (``after.update_id``, or the n-th
``incident.resolved`` for the n-th resolution) fixes which snapshot applies,
so a record edited a moment before publishing counts however close the clocks
were. The message context builds every template from those facts under R3
(an unconfirmed cause is never given), so they are what the notice was
written from.

The words of a gap are made here, in the reader's language and zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.events import Event
from anshin.i18n import CatalogTranslations, translations
from anshin.incidents import service as incidents
from anshin.incidents.models import Incident, IncidentUpdate
from anshin.inquiries.models import Inquiry
from anshin.review import gap_rules
from anshin.review.gap_rules import Asked, Gap, GapKind, Period, Told
from anshin.review.metrics import public_updates
from anshin.timefmt import iso_local, parse_stored, to_zone

# Events whose ``after`` is the whole incident record (incidents.record.snapshot).
SNAPSHOT_KEYS = ("estimated_recovery_at", "workaround", "cause", "cause_confirmed")
RESOLVED = "incident.resolved"
# The events that publish an update and name it (a check override names it too, but is not
# its publication: it is written before the update's own event).
PUBLISHED = frozenset(
    {
        "incident.first_notice",
        "incident.update",
        "incident.no_news_update",
        "incident.reopened",
        "incident.report_notice",
    }
)

# The words of each gap, "{n}" inquiries in "{span}" (ngettext: one inquiry reads as one).
WORDS: dict[GapKind, Callable[[CatalogTranslations, int], str]] = {
    GapKind.NO_ESTIMATE: lambda tr, n: tr.ngettext(
        "{span}: {n} status inquiry asked when it would be back while no update gave an estimate",
        "{span}: {n} status inquiries asked when it would be back while no update gave an estimate",
        n,
    ),
    GapKind.ESTIMATE_PASSED: lambda tr, n: tr.ngettext(
        "{span}: {n} status inquiry asked when it would be back "
        "while the estimate given had already passed",
        "{span}: {n} status inquiries asked when it would be back "
        "while the estimate given had already passed",
        n,
    ),
    GapKind.NO_WORKAROUND: lambda tr, n: tr.ngettext(
        "{span}: {n} customer asked for a workaround while no update gave one",
        "{span}: {n} customers asked for a workaround while no update gave one",
        n,
    ),
    GapKind.NO_CAUSE: lambda tr, n: tr.ngettext(
        "{span}: {n} technical question asked what happened while no update gave a cause",
        "{span}: {n} technical questions asked what happened while no update gave a cause",
        n,
    ),
}


@dataclass(frozen=True)
class Analysis:
    """The gaps of one incident, the periods behind them, and what each public update told."""

    incident: Incident
    gaps: list[Gap]
    periods: list[Period]
    told: list[Told]


def _is_snapshot(event: Event) -> bool:
    after = event.after or {}
    return all(key in after for key in SNAPSHOT_KEYS)


def _publication_events(updates: list[IncidentUpdate], history: list[Event]) -> dict[int, Event]:
    """Each public update's own publication event, where one was stored."""
    by_update = {
        int(e.after["update_id"]): e
        for e in history
        if e.action in PUBLISHED and e.after and isinstance(e.after.get("update_id"), int)
    }
    resolutions = iter(e for e in history if e.action == RESOLVED)
    found: dict[int, Event] = {}
    for update in updates:
        if update.id in by_update:
            found[update.id] = by_update[update.id]
        elif update.kind == "resolution":
            event = next(resolutions, None)
            if event is not None:
                found[update.id] = event
    return found


def told_by(updates: list[IncidentUpdate], history: list[Event]) -> list[Told]:
    """What each public update told, from the record snapshot in force at its publication.

    Without a publication event (history loaded from elsewhere) the last
    snapshot stored at or before the update's time applies; without any
    snapshot the update is counted as telling nothing, never guessed.
    """
    snapshots = [e for e in history if _is_snapshot(e)]
    published = _publication_events(updates, history)
    out: list[Told] = []
    for update in updates:
        own = published.get(update.id)
        if own is not None:
            before = [e for e in snapshots if e.id <= own.id]
        else:
            before = [e for e in snapshots if e.at <= update.published_at]
        record: dict[str, Any] = before[-1].after or {} if before else {}
        out.append(
            Told(
                update_id=update.id,
                published_at=update.published_at,
                resolved=update.status == "resolved",
                recovery_at=parse_stored(record.get("estimated_recovery_at")),
                workaround=bool(record.get("workaround")),
                cause=bool(record.get("cause") and record.get("cause_confirmed")),
            )
        )
    return out


def analyse(session: Session, reference: str | int) -> Analysis:
    """The gap analysis of one incident (R30)."""
    incident = incidents.get(session, reference)
    updates = public_updates(session, incident)
    history = list(
        session.scalars(
            select(Event)
            .where(Event.entity_type == "incident", Event.entity_id == incident.id)
            .order_by(Event.id)
        )
    )
    told = told_by(updates, history)
    asked = [
        Asked(row.reference, row.received_at, row.intent)
        for row in session.execute(
            select(Inquiry.reference, Inquiry.received_at, Inquiry.intent).where(
                Inquiry.incident_id == incident.id
            )
        )
    ]
    return Analysis(
        incident, gap_rules.find_gaps(asked, told), gap_rules.periods(asked, told), told
    )


def span(start: dt.datetime, end: dt.datetime, zone: str, first_day: dt.date) -> str:
    """10:30–11:30 in the team's zone; with the date (12/07 10:30) off the incident's first day."""
    local_start, local_end = to_zone(start, zone), to_zone(end, zone)
    assert local_start is not None and local_end is not None
    head = f"{local_start:%H:%M}"
    if local_start.date() != first_day:
        head = f"{local_start:%m/%d} {head}"
    tail = f"{local_end:%H:%M}"
    if local_end.date() != local_start.date() and not (
        local_end.time() == dt.time(0) and local_end.date() == local_start.date() + dt.timedelta(1)
    ):
        tail = f"{local_end:%m/%d} {tail}"
    return f"{head}–{tail}"


def first_day(incident: Incident, zone: str) -> dt.date:
    """The incident's declaration day in the team's zone: times on it need no date."""
    local = to_zone(incident.declared_at, zone)
    assert local is not None
    return local.date()


def describe(gap: Gap, locale: str, zone: str, day: dt.date) -> str:
    """The gap in words, e.g. "10:30–11:30: 14 status inquiries asked when it would be back
    while no update gave an estimate"."""
    text = WORDS[gap.kind](translations(locale), gap.count)
    return text.format(span=span(gap.start, gap.end, zone, day), n=gap.count)


def as_json(analysis: Analysis, locale: str, zone: str) -> dict[str, Any]:
    """The analysis for scripts: each gap with its words, inquiries and updates (ISO times)."""
    day = first_day(analysis.incident, zone)
    return {
        "incident": analysis.incident.reference,
        "gaps": [
            {
                "kind": gap.kind.value,
                "need": gap.need.value,
                "start": iso_local(gap.start, zone),
                "end": iso_local(gap.end, zone),
                "inquiries_count": gap.count,
                "text": describe(gap, locale, zone, day),
                "inquiries": list(gap.inquiries),
                "updates": list(gap.updates),
            }
            for gap in analysis.gaps
        ],
        "periods": [
            {
                "start": iso_local(p.start, zone),
                "end": iso_local(p.end, zone),
                "intents": p.intents,
                "update": p.update_id,
                "estimate": p.estimate,
                "workaround": p.workaround,
                "cause": p.cause,
            }
            for p in analysis.periods
        ],
        "updates": [
            {
                "id": t.update_id,
                "published_at": iso_local(t.published_at, zone),
                "resolved": t.resolved,
                "estimated_recovery_at": iso_local(t.recovery_at, zone),
                "workaround": t.workaround,
                "cause": t.cause,
            }
            for t in analysis.told
        ],
    }
