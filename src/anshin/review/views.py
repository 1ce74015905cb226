"""The review page of an incident in the console (R30, R31): metrics, timeline, gaps.

``/console/incidents/{ref}/review`` sits beside the incident's other pages
(``…/inquiries/reply-all`` is the inquiries' one). Any signed-in staff member
may read it: the review is how the whole team learns. The incident's record
links here through ``incidents.views.RECORD_PANELS`` (:func:`record_panel`),
so incidents does not import review.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.i18n import N_, translate
from anshin.incidents.models import Incident
from anshin.review import action_rules, actions, feedback, figures, gaps, metrics, timeline
from anshin.review.timeline import Entry
from anshin.team.models import User
from anshin.team.rules import Role, at_least
from anshin.web.auth import DbSession, Operator
from anshin.web.deps import request_locale, settings_of
from anshin.web.views_helpers import page

router = APIRouter(include_in_schema=False)

# Who may write what on the review (docs/review.md "Roles"): any operator adds notes, since
# what went well and what to improve is seen at the front line first; prevention actions
# commit someone else's time and judge a fix, so seniors and above add them, mark them done,
# record effect checks and re-fixes (the routes of review.action_views take Senior).
ACTION_ROLE = Role.SENIOR

PANEL_TEMPLATE = "review/_record_panel.html"
# A gap names at most this many inquiries by link; the rest are one link to the queue
# filtered by the incident (a surge puts hundreds behind one gap).
SHOWN_INQUIRIES = 20

# Each metric of docs/review.md under a label a person reads (the exact name stays beside it).
METRIC_LABELS: dict[str, str] = {
    "first_notice_seconds": N_("Declaration to the first public notice"),
    "first_notice_delivered_seconds": N_("Declaration to the last delivery of the first notice"),
    "cadence_kept": N_("Updates published by the promised time"),
    "longest_silence_seconds": N_("Longest silence towards customers"),
    "inquiries_total": N_("Inquiries"),
    "inquiries_peak_hour": N_("Most inquiries within 60 minutes"),
    "repeat_customers": N_("Customers who wrote twice or more"),
    "first_response_p50_seconds": N_("First response, median"),
    "first_response_p90_seconds": N_("First response, 90th percentile"),
    "level_1_p50_seconds": N_("First response at L1, median"),
    "level_1_p90_seconds": N_("First response at L1, 90th percentile"),
    "level_2_p50_seconds": N_("First response at L2, median"),
    "level_2_p90_seconds": N_("First response at L2, 90th percentile"),
    "level_3_p50_seconds": N_("First response at L3, median"),
    "level_3_p90_seconds": N_("First response at L3, 90th percentile"),
    "escalations": N_("Escalations by level reached"),
    "commitments_kept": N_("Commitments kept by their due time"),
    "csat_average": N_("Customer satisfaction, average of 1 to 5"),
    "csat_responses": N_("Survey answers"),
    "check_overrides": N_("Published despite the message check"),
    "dead_letters": N_("Deliveries that failed for good"),
}
SHARES = ("cadence_kept", "commitments_kept")

# What each timeline entry is, in words (review.timeline kinds).
ENTRY_LABELS: dict[str, str] = {
    "detected": N_("Detected"),
    "declared": N_("Incident declared"),
    "update_published": N_("Public update published"),
    "internal_note": N_("Internal note"),
    "delivery_finished": N_("Delivery finished"),
    "component_changed": N_("Component status changed"),
    "inquiry_volume": N_("Inquiries received"),
    "escalation": N_("Escalated"),
    "commitment_made": N_("Commitment made"),
    "commitment_kept": N_("Commitment kept"),
    "commitment_missed": N_("Commitment missed"),
    "check_overridden": N_("Published despite the message check"),
    "resolved": N_("Resolved; resolution notice published"),
    "reopened": N_("Reopened; reopened notice published"),
    "report_notice": N_("Report notice published"),
    "times_corrected": N_("Times corrected"),
}


def duration(seconds: float, locale: str) -> str:
    """A duration a person reads: 「1時間5分」「8分30秒」 / "1 h 5 min", "8 min 30 s"."""
    secs = max(0, round(seconds))
    days, rest = divmod(secs, 86400)
    hours, rest = divmod(rest, 3600)
    mins, secs = divmod(rest, 60)
    units = ("日", "時間", "分", "秒") if locale == "ja" else (" d", " h", " min", " s")
    parts = [(days, units[0]), (hours, units[1]), (mins, units[2])]
    if not days and not hours:
        parts.append((secs, units[3]))
    shown = [f"{amount}{unit}" for amount, unit in parts if amount]
    return ("" if locale == "ja" else " ").join(shown) or f"0{units[3]}"


def shown(name: str, value: Any, locale: str) -> str:
    """One metric's value for people; a metric with nothing to measure is —, never 0."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        return " · ".join(f"L{level}: {n}" for level, n in value.items())
    if name.endswith("_seconds"):
        return duration(value, locale)
    if name in SHARES:
        return f"{value:.0%}"
    if isinstance(value, float):
        return f"{value:.1f}"  # csat_average: one decimal, as a score is read
    return str(value)


