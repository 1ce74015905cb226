"""A small world for the handoff sheet, commitments and harassment tests (R24, R25, R27).

One incident on ログイン that started at 10:00 JST, its first notice published at
10:15, and an inquiry at 11:00 whose words disagree with the record four ways:
it says 9時頃から, says nobody told them, names 決済 (not affected), and wants a
refund nobody promised.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.incidents import service as incidents
from anshin.inquiries import service
from anshin.inquiries.models import Inquiry
from anshin.team.models import User
from status_helpers import FIRST_NOTICE
from test_console_support import USERS, seed

ACTOR = "test:lead"
STARTED = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)  # 10:00 in Asia/Tokyo
NOW = STARTED + dt.timedelta(hours=2)
WORDS = (
    "今朝9時頃からログインできません！何の連絡もないし、決済も止まっているのでは？"
    "仕事になりません。今月分は返金してください。"
)


@dataclass(frozen=True)
class World:
    """The references the tests use."""

    incident: str
    inquiry: str


def build(settings: Settings, session: Session) -> World:
    """Seed users and components, the incident, and the disagreeing inquiry; committed."""
    seed(settings)
    incident = incidents.declare(
        session,
        settings,
        incidents.IncidentInput(
            title="ログインできない障害",
            title_en="Sign-in failures",
            severity="sev2",
            components=["ログイン"],
            started_at=STARTED,
            cause="認証サーバーの証明書更新の失敗",
            cause_confirmed=False,
            workaround="スマートフォンアプリからはログインできます。",
        ),
        actor=ACTOR,
        now=STARTED + dt.timedelta(minutes=10),
    )
    incidents.publish_update(
        session,
        settings,
        incident,
        body_ja=FIRST_NOTICE,
        actor=ACTOR,
        now=STARTED + dt.timedelta(minutes=15),
    )
    inquiry = service.receive(
        session,
        settings,
        service.NewInquiry(
            channel="email",
            text=WORDS,
            customer_name="山田 太郎",
            customer_email="yamada@example.com",
            received_at=STARTED + dt.timedelta(hours=1),
        ),
        actor="test:intake",
        triage=service.TriageValues(
            incident_id=incident.id,
            intent="compensation_request",
            level=3,
            temperature=3,
            harassment=False,
        ),
        now=STARTED + dt.timedelta(hours=1),
    )
    session.commit()
    return World(incident=incident.reference, inquiry=inquiry.reference)


def user(session: Session, role: str) -> User:
    """The seeded user of ``role``."""
    return session.scalars(select(User).where(User.email == USERS[role][0])).one()


def inquiry(session: Session, reference: str) -> Inquiry:
    """The inquiry, fresh from the database."""
    session.expire_all()
    return service.get(session, reference)
