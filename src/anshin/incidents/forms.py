"""Reading the console's incident forms, and the texts the forms start with.

Parsing collects every field's problem at once, as (msgid, params) keyed by the
field name, so the page can show each error next to its field and keep what
was typed (nothing lost). Times are typed in the team's zone
(``datetime-local``) and stored in UTC.

``draft`` is the one place the prefilled customer texts live (first notice R4,
resolution notice R7); a later template system replaces it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from anshin.i18n import N_
from anshin.incidents import rules
from anshin.incidents.models import Incident
from anshin.incidents.service import IncidentInput
from anshin.timefmt import parse_local, to_zone
from anshin.web.views_helpers import FormData

FieldErrors = dict[str, tuple[str, dict[str, Any]]]
# The component impacts a person may pick when declaring (blank = by severity).
IMPACT_CHOICES: tuple[str, ...] = ("degraded_performance", "partial_outage", "major_outage")
UPDATE_STATUSES: tuple[str, ...] = rules.OPEN_STATUSES


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
    local = to_zone(value, zone)
    return f"{local:%Y-%m-%dT%H:%M}" if local else ""


def parse_time(
    parsed: Parsed, form: FormData, name: str, zone: str, *, required: bool = False
) -> dt.datetime | None:
    """A ``datetime-local`` field in the team's zone as UTC; blank is None (or an error)."""
    text = form.get(name)
    if not text:
        if required:
            parsed.fail(name, N_("This field is required."))
        return None
    try:
        return parse_local(text, zone)
    except ValueError:
        parsed.fail(name, N_("Enter a date and time."))
        return None


def _count(parsed: Parsed, form: FormData, name: str) -> int | None:
    text = form.get(name).replace(",", "").replace("，", "")
    if not text:
        return None  # blank = unknown (不明)
    try:
        value = int(text)
    except ValueError:
        parsed.fail(name, N_("Enter a whole number."))
        return None
    if value < 0:
        parsed.fail(name, N_("The estimated number of affected customers must be 0 or more."))
        return None
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
    started = parse_time(parsed, form, "started_at", zone)
    detected = parse_time(parsed, form, "detected_at", zone)
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
    """A message to publish on an incident (R4-R6)."""

    status: str
    body_ja: str
    body_en: str | None
    next_update_at: dt.datetime | None
    audience: str


def parse_update(form: FormData, zone: str) -> tuple[UpdateInput | None, Parsed]:
    """The publish-an-update form; the body in Japanese is required, English optional."""
    parsed = Parsed(values=form.values())
    status = form.get("status")
    if status not in UPDATE_STATUSES:
        parsed.fail("status", N_("Choose one of the allowed values."))
    audience = form.get("audience", "public")
    if audience not in rules.AUDIENCES:
        parsed.fail("audience", N_("Choose one of the allowed values."))
    body_ja = form.raw("body_ja").strip()
    if not body_ja:
        parsed.fail("body_ja", N_("This field is required."))
    next_at = parse_time(parsed, form, "next_update_at", zone)
    if not parsed.ok:
        return None, parsed
    return (
        UpdateInput(
            status=status,
            body_ja=body_ja,
            body_en=form.raw("body_en").strip() or None,
            next_update_at=next_at if audience == "public" else None,
            audience=audience,
        ),
        parsed,
    )


def _when(value: dt.datetime, zone: str, locale: str) -> str:
    local = to_zone(value, zone)
    assert local is not None
    if locale == "en":
        return f"{local:%H:%M} {local.tzname()} on {local:%B} {local.day}"
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def _component_names(incident: Incident, locale: str) -> str:
    names = [
        (ic.component.name_en or ic.component.name) if locale == "en" else ic.component.name
        for ic in incident.components
        if ic.component
    ]
    if locale == "en":
        if not names:
            return "our service"
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return "・".join(names) if names else "サービス"


def draft(kind: str, incident: Incident, locale: str, zone: str, at: dt.datetime) -> str:
    """The text a form starts with: ``first_notice`` (R3, R4, R12) or ``resolution`` (R7).

    The first notice acknowledges the problem, apologises for the trouble,
    says it is being worked on, states only confirmed facts and says
    "現在確認中" for the rest, and dates the next contact (``at``). The
    resolution notice says when it recovered (``at``, to be corrected by the
    author) and promises a report with the cause and prevention measures.
    """
    names = _component_names(incident, locale)
    impact = {ic.impact for ic in incident.components} or {"major_outage"}
    worst = rules.worst_component_status(list(impact))
    if kind == "resolution":
        if locale == "en":
            return (
                f"The problem affecting {names} was resolved at {_when(at, zone, locale)}, "
                "and the service is working normally again. We sincerely apologise for the "
                "inconvenience and concern this caused. We will publish a report on the cause "
                "and the measures we are taking to prevent it from happening again."
            )
        return (
            f"{names}の障害は、{_when(at, zone, locale)}に復旧いたしました。現在は正常に"
            "ご利用いただけます。ご利用中のお客様には、大変なご不便とご心配をおかけしましたことを"
            "深くお詫び申し上げます。発生原因と再発防止策につきましては、報告書にまとめて"
            "ご報告いたします。"
        )
    started = _when(incident.started_at, zone, locale)
    recovery_known = incident.recovery_confirmed and incident.estimated_recovery_at is not None
    cause_known = incident.cause_confirmed and bool(incident.cause)
    if locale == "en":
        what = {
            "major_outage": f"{names} cannot be used",
            "partial_outage": f"parts of {names} cannot be used",
            "degraded_performance": f"{names} is slow or hard to reach",
        }.get(worst, f"{names} cannot be used")
        lines = [
            f"Since about {started}, {what}.",
            "We are very sorry for the inconvenience and concern this is causing you.",
            "We are working to restore the service.",
            "Cause: " + (incident.cause or "") if cause_known else "Cause: being checked.",
            "Expected recovery: about " + _when(incident.estimated_recovery_at, zone, locale)  # type: ignore[arg-type]
            if recovery_known
            else "Expected recovery: being checked.",
        ]
        if incident.workaround_en:
            lines.append("Workaround: " + incident.workaround_en)
        lines.append(f"We will post the next update by {_when(at, zone, locale)}.")
        return "\n".join(lines)
    what = {
        "major_outage": f"{names}をご利用いただけない障害",
        "partial_outage": f"{names}の一部をご利用いただけない障害",
        "degraded_performance": f"{names}がつながりにくい、または動作が遅くなる障害",
    }.get(worst, f"{names}をご利用いただけない障害")
    lines = [
        f"{started}頃より、{what}が発生しております。",
        "ご利用中のお客様には、大変なご不便とご心配をおかけしており、誠に申し訳ございません。",
        "現在、復旧に向けて対応を進めております。",
        "原因：" + (incident.cause or "") if cause_known else "原因：現在確認中です。",
        "復旧見込み："
        + _when(incident.estimated_recovery_at, zone, locale)  # type: ignore[arg-type]
        + "頃の見込みです。"
        if recovery_known
        else "復旧見込み：現在確認中です。",
    ]
    if incident.workaround:
        lines.append("回避策：" + incident.workaround)
    lines.append(f"次回は{_when(at, zone, locale)}までにお知らせいたします。")
    return "\n".join(lines)
