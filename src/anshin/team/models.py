"""Agents, their console sessions and API tokens (docs/design.md "team")."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from anshin.db import Base, UTCDateTime, utcnow


class User(Base):
    """A person who signs in to the console. ``role`` is one of team.rules.ROLES."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(5), default="ja")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # On duty: receives the staff nudges (incidents.nudges) by mail, in ``locale``.
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def actor(self) -> str:
        """How this user is named in the event log."""
        return f"user:{self.id}:{self.email}"


class ApiToken(Base):
    """A bearer token for integrations; only its SHA-256 is stored, the secret is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Optional end of validity, set at creation; a token past it is refused like a revoked one.
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Who made it (the event log's actor: ``user:<id>:<email>`` or ``cli:<os user>``).
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def creator(self) -> str:
        """Who made it, for people: the email of a console user, ``cli:<os user>`` as is."""
        by = self.created_by or ""
        if by.startswith("user:"):
            return by.split(":", 2)[-1]
        return by


class ConsoleSession(Base):
    """A signed-in console session, kept on the server so it can be ended (issue 7).

    The cookie carries a random session id; only its SHA-256 is stored, so the
    table cannot be replayed as cookies. A session ends when its user signs out,
    after ``ANSHIN_SESSION_IDLE_MINUTES`` without a request or
    ``ANSHIN_SESSION_MAX_HOURS`` after sign-in, and when an administrator changes
    the user's role or password or deactivates them (team.sessions).
    """

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class AgentSkill(Base):
    """R28: what an agent can take in a surge — levels, languages, incident work.

    ``max_level`` defaults to the level of the agent's role; a lead may lower it
    (a new senior still learning) but the role caps it.
    """

    __tablename__ = "agent_skills"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    max_level: Mapped[int] = mapped_column(Integer, default=1)
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["ja"])
    incident_capable: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
