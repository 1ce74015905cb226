"""A small incident world for status page tests: components, an incident, updates."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.incidents import components, maintenance, service
from anshin.incidents.models import Incident
from notice_texts import NEXT_UPDATE_JA, notice_en, notice_ja

ACTOR = "test:lead"
# Public texts are real notices: publishing refuses one the message check finds errors in.
FIRST_NOTICE = (
    "現在、ログインできない状態が発生しております。ご不便をおかけし、誠に申し訳ございません。"
    "確認できていない点は現在確認中です。" + NEXT_UPDATE_JA
)
FIRST_NOTICE_EN = notice_en("Some customers cannot sign in.")
UPDATE = (
    "原因を特定し、復旧作業を進めております。引き続きご不便をおかけし申し訳ございません。"
    + NEXT_UPDATE_JA
)
INTERNAL = "社内メモ: 認証基盤のコネクション枯渇。顧客には未公表。"


def build_world(session: Session, settings: Settings, now: dt.datetime) -> Incident:
    """Two grouped components, one active incident with a first notice, an update and an
    internal note, one resolved incident, and maintenance next week."""
    components.add_component(session, "ログイン", group="基盤", name_en="Sign-in", actor=ACTOR)
    components.add_component(session, "決済", group="基盤", name_en="Payments", actor=ACTOR)
    components.add_component(session, "管理画面", name_en="Admin console", actor=ACTOR)
    old = service.declare(
        session,
        settings,
        service.IncidentInput(title="決済の遅延", severity="sev3", components=["決済"]),
        actor=ACTOR,
        now=now - dt.timedelta(days=3),
    )
    service.publish_update(
        session,
        settings,
        old,
        body_ja=notice_ja("決済に時間がかかっております。"),
        actor=ACTOR,
        now=now - dt.timedelta(days=3),
    )
    service.resolve(
        session,
        settings,
        old,
        body_ja=notice_ja("決済の遅延は解消いたしました。", kind="resolution"),
        actor=ACTOR,
        now=now - dt.timedelta(days=3) + dt.timedelta(hours=1),
    )
    incident = service.declare(
        session,
        settings,
        service.IncidentInput(
            title="ログインできない障害",
            title_en="Sign-in failures",
            severity="sev2",
            components=["ログイン"],
            workaround="スマートフォンアプリからはログインできます。",
            internal_notes="社内限定: 担当は認証チーム",
        ),
        actor=ACTOR,
        now=now - dt.timedelta(minutes=30),
    )
    service.publish_update(
        session,
        settings,
        incident,
        body_ja=FIRST_NOTICE,
        body_en=FIRST_NOTICE_EN,
        actor=ACTOR,
        now=now - dt.timedelta(minutes=25),
    )
    service.publish_update(
        session,
        settings,
        incident,
        body_ja=INTERNAL,
        audience="internal",
        actor=ACTOR,
        now=now - dt.timedelta(minutes=20),
    )
    service.publish_update(
        session,
        settings,
        incident,
        body_ja=UPDATE,
        status="identified",
        actor=ACTOR,
        now=now - dt.timedelta(minutes=10),
    )
    maintenance.schedule(
        session,
        settings,
        title="決済基盤の定期メンテナンス",
        title_en="Payments maintenance",
        body="作業中は決済がご利用いただけません。",
        scheduled_start=now + dt.timedelta(days=7),
        scheduled_end=now + dt.timedelta(days=7, hours=2),
        components=["決済"],
        actor=ACTOR,
        now=now,
    )
    session.commit()
    return incident
