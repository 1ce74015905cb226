"""Statuspage-compatible JSON (public API v2): same field names, same vocabularies.

Existing Statuspage consumers (chat bots, dashboards, aggregators, widgets)
read these documents unchanged. Bodies and names are the Japanese text (the
primary locale); the English text rides along in extra fields (``name_en``,
``body_en``) and every update carries ``next_update_at`` (R5) — Statuspage
clients ignore fields they do not know. docs/status-page.md lists them.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from anshin.incidents.models import Component, ComponentGroup, Incident, Maintenance
from anshin.statuspage import rules
from anshin.statuspage.snapshot import PageSnapshot

PAGE_ID = "anshin"
MAX_LISTED = 50  # incidents.json and scheduled-maintenances.json: the 50 most recent


def component_id(component: Component) -> str:
    return f"component-{component.id}"


def group_id(group: ComponentGroup) -> str:
    return f"group-{group.id}"


class Documents:
    """Builds every v2 document of one snapshot, times in the page's zone."""

    def __init__(self, snapshot: PageSnapshot) -> None:
        self.snapshot = snapshot
        self.zone = ZoneInfo(snapshot.settings.timezone)

    def iso(self, value: dt.datetime | None) -> str | None:
        """ISO 8601 with offset and milliseconds, as Statuspage writes times."""
        return value.astimezone(self.zone).isoformat(timespec="milliseconds") if value else None

    def page(self) -> dict[str, Any]:
        settings = self.snapshot.settings
        return {
            "id": PAGE_ID,
            "name": settings.site_name,
            "url": settings.base_url.rstrip("/"),
            "time_zone": settings.timezone,
            "updated_at": self.iso(self.snapshot.updated_at),
        }

    def status(self) -> dict[str, str]:
        indicator = self.snapshot.indicator
        return {
            "indicator": rules.statuspage_indicator(indicator),
            "description": rules.INDICATOR_DESCRIPTIONS[indicator],
        }

    def component(self, component: Component) -> dict[str, Any]:
        return {
            "id": component_id(component),
            "name": component.name,
            "status": component.status,
            "created_at": self.iso(component.created_at),
            "updated_at": self.iso(component.updated_at),
            "position": component.position + 1,
            "description": component.description,
            "showcase": True,
            "start_date": component.created_at.astimezone(self.zone).date().isoformat(),
            "group_id": f"group-{component.group_id}" if component.group_id else None,
            "page_id": PAGE_ID,
            "group": False,
            "only_show_if_degraded": False,
            "name_en": component.name_en,
        }

    def group(self, group: ComponentGroup) -> dict[str, Any]:
        """A group is a component with ``group: true`` and its members' ids (as Statuspage)."""
        statuses = [c.status for c in group.components] or ["operational"]
        worst = max(statuses, key=list(rules.COMPONENT_INDICATOR).index)
        return {
            "id": group_id(group),
            "name": group.name,
            "status": worst,
            "created_at": self.iso(group.created_at),
            "updated_at": self.iso(group.updated_at),
            "position": group.position + 1,
            "description": None,
            "showcase": False,
            "start_date": None,
            "group_id": None,
            "page_id": PAGE_ID,
            "group": True,
            "only_show_if_degraded": False,
            "components": [component_id(c) for c in group.components],
            "name_en": group.name_en,
        }

    def components(self) -> list[dict[str, Any]]:
        rows = [self.component(c) for c in self.snapshot.components]
        rows += [self.group(g) for g in self.snapshot.groups]
        return rows

    def incident(self, incident: Incident) -> dict[str, Any]:
        """One incident with its PUBLIC updates only, newest first (never internal ones)."""
        updates = incident.public_updates
        monitoring = [u.published_at for u in updates if u.status == "monitoring"]
        late_due = self.snapshot.late_update_due(incident)
        rows = []
        for update in reversed(updates):
            new_status = "operational" if update.status == "resolved" else None
            rows.append(
                {
                    "id": f"update-{update.id}",
                    "status": update.status,
                    "body": update.body_ja,
                    "incident_id": incident.reference,
                    "created_at": self.iso(update.published_at),
                    "updated_at": self.iso(update.published_at),
                    "display_at": self.iso(update.published_at),
                    "affected_components": [
                        {
                            "code": component_id(ic.component),
                            "name": ic.component.name,
                            "old_status": ic.impact if new_status else "operational",
                            "new_status": new_status or ic.impact,
                        }
                        for ic in incident.components
                    ]
                    or None,
                    "deliver_notifications": True,
                    "custom_tweet": None,
                    "tweet_id": None,
                    "body_en": update.body_en,
                    "next_update_at": self.iso(update.next_update_at),
                    # R5: the latest update's promised time has passed with no update since.
                    "next_update_late": late_due is not None and update is updates[-1],
                }
            )
        return {
            "id": incident.reference,
            "name": incident.title,
            "status": incident.status,
            "created_at": self.iso(updates[0].published_at if updates else incident.declared_at),
            "updated_at": self.iso(updates[-1].published_at if updates else incident.updated_at),
            "monitoring_at": self.iso(monitoring[0]) if monitoring else None,
            "resolved_at": self.iso(incident.resolved_at),
            "impact": self.snapshot.impact(incident),
            "shortlink": f"{self.snapshot.settings.base_url.rstrip('/')}/#{incident.reference}",
            "started_at": self.iso(incident.started_at),
            "page_id": PAGE_ID,
            "incident_updates": rows,
            "components": [self.component(ic.component) for ic in incident.components],
            "name_en": incident.title_en,
        }

    def maintenance(self, window: Maintenance) -> dict[str, Any]:
        """A scheduled maintenance: an incident shape plus scheduled_for/scheduled_until."""
        affected = [mc.component for mc in window.components]
        return {
            "id": window.reference,
            "name": window.title,
            "status": window.status,
            "created_at": self.iso(window.created_at),
            "updated_at": self.iso(window.updated_at),
            "monitoring_at": None,
            "resolved_at": self.iso(window.completed_at),
            "impact": "maintenance",
            "shortlink": f"{self.snapshot.settings.base_url.rstrip('/')}/#{window.reference}",
            "started_at": self.iso(window.scheduled_start),
            "page_id": PAGE_ID,
            "incident_updates": [
                {
                    "id": f"maintenance-{window.id}-{window.status}",
                    "status": window.status,
                    "body": window.body,
                    "incident_id": window.reference,
                    "created_at": self.iso(window.updated_at),
                    "updated_at": self.iso(window.updated_at),
                    "display_at": self.iso(window.updated_at),
                    "affected_components": [
                        {
                            "code": component_id(c),
                            "name": c.name,
                            "old_status": "operational",
                            "new_status": "under_maintenance",
                        }
                        for c in affected
                    ]
                    or None,
                    "deliver_notifications": True,
                    "custom_tweet": None,
                    "tweet_id": None,
                    "body_en": window.body_en,
                }
            ],
            "components": [self.component(c) for c in affected],
            "scheduled_for": self.iso(window.scheduled_start),
            "scheduled_until": self.iso(window.scheduled_end),
            "name_en": window.title_en,
        }

    def all(self) -> dict[str, dict[str, Any]]:
        """Every v2 document, keyed by its public path."""
        snap = self.snapshot
        head = {"page": self.page()}
        status = self.status()
        components = self.components()
        unresolved = [self.incident(i) for i in snap.active]
        shown = sorted(snap.active + snap.history, key=lambda i: i.declared_at, reverse=True)
        recent = [self.incident(i) for i in shown[:MAX_LISTED]]
        current = [self.maintenance(m) for m in snap.maintenances]
        everything = current + [self.maintenance(m) for m in snap.past_maintenances]
        upcoming = [w for w in current if w["status"] == "scheduled"]
        active = [w for w in current if rules.maintenance_is_active(w["status"])]
        return {
            "api/v2/summary.json": {
                **head,
                "components": components,
                "incidents": unresolved,
                "scheduled_maintenances": current,
                "status": status,
            },
            "api/v2/status.json": {**head, "status": status},
            "api/v2/components.json": {**head, "components": components},
            "api/v2/incidents.json": {**head, "incidents": recent},
            "api/v2/incidents/unresolved.json": {**head, "incidents": unresolved},
            "api/v2/scheduled-maintenances.json": {
                **head,
                "scheduled_maintenances": everything[:MAX_LISTED],
            },
            "api/v2/scheduled-maintenances/upcoming.json": {
                **head,
                "scheduled_maintenances": upcoming,
            },
            "api/v2/scheduled-maintenances/active.json": {
                **head,
                "scheduled_maintenances": active,
            },
        }


def documents(snapshot: PageSnapshot) -> dict[str, dict[str, Any]]:
    """Every v2 document of a snapshot, keyed by its public path."""
    return Documents(snapshot).all()


def encode(document: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON (Japanese stays readable, not \\u-escaped)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
