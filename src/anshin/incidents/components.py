"""Components and their groups: the services customers see a status for.

A component's status is derived, not typed by hand during an incident: the
worst impact among open incidents and maintenance in progress, else
operational. Resolving an incident therefore restores exactly the components
no other incident still holds down.

Adding a component republishes the status page in the same transaction, as
every incident and maintenance change does (docs/design.md "published artefact"):
customers see the new component at once, not after the next incident change.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin import events
from anshin.components.service import list_components as list_components
from anshin.components.service import list_groups as list_groups
from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import Conflict, InvalidInput, NotFound
from anshin.i18n import N_
from anshin.incidents import page, rules
from anshin.incidents.models import (
    Component,
    ComponentGroup,
    Incident,
    IncidentComponent,
    Maintenance,
    MaintenanceComponent,
)
from anshin.inputs import check_storable, parse_id

NAME_MAX = 200


def get_or_create_group(session: Session, name: str, *, actor: str) -> ComponentGroup:
    """The group with this name, created if new."""
    clean = rules.check_text(name, field="group", limit=NAME_MAX, required=True) or ""
    group = session.scalar(select(ComponentGroup).where(ComponentGroup.name == clean))
    if group is None:
        position = len(session.scalars(select(ComponentGroup.id)).all())
        group = ComponentGroup(name=clean, position=position)
        session.add(group)
        session.flush()
        events.record(
            session,
            actor=actor,
            entity_type="component_group",
            entity_id=group.id,
            action="component_group.created",
            after={"name": clean},
        )
    return group


def add_component(
    session: Session,
    name: str,
    *,
    actor: str,
    group: str | None = None,
    name_en: str | None = None,
    description: str | None = None,
    settings: Settings | None = None,
    now: dt.datetime | None = None,
) -> Component:
    """Add a component customers can see; names are unique.

    With ``settings`` (every app route and CLI command passes them) the status
    page is republished with it in the caller's transaction, so customers see
    the new component at once. The caller commits.
    """
    now = now or utcnow()
    clean = rules.check_text(name, field="name", limit=NAME_MAX, required=True) or ""
    if session.scalar(select(Component).where(Component.name == clean)) is not None:
        raise Conflict(N_("A component with this name already exists: {name}."), name=clean)
    group_row = get_or_create_group(session, group, actor=actor) if group else None
    position = len(session.scalars(select(Component.id)).all())
    component = Component(
        name=clean,
        name_en=rules.check_text(name_en, field="name_en", limit=NAME_MAX),
        description=rules.check_text(description, field="description", limit=rules.TEXT_MAX),
        group=group_row,
        position=position,
    )
    session.add(component)
    session.flush()
    events.record(
        session,
        actor=actor,
        entity_type="component",
        entity_id=component.id,
        action="component.created",
        after={"name": clean, "group": group, "status": component.status},
    )
    if settings is not None:  # a bare seeding session (tests, bench) publishes later
        page.republish(session, settings, now=now)
    return component


def get_component(session: Session, name_or_id: str | int) -> Component:
    """A component by name or id; 404 with the name when there is none.

    Digits that are an id (ASCII, within bigint) look the id up first, then the
    name; other digits ("²", past 2**63-1) are only ever a name.
    """
    component: Component | None = None
    number = parse_id(name_or_id)
    if number is not None:
        component = session.get(Component, number)
    if component is None and isinstance(name_or_id, str):
        name = check_storable(name_or_id, "components").strip()
        component = session.scalar(select(Component).where(Component.name == name))
    if component is None:
        raise NotFound(N_("Unknown component: {name}."), field="components", name=str(name_or_id))
    return component


def resolve_components(session: Session, names: list[str]) -> list[Component]:
    """The components named (by name or id), each once; an unknown one refuses the lot.

    An unknown name is a mistake in the request, not a missing resource: 422.
    """
    found: dict[int, Component] = {}
    for name in names:
        if not str(name).strip():
            continue
        try:
            component = get_component(session, name)
        except NotFound as exc:
            raise InvalidInput(exc.msgid, field=exc.field, **exc.params) from None
        found[component.id] = component
    if len(found) > 500:
        raise InvalidInput(N_("Too many components."), field="components")
    return list(found.values())


def recompute_component_statuses(
    session: Session,
    component_ids: list[int],
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> None:
    """Set each component to the worst impact still holding it down, else operational."""
    now = now or utcnow()
    if not component_ids:
        return
    session.flush()
    impacts: dict[int, list[str]] = {cid: [] for cid in component_ids}
    incident_rows = session.execute(
        select(IncidentComponent.component_id, IncidentComponent.impact)
        .join(Incident, Incident.id == IncidentComponent.incident_id)
        .where(
            Incident.status != "resolved",
            IncidentComponent.component_id.in_(component_ids),
        )
    )
    for component_id, impact in incident_rows:
        impacts[component_id].append(impact)
    maintenance_rows = session.execute(
        select(MaintenanceComponent.component_id)
        .join(Maintenance, Maintenance.id == MaintenanceComponent.maintenance_id)
        .where(
            Maintenance.status.in_(("in_progress", "verifying")),
            MaintenanceComponent.component_id.in_(component_ids),
        )
    )
    for (component_id,) in maintenance_rows:
        impacts[component_id].append("under_maintenance")
    for component_id, found in impacts.items():
        component = session.get(Component, component_id)
        if component is None:
            continue
        status = rules.worst_component_status(found)
        if component.status != status:
            events.record(
                session,
                actor=actor,
                entity_type="component",
                entity_id=component.id,
                action="component.status_changed",
                before={"status": component.status},
                after={"status": status},
            )
            component.status = status
            component.updated_at = now