def metric_rows(values: dict[str, Any], locale: str) -> list[dict[str, str]]:
    """The metrics in docs/review.md order: exact name, label, value as shown."""
    return [
        {
            "name": name,
            "label": translate(locale, METRIC_LABELS.get(name, name)),
            "value": shown(name, value, locale),
        }
        for name, value in values.items()
        if name != "incident"
    ]


def entry_row(entry: Entry) -> dict[str, Any]:
    """One timeline entry for the page: its label, the inquiry or update it points at."""
    detail = entry.detail
    update_id = entry.source.removeprefix("update:") if entry.source.startswith("update:") else ""
    return {
        "at": entry.at,
        "kind": entry.kind,
        "label": ENTRY_LABELS.get(entry.kind, entry.kind),
        "detail": detail,
        "inquiry": detail.get("inquiry"),
        "update_id": update_id,
        "source": entry.source,
    }


def record_panel(
    session: Session, settings: Settings, user: User, incident: Incident
) -> tuple[str, dict[str, Any]]:
    """The way from an incident's record to its review (named in RECORD_PANELS)."""
    return PANEL_TEMPLATE, {
        "reference": incident.reference,
        "resolved": incident.status == "resolved",
    }


@router.get("/console/incidents/{ref}/review", response_class=HTMLResponse)
def review_page(request: Request, session: DbSession, user: Operator, ref: str) -> Response:
    """The review of one incident (R30, R31): every metric, the timeline and the gaps.

    Read from stored rows and events; open incidents show the review so far.
    The team's notes, prevention actions and survey answers come below, with the
    forms of review.action_views.
    """
    return render_review(request, session, user, ref)


def render_review(
    request: Request,
    session: Session,
    user: User,
    ref: str,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    failed: str = "",
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The review page; after a refusal ``failed`` names the form, kept with its ``values``."""
    settings = settings_of(request)
    locale = request_locale(request)
    zone = settings.timezone
    values_now = metrics.for_incident(session, ref)
    analysis = gaps.analyse(session, ref)
    incident = analysis.incident
    day = gaps.first_day(incident, zone)
    updates = {u.id: u for u in metrics.public_updates(session, incident)}
    now = utcnow()
    entries = timeline.for_incident(session, ref, now=now)
    return page(
        request,
        user,
        "review/review.html",
        status=status,
        incident=incident,
        metric_rows=metric_rows(values_now, locale),
        entries=[entry_row(e) for e in entries],
        # The report's charts, drawn on the server as SVG (no script): see review/figures.py.
        charts=[
            (heading, note, Markup(svg))
            for heading, note, svg in figures.for_incident(session, incident, entries, zone, locale)
        ],
        gap_rows=[
            {
                "text": gaps.describe(gap, locale, zone, day),
                "kind": gap.kind.value,
                "inquiries": gap.inquiries,
                "updates": gap.updates,
            }
            for gap in analysis.gaps
        ],
        periods=analysis.periods,
        told=[(t, updates[t.update_id]) for t in analysis.told if t.update_id in updates],
        update_of=updates,
        shown_inquiries=SHOWN_INQUIRIES,
        span=lambda start, end: gaps.span(start, end, zone, day),
        is_dt=lambda value: isinstance(value, dt.datetime),
        errors=errors or {},
        failed=failed,
        values=values or {},
        **learning_context(session, user, incident, now.astimezone(ZoneInfo(zone)).date()),
    )


def learning_context(
    session: Session, user: User, incident: Incident, today: dt.date
) -> dict[str, Any]:
    """What the team learnt: notes by kind, actions with their checks, the survey's answers."""
    notes = actions.notes(session, incident)
    rows = actions.actions(session, incident)
    answers = feedback.answers(session, incident)
    scores = [a.score for a in answers]
    return {
        "notes_by_kind": {
            kind.value: [n for n in notes if n.kind == kind] for kind in action_rules.NoteKind
        },
        "action_rows": [
            {
                "action": row,
                "checks": actions.checks(session, row),
                "overdue": action_rules.is_overdue(row.state, row.due_on, today),
            }
            for row in rows
        ],
        "team": list(
            session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
        ),
        "may_act": at_least(user.role, ACTION_ROLE),
        "today": today,
        "survey": {
            "count": len(scores),
            "average": round(sum(scores) / len(scores), 1) if scores else None,
            "comments": [a for a in answers if a.comment],
        },
    }
