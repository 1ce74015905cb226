"""Try a template before sending it: render it on a record or on sample facts, then check it.

The console's edit page, ``POST /api/templates/render`` and ``anshin template
render`` (through ``comms.records``, which names these functions) show the message
an agent would start from, with the message check's findings (伝え方チェック,
R3, R6, R12-R16) so a lead sees at once whether the wording passes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from anshin.comms import avoid, records, rules
from anshin.comms.lint import Finding
from anshin.comms.lint import check as lint_check
from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents import maintenance as maintenance_service
from anshin.incidents import messages, samples
from anshin.incidents import service as incident_service
from anshin.incidents.facts import lint_facts
from anshin.incidents.models import Incident, Maintenance

SAMPLES = records.SAMPLES


def check_rendered(
    rendered: rules.Rendered,
    incident: Incident | None,
    *,
    avoid_expressions: Sequence[tuple[str, str]] = (),
) -> list[Finding]:
    """The message check (伝え方チェック) on a rendered body."""
    return lint_check(
        rendered.text,
        kind=rendered.kind,
        locale=rendered.locale,
        facts=lint_facts(incident, rendered.kind),
        avoid_expressions=avoid_expressions,
    )


def preview(
    session: Session,
    settings: Settings,
    kind: str,
    locale: str,
    channel: str,
    *,
    source: rules.Source | None = None,
    incident_ref: str | None = None,
    maintenance_ref: str | None = None,
    sample: str | None = "unconfirmed",
    options: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> tuple[rules.Rendered, list[Finding]]:
    """Render (a draft or the active text) and check it.

    With a reference, the record's facts; without one, the built-in sample
    with nothing confirmed or everything confirmed (``sample``).
    """
    now = now or utcnow()
    rules.check_key(kind, locale, channel)
    incident: Incident | None = (
        incident_service.get(session, incident_ref) if incident_ref else None
    )
    window: Maintenance | None = (
        maintenance_service.get(session, maintenance_ref) if maintenance_ref else None
    )
    extra = dict(options or {})
    if incident is None and window is None and sample in SAMPLES:
        confirmed = sample == "confirmed"
        window = samples.sample_maintenance(now)
        incident = samples.sample_incident(now, confirmed=confirmed, kind=kind)
        if kind in rules.INQUIRY_KINDS and not confirmed:
            incident = None
        for key, value in samples.sample_options(kind, locale).items():
            extra.setdefault(key, value)
    rendered = messages.compose(
        session,
        settings,
        incident,
        kind,
        locale,
        channel,
        now,
        maintenance=window,
        options=extra,
        source=source,
    )
    return rendered, check_rendered(
        rendered, incident, avoid_expressions=avoid.expressions(session)
    )


def choices(session: Session, kind: str) -> list[tuple[str, str]]:
    """Records to preview on: recent incidents, or maintenance windows."""
    if kind == "maintenance_notice":
        windows = maintenance_service.list_maintenances(session, include_completed=True)
        return [(f"maintenance:{w.reference}", f"{w.reference} {w.title}") for w in windows[-20:]]
    return [
        (f"incident:{i.reference}", f"{i.reference} {i.title}")
        for i in incident_service.list_incidents(session, limit=20)
    ]
