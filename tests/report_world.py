"""A resolved incident with everything a report reads, for the review report tests.

Declared at ``t0``; the first notice at +10 min promising +40, an update at
+45 (late by 5) promising +75, one at +70 (early by 5); six inquiries, two of
them from important customers (one organisation, one person), answered after
2, 10 and 50 minutes; one escalation and one commitment; resolved at +120
with the cause confirmed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.incidents import components
from anshin.incidents import service as incidents
from anshin.incidents.models import Component, Incident
from anshin.inquiries import commitments, escalation
from anshin.inquiries import service as inquiries
from anshin.inquiries.models import Inquiry
from anshin.inquiries.service import NewInquiry, TriageValues
from inquiry_world import user
from notice_texts import FIRST_NOTICE_EN, FIRST_NOTICE_JA, RESOLUTION_JA, UPDATE_EN, UPDATE_JA

ACTOR = "test:lead"
CAUSE = "認証サーバーの設定変更の誤り"
RESOLVE_JA = RESOLUTION_JA + "原因と再発防止策は報告書でご報告いたします。"
CHANGES_JA = "設定変更は二人で確認してから反映します。12月中に手順書を改めます。"
REFLECTION_JA = "最初のお知らせまでに時間がかかり、お客様を長くお待たせしました。"


def _asked(
    session: Session,
    settings: Settings,
    on: Incident,
    at: dt.datetime,
    n: int,
    *,
    tier: str = "standard",
    org: str | None = None,
    name: str = "山田 花子",
) -> Inquiry:
    return inquiries.receive(
        session,
        settings,
        NewInquiry(
            channel="email",
            text="ログインできません。いつ直りますか。",
            customer_name=name,
            customer_email=f"c{n}@example.com",
            customer_org=org,
            customer_tier=tier,
            subject="ログインできません",
        ),
        actor="test",
        triage=TriageValues(
            incident_id=on.id, intent="status_inquiry", level=1, temperature=1, harassment=False
        ),
        now=at,
    )


def resolved(session: Session, settings: Settings, t0: dt.datetime) -> Incident:
    """The incident of the module docstring, committed."""
    if session.scalar(select(Component).where(Component.name == "ログイン")) is None:
        components.add_component(session, "ログイン", name_en="Sign-in", actor=ACTOR)
    at = lambda m: t0 + dt.timedelta(minutes=m)  # noqa: E731
    on = incidents.declare(
        session,
        settings,
        incidents.IncidentInput(
            title="ログインできない障害",
            title_en="Sign-in failures",
            summary="一部のお客様がログインできない状態になりました。",
            severity="sev2",
            components=["ログイン"],
            started_at=at(-5),
            detected_at=at(-2),
            estimated_affected_customers=1200,
            cause=CAUSE,
            cause_confirmed=True,
        ),
        actor=ACTOR,
        now=t0,
    )
    incidents.publish_update(
        session,
        settings,
        on,
        body_ja=FIRST_NOTICE_JA,
        body_en=FIRST_NOTICE_EN,
        next_update_at=at(40),
        actor=ACTOR,
        now=at(10),
    )
    incidents.publish_update(
        session,
        settings,
        on,
        body_ja=UPDATE_JA,
        body_en=UPDATE_EN,
        next_update_at=at(75),
        actor=ACTOR,
        now=at(45),
    )
    incidents.publish_update(
        session,
        settings,
        on,
        body_ja=UPDATE_JA,
        body_en=UPDATE_EN,
        next_update_at=at(100),
        actor=ACTOR,
        now=at(70),
    )
    lead = user(session, "supervisor", "lead")
    asked = [
        _asked(session, settings, on, at(12), 1),
        _asked(session, settings, on, at(14), 2, tier="important", org="株式会社<大口>"),
        _asked(session, settings, on, at(20), 3),
        _asked(session, settings, on, at(33), 4, tier="important", name="Big Client Ltd"),
        _asked(session, settings, on, at(50), 5),
        _asked(session, settings, on, at(95), 6),
    ]
    for inquiry, minutes in zip(asked, (2, 10, 50), strict=False):
        inquiry.first_responded_at = inquiry.received_at + dt.timedelta(minutes=minutes)
    escalation.escalate(session, settings, asked[1], lead, 2, "重要顧客", now=at(16))
    commitments.add_commitment(
        session,
        settings,
        asked[1],
        by=lead,
        kind="callback",
        description="担当者から折り返しお電話します",
        due_at=at(60),
        now=at(17),
    )
    session.flush()
    incidents.resolve(
        session, settings, on, body_ja=RESOLVE_JA, actor=ACTOR, resolved_at=at(120), now=at(121)
    )
    session.commit()
    return on
