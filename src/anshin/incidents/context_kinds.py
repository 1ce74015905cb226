"""The variables of every kind of message, from the record it is about (pure, no I/O).

``build_context`` is the one entry: an incident's notices (``context.incident_context``),
a maintenance window's advance notice (R10, R34) and an inquiry's acknowledgement or
reply (R18, R19), which carries the linked incident's facts when there is one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from anshin.comms import rules
from anshin.comms.formatting import format_duration
from anshin.config import Settings
from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.incidents.context import (
    INQUIRY_REPLY_HOURS,
    MAINTENANCE_LABELS,
    base_values,
    blank_incident,
    component_values,
    incident_context,
    localized,
)
from anshin.incidents.models import Incident, Maintenance
from anshin.timefmt import format_local


def inquiry_context(
    settings: Settings,
    locale: str,
    now: dt.datetime,
    *,
    customer_name: str = "",
    inquiry_reference: str = "",
    received_at: dt.datetime | None = None,
    reply_by: dt.datetime | None = None,
    answer: str = "",
    incident: Incident | None = None,
) -> dict[str, Any]:
    """An acknowledgement or reply to one customer (R18, R19), with any linked incident's facts."""
    if incident is not None:
        values = incident_context(settings, incident, locale, now, customer_name=customer_name)
    else:
        values = base_values(settings, locale, now, customer_name)
        values.update(blank_incident(locale))
    zone = settings.timezone
    reply_by = reply_by or now + dt.timedelta(hours=INQUIRY_REPLY_HOURS)
    values.update(
        inquiry_reference=inquiry_reference.strip(),
        received_at=format_local(received_at or now, zone, locale),
        reply_by=format_local(reply_by, zone, locale),
        answer=answer.strip(),
    )
    return values


def maintenance_context(
    settings: Settings, maintenance: Maintenance, locale: str, now: dt.datetime
) -> dict[str, Any]:
    """Advance notice of a maintenance window (R10, R34)."""
    zone = settings.timezone
    names = [
        localized(mc.component.name, mc.component.name_en, locale)
        for mc in maintenance.components
        if mc.component is not None
    ]
    values = base_values(settings, locale, now, "")
    values.update(component_values(names, locale))
    values.update(
        reference=maintenance.reference,
        title=localized(maintenance.title, maintenance.title_en, locale) or "Scheduled maintenance",
        summary=localized(maintenance.body, maintenance.body_en, locale),
        starts_at=format_local(maintenance.scheduled_start, zone, locale),
        ends_at=format_local(maintenance.scheduled_end, zone, locale),
        duration=format_duration(maintenance.scheduled_end - maintenance.scheduled_start, locale),
        status_label=MAINTENANCE_LABELS[locale].get(maintenance.status, maintenance.status),
    )
    return values


def build_context(
    settings: Settings,
    kind: str,
    locale: str,
    now: dt.datetime,
    *,
    incident: Incident | None = None,
    maintenance: Maintenance | None = None,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The variables for one kind of message from the record it is about.

    ``options`` carries the values no record holds: customer_name,
    support_plan, next_update_at, report_due_at, message_body, publish_affected,
    notice_number (incident kinds);
    inquiry_reference, received_at, reply_by, answer (inquiry kinds).
    """
    opts = dict(options or {})
    if kind == "maintenance_notice":
        if maintenance is None:
            raise InvalidInput(
                N_("A maintenance notice needs a maintenance window."), field="maintenance"
            )
        return maintenance_context(settings, maintenance, locale, now)
    if kind in rules.INQUIRY_KINDS:
        return inquiry_context(
            settings,
            locale,
            now,
            customer_name=str(opts.get("customer_name") or ""),
            inquiry_reference=str(opts.get("inquiry_reference") or ""),
            received_at=opts.get("received_at"),
            reply_by=opts.get("reply_by"),
            answer=str(opts.get("answer") or ""),
            incident=incident,
        )
    if incident is None:
        raise InvalidInput(N_("This kind of message needs an incident."), field="incident")
    return incident_context(
        settings,
        incident,
        locale,
        now,
        next_update_at=opts.get("next_update_at"),
        report_due_at=opts.get("report_due_at"),
        customer_name=str(opts.get("customer_name") or ""),
        support_plan=str(opts.get("support_plan") or ""),
        message_body=str(opts.get("message_body") or ""),
        resolving=kind in rules.AFTER_RECOVERY,
        publish_affected=bool(opts.get("publish_affected")),
        notice_number=opts.get("notice_number"),
    )
