"""Demo data: a team, its components, incidents, maintenance, an inquiry surge, a knowledge base.

``anshin demo`` loads it so a new user sees the product at work within a
minute. It is idempotent: each item is looked up by its natural key (email,
component name, incident or maintenance title) and only missing ones are
created, so running it twice changes nothing. The customer texts follow the
guides: apology and empathy (R12, R13), only confirmed facts with "現在確認中"
for the rest (R3), the time of the next update (R5), a promised report (R7).
The resolved incident gets its review filled (``review.demo_review``, R30–R33).
The inquiry surge (R18–R28) comes through the real intake
(``inquiries.demo_burst``) and some of it is put in hand through the desk's
services (``inquiries.demo_desk``); it is added only to a database without
inquiries.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin import events
from anshin.comms.formatting import format_stamp
from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents import components as component_service
from anshin.incidents import maintenance as maintenance_service
from anshin.incidents import service as incident_service
from anshin.incidents.models import Component, ComponentGroup, Incident, Maintenance
from anshin.inquiries import demo_burst, demo_departments, demo_desk
from anshin.knowledge import exchange as knowledge_exchange
from anshin.review import demo_review
from anshin.team import service as team_service
from anshin.timefmt import clock_local, format_local, to_zone

# The demo accounts get a password generated when they are created, printed once:
# a password in the source would be a constant secret on any server the demo ran
# against (issue 7). Lost, it is reset with `anshin user password EMAIL`.
DEMO_PASSWORD_BYTES = 9

# (role, email, name): one account per role (R22).
ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("operator", "operator@example.com", "一次対応オペレーター"),
    ("senior", "senior@example.com", "二次対応シニア"),
    ("supervisor", "supervisor@example.com", "対応リーダー"),
    ("admin", "admin@example.com", "管理者"),
)

# (group, group in English, [(component, component in English)]).
COMPONENTS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "ログイン/認証",
        "Login & authentication",
        (("ログイン", "Login"), ("二段階認証", "Two-step verification")),
    ),
    (
        "決済",
        "Payments",
        (("クレジットカード決済", "Card payments"), ("請求書払い", "Invoice payments")),
    ),
    ("API", "API", (("REST API", "REST API"), ("Webhook 送信", "Webhook delivery"))),
    ("管理画面", "Admin console", (("ダッシュボード", "Dashboard"), ("レポート", "Reports"))),
    (
        "メール配信",
        "Email delivery",
        (("通知メール", "Notification emails"), ("一斉配信", "Bulk email")),
    ),
)

ACTIVE_TITLE = "一部のお客様がクレジットカード決済を完了できない事象"
RESOLVED_TITLE = "管理画面のレポート表示に時間がかかる事象"
MAINTENANCE_TITLE = "メール配信の定期メンテナンス"
REVIEW_ITEM = "振り返り: " + RESOLVED_TITLE


@dataclass
class DemoReport:
    """What a run created (empty on a second run) and the accounts to sign in with."""

    created: list[str] = field(default_factory=list)
    accounts: list[tuple[str, str, str]] = field(default_factory=list)
    # The accounts created by this run share this password; None when none was created.
    password: str | None = None
    # Inquiries taken in by this run, how many of them were acknowledged by mail, and
    # which ones the desk put in hand (reference → state).
    inquiries: int = 0
    mailed: int = 0
    in_hand: dict[str, str] = field(default_factory=dict)


def _times(settings: Settings, value: dt.datetime) -> tuple[str, str]:
    """A time as Japanese (11月23日 14:05) and English (2026-11-23 14:05 JST) readers write it."""
    zone = settings.timezone
    return format_stamp(value, zone, "ja"), format_local(value, zone, "en")


def _load_team(session: Session, report: DemoReport, actor: str) -> None:
    for role, email, name in ACCOUNTS:
        report.accounts.append((role, email, name))
        if team_service.get_user_by_email(session, email) is None:
            report.password = report.password or secrets.token_urlsafe(DEMO_PASSWORD_BYTES)
            team_service.create_user(
                session, email=email, name=name, role=role, password=report.password, actor=actor
            )
            report.created.append(email)


def _load_components(session: Session, report: DemoReport, actor: str) -> None:
    for group_name, group_en, members in COMPONENTS:
        for name, name_en in members:
            if session.scalar(select(Component.id).where(Component.name == name)) is None:
                component_service.add_component(
                    session, name, actor=actor, group=group_name, name_en=name_en
                )
                report.created.append(name)
        group = session.scalar(select(ComponentGroup).where(ComponentGroup.name == group_name))
        if group is not None and group.name_en is None:
            group.name_en = group_en
            events.record(
                session,
                actor=actor,
                entity_type="component_group",
                entity_id=group.id,
                action="component_group.edited",
                before={"name_en": None},
                after={"name_en": group_en},
            )


def _active_incident(session: Session, settings: Settings, actor: str, now: dt.datetime) -> None:
    """A sev2 in progress: declared 45 minutes ago, first notice, one update (R4, R5)."""
    declared = now - dt.timedelta(minutes=45)
    started = declared - dt.timedelta(minutes=12)
    data = incident_service.IncidentInput(
        title=ACTIVE_TITLE,
        title_en="Some customers cannot complete card payments",
        severity="sev2",
        summary="クレジットカード決済の一部が、お支払い画面の途中で完了しません。",
        summary_en="Some card payments stop partway through the payment screen.",
        components=["クレジットカード決済"],
        started_at=started,
        detected_at=declared - dt.timedelta(minutes=5),
        estimated_affected_customers=1200,
        cause="決済代行会社との接続で応答遅延が増えている（原因は調査中）",
        workaround="請求書払いは通常どおりご利用いただけます。",
        workaround_en="Invoice payments work as usual.",
        internal_notes="決済代行会社に問い合わせ済み（チケット #48213）。30分ごとに状況を共有。",
    )
    incident = incident_service.declare(session, settings, data, actor=actor, now=declared)
    first_at = declared + dt.timedelta(minutes=7)
    first_next = first_at + dt.timedelta(minutes=30)
    start_ja, start_en = _times(settings, started)
    next_ja, next_en = _times(settings, first_next)
    incident_service.publish_update(
        session,
        settings,
        incident,
        body_ja=(
            "現在、一部のお客様において、クレジットカード決済が完了しない事象が発生しております。"
            "お支払いの途中で画面が進まなくなり、驚かれたことと存じます。"
            "ご不便とご心配をおかけしており、誠に申し訳ございません。\n"
            f"発生時刻: {start_ja}頃から\n"
            "影響範囲: クレジットカード決済（請求書払いは通常どおりご利用いただけます）\n"
            "原因: 現在確認中です。\n"
            "復旧見込み: 現在確認中です。\n"
            f"復旧に向けて対応を進めており、次回は{next_ja}までに状況をお知らせいたします。"
        ),
        body_en=(
            "Some customers are currently unable to complete card payments. "
            "We are sorry for the inconvenience and worry this is causing, especially if you "
            "were in the middle of a payment.\n"
            f"Started: around {start_en}\n"
            "Affected: card payments (invoice payments work as usual)\n"
            "Cause: being checked.\n"
            "Estimated recovery: being checked.\n"
            f"We are working to restore the service and will post the next update by {next_en}."
        ),
        next_update_at=first_next,
        actor=actor,
        now=first_at,
    )
    update_at = now - dt.timedelta(minutes=12)
    update_next = update_at + dt.timedelta(minutes=30)
    next_ja, next_en = _times(settings, update_next)
    incident_service.publish_update(
        session,
        settings,
        incident,
        body_ja=(
            "クレジットカード決済が完了しない事象について、続報をお知らせいたします。"
            "お支払いをお待たせしており、誠に申し訳ございません。"
            "決済代行会社との接続で応答に時間がかかっていることを確認し、"
            "現在、接続の切り替え作業を行っております。"
            "現時点でも、クレジットカード決済の一部が完了しない状態が続いております。"
            "お急ぎの場合は、請求書払いをご利用いただけます。"
            "原因の詳細と復旧見込みは現在確認中です。"
            f"次回は{next_ja}までにお知らせいたします。"
        ),
        body_en=(
            "This is an update on card payments that do not complete. "
            "We are sorry to keep you waiting. We have found that responses from our payment "
            "provider's connection are slow and are now switching the connection. "
            "Some card payments still do not complete. If your payment is urgent, you can pay "
            "by invoice. The detailed cause and the recovery time are still being checked. "
            f"We will post the next update by {next_en}."
        ),
        next_update_at=update_next,
        actor=actor,
        now=update_at,
    )


def _resolved_incident(session: Session, settings: Settings, actor: str, now: dt.datetime) -> None:
    """A sev3 from three days ago: first notice and resolution notice promising a report (R7)."""
    declared = now - dt.timedelta(days=3, hours=2)
    data = incident_service.IncidentInput(
        title=RESOLVED_TITLE,
        title_en="Reports in the admin console load slowly",
        severity="sev3",
        summary="管理画面のレポートの表示に、通常より長い時間がかかっていました。",
        summary_en="Reports in the admin console took much longer than usual to load.",
        components=["レポート"],
        started_at=declared - dt.timedelta(minutes=20),
        detected_at=declared - dt.timedelta(minutes=10),
        estimated_affected_customers=300,
        cause="集計処理の設定変更により、レポートの集計に時間がかかっていた",
        cause_confirmed=True,
    )
    incident = incident_service.declare(session, settings, data, actor=actor, now=declared)
    first_at = declared + dt.timedelta(minutes=10)
    next_at = first_at + dt.timedelta(hours=2)
    next_ja, next_en = _times(settings, next_at)
    incident_service.publish_update(
        session,
        settings,
        incident,
        body_ja=(
            "現在、管理画面のレポートの表示に時間がかかる事象が発生しております。"
            "お忙しい中ご不便をおかけしており、誠に申し訳ございません。"
            "ほかの画面は通常どおりご利用いただけます。原因と復旧見込みは現在確認中です。"
            f"次回は{next_ja}までに状況をお知らせいたします。"
        ),
        body_en=(
            "Reports in the admin console are currently slow to load. We are sorry for the "
            "inconvenience. Other screens work as usual. The cause and the recovery time are "
            f"being checked. We will post the next update by {next_en}."
        ),
        next_update_at=next_at,
        actor=actor,
        now=first_at,
    )
    resolved_at = declared + dt.timedelta(minutes=95)
    recovered = clock_local(resolved_at, settings.timezone)
    report_day = to_zone(resolved_at + dt.timedelta(days=5), settings.timezone)
    assert report_day is not None
    report_ja, report_en = f"{report_day.month}月{report_day.day}日", f"{report_day:%Y-%m-%d}"
    incident_service.resolve(
        session,
        settings,
        incident,
        body_ja=(
            f"管理画面のレポートの表示に時間がかかる事象は、{recovered}に"
            "復旧いたしました。ご不便とご迷惑をおかけし、誠に申し訳ございませんでした。"
            "現在は通常どおりご利用いただけます。"
            f"原因と再発防止策は、{report_ja}までに報告書としてお知らせいたします。"
        ),
        body_en=(
            f"Reports in the admin console are loading normally again since "
            f"{recovered}. We are sorry for the inconvenience. We will publish "
            f"a report with the cause and our prevention measures by {report_en}."
        ),
        actor=actor,
        now=resolved_at,
    )


def _maintenance(session: Session, settings: Settings, actor: str, now: dt.datetime) -> None:
    """A window next week, 02:00-04:00 in the team's zone, announced in advance (R10)."""
    zone = ZoneInfo(settings.timezone)
    day = (now + dt.timedelta(days=7)).astimezone(zone).date()
    start = dt.datetime(day.year, day.month, day.day, 2, 0, tzinfo=zone).astimezone(dt.UTC)
    end = start + dt.timedelta(hours=2)
    start_ja, start_en = _times(settings, start)
    end_ja, end_en = _times(settings, end)
    maintenance_service.schedule(
        session,
        settings,
        title=MAINTENANCE_TITLE,
        title_en="Scheduled maintenance of email delivery",
        body=(
            f"{start_ja}から{end_ja}まで、メール配信のメンテナンスを実施いたします。"
            "この間、通知メールと一斉配信の送信が最大2時間遅れる場合がございます。"
            "ご不便をおかけいたしますが、ご理解とご協力をお願い申し上げます。"
        ),
        body_en=(
            f"We will carry out maintenance of email delivery from {start_en} to {end_en}. "
            "During this time, notification and bulk emails may be delayed by up to two hours. "
            "We are sorry for the inconvenience."
        ),
        scheduled_start=start,
        scheduled_end=end,
        components=["通知メール", "一斉配信"],
        actor=actor,
        now=now,
    )


