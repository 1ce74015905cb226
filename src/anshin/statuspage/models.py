"""Published artefacts of the public status page (docs/design.md "published artefact").

Each publish renders the HTML, JSON and feeds once and stores them here;
requests are served from these rows, never rendered per request.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from anshin.db import Base, UTCDateTime, utcnow


class Artefact(Base):
    """One rendered file of the status page, addressed by its public path."""

    __tablename__ = "status_artefacts"

    path: Mapped[str] = mapped_column(String(200), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(80))
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PublishState(Base):
    """A single row whose version moves on every publish: a cheap freshness check."""

    __tablename__ = "status_publish_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
