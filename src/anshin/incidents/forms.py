"""Reading the console's incident forms.

Parsing collects every field's problem at once, as (msgid, params) keyed by the
field name, so the page can show each error next to its field and keep what
was typed (nothing lost). Times are typed in the team's zone
(``datetime-local``) and stored in UTC.

The texts the compose box starts with come from the message templates
(``anshin.incidents.messages.compose``, R11), not from here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from anshin import inputs
from anshin.i18n import N_
from anshin.incidents import rules
from anshin.incidents.models import Incident
from anshin.incidents.service import IncidentInput
from anshin.timefmt import input_local
from anshin.web.views_helpers import FormData

FieldErrors = dict[str, tuple[str, dict[str, Any]]]
# The component impacts a person may pick when declaring (blank = by severity).
IMPACT_CHOICES: tuple[str, ...] = rules.IMPACTS
UPDATE_STATUSES: tuple[str, ...] = rules.OPEN_STATUSES
# The kinds the update form may publish; the resolution notice has its own route.
UPDATE_KINDS: tuple[str, ...] = rules.OPEN_UPDATE_KINDS


@dataclass
class Parsed:
    """What a form gave: the values to re-fill it with, and each field's problem."""

    values: dict[str, Any]
    errors: FieldErrors = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no field has a problem."""
        return not self.errors

    def fail(self, name: str, msgid: str, **params: Any) -> None:
        """Note the first problem of a field."""
        self.errors.setdefault(name, (msgid, params))


def input_value(value: dt.datetime | None, zone: str) -> str:
    """A stored time as a ``datetime-local`` input value in the team's zone."""
    return input_local(value, zone)


def parse_time(
    parsed: Parsed,
    form: FormData,
    name: str,
    zone: str,
    *,
    required: bool = False,
    happened: bool = False,
) -> dt.datetime | None:
    """A ``datetime-local`` field in the team's zone as UTC; blank is None (or an error).

    The same rules as the API and the CLI (``anshin.inputs``): a date and a
    time, written between 2000 and five years from now; ``happened`` (started,
    detected) not in the future.
    """
    text = form.get(name)
    if not text:
        if required:
            parsed.fail(name, N_("This field is required."))
        return None
    try:
        return inputs.parse_time(text, zone, field=name, happened=happened)
    except inputs.BadInput as exc:
        # The date-time picker sends ISO 8601: a person needs no format lesson, only what to fix.
        msgid = N_("Enter a date and time.") if exc.msgid == inputs.TIME_MSGID else exc.msgid
        parsed.fail(name, msgid, **exc.params)
        return None


def _count(parsed: Parsed, form: FormData, name: str) -> int | None:
    text = form.get(name).replace(",", "").replace("，", "")
    if not text:
        return None  # blank = unknown (不明)
    if text.startswith("-") and inputs.parse_count(text[1:]) is not None:
        parsed.fail(name, N_("The estimated number of affected customers must be 0 or more."))
        return None
    value = inputs.parse_count(text)
    if value is None:
        parsed.fail(name, N_("Enter a whole number."))
    return value


