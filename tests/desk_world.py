"""A desk full of inquiries for the desk's tests and screenshots: two open incidents,
every channel, calm to furious, one harassing, some claimed, stored through
``inquiries.service.receive`` with explicit triage values."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents import service as incidents
from anshin.incidents.record import IncidentInput
from anshin.inquiries import claims, service
from anshin.inquiries.models import Inquiry
from anshin.inquiries.service import NewInquiry, TriageValues
from anshin.team.models import User


@dataclass(frozen=True)
class Sample:
    """One inquiry of the world: who wrote, what, how triage read it, minutes ago."""

    name: str
    org: str | None
    tier: str
    channel: str
    text: str
    incident: int | None  # index into the incidents, or None
    intent: str
    level: int
    temperature: int
    harassment: bool
    minutes_ago: int
    reasons: tuple[str, ...]
    holder: str | None = None  # role of the seeded user who claimed it


SAMPLES: tuple[Sample, ...] = (
    Sample(
        "佐藤 花子",
        "株式会社さくら商事",
        "standard",
        "form",
        "ログインできません。いつ復旧しますか？",
        0,
        "status_inquiry",
        1,
        1,
        False,
        35,
        ("「ログイン」が障害INC（ログイン障害）の語と一致", "「いつ復旧」→ 状況の問い合わせ"),
    ),
    Sample(
        "鈴木 一郎",
        None,
        "standard",
        "email",
        "朝からずっとエラー500が出て仕事になりません。回避策はありますか？",
        0,
        "workaround_request",
        1,
        2,
        False,
        22,
        ("「回避策」→ 回避策の依頼", "障害に回避策が記録済み → L1"),
    ),
    Sample(
        "高橋 美咲",
        "高橋デザイン事務所",
        "standard",
        "chat",
        "ﾛｸﾞｲﾝ画面が真っ白です😢 大丈夫でしょうか",
        0,
        "status_inquiry",
        1,
        1,
        False,
        8,
        ("半角カナを正規化: ログイン", "「大丈夫でしょうか」→ 状況の問い合わせ"),
        "operator",
    ),
    Sample(
        "田中 健太",
        "田中物流株式会社",
        "important",
        "phone",
        "決済が二重に引き落とされています。至急確認してください。",
        1,
        "data_concern",
        3,
        2,
        False,
        12,
        ("「二重に引き落とされ」→ データの懸念", "重要顧客のデータ懸念 → L3"),
    ),
    Sample(
        "伊藤 直子",
        None,
        "standard",
        "email",
        "APIが429を返し続けます。レート制限の設定が変わったのでしょうか。",
        1,
        "technical_question",
        2,
        1,
        False,
        40,
        ("「429」「レート制限」→ 技術的な質問",),
        "senior",
    ),
    Sample(
        "渡辺 大輔",
        "渡辺商店",
        "standard",
        "phone",
        "対応が遅すぎる。何度電話させるんだ。責任者を出せ。",
        1,
        "complaint",
        2,
        3,
        False,
        55,
        ("「遅すぎる」「責任者を出せ」→ 苦情", "語調が強い → 温度3"),
    ),
    Sample(
        "山本 由美",
        "株式会社やまもと",
        "important",
        "email",
        "今回の障害で売上に損失が出ました。返金と契約の見直しを求めます。",
        1,
        "compensation_request",
        3,
        3,
        False,
        18,
        ("「返金」「契約の見直し」→ 補償の要求 → L3",),
    ),
    Sample(
        "中村 翔",
        None,
        "standard",
        "chat",
        "ふざけるな。土下座しに家に来い。SNSで晒すからな。",
        1,
        "complaint",
        3,
        3,
        True,
        6,
        ("「土下座」「家に来い」「SNSで晒す」→ 脅迫・過大な要求", "ハラスメント → L3"),
        "supervisor",
    ),
    Sample(
        "小林 さやか",
        "こばやし会計",
        "standard",
        "form",
        "請求書のPDFのダウンロード方法を教えてください。",
        None,
        "unrelated",
        1,
        0,
        False,
        70,
        ("どの障害の語とも一致しない", "→ 関係なし"),
    ),
    Sample(
        "Emily Clark",
        "Northwind Ltd.",
        "standard",
        "email",
        "Our team cannot sign in since this morning. Any ETA?",
        0,
        "status_inquiry",
        1,
        1,
        False,
        15,
        ("'cannot sign in' matches the login incident", "'ETA' → status inquiry"),
    ),
    Sample(
        "加藤 浩二",
        None,
        "standard",
        "phone",
        "データが消えていないか心配です。保存した設定は大丈夫ですか？",
        0,
        "data_concern",
        2,
        1,
        False,
        28,
        ("「データが消えて」→ データの懸念 → L2",),
    ),
    Sample(
        "吉田 舞",
        "吉田クリニック",
        "important",
        "form",
        "予約システムが使えず患者さんに迷惑がかかっています。いつ直りますか？",
        0,
        "status_inquiry",
        1,
        2,
        False,
        3,
        ("「いつ直りますか」→ 状況の問い合わせ", "重要顧客 → 初回応答15分"),
    ),
)


@dataclass
class World:
    """What was seeded: the incidents' references and the inquiries' references in order."""

    incidents: list[str]
    inquiries: list[str]


def seed_desk(session: Session, settings: Settings, *, now: dt.datetime | None = None) -> World:
    """Two open incidents and the sample inquiries; claims by the seeded users (by role)."""
    now = now or utcnow()
    login = incidents.declare(
        session,
        settings,
        IncidentInput(
            title="ログインできない障害",
            severity="sev1",
            summary="一部のお客さまがログインできません。",
            workaround="スマートフォンアプリからはログインできます。",
        ),
        actor="test",
        now=now - dt.timedelta(minutes=80),
    )
    payments = incidents.declare(
        session,
        settings,
        IncidentInput(
            title="決済の遅延と二重請求", severity="sev2", summary="決済処理が遅れています。"
        ),
        actor="test",
        now=now - dt.timedelta(minutes=60),
    )
    found = [login, payments]
    users = {u.role: u for u in session.scalars(select(User))}
    refs: list[str] = []
    for sample in SAMPLES:
        inquiry = service.receive(
            session,
            settings,
            NewInquiry(
                channel=sample.channel,
                text=sample.text,
                customer_name=sample.name,
                customer_email=None if sample.channel == "phone" else f"c{len(refs)}@example.com",
                customer_phone="03-1234-5678" if sample.channel == "phone" else None,
                customer_org=sample.org,
                customer_tier=sample.tier,
                locale="en" if sample.name.isascii() else "ja",
                received_at=now - dt.timedelta(minutes=sample.minutes_ago),
            ),
            actor="test",
            triage=TriageValues(
                incident_id=found[sample.incident].id if sample.incident is not None else None,
                intent=sample.intent,
                level=sample.level,
                temperature=sample.temperature,
                harassment=sample.harassment,
                reasons=sample.reasons,
            ),
            now=now - dt.timedelta(minutes=sample.minutes_ago),
        )
        if sample.holder and sample.holder in users:
            claims.claim(session, inquiry, users[sample.holder], now=now - dt.timedelta(minutes=2))
        refs.append(inquiry.reference)
    session.flush()
    return World([i.reference for i in found], refs)


def seeded(settings: Settings) -> World:
    """The console's users (tests/test_console_support) and the desk, committed."""
    from test_console_support import database, seed

    seed(settings)
    with database(settings) as session:
        found = seed_desk(session, settings)
        session.commit()
    return found


def inquiry(session: Session, ref: str) -> Inquiry:
    """The inquiry by reference, fresh from the database."""
    found = service.get(session, ref)
    session.refresh(found)
    return found
