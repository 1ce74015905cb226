"""What the team records after an incident: notes, prevention actions, feedback, drills (R30–R33).

Metrics and the timeline are read from other domains' rows and events
(metrics.py, timeline.py); only what the review itself adds lives here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anshin.db import Base, UTCDateTime, utcnow

ENTITY_NOTE = "review_note"
ENTITY_ACTION = "prevention_action"
ENTITY_DRILL = "drill"


class ReviewNote(Base):
    """One note of the review (R31): what went well, what to improve, or a classified cause."""

    __tablename__ = "review_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # rules.NoteKind
    cause_class: Mapped[str | None] = mapped_column(String(10), nullable=True)  # rules.CauseClass
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PreventionAction(Base):
    """A prevention action (再発防止策) with its owner, due date and state (R31).

    ``refix_of_id`` links a re-fix to the action whose effect check failed:
    the failed action stays as it was, so the review shows both.
    """

    __tablename__ = "prevention_actions"
    __table_args__ = (Index("ix_prevention_actions_due", "state", "due_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    cause_note_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_notes.id", ondelete="SET NULL"), nullable=True
    )
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    owner_name: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), default="open")  # rules.ActionState
    refix_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("prevention_actions.id", ondelete="SET NULL"), nullable=True
    )
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EffectCheck(Base):
    """An effect check (効果検証) of a done action: when, the result, what was seen (R31)."""

    __tablename__ = "effect_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("prevention_actions.id", ondelete="CASCADE"), index=True
    )
    checked_on: Mapped[dt.date] = mapped_column(Date)
    effective: Mapped[bool] = mapped_column()
    note: Mapped[str] = mapped_column(Text, default="")
    checked_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FeedbackResponse(Base):
    """A customer's answer to the survey of one incident (R30): 1–5 and a comment.

    ``respondent`` names who answered without keeping who they are in clear:
    ``sub:<subscriber id>`` or ``inq:<inquiry id>``. One answer per respondent
    per incident: a second answer updates the first.
    """

    __tablename__ = "feedback_responses"
    __table_args__ = (UniqueConstraint("incident_id", "respondent"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    respondent: Mapped[str] = mapped_column(String(40))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    locale: Mapped[str] = mapped_column(String(5), default="ja")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Drill(Base):
    """A training drill made from a past inquiry, names and contact details removed (R33).

    ``label`` puts it in the shared library as a good or a bad example.
    """

    __tablename__ = "drills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_inquiry_id: Mapped[int | None] = mapped_column(
        ForeignKey("inquiries.id", ondelete="SET NULL"), nullable=True
    )
    incident_title: Mapped[str] = mapped_column(String(200), default="")
    customer_text: Mapped[str] = mapped_column(Text)
    sent_reply: Mapped[str] = mapped_column(Text, default="")
    label: Mapped[str | None] = mapped_column(String(10), nullable=True)  # rules.DrillLabel
    note: Mapped[str] = mapped_column(Text, default="")
    locale: Mapped[str] = mapped_column(String(5), default="ja")
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DrillAttempt(Base):
    """A trainee's reply to a drill, with the message check's findings as shown (R33)."""

    __tablename__ = "drill_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("drills.id", ondelete="CASCADE"), index=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reply: Mapped[str] = mapped_column(Text)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
