"""Incidents, their updates and scheduled maintenance (R1, R2, R5, R10).

Components live in ``anshin.components`` (below incidents and notify, which
both scope by them); their classes are re-exported here for the callers that
read them with incidents.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from anshin.components.models import Component as Component
from anshin.components.models import ComponentGroup as ComponentGroup
from anshin.db import Base, UTCDateTime, utcnow


class Incident(Base):
    """R1: when it started, what happened, what is affected, how many, when it recovers.

    The row is the one shared record every agent answers from (R2); internal
    notes never leave the console.
    """

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200), nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str | None] = mapped_column(Text, nullable=True)
    severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="investigating")
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    detected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    declared_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # R7/R8: the resolution notice promises the report by this time; the report notice
    # (``report_published_at``) keeps the promise and clears the dashboard's due item.
    report_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    report_published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    estimated_affected_customers: Mapped[int | None] = mapped_column(Integer, nullable=True)
    estimated_recovery_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # R3: a recovery time or cause is only stated as fact once confirmed.
    recovery_confirmed: Mapped[bool] = mapped_column(default=False)
    cause: Mapped[str | None] = mapped_column(Text, nullable=True)
    cause_confirmed: Mapped[bool] = mapped_column(default=False)
    workaround: Mapped[str | None] = mapped_column(Text, nullable=True)
    workaround_en: Mapped[str | None] = mapped_column(Text, nullable=True)
    internal_notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    components: Mapped[list[IncidentComponent]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", lazy="selectin"
    )
    updates: Mapped[list[IncidentUpdate]] = relationship(
        back_populates="incident",
        cascade="all, delete-orphan",
        order_by="IncidentUpdate.published_at",
        lazy="selectin",
    )

    @property
    def public_updates(self) -> list[IncidentUpdate]:
        """Updates customers see, oldest first."""
        return [u for u in self.updates if u.audience == "public"]


class IncidentComponent(Base):
    """A component an incident affects, and how badly (a component status)."""

    __tablename__ = "incident_components"
    __table_args__ = (UniqueConstraint("incident_id", "component_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    component_id: Mapped[int] = mapped_column(ForeignKey("components.id"))
    impact: Mapped[str] = mapped_column(String(30), default="major_outage")

    incident: Mapped[Incident] = relationship(back_populates="components")
    component: Mapped[Component] = relationship(lazy="joined")


class IncidentUpdate(Base):
    """One message about an incident: the first notice, an update or the resolution (R4-R7).

    Every public update carries ``next_update_at`` (R5); the Japanese body is
    required, English optional.
    """

    __tablename__ = "incident_updates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="update")
    status: Mapped[str] = mapped_column(String(20))
    body_ja: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str | None] = mapped_column(Text, nullable=True)
    audience: Mapped[str] = mapped_column(String(10), default="public")
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_update_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    author: Mapped[str] = mapped_column(String(200))

    incident: Mapped[Incident] = relationship(back_populates="updates")

    def body(self, locale: str) -> str:
        """The body in a locale, falling back to Japanese where no English was written."""
        if locale == "en" and self.body_en:
            return self.body_en
        return self.body_ja


class Maintenance(Base):
    """Scheduled maintenance announced in advance (R10, R34)."""

    __tablename__ = "maintenances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200), nullable=True)
    body: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    scheduled_start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    scheduled_end: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))

    components: Mapped[list[MaintenanceComponent]] = relationship(
        back_populates="maintenance", cascade="all, delete-orphan", lazy="selectin"
    )


class MaintenanceComponent(Base):
    """A component a maintenance window takes down or degrades."""

    __tablename__ = "maintenance_components"
    __table_args__ = (UniqueConstraint("maintenance_id", "component_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    maintenance_id: Mapped[int] = mapped_column(ForeignKey("maintenances.id", ondelete="CASCADE"))
    component_id: Mapped[int] = mapped_column(ForeignKey("components.id"))

    maintenance: Mapped[Maintenance] = relationship(back_populates="components")
    component: Mapped[Component] = relationship(lazy="joined")


class IncidentNudge(Base):
    """A staff nudge sent about one due time of one incident (incidents.nudges; R4, R5).

    The unique key is the "once": every app and worker process runs the
    sweeper, and whichever inserts the row first sends the nudge; the others
    hit the key and send nothing (docs/design.md "Scale-out").
    """

    __tablename__ = "incident_nudges"
    __table_args__ = (
        UniqueConstraint("incident_id", "kind", "due_at", name="uq_incident_nudges_once"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # rules.NudgeKind
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("notify_messages.id", ondelete="SET NULL"), nullable=True
    )
    recipients: Mapped[int] = mapped_column(Integer, default=0)
