"""The review metrics across incidents: a period, a component, a severity (R31; docs/review.md).

The same names as for one incident, pooled so that a figure means the same
thing at both scales: shares and percentiles are computed over all the
updates, inquiries, commitments and answers of the chosen incidents (never an
average of averages); counts add up; ``inquiries_peak_hour`` is the busiest
incident's; the three durations of the first notice and the silence are the
median over the incidents (nearest rank), with the worst beside them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.components.models import Component
from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.incidents.models import Incident, IncidentComponent
from anshin.review import metrics, rules

SEVERITIES = ("sev1", "sev2", "sev3")
DURATIONS = ("first_notice_seconds", "first_notice_delivered_seconds", "longest_silence_seconds")


@dataclass(frozen=True)
class Selection:
    """Which incidents: declared in [start, end), on a component, of a severity (all optional)."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    component: str | None = None
    severity: str | None = None


def chosen(session: Session, selection: Selection) -> list[Incident]:
    """The incidents the selection names, oldest first."""
    if selection.severity is not None and selection.severity not in SEVERITIES:
        raise InvalidInput(
            N_("The severity must be one of: {values}."),
            field="severity",
            values=", ".join(SEVERITIES),
        )
    if selection.start and selection.end and selection.end <= selection.start:
        raise InvalidInput(N_("The period must end after it starts."), field="to")
    statement = select(Incident).order_by(Incident.declared_at, Incident.id)
    if selection.start is not None:
        statement = statement.where(Incident.declared_at >= selection.start)
    if selection.end is not None:
        statement = statement.where(Incident.declared_at < selection.end)
    if selection.severity is not None:
        statement = statement.where(Incident.severity == selection.severity)
    if selection.component:
        component = session.scalar(
            select(Component).where(
                (Component.name == selection.component) | (Component.name_en == selection.component)
            )
        )
        if component is None:
            raise InvalidInput(
                N_("No such component: {name}."), field="component", name=selection.component
            )
        statement = statement.where(
            Incident.id.in_(
                select(IncidentComponent.incident_id).where(
                    IncidentComponent.component_id == component.id
                )
            )
        )
    return list(session.scalars(statement))


def pooled(facts: list[metrics.Facts]) -> dict[str, Any]:
    """The metrics of several incidents by the same names (the rules in the module docstring)."""
    one_by_one = [metrics.compute(f) for f in facts]
    kept = judged = 0
    for f in facts:
        k, j = rules.cadence_counts(f.updates)
        kept, judged = kept + k, judged + j
    answered = [a for f in facts for a in f.answered]
    scores = [s for f in facts for s in f.scores]
    csat_average, csat_responses = rules.csat(scores)
    out: dict[str, Any] = {
        "incidents": [m["incident"] for m in one_by_one],
    }
    for name in DURATIONS:
        values = [m[name] for m in one_by_one if m[name] is not None]
        out[name] = rules.nearest_rank(values, 50)
        out[name.replace("_seconds", "_worst_seconds")] = max(values, default=None)
    out |= {
        "cadence_kept": kept / judged if judged else None,
        "inquiries_total": sum(m["inquiries_total"] for m in one_by_one),
        "inquiries_peak_hour": max((m["inquiries_peak_hour"] for m in one_by_one), default=0),
        "repeat_customers": sum(m["repeat_customers"] for m in one_by_one),
        **rules.first_response_percentiles(answered),
        "escalations": {
            level: sum(m["escalations"][level] for m in one_by_one) for level in ("2", "3")
        },
        "commitments_kept": rules.commitments_kept(c for f in facts for c in f.commitments),
        "csat_average": csat_average,
        "csat_responses": csat_responses,
        "check_overrides": sum(m["check_overrides"] for m in one_by_one),
        "dead_letters": sum(m["dead_letters"] for m in one_by_one),
    }
    return out


def across(session: Session, selection: Selection) -> dict[str, Any]:
    """Every metric of docs/review.md over the incidents the selection names."""
    return pooled([metrics.facts_of(session, incident) for incident in chosen(session, selection)])