def parse_incident(form: FormData, zone: str) -> tuple[IncidentInput | None, Parsed]:
    """The declare / edit form as an IncidentInput (R1), or None with field errors."""
    parsed = Parsed(values=form.values())
    parsed.values["components"] = form.getlist("components")
    title = form.get("title")
    if not title:
        parsed.fail("title", N_("This field is required."))
    severity = form.get("severity")
    if severity not in rules.SEVERITIES:
        parsed.fail("severity", N_("Choose a severity."))
    impact = form.get("component_impact")
    if impact and impact not in IMPACT_CHOICES:
        parsed.fail("component_impact", N_("Choose one of the allowed values."))
    started = parse_time(parsed, form, "started_at", zone, happened=True)
    detected = parse_time(parsed, form, "detected_at", zone, happened=True)
    recovery = parse_time(parsed, form, "estimated_recovery_at", zone)
    customers = _count(parsed, form, "estimated_affected_customers")
    if (
        form.checked("recovery_confirmed")
        and recovery is None
        and "estimated_recovery_at" not in parsed.errors
    ):
        parsed.fail(
            "estimated_recovery_at", N_("Enter the recovery time you confirmed, or untick the box.")
        )
    if form.checked("cause_confirmed") and not form.get("cause"):
        parsed.fail("cause", N_("Describe the cause you confirmed, or untick the box."))
    if not parsed.ok:
        return None, parsed
    data = IncidentInput(
        title=title,
        title_en=form.get("title_en") or None,
        severity=severity,
        summary=form.raw("summary"),
        summary_en=form.raw("summary_en") or None,
        components=form.getlist("components"),
        component_impact=impact or None,
        started_at=started,
        detected_at=detected,
        estimated_affected_customers=customers,
        estimated_recovery_at=recovery,
        recovery_confirmed=form.checked("recovery_confirmed"),
        cause=form.raw("cause") or None,
        cause_confirmed=form.checked("cause_confirmed"),
        workaround=form.raw("workaround") or None,
        workaround_en=form.raw("workaround_en") or None,
        internal_notes=form.raw("internal_notes") or None,
    )
    return data, parsed


def incident_values(incident: Incident, zone: str) -> dict[str, Any]:
    """An incident's facts as form values, to edit the shared record (R2)."""
    impacts = {ic.impact for ic in incident.components}
    return {
        "title": incident.title,
        "title_en": incident.title_en or "",
        "severity": incident.severity,
        "summary": incident.summary,
        "summary_en": incident.summary_en or "",
        "components": [str(ic.component_id) for ic in incident.components],
        "component_impact": impacts.pop() if len(impacts) == 1 else "",
        "started_at": input_value(incident.started_at, zone),
        "detected_at": input_value(incident.detected_at, zone),
        "estimated_affected_customers": (
            ""
            if incident.estimated_affected_customers is None
            else str(incident.estimated_affected_customers)
        ),
        "estimated_recovery_at": input_value(incident.estimated_recovery_at, zone),
        "recovery_confirmed": "1" if incident.recovery_confirmed else "",
        "cause": incident.cause or "",
        "cause_confirmed": "1" if incident.cause_confirmed else "",
        "workaround": incident.workaround or "",
        "workaround_en": incident.workaround_en or "",
        "internal_notes": incident.internal_notes or "",
    }


@dataclass
class UpdateInput:
    """A message to publish on an incident (R4-R6), and a senior's reason to override the check."""

    status: str
    body_ja: str
    body_en: str | None
    next_update_at: dt.datetime | None
    audience: str
    kind: str | None = None
    override_reason: str | None = None
    title_en: str | None = None


def parse_update(form: FormData, zone: str) -> tuple[UpdateInput | None, Parsed]:
    """The publish-an-update form; the body in Japanese is required, English optional."""
    parsed = Parsed(values=form.values())
    status = form.get("status")
    if status not in UPDATE_STATUSES:
        parsed.fail("status", N_("Choose one of the allowed values."))
    audience = form.get("audience", "public")
    if audience not in rules.AUDIENCES:
        parsed.fail("audience", N_("Choose one of the allowed values."))
    kind = form.get("kind") or None
    if kind is not None and kind not in UPDATE_KINDS:
        parsed.fail("kind", N_("Choose one of the allowed values."))
    body_ja = form.raw("body_ja").strip()
    if not body_ja:
        parsed.fail("body_ja", N_("This field is required."))
    next_at = parse_time(parsed, form, "next_update_at", zone)
    if not parsed.ok:
        return None, parsed
    public = audience == "public"
    return (
        UpdateInput(
            status=status,
            body_ja=body_ja,
            body_en=form.raw("body_en").strip() or None,
            next_update_at=next_at if public else None,
            audience=audience,
            # An internal note is never a first notice or a no-news update: the service decides.
            kind=kind if public else None,
            override_reason=form.raw("override_reason").strip() or None,
            title_en=form.raw("title_en").strip() or None,
        ),
        parsed,
    )
