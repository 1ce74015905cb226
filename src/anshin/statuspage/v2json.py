"""Statuspage-compatible JSON (public API v2): same field names, same vocabularies.

Existing Statuspage consumers (chat bots, dashboards, aggregators) read these
documents unchanged. Bodies are the Japanese text (the primary locale); the
English text rides along in the extra field ``body_en``, which Statuspage
clients ignore.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from anshin.incidents.models import Component, ComponentGroup, Incident, Maintenance
from anshin.incidents.rules import STATUSPAGE_IMPACT
from anshin.statuspage import rules
from anshin.statuspage.snapshot import PageSnapshot

PAGE_ID = "anshin"


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 with offset, as Statuspage writes times."""
    return value.isoformat() if value else None


def component_id(component: Component) -> str:
    return f"component-{component.id}"


def group_id(group: ComponentGroup) -> str:
    return f"group-{group.id}"


def page(snapshot: PageSnapshot) -> dict[str, Any]:
    settings = snapshot.settings
    return {
        "id": PAGE_ID,
        "name": settings.site_name,
        "url": settings.base_url.rstrip("/"),
        "time_zone": settings.timezone,
        "updated_at": iso(snapshot.updated_at),
    }


def status(snapshot: PageSnapshot) -> dict[str, str]:
    indicator = rules.statuspage_indicator(snapshot.indicator)
    description = rules.INDICATOR_DESCRIPTIONS[snapshot.indicator]
    return {"indicator": indicator, "description": description}


def _component(component: Component) -> dict[str, Any]:
    return {
        "id": component_id(component),
        "name": component.name,
        "status": component.status,
        "created_at": iso(component.created_at),
        "updated_at": iso(component.updated_at),
        "position": component.position + 1,
        "description": component.description,
        "showcase": True,
        "start_date": component.created_at.date().isoformat(),
        "group_id": f"group-{component.group_id}" if component.group_id else None,
        "page_id": PAGE_ID,
        "group": False,
        "only_show_if_degraded": False,
    }


def _group(group: ComponentGroup, statuses: list[str]) -> dict[str, Any]:
    worst = max(statuses, key=list(rules.COMPONENT_INDICATOR).index) if statuses else "operational"
    return {
        "id": group_id(group),
        "name": group.name,
        "status": worst,
        "created_at": iso(group.created_at),
        "updated_at": iso(group.updated_at),
        "position": group.position + 1,
        "description": None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": PAGE_ID,
        "group": True,
        "only_show_if_degraded": False,
        "components": [component_id(c) for c in group.components],
    }


def components(snapshot: PageSnapshot) -> list[dict[str, Any]]:
    """Components and their groups; a group is a component with ``group: true``."""
    rows = [_component(c) for c in snapshot.components]
    for group in snapshot.groups:
        rows.append(_group(group, [c.status for c in group.components]))
    return rows


def _incident(incident: Incident) -> dict[str, Any]:
    updates = incident.public_updates
    monitoring = [u.published_at for u in updates if u.status == "monitoring"]
    affected = [ic.component for ic in incident.components]
    public_id = incident.reference
    rows = []
    for update in reversed(updates):
        rows.append(
            {
                "id": f"update-{update.id}",
                "status": update.status,
                "body": update.body_ja,
                "body_en": update.body_en,
                "incident_id": public_id,
                "created_at": iso(update.published_at),
                "updated_at": iso(update.published_at),
                "display_at": iso(update.published_at),
                "affected_components": [
                    {
                        "code": component_id(ic.component),
                        "name": ic.component.name,
                        "old_status": "operational",
                        "new_status": ic.impact if update.status != "resolved" else "operational",
                    }
                    for ic in incident.components
                ],
                "deliver_notifications": True,
                "custom_tweet": None,
                "tweet_id": None,
                "next_update_at": iso(update.next_update_at),
            }
        )
    first_public = updates[0].published_at if updates else incident.declared_at
    return {
        "id": public_id,
        "name": incident.title,
        "name_en": incident.title_en,
        "status": incident.status,
        "created_at": iso(first_public),
        "updated_at": iso(updates[-1].published_at if updates else incident.updated_at),
        "monitoring_at": iso(monitoring[0]) if monitoring else None,
        "resolved_at": iso(incident.resolved_at),
        "impact": STATUSPAGE_IMPACT[incident.severity],
        "shortlink": None,
        "started_at": iso(incident.started_at),
        "page_id": PAGE_ID,
        "incident_updates": rows,
        "components": [_component(c) for c in affected],
    }


def _maintenance(window: Maintenance) -> dict[str, Any]:
    return {
        "id": window.reference,
        "name": window.title,
        "name_en": window.title_en,
        "status": window.status,
        "created_at": iso(window.created_at),
        "updated_at": iso(window.updated_at),
        "monitoring_at": None,
        "resolved_at": iso(window.completed_at),
        "impact": "maintenance",
        "shortlink": None,
        "started_at": iso(window.scheduled_start),
        "page_id": PAGE_ID,
        "incident_updates": [
            {
                "id": f"maintenance-{window.id}",
                "status": window.status,
                "body": window.body,
                "body_en": window.body_en,
                "incident_id": window.reference,
                "created_at": iso(window.created_at),
                "updated_at": iso(window.updated_at),
                "display_at": iso(window.created_at),
                "affected_components": [
                    {
                        "code": component_id(mc.component),
                        "name": mc.component.name,
                        "old_status": "operational",
                        "new_status": "under_maintenance",
                    }
                    for mc in window.components
                ],
                "deliver_notifications": True,
                "custom_tweet": None,
                "tweet_id": None,
            }
        ],
        "components": [_component(mc.component) for mc in window.components],
        "scheduled_for": iso(window.scheduled_start),
        "scheduled_until": iso(window.scheduled_end),
    }


def documents(snapshot: PageSnapshot) -> dict[str, dict[str, Any]]:
    """Every v2 document, keyed by its public path."""
    head = page(snapshot)
    unresolved = [_incident(i) for i in snapshot.active]
    recent = [_incident(i) for i in snapshot.active + snapshot.history][:50]
    windows = [_maintenance(m) for m in snapshot.maintenances]
    upcoming = [w for w in windows if w["status"] == "scheduled"]
    active = [w for w in windows if w["status"] in ("in_progress", "verifying")]
    comps = components(snapshot)
    return {
        "api/v2/summary.json": {
            "page": head,
            "components": comps,
            "incidents": unresolved,
            "scheduled_maintenances": windows,
            "status": status(snapshot),
        },
        "api/v2/status.json": {"page": head, "status": status(snapshot)},
        "api/v2/components.json": {"page": head, "components": comps},
        "api/v2/incidents.json": {"page": head, "incidents": recent},
        "api/v2/incidents/unresolved.json": {"page": head, "incidents": unresolved},
        "api/v2/scheduled-maintenances.json": {"page": head, "scheduled_maintenances": windows},
        "api/v2/scheduled-maintenances/upcoming.json": {
            "page": head,
            "scheduled_maintenances": upcoming,
        },
        "api/v2/scheduled-maintenances/active.json": {
            "page": head,
            "scheduled_maintenances": active,
        },
    }


def encode(document: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON (Japanese stays readable, not \\u-escaped)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
