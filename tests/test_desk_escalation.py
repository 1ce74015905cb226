"""Escalation and de-escalation (R22): reasons, who may hand down, the due time follows the
level, the claim follows the holder's level; stage moves and triage corrections (R19, R20);
queue order and filters (R22)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from anshin import events
from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import Conflict, Forbidden, InvalidInput
from anshin.inquiries import claims, escalation, queues, rules, service
from anshin.inquiries.models import Inquiry
from anshin.inquiries.policy import policy
from anshin.inquiries.service import NewInquiry, TriageValues
from anshin.team.models import User
from desk_world import SAMPLES, seed_desk


def _user(session: Session, role: str, n: int = 0) -> User:
    user = User(email=f"{role}{n}@example.com", name=f"{role}-{n}", role=role, password_hash="x")
    session.add(user)
    session.flush()
    return user


def _inquiry(
    session: Session,
    settings: Settings,
    *,
    level: int = 1,
    tier: str = "standard",
    received_at: dt.datetime | None = None,
    temperature: int = 1,
    intent: str = "status_inquiry",
    channel: str = "chat",
) -> Inquiry:
    return service.receive(
        session,
        settings,
        NewInquiry(
            channel=channel,
            text="決済ができません",
            customer_tier=tier,
            received_at=received_at,
        ),
        actor="test",
        triage=TriageValues(
            incident_id=None,
            intent=intent,
            level=level,
            temperature=temperature,
            harassment=False,
        ),
    )


def test_escalate_needs_a_reason_and_moves_the_due_time(
    session: Session, settings: Settings
) -> None:
    operator = _user(session, "operator")
    received = utcnow() - dt.timedelta(minutes=5)
    inquiry = _inquiry(session, settings, tier="important", received_at=received)
    claims.claim(session, inquiry, operator)
    with pytest.raises(InvalidInput):
        escalation.escalate(session, settings, inquiry, operator, 2, "")
    with pytest.raises(InvalidInput):
        escalation.escalate(session, settings, inquiry, operator, 4, "理由")
    with pytest.raises(Conflict):
        escalation.escalate(session, settings, inquiry, operator, 1, "理由")
    escalation.escalate(session, settings, inquiry, operator, 2, "エラーコードの詳細説明が必要")
    assert inquiry.level == 2
    minutes = policy(settings).first_response_minutes[(2, "important")]
    assert inquiry.first_response_due_at == received + dt.timedelta(minutes=minutes)
    # The operator cannot answer at level 2: the inquiry goes back to the level-2 queue.
    assert inquiry.claimed_by_id is None
    event = events.history(session, "inquiry", inquiry.id)[-1]
    assert event.action == "inquiry.escalated"
    assert event.before is not None and event.after is not None
    assert (event.before["level"], event.after["level"]) == (1, 2)
    assert event.after["reason"] == "エラーコードの詳細説明が必要"
    assert event.after["released"] is True


def test_a_holder_who_can_answer_the_new_level_keeps_the_claim(
    session: Session, settings: Settings
) -> None:
    senior = _user(session, "senior")
    inquiry = _inquiry(session, settings)
    claims.claim(session, inquiry, senior)
    escalation.escalate(session, settings, inquiry, senior, 2, "詳しい説明が必要")
    assert inquiry.claimed_by_id == senior.id


def test_only_the_current_level_or_above_hands_back_down(
    session: Session, settings: Settings
) -> None:
    operator, senior = _user(session, "operator"), _user(session, "senior")
    inquiry = _inquiry(session, settings, level=2)
    with pytest.raises(Conflict):
        escalation.deescalate(session, settings, inquiry, operator, 1, "簡単な質問でした")
    with pytest.raises(Conflict):  # de-escalate never goes up
        escalation.deescalate(session, settings, inquiry, senior, 3, "理由")
    escalation.deescalate(session, settings, inquiry, senior, 1, "状況の確認だけでした")
    assert inquiry.level == 1
    assert events.history(session, "inquiry", inquiry.id)[-1].action == "inquiry.deescalated"


def test_someone_elses_claim_blocks_escalation_but_not_a_lead(
    session: Session, settings: Settings
) -> None:
    a, b = _user(session, "operator", 1), _user(session, "operator", 2)
    lead = _user(session, "supervisor")
    inquiry = _inquiry(session, settings)
    claims.claim(session, inquiry, a)
    with pytest.raises(claims.HeldByOther):
        escalation.escalate(session, settings, inquiry, b, 2, "理由")
    escalation.escalate(session, settings, inquiry, lead, 3, "補償の話が出た")
    assert inquiry.level == 3 and inquiry.claimed_by_id is None


def test_stage_moves_by_holder_and_refusals(session: Session, settings: Settings) -> None:
    a, b = _user(session, "operator", 1), _user(session, "operator", 2)
    inquiry = _inquiry(session, settings)
    escalation.move_stage(session, settings, inquiry, b, "listening")  # unheld, level fits
    claims.claim(session, inquiry, a)
    with pytest.raises(claims.HeldByOther):
        escalation.move_stage(session, settings, inquiry, b, "fact_checking")
    with pytest.raises(Conflict):
        escalation.move_stage(session, settings, inquiry, a, "resolved")
    escalation.move_stage(session, settings, inquiry, a, "fact_checking")
    assert inquiry.stage == "fact_checking"
    l3 = _inquiry(session, settings, level=3)
    with pytest.raises(Forbidden):
        escalation.move_stage(session, settings, l3, a, "listening")


def test_triage_corrections_record_an_event_each(session: Session, settings: Settings) -> None:
    operator = _user(session, "operator")
    inquiry = _inquiry(session, settings)
    escalation.correct_triage(
        session, settings, inquiry, operator, "temperature", "3", "電話口で激昂"
    )
    escalation.correct_triage(
        session, settings, inquiry, operator, "intent", "complaint", "対応への不満"
    )
    with pytest.raises(InvalidInput):
        escalation.correct_triage(session, settings, inquiry, operator, "intent", "x", "r")
    with pytest.raises(InvalidInput):
        escalation.correct_triage(session, settings, inquiry, operator, "level", "2", "r")
    with pytest.raises(InvalidInput):
        escalation.correct_triage(session, settings, inquiry, operator, "incident", "INC-1", "r")
    with pytest.raises(Conflict):
        escalation.correct_triage(session, settings, inquiry, operator, "temperature", "3", "r")
    escalation.correct_triage(
        session, settings, inquiry, operator, "harassment", "yes", "「家に行くぞ」と脅迫"
    )
    assert (inquiry.temperature, inquiry.intent, inquiry.harassment) == (3, "complaint", True)
    assert inquiry.level == 3  # R25: harassment goes to the supervisor's level
    actions = [e.action for e in events.history(session, "inquiry", inquiry.id)]
    assert actions[1:] == [
        "inquiry.triage_corrected",
        "inquiry.triage_corrected",
        "inquiry.triage_corrected",
        "inquiry.escalated",
    ]


def test_queue_orders_by_due_then_temperature(session: Session, settings: Settings) -> None:
    now = utcnow()
    base = now - dt.timedelta(minutes=10)
    calm = _inquiry(session, settings, received_at=base, temperature=0)
    furious = _inquiry(session, settings, received_at=base, temperature=3)
    late = _inquiry(session, settings, received_at=now - dt.timedelta(minutes=40))
    later_due = _inquiry(session, settings, received_at=now, temperature=3)
    l2 = _inquiry(session, settings, level=2, received_at=base)
    found = queues.queue(session, queues.QueueFilter(level=1))
    assert [i.id for i in found] == [late.id, furious.id, calm.id, later_due.id]
    everything = queues.queue(session, queues.QueueFilter())
    keys = [
        rules.queue_order_key(i.first_response_due_at, i.temperature, i.received_at)
        for i in everything
    ]
    assert keys == sorted(keys) and l2 in everything


def test_queue_filters_and_views(session: Session, settings: Settings) -> None:
    from test_console_support import USERS

    for role, (email, name) in USERS.items():
        session.add(User(email=email, name=name, role=role, password_hash="x"))
    session.flush()
    world = seed_desk(session, settings)
    op = session.query(User).filter_by(role="operator").one()

    def refs(**kw: str) -> set[str]:
        flt = queues.parse_filter(**kw)
        return {i.reference for i in queues.queue(session, flt, op)}

    expect = {ref: sample for ref, sample in zip(world.inquiries, SAMPLES, strict=True)}
    assert refs(level="3") == {r for r, s in expect.items() if s.level == 3}
    assert refs(intent="status_inquiry") == {
        r for r, s in expect.items() if s.intent == "status_inquiry"
    }
    assert refs(channel="phone") == {r for r, s in expect.items() if s.channel == "phone"}
    assert refs(incident=world.incidents[1].lower()) == {
        r for r, s in expect.items() if s.incident == 1
    }
    assert refs(incident="none") == {r for r, s in expect.items() if s.incident is None}
    assert refs(view="mine") == {r for r, s in expect.items() if s.holder == "operator"}
    assert refs(view="unassigned") == {r for r, s in expect.items() if s.holder is None}
    for bad in ({"level": "4"}, {"view": "theirs"}, {"intent": "x"}, {"channel": "fax"}):
        with pytest.raises(InvalidInput):
            queues.parse_filter(**bad)


def test_waits_count_and_oldest_per_level(session: Session, settings: Settings) -> None:
    now = utcnow()
    _inquiry(session, settings, received_at=now - dt.timedelta(minutes=25))
    _inquiry(session, settings, received_at=now - dt.timedelta(minutes=3))
    _inquiry(session, settings, level=3, received_at=now - dt.timedelta(minutes=2))
    answered = _inquiry(session, settings, level=2, received_at=now - dt.timedelta(hours=3))
    answered.first_responded_at = now
    session.flush()
    waits = {w.level: w for w in queues.waits(session, {1: 10, 2: 20, 3: 30}, now=now)}
    assert (waits[1].waiting, waits[1].oldest_minutes, waits[1].alert) == (2, 25, True)
    assert (waits[2].waiting, waits[2].alert) == (0, False)
    assert (waits[3].waiting, waits[3].unassigned, waits[3].alert) == (1, 1, False)
