"""Message templates in the database, versioned (R11).

A template is one (kind, locale, channel); its text lives in versions. Editing
adds a version and never changes an old one, so the history says who changed
what and when; restoring an old text adds a new version that copies it. The
newest version is the active one. Without any version, the shipped default
file (``comms/templates_default``) is used.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from anshin.db import Base, UTCDateTime, utcnow


class MessageTemplate(Base):
    """The slot for one kind of message in one language on one channel."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("kind", "locale", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(5))
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    versions: Mapped[list[MessageTemplateVersion]] = relationship(
        back_populates="template",
        order_by="MessageTemplateVersion.version",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class MessageTemplateVersion(Base):
    """One saved text of a template; rows are only ever added."""

    __tablename__ = "message_template_versions"
    __table_args__ = (UniqueConstraint("template_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("message_templates.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str | None] = mapped_column(Text, nullable=True)
    body: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))

    template: Mapped[MessageTemplate] = relationship(back_populates="versions")
