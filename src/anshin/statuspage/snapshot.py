"""One read of everything the public page shows, shared by the HTML, JSON and feeds.

Reading once per publish keeps the renderings consistent with each other and
keeps publish cheap inside the incident change that triggers it: a handful of
queries, relationships loaded eagerly, whatever the number of incidents.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from anshin.config import Settings
from anshin.incidents.models import Component, ComponentGroup, Incident, Maintenance
from anshin.incidents.rules import STATUSPAGE_IMPACT
from anshin.statuspage import rules


@dataclass
class PageSnapshot:
    """The public facts at one instant."""

    now: dt.datetime
    settings: Settings
    groups: list[ComponentGroup]
    components: list[Component]
    active: list[Incident]
    history: list[Incident]
    maintenances: list[Maintenance]
    past_maintenances: list[Maintenance]
    indicator: str

    @property
    def updated_at(self) -> dt.datetime:
        """When anything the page shows last changed (the time of publishing on a blank page).

        Not the publish time: a periodic republish with nothing new yields the same
        JSON bytes, so ETags and caches stay valid.
        """
        stamps = [c.updated_at for c in self.components]
        stamps += [g.updated_at for g in self.groups]
        for incident in self.active + self.history:
            stamps.append(incident.updated_at)
            stamps += [u.published_at for u in incident.public_updates]
        stamps += [m.updated_at for m in self.maintenances + self.past_maintenances]
        return max(stamps) if stamps else self.now

    def ungrouped(self) -> list[Component]:
        """Components shown outside any group."""
        return [c for c in self.components if c.group_id is None]

    def late_update_due(self, incident: Incident) -> dt.datetime | None:
        """When an open incident's promised next update was due, once that time has passed (R5).

        Only the latest public update's promise counts: an earlier one was kept
        by the update after it.
        """
        public = incident.public_updates
        if incident.status == "resolved" or not public:
            return None
        due = public[-1].next_update_at
        return due if rules.next_update_late(due, self.now) else None

    def impact(self, incident: Incident) -> str:
        """Statuspage's impact word for an incident (its severity mapped)."""
        return STATUSPAGE_IMPACT[incident.severity]


def take(session: Session, settings: Settings, now: dt.datetime) -> PageSnapshot:
    """Read components, public incidents and announced maintenance in a few queries."""
    groups = list(
        session.scalars(
            select(ComponentGroup)
            .options(selectinload(ComponentGroup.components))
            .order_by(ComponentGroup.position, ComponentGroup.id)
        )
    )
    components = list(session.scalars(select(Component).order_by(Component.position, Component.id)))
    since = now - dt.timedelta(days=settings.history_days)
    incidents = list(
        session.scalars(
            select(Incident)
            .where(or_(Incident.status != "resolved", Incident.resolved_at >= since))
            .order_by(Incident.declared_at.desc(), Incident.id.desc())
        )
    )
    # R3: an incident reaches the page only through a public update.
    public = [i for i in incidents if rules.is_shown(len(i.public_updates))]
    active = [i for i in public if i.status != "resolved"]
    history = [
        i
        for i in public
        if i.status == "resolved" and rules.in_history(i.resolved_at, now, settings.history_days)
    ]
    windows = list(
        session.scalars(
            select(Maintenance)
            .where(Maintenance.scheduled_end >= since)
            .order_by(Maintenance.scheduled_start, Maintenance.id)
        )
    )
    upcoming = [m for m in windows if rules.maintenance_is_upcoming(m.status, m.scheduled_end, now)]
    shown = {m.id for m in upcoming}
    past = [m for m in windows if m.id not in shown]
    past.sort(key=lambda m: m.scheduled_start, reverse=True)
    indicator = rules.overall_indicator(
        [c.status for c in components], [STATUSPAGE_IMPACT[i.severity] for i in active]
    )
    return PageSnapshot(
        now=now,
        settings=settings,
        groups=groups,
        components=components,
        active=active,
        history=history,
        maintenances=upcoming,
        past_maintenances=past,
        indicator=indicator,
    )
