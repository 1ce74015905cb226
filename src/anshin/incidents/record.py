"""The incident record as people enter it and as the event log keeps it (R1, R2).

Kept apart from the use cases in ``service`` so that the record's shape — what
may be entered, how it is checked, how it is snapshotted into events — is read
in one place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from anshin import references
from anshin.incidents import rules
from anshin.incidents.models import Incident


@dataclass
class IncidentInput:
    """The facts of an incident as a person enters them (R1)."""

    title: str
    severity: str
    summary: str = ""
    title_en: str | None = None
    summary_en: str | None = None
    components: list[str] = field(default_factory=list)
    component_impact: str | None = None
    started_at: dt.datetime | None = None
    detected_at: dt.datetime | None = None
    estimated_affected_customers: int | None = None
    estimated_recovery_at: dt.datetime | None = None
    recovery_confirmed: bool = False
    cause: str | None = None
    cause_confirmed: bool = False
    workaround: str | None = None
    workaround_en: str | None = None
    internal_notes: str | None = None


def snapshot(incident: Incident) -> dict[str, Any]:
    """The incident's facts as the event log keeps them (before/after)."""
    return {
        "reference": incident.reference,
        "title": incident.title,
        "severity": incident.severity,
        "status": incident.status,
        "summary": incident.summary,
        "estimated_affected_customers": incident.estimated_affected_customers,
        "estimated_recovery_at": incident.estimated_recovery_at,
        "recovery_confirmed": incident.recovery_confirmed,
        "cause": incident.cause,
        "cause_confirmed": incident.cause_confirmed,
        "workaround": incident.workaround,
        "components": sorted(
            (ic.component.name, ic.impact) for ic in incident.components if ic.component
        ),
        "resolved_at": incident.resolved_at,
    }


def next_reference(session: Session, year: int) -> str:
    """INC-<year>-<n>: the next number of this year's series, taken in the caller's transaction.

    From the one allocator every kind of record shares (:mod:`anshin.references`),
    safe when several servers declare at the same moment.
    """
    return references.next_reference(session, "INC", year, existing=Incident.reference)


def clean_facts(data: IncidentInput) -> dict[str, Any]:
    """The record's fields from what a person typed, each checked by ``rules`` (R1)."""
    return {
        "title": rules.check_text(data.title, field="title", limit=rules.TITLE_MAX, required=True),
        "title_en": rules.check_text(data.title_en, field="title_en", limit=rules.TITLE_MAX),
        "summary": rules.check_text(data.summary, field="summary", limit=rules.TEXT_MAX) or "",
        "summary_en": rules.check_text(data.summary_en, field="summary_en", limit=rules.TEXT_MAX),
        "severity": rules.check_severity(data.severity),
        "estimated_affected_customers": rules.check_affected_customers(
            data.estimated_affected_customers
        ),
        "estimated_recovery_at": data.estimated_recovery_at,
        "recovery_confirmed": data.recovery_confirmed and data.estimated_recovery_at is not None,
        "cause": rules.check_text(data.cause, field="cause", limit=rules.TEXT_MAX),
        "cause_confirmed": data.cause_confirmed and bool(data.cause),
        "workaround": rules.check_text(data.workaround, field="workaround", limit=rules.TEXT_MAX),
        "workaround_en": rules.check_text(
            data.workaround_en, field="workaround_en", limit=rules.TEXT_MAX
        ),
        "internal_notes": rules.check_text(
            data.internal_notes, field="internal_notes", limit=rules.TEXT_MAX
        ),
    }
