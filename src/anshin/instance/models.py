"""Settings of this installation that live in the database, shared by every process.

One row per setting: the generated signing key when ``ANSHIN_SECRET_KEY`` is not
set (anshin.instance.secret). In the database rather than a file so several
workers, hosts and a PostgreSQL deployment all read the same value.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from anshin.db import Base, UTCDateTime, utcnow


class InstanceSetting(Base):
    """A named value of this installation (e.g. the generated signing key)."""

    __tablename__ = "instance_settings"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
