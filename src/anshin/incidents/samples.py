"""Realistic, unsaved facts to try a template on before it is saved.

Two incidents — one with nothing confirmed, one with recovery, cause and
workaround confirmed (R3, R6) — so every branch a default template takes is
rendered, and a short text is measured against its limit in both states.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from anshin.comms import rules
from anshin.comms.lint import IncidentFacts
from anshin.config import Settings
from anshin.incidents.context_kinds import build_context
from anshin.incidents.facts import lint_facts
from anshin.incidents.models import (
    Component,
    Incident,
    IncidentComponent,
    Maintenance,
    MaintenanceComponent,
)

# Kinds written after the recovery: their sample incident is resolved.
AFTER_RECOVERY = rules.AFTER_RECOVERY


def sample_incident(now: dt.datetime, *, confirmed: bool, kind: str | None = None) -> Incident:
    """A realistic, unsaved incident to try a template on before saving it."""
    login = Component(name="ログイン", name_en="Sign-in")
    payments = Component(name="決済", name_en="Payments")
    started = now - dt.timedelta(minutes=25)
    incident = Incident(
        reference=f"INC-{now.year}-0001",
        title="ログインおよび決済がご利用いただけない障害",
        title_en="Sign-in and payments unavailable",
        summary="一部のお客様がログインおよび決済をご利用いただけません。",
        summary_en="Some customers cannot sign in or pay.",
        severity="sev1",
        status="identified" if confirmed else "investigating",
        started_at=started,
        detected_at=started + dt.timedelta(minutes=5),
        declared_at=started + dt.timedelta(minutes=10),
        estimated_affected_customers=12_000 if confirmed else None,
        estimated_recovery_at=now + dt.timedelta(hours=2),
        recovery_confirmed=confirmed,
        cause="決済代行会社との接続設定の誤り" if confirmed else "設定の誤りの疑い",
        cause_confirmed=confirmed,
        workaround="スマートフォンアプリからはログインいただけます。" if confirmed else None,
        workaround_en="You can still sign in from the smartphone app." if confirmed else None,
        created_by="sample",
    )
    incident.components = [
        IncidentComponent(component=login, impact="major_outage"),
        IncidentComponent(component=payments, impact="partial_outage"),
    ]
    if kind in AFTER_RECOVERY:
        incident.status = "resolved"
        incident.resolved_at = now
    return incident


def sample_maintenance(now: dt.datetime) -> Maintenance:
    """A realistic, unsaved maintenance window three days ahead."""
    window = Maintenance(
        reference=f"MNT-{now.year}-0001",
        title="決済機能の定期メンテナンス",
        title_en="Scheduled maintenance of payments",
        body="決済機能の安定性を高めるための作業を行います。",
        body_en="Work to make payments more stable.",
        status="scheduled",
        scheduled_start=now + dt.timedelta(days=3),
        scheduled_end=now + dt.timedelta(days=3, hours=2),
        created_by="sample",
    )
    window.components = [MaintenanceComponent(component=Component(name="決済", name_en="Payments"))]
    return window


def sample_options(kind: str, locale: str) -> dict[str, Any]:
    """The values no record holds (customer name, inquiry number), filled in as an agent would."""
    if kind in rules.INQUIRY_KINDS:
        return {
            "customer_name": "株式会社サンプル ご担当者"
            if locale == "ja"
            else "the Example Co. team",
            "inquiry_reference": "INQ-0001",
        }
    return {"customer_name": "株式会社サンプル" if locale == "ja" else "Example Corp."}


def sample_contexts(
    settings: Settings, kind: str, locale: str, now: dt.datetime
) -> list[dict[str, Any]]:
    """Contexts to try a template on before it is saved: facts unconfirmed and confirmed (R3).

    An inquiry is tried without a linked incident and with one.
    """
    if kind == "maintenance_notice":
        window = sample_maintenance(now)
        return [build_context(settings, kind, locale, now, maintenance=window)]
    contexts = []
    for confirmed in (False, True):
        incident: Incident | None = sample_incident(now, confirmed=confirmed, kind=kind)
        if kind in rules.INQUIRY_KINDS and not confirmed:
            incident = None
        contexts.append(
            build_context(
                settings,
                kind,
                locale,
                now,
                incident=incident,
                options={**sample_options(kind, locale), "publish_affected": confirmed},
            )
        )
    return contexts


def sample_checks(
    settings: Settings, kind: str, locale: str, now: dt.datetime
) -> list[tuple[dict[str, Any], IncidentFacts]]:
    """Each sample context with what it lets a text state as fact (R3; ``comms.records``).

    The template gate renders a text on every sample and checks each rendering
    with that sample's facts: nothing confirmed, then everything confirmed.
    """
    found = []
    for confirmed, values in zip(
        (False, True), sample_contexts(settings, kind, locale, now), strict=False
    ):
        incident = (
            sample_incident(now, confirmed=confirmed, kind=kind)
            if values.get("has_incident") and kind != "maintenance_notice"
            else None
        )
        found.append((values, lint_facts(incident, kind)))
    return found