def _team(session: Session) -> demo_desk.Team:
    users = {role: team_service.get_user_by_email(session, email) for role, email, _ in ACCOUNTS}
    operator, senior, supervisor = users["operator"], users["senior"], users["supervisor"]
    assert operator is not None and senior is not None and supervisor is not None
    return demo_desk.Team(operator=operator, senior=senior, supervisor=supervisor)


def load_demo(
    session: Session,
    settings: Settings,
    *,
    actor: str,
    now: dt.datetime | None = None,
    inquiries: int = demo_burst.DEFAULT_BURST,
    progress: Callable[[int, int], None] | None = None,
) -> DemoReport:
    """Create whatever demo data is missing; the caller commits.

    ``inquiries`` is the size of the surge (0: none); it is taken in only
    when the database holds no inquiry yet; ``progress(done, total)`` follows it.
    """
    now = now or utcnow()
    report = DemoReport()
    _load_team(session, report, actor)
    _load_components(session, report, actor)
    # R21: the departments inquiries are shared with, and their routing.
    report.created.extend(
        f"department {key}"
        for key in demo_departments.load_departments(session, settings, actor=actor)
    )
    # The knowledge base's starter list (docs/knowledge-io.md): only missing keys are added.
    if knowledge_exchange.load_starter(session, actor=actor).created:
        report.created.append("kb starter")
    if session.scalar(select(Incident.id).where(Incident.title == RESOLVED_TITLE)) is None:
        _resolved_incident(session, settings, actor, now)
        report.created.append(RESOLVED_TITLE)
    if session.scalar(select(Incident.id).where(Incident.title == ACTIVE_TITLE)) is None:
        _active_incident(session, settings, actor, now)
        report.created.append(ACTIVE_TITLE)
    if session.scalar(select(Maintenance.id).where(Maintenance.title == MAINTENANCE_TITLE)) is None:
        _maintenance(session, settings, actor, now)
        report.created.append(MAINTENANCE_TITLE)
    burst = demo_burst.load_burst(
        session, settings, actor=actor, now=now, count=inquiries, progress=progress
    )
    report.created.extend(burst.incidents)
    if burst.inquiries:
        report.inquiries, report.mailed = burst.inquiries, burst.mailed
        report.in_hand = demo_desk.load_desk(session, settings, _team(session), now=now).states
    # After the surge (which only comes into a database without inquiries): the resolved
    # incident's review, with its own callers, notes, actions, survey answers and drills.
    resolved = session.scalar(select(Incident).where(Incident.title == RESOLVED_TITLE))
    if resolved is not None and demo_review.load_review(
        session, settings, resolved, _team(session), actor=actor
    ):
        report.created.append(REVIEW_ITEM)
    return report
