"""Inquiries on an incident for the reply tests: agents, customers on every channel.

Shared by ``test_inquiries_replies.py`` (the service, real mail and webhooks)
and ``test_inquiries_reply_web.py`` (console, API, CLI).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents import components
from anshin.incidents import service as incidents
from anshin.incidents.models import Component, Incident
from anshin.inquiries import service
from anshin.inquiries.models import Inquiry
from anshin.inquiries.service import NewInquiry, TriageValues
from anshin.team.models import User

# A reply that passes the message check: apology, empathy, only confirmed facts.
GOOD_JA = (
    "お問い合わせいただき、ありがとうございます。\n"
    "ログインできない状態が続き、ご不便とご心配をおかけしており、誠に申し訳ございません。\n"
    "現在、復旧に向けて対応しております。状況はステータスページでお知らせいたします。"
)
GOOD_EN = (
    "Thank you for contacting us.\n"
    "We are very sorry for the trouble and worry the sign-in problem is causing you.\n"
    "We are working to restore the service and will keep you posted on the status page."
)
# No apology (R12: a reply to a customer we let down carries one).
BAD_JA = "お問い合わせの件、現在調査中です。ステータスページをご確認ください。"


def user(session: Session, role: str, name: str) -> User:
    """A console user of ``role`` (no password needed by the service)."""
    found = User(email=f"{name}@example.com", name=name, role=role, password_hash="x")
    session.add(found)
    session.flush()
    return found


def incident(session: Session, settings: Settings, title: str = "ログインできない障害") -> Incident:
    """An open incident on the sign-in component (the component is made when missing)."""
    if session.scalar(select(Component).where(Component.name == "ログイン")) is None:
        components.add_component(session, "ログイン", name_en="Sign-in", actor="test")
    return incidents.declare(
        session,
        settings,
        incidents.IncidentInput(
            title=title, title_en="Sign-in failures", severity="sev2", components=["ログイン"]
        ),
        actor="test",
    )


def inquiry(
    session: Session,
    settings: Settings,
    on: Incident | None,
    *,
    channel: str = "email",
    email: str | None = "customer@example.com",
    name: str | None = "山田 花子",
    locale: str = "ja",
    intent: str = "status_inquiry",
    keep_informed: bool = True,
    mail_message_id: str | None = None,
    holder: User | None = None,
    now: dt.datetime | None = None,
) -> Inquiry:
    """One inquiry linked to ``on``, claimed by ``holder`` when given."""
    found = service.receive(
        session,
        settings,
        NewInquiry(
            channel=channel,
            text="ログインできません。いつ直りますか。",
            customer_name=name,
            customer_email=email,
            customer_phone="03-1234-5678" if channel == "phone" else None,
            locale=locale,
            subject="ログインできません" if channel == "email" else None,
            keep_informed=keep_informed,
            mail_message_id=mail_message_id,
        ),
        actor="test",
        triage=TriageValues(
            incident_id=on.id if on else None,
            intent=intent,
            level=1,
            temperature=1,
            harassment=False,
        ),
        now=now or utcnow(),
    )
    if holder is not None:
        found.claimed_by_id = holder.id
        found.claimed_at = utcnow()
    session.flush()
    return found
