"""What a template may say: the variables built from the incident record (pure, no I/O).

R3   only confirmed facts reach customers. An unconfirmed recovery time is
     given only as 見込み with 確認中; an unconfirmed cause is not given at all;
     an unknown number of affected customers is 「現在確認中」.
R5   the next update time comes from the cadence (incidents.rules), shown in
     the team's zone.
R6   the workaround, when the record has one.
R7   the date by which the report with cause and prevention measures is promised.
R9   the key client's name and the support plan for the next-day contact.

Every variable of a kind is always present (empty when unknown), so a
template can test ``{% if workaround %}`` and StrictUndefined still catches
misspelt names.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from anshin.comms.formatting import (
    format_date,
    format_duration,
    format_human,
    format_short_time,
    format_stamp,
    has_japanese,
    join_names,
    round_down,
    round_up,
)
from anshin.comms.variables import INCIDENT_VARIABLES
from anshin.config import Settings
from anshin.incidents import rules as incident_rules
from anshin.incidents import time_rules
from anshin.incidents.models import (
    Incident,
)

# R7: the report is promised for this many days after the resolution notice.
REPORT_DAYS = time_rules.REPORT_DAYS
# A promised next update is a time a person would write: down to the quarter hour
# (never later than the cadence allows, R5); an estimate up to the half hour.
PROMISE_ROUNDING_MINUTES = 15
ESTIMATE_ROUNDING_MINUTES = 30
# R15/R18: an acknowledged inquiry gets its reply by this time unless the agent says otherwise.
INQUIRY_REPLY_HOURS = 2

# Customer-facing labels. These are part of the messages themselves, so they
# live with the templates' wording rather than in the UI catalogs.
STATUS_LABELS: dict[str, dict[str, str]] = {
    "ja": {
        "investigating": "原因を調査中",
        "identified": "原因を特定し、復旧作業中",
        "monitoring": "復旧を確認中",
        "resolved": "復旧済み",
    },
    "en": {
        "investigating": "Investigating",
        "identified": "Cause identified, recovery in progress",
        "monitoring": "Recovery being checked",
        "resolved": "Resolved",
    },
}
MAINTENANCE_LABELS: dict[str, dict[str, str]] = {
    "ja": {
        "scheduled": "予定",
        "in_progress": "実施中",
        "verifying": "動作確認中",
        "completed": "完了",
    },
    "en": {
        "scheduled": "Scheduled",
        "in_progress": "In progress",
        "verifying": "Verifying",
        "completed": "Completed",
    },
}
SEVERITY_LABELS: dict[str, dict[str, str]] = {
    "ja": {"sev1": "重大", "sev2": "中程度", "sev3": "軽度"},
    "en": {"sev1": "Critical", "sev2": "Major", "sev3": "Minor"},
}
IMPACT_TEXT: dict[str, dict[str, str]] = {
    "ja": {
        "major_outage": "ご利用いただけない状態",
        "partial_outage": "一部ご利用いただけない状態",
        "degraded_performance": "動作が遅くなる状態",
        "under_maintenance": "メンテナンス中の状態",
        "operational": "ご利用いただける状態",
    },
    "en": {
        "major_outage": "an outage",
        "partial_outage": "a partial outage",
        "degraded_performance": "a slowdown",
        "under_maintenance": "maintenance work",
        "operational": "no current impact",
    },
}
UNCONFIRMED: dict[str, str] = {"ja": "現在確認中", "en": "being confirmed"}
NO_COMPONENTS: dict[str, str] = {"ja": "サービスの一部", "en": "parts of the service"}
SENDER: dict[str, str] = {"ja": "{site} サポート窓口", "en": "{site} Support"}


def localized(ja: str | None, en: str | None, locale: str) -> str:
    """The text in the reader's language; never Japanese for an English reader.

    An English reader gets the English text, else the record's text only when
    it has no Japanese script, else nothing (the template leaves the line out).
    """
    if locale != "en":
        return ja or ""
    if en:
        return en
    return "" if has_japanese(ja) else (ja or "")


def promised_next_update_at(
    now: dt.datetime, severity: str, cadence_minutes: dict[str, int] | None = None
) -> dt.datetime:
    """The next update a prefilled text promises: the cadence's time, down to the quarter hour.

    R5: never later than the cadence allows; a person writes 「13:30まで」, not 13:37.
    """
    due = incident_rules.default_next_update_at(now, severity, cadence_minutes)
    rounded = round_down(due, PROMISE_ROUNDING_MINUTES)
    return rounded if rounded > now + dt.timedelta(minutes=5) else due


def base_values(
    settings: Settings, locale: str, now: dt.datetime, customer_name: str
) -> dict[str, Any]:
    """What every kind of message may say: the site, its status page, now, the sender."""
    return {
        "site_name": settings.site_name,
        "status_url": settings.base_url.rstrip("/") + "/",
        "now": format_human(now, settings.timezone, locale, now),
        "sender_name": SENDER[locale].format(site=settings.site_name),
        "customer_name": customer_name.strip(),
    }


def component_values(names: list[str], locale: str) -> dict[str, Any]:
    """The components named, as a list and as one phrase (「ログイン、決済」)."""
    return {
        "components": names,
        "components_text": join_names(names, locale) if names else NO_COMPONENTS[locale],
    }


def _recovery_short(
    at: dt.datetime | None, confirmed: bool, zone: str, locale: str, now: dt.datetime
) -> str:
    """The recovery wording for chat and SMS, with the same R3 rule as the long form."""
    if at is None:
        return "確認中" if locale == "ja" else UNCONFIRMED[locale]
    when = format_short_time(at, zone, locale, now)
    if confirmed:
        return when
    return (
        f"{when}頃（見込み・確認中）"
        if locale == "ja"
        else f"around {when} (estimate, unconfirmed)"
    )


def _recovery(incident: Incident, zone: str, locale: str, now: dt.datetime) -> dict[str, Any]:
    """R3: a confirmed time is a fact; an unconfirmed one is 見込み・確認中; none is 現在確認中.

    An unconfirmed estimate reads as a person would say it: up to the half hour.
    """
    at = incident.estimated_recovery_at
    confirmed = bool(incident.recovery_confirmed and at is not None)
    if at is not None and not confirmed:
        at = round_up(at, ESTIMATE_ROUNDING_MINUTES)
    when = format_human(at, zone, locale, now) if at is not None else ""
    if confirmed:
        text = when
    elif at is not None:
        text = (
            f"{format_human(at, zone, locale, now, around=True)}"
            "（見込みです。現在確認中のため、前後する可能性があります）"
            if locale == "ja"
            else f"{format_human(at, zone, locale, now, around=True)}"
            " (an estimate still being confirmed; it may change)"
        )
    else:
        text = UNCONFIRMED[locale]
    return {
        "recovery_short": _recovery_short(at, confirmed, zone, locale, now),
        "recovery_confirmed": confirmed,
        "recovery_at": when if confirmed else "",
        "recovery_estimate": when if not confirmed else "",
        "recovery_text": text,
    }


def blank_incident(locale: str) -> dict[str, Any]:
    """Every incident variable empty: a reply about no incident still renders a template."""
    values: dict[str, Any] = {name: "" for name in INCIDENT_VARIABLES}
    values.update(
        has_incident=False,
        components=[],
        affected_customers=UNCONFIRMED[locale],
        affected_customers_known=False,
        recovery_confirmed=False,
        notice_label="",
        notice_time="",
        recovery_text=UNCONFIRMED[locale],
        recovery_short=UNCONFIRMED[locale],
        cause_confirmed=False,
    )
    return values


def incident_context(
    settings: Settings,
    incident: Incident,
    locale: str,
    now: dt.datetime,
    *,
    next_update_at: dt.datetime | None = None,
    report_due_at: dt.datetime | None = None,
    customer_name: str = "",
    support_plan: str = "",
    message_body: str = "",
    resolving: bool = False,
    publish_affected: bool = False,
    notice_number: int | None = None,
) -> dict[str, Any]:
    """Every variable an incident message may use, from the shared record (R1, R2, R3).

    ``next_update_at`` defaults to the cadence for the incident's severity,
    down to the quarter hour (R5); ``report_due_at`` to REPORT_DAYS after the
    recovery (R7). With ``resolving`` (a resolution drafted while the incident
    is still open) the recovery time is "now", for the author to correct,
    never a blank. The estimated number of affected customers is given only
    when the lead chooses to publish it (``publish_affected``). An English
    reader never gets a Japanese fragment: a fact the record holds only in
    Japanese is left out of the English text. ``notice_number`` is which
    public notice this is (default: the next one), for the mail subject.
    """
    zone = settings.timezone
    names = [
        name
        for ic in incident.components
        if ic.component is not None
        and (name := localized(ic.component.name, ic.component.name_en, locale))
    ]
    impacts = [ic.impact for ic in incident.components]
    worst = incident_rules.worst_component_status(impacts) if impacts else "major_outage"
    if worst == "operational":
        worst = incident_rules.DEFAULT_IMPACT.get(incident.severity, "major_outage")
    open_incident = incident.status != "resolved"
    if next_update_at is None and open_incident:
        next_update_at = promised_next_update_at(now, incident.severity, settings.cadence_minutes())
    end = incident.resolved_at or now
    # The date the resolution notice promised once it is recorded (R7), else the default.
    report_due_at = report_due_at or incident.report_due_at or end + dt.timedelta(days=REPORT_DAYS)
    public = incident.public_updates
    count = incident.estimated_affected_customers if publish_affected else None
    if count is None:
        affected = UNCONFIRMED[locale]
    else:
        affected = f"約{count:,}名" if locale == "ja" else f"about {count:,}"
    values = base_values(settings, locale, now, customer_name)
    values.update(component_values(names, locale))
    values.update(_recovery(incident, zone, locale, now))
    number = notice_number or len(public) + 1
    title = localized(incident.title, incident.title_en, locale)
    if not title:
        title = f"Service disruption affecting {values['components_text']}"
    resolved = incident.resolved_at or (now if resolving else None)
    values.update(
        has_incident=True,
        reference=incident.reference,
        title=title,
        summary=localized(incident.summary, incident.summary_en, locale),
        impact_text=IMPACT_TEXT[locale].get(worst, IMPACT_TEXT[locale]["major_outage"]),
        severity=incident.severity,
        severity_label=SEVERITY_LABELS[locale].get(incident.severity, incident.severity),
        status=incident.status,
        status_label=STATUS_LABELS[locale].get(incident.status, incident.status),
        started_at=format_human(incident.started_at, zone, locale, now),
        started_around=format_human(incident.started_at, zone, locale, now, around=True),
        detected_at=format_human(incident.detected_at, zone, locale, now),
        declared_at=format_human(incident.declared_at, zone, locale, now),
        resolved_at=format_human(resolved, zone, locale, now) if resolved else "",
        duration=format_duration(end - incident.started_at, locale),
        affected_customers=affected,
        affected_customers_known=count is not None,
        cause_confirmed=bool(incident.cause_confirmed and incident.cause),
        cause=localized(incident.cause, None, locale) if incident.cause_confirmed else "",
        workaround=localized(incident.workaround, incident.workaround_en, locale),
        next_update_at=format_human(next_update_at, zone, locale, now) if next_update_at else "",
        next_update_short=(
            format_short_time(next_update_at, zone, locale, now) if next_update_at else ""
        ),
        report_due=format_date(report_due_at, zone, locale),
        latest_update=public[-1].body(locale) if public else "",
        support_plan=support_plan.strip(),
        message_body=message_body.strip(),
        notice_label=(
            f"第{number}報"
            if locale == "ja"
            else ("First notice" if number == 1 else f"Update {number}")
        ),
        notice_time=format_stamp(now, zone, locale),
    )
    return values
