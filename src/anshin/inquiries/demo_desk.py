"""The demo's work in progress: inquiries of the surge already in hand (R19, R21–R24, R27).

After ``demo_burst`` the queues would show only untouched inquiries. This puts
a few in the states a new user should see, each through the service a person
at the console goes through — never a column written here:

- some claimed by the operator, one by the senior (``claims.claim``, R23);
- one escalated from L1 to L2 with its reason, which stores the handoff sheet
  (``escalation.escalate``, R24), then claimed by the senior;
- one with a commitment kept and one with a commitment still open, each under
  the authority matrix (``commitments.add_commitment``, R27);
- one replied to (a call recorded from the phone script, ``replies.reply``, R21);
- one resolved and shared with a note for the team (``escalation.move_stage``, R19).

The replies are to callers (phone): nothing is mailed. Which inquiry gets which
is chosen from the triage's answers, so a different classifier picks others;
a state no inquiry fits is skipped, never forced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.inquiries import claims, commitments, escalation, replies, rules
from anshin.inquiries.models import Inquiry
from anshin.team import duty
from anshin.team.models import User

ESCALATION_REASON = (
    "請求書払いに切り替えられない取引先とのこと。個別の事情を二次対応で確認してください。"
)
SHARED_NOTE = "決済障害中の回避策（請求書払い）をご案内し、ご納得いただけました。FAQ 追記候補。"


@dataclass
class Team:
    """The demo accounts that do the work (one per level)."""

    operator: User
    senior: User
    supervisor: User


@dataclass
class DeskReport:
    """Which inquiry got which state (references), for the CLI to print and tests to read."""

    states: dict[str, str] = field(default_factory=dict)


def _pick(
    session: Session, taken: set[int], before: dt.datetime, test: Callable[[Inquiry], bool]
) -> Inquiry | None:
    """The oldest open inquiry received before ``before`` that fits and is not used yet."""
    rows = session.scalars(
        select(Inquiry)
        .where(Inquiry.closed_at.is_(None), Inquiry.received_at < before)
        .order_by(Inquiry.received_at, Inquiry.id)
    )
    for row in rows:
        if row.id not in taken and row.claimed_by_id is None and not row.harassment and test(row):
            taken.add(row.id)
            return row
    return None


def _call(
    session: Session,
    settings: Settings,
    inquiry: Inquiry,
    user: User,
    at: dt.datetime,
    *,
    result: bool,
) -> None:
    """The phone script read to the caller, recorded as the reply (R21)."""
    text = replies.draft(session, settings, inquiry, now=at).text
    replies.reply(
        session,
        settings,
        inquiry,
        user,
        text=text,
        reports_result=result,
        outcome="ご案内済み。納得いただけた。",
        now=at,
    )


def load_desk(session: Session, settings: Settings, team: Team, *, now: dt.datetime) -> DeskReport:
    """Put some of the surge's inquiries in hand; the caller commits."""
    report = DeskReport()
    taken: set[int] = set()
    zone = settings.timezone
    for user in (team.operator, team.senior, team.supervisor):
        duty.set_on_duty(session, user, user.id, True)
    early = now - dt.timedelta(minutes=15)

    def l1(row: Inquiry) -> bool:
        return row.level == 1

    def l1_call(row: Inquiry) -> bool:
        return row.level == 1 and row.channel == rules.Channel.PHONE and row.incident_id is not None

    for minutes in (9, 6, 3):
        found = _pick(session, taken, now - dt.timedelta(minutes=minutes), l1)
        if found is not None:
            claims.claim(
                session, found, team.operator, zone=zone, now=now - dt.timedelta(minutes=minutes)
            )
            report.states[found.reference] = "claimed"

    found = _pick(session, taken, early, lambda r: r.level == 2)
    if found is not None:
        claims.claim(session, found, team.senior, zone=zone, now=now - dt.timedelta(minutes=4))
        report.states[found.reference] = "claimed"

    found = _pick(session, taken, early, lambda r: l1(r) and r.incident_id is not None)
    if found is not None:
        at = now - dt.timedelta(minutes=12)
        claims.claim(session, found, team.operator, zone=zone, now=at)
        escalation.move_stage(
            session, settings, found, team.operator, rules.Stage.LISTENING, now=at
        )
        escalation.escalate(
            session,
            settings,
            found,
            team.operator,
            2,
            ESCALATION_REASON,
            now=at + dt.timedelta(minutes=2),
        )
        claims.claim(session, found, team.senior, zone=zone, now=at + dt.timedelta(minutes=4))
        report.states[found.reference] = "escalated"

    found = _pick(session, taken, early, lambda r: r.intent == rules.Intent.COMPENSATION_REQUEST)
    if found is not None:
        at = now - dt.timedelta(minutes=14)
        claims.claim(session, found, team.supervisor, zone=zone, now=at)
        request = commitments.add_request(
            session, found, "障害で失った売上の補償", actor=team.supervisor.actor, now=at
        )
        commitments.decide_request(
            session,
            found,
            request.id,
            rules.RequestDecision.ALTERNATIVE,
            actor=team.supervisor.actor,
            alternative="障害時間分の利用料を翌月の請求から差し引く",
            now=at,
        )
        promise = commitments.add_commitment(
            session,
            settings,
            found,
            by=team.supervisor,
            kind="callback",
            description="本日中にお電話で補償の内容をご説明する",
            due_at=at + dt.timedelta(minutes=30),
            now=at,
        )
        commitments.keep(
            session,
            found,
            promise.id,
            actor=team.supervisor.actor,
            now=now - dt.timedelta(minutes=2),
        )
        report.states[found.reference] = "commitment_kept"

    found = _pick(session, taken, early, lambda r: r.level == 2)
    if found is not None:
        at = now - dt.timedelta(minutes=8)
        claims.claim(session, found, team.senior, zone=zone, now=at)
        commitments.add_commitment(
            session,
            settings,
            found,
            by=team.senior,
            kind="investigation_result",
            description="ログを確認し、調査結果を書面でお知らせする",
            due_at=now + dt.timedelta(hours=2),
            now=at,
        )
        commitments.set_next_action(
            session,
            found,
            "決済代行会社の回答を待って調査結果をまとめる",
            now + dt.timedelta(hours=1),
            actor=team.senior.actor,
            now=at,
        )
        report.states[found.reference] = "commitment_open"

    found = _pick(session, taken, early, l1_call)
    if found is not None:
        at = now - dt.timedelta(minutes=10)
        claims.claim(session, found, team.operator, zone=zone, now=at)
        _call(session, settings, found, team.operator, at, result=False)
        escalation.move_stage(
            session, settings, found, team.operator, rules.Stage.LISTENING, now=at
        )
        report.states[found.reference] = "replied"

    found = _pick(session, taken, early, l1_call)
    if found is not None:
        at = now - dt.timedelta(minutes=13)
        claims.claim(session, found, team.operator, zone=zone, now=at)
        _call(session, settings, found, team.operator, at, result=True)
        for stage in (
            rules.Stage.LISTENING,
            rules.Stage.FACT_CHECKING,
            rules.Stage.SOLUTION_PROPOSED,
            rules.Stage.RESOLVED,
        ):
            escalation.move_stage(session, settings, found, team.operator, stage, now=at)
        escalation.move_stage(
            session,
            settings,
            found,
            team.operator,
            rules.Stage.SHARED,
            note=SHARED_NOTE,
            now=at + dt.timedelta(minutes=1),
        )
        report.states[found.reference] = "shared"
    return report
