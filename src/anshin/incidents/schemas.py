"""What callers may send the incident JSON API: the request shapes (R1 and on).

Times coming in are ISO 8601 text within a sane range, and without an offset
are in the team's zone (``anshin.inputs``: one strict input layer for the API,
the console and the CLI). Text limits and vocabularies are documented here but
refused by the service, which names the field in the caller's language. What
the API answers lives in ``incidents.responses``: the two change for different
reasons (a new field to accept vs. a new field to show).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from anshin.incidents import rules
from anshin.inputs import Count, StrictInput, Text, Time

NAME_MAX = 200
MAX_COMPONENTS = 500


class _In(StrictInput):
    """Requests refuse unknown fields and coerce no types (anshin.inputs), so a typo is a 422."""


def _text(limit: int = rules.TEXT_MAX, default: Any = None, **extra: Any) -> Any:
    """A text field whose limit is documented but enforced by the service.

    The service's refusal names the field and the limit in the caller's
    language ("長すぎます。200 文字以内で…"), which a generic schema error cannot.
    """
    return Field(default, json_schema_extra={"maxLength": limit, **extra})


def _choice(values: tuple[str, ...], default: Any = None) -> Any:
    """A vocabulary field: documented as an enum, refused with the allowed values by the service."""
    return Field(default, json_schema_extra={"enum": list(values)})


class IncidentCreate(_In):
    """The facts of a new incident (R1). Only title and severity are required."""

    title: Text = _text(rules.TITLE_MAX, ..., description="Japanese title, shown to customers")
    title_en: Text | None = _text(rules.TITLE_MAX)
    severity: Text = _choice(rules.SEVERITIES, ...)
    summary: Text = _text(default="")
    summary_en: Text | None = _text()
    components: list[Text] = Field(
        default_factory=list,
        max_length=MAX_COMPONENTS,
        description="Affected components, by name or id",
    )
    impact: Text | None = _choice(rules.COMPONENT_STATUSES)
    started_at: Time | None = None
    detected_at: Time | None = None
    estimated_affected_customers: Count | None = Field(None, le=rules.MAX_AFFECTED_CUSTOMERS)
    estimated_recovery_at: Time | None = None
    recovery_confirmed: bool = False
    cause: Text | None = _text()
    cause_confirmed: bool = False
    workaround: Text | None = _text()
    workaround_en: Text | None = _text()
    internal_notes: Text | None = _text()


class IncidentPatch(_In):
    """Changes to the shared record (R2): only the fields sent change; ``null`` clears one."""

    title: Text | None = _text(rules.TITLE_MAX)
    title_en: Text | None = _text(rules.TITLE_MAX)
    severity: Text | None = _choice(rules.SEVERITIES)
    summary: Text | None = _text()
    summary_en: Text | None = _text()
    components: list[Text] | None = Field(None, max_length=MAX_COMPONENTS)
    impact: Text | None = _choice(rules.COMPONENT_STATUSES)
    estimated_affected_customers: Count | None = Field(None, le=rules.MAX_AFFECTED_CUSTOMERS)
    estimated_recovery_at: Time | None = None
    recovery_confirmed: bool | None = None
    cause: Text | None = _text()
    cause_confirmed: bool | None = None
    workaround: Text | None = _text()
    workaround_en: Text | None = _text()
    internal_notes: Text | None = _text()


class UpdateCreate(_In):
    """A message on an open incident: first notice, update, or the prepared no-news update (R5).

    With ``no_news`` and no ``body_ja``, the prepared "引き続き対応中です" texts are used.
    """

    body_ja: Text | None = _text()
    body_en: Text | None = _text()
    status: Text | None = _choice(rules.STATUSES)
    next_update_at: Time | None = None
    audience: Text = _choice(rules.AUDIENCES, "public")
    no_news: bool = False
    override_reason: Text | None = _text()


class ResolveCreate(_In):
    """The resolution notice (R7): Japanese required, English optional.

    ``resolved_at`` is when the service actually recovered; now when not sent.
    """

    body_ja: Text = _text(default=...)
    body_en: Text | None = _text()
    override_reason: Text | None = _text()
    resolved_at: Time | None = None
    report_due_at: Time | None = None


class ReportCreate(_In):
    """The report notice (R8); without ``body_ja`` the ``report_notice`` template's texts."""

    body_ja: Text | None = _text()
    body_en: Text | None = _text()
    override_reason: Text | None = _text()


class ReopenCreate(_In):
    """Reopen a resolved incident (senior or above): the ``reopened`` notice and the new status.

    Without ``body_ja`` the ``reopened`` template's texts are used (both languages).
    """

    body_ja: Text | None = _text()
    body_en: Text | None = _text()
    status: Text = _choice(("investigating", "identified"), "investigating")
    next_update_at: Time | None = None
    override_reason: Text | None = _text()


class TimesPatch(_In):
    """Corrected start and recovery times (R1, R7): only the times sent change."""

    started_at: Time | None = None
    resolved_at: Time | None = None


class ComponentCreate(_In):
    """A component customers see a status for."""

    name: Text = _text(NAME_MAX, ...)
    name_en: Text | None = _text(NAME_MAX)
    group: Text | None = _text(NAME_MAX)
    description: Text | None = _text()


class MaintenanceCreate(_In):
    """A maintenance window announced in advance (R10)."""

    title: Text = _text(rules.TITLE_MAX, ...)
    title_en: Text | None = _text(rules.TITLE_MAX)
    body: Text = _text(default="")
    body_en: Text | None = _text()
    scheduled_start: Time
    scheduled_end: Time
    components: list[Text] = Field(default_factory=list, max_length=MAX_COMPONENTS)
    notify_subscribers: bool = True


class MaintenanceStatusIn(_In):
    """Move a window along scheduled → in_progress → verifying → completed."""

    status: Text = _choice(rules.MAINTENANCE_STATUSES, ...)
