"""Reading components in display order, for every package that lists them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.components.models import Component, ComponentGroup


def list_components(session: Session) -> list[Component]:
    """Every component in display order."""
    return list(session.scalars(select(Component).order_by(Component.position, Component.id)))


def list_groups(session: Session) -> list[ComponentGroup]:
    """Every group in display order."""
    return list(
        session.scalars(select(ComponentGroup).order_by(ComponentGroup.position, ComponentGroup.id))
    )
