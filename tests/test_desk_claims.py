"""Claims (R23): two agents race, exactly one wins — on SQLite and PostgreSQL; release and
takeover rules; only the holder acts (``require_holder``); levels decide who may claim (R22)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.orm import Session, sessionmaker

from anshin import events
from anshin.config import Settings
from anshin.errors import Conflict, Forbidden, InvalidInput
from anshin.inquiries import claims, service
from anshin.inquiries.models import Inquiry
from anshin.inquiries.service import NewInquiry, TriageValues
from anshin.team import skills
from anshin.team.models import AgentSkill, User


def _user(session: Session, role: str, n: int = 0) -> User:
    user = User(email=f"{role}{n}@example.com", name=f"{role}-{n}", role=role, password_hash="x")
    session.add(user)
    session.flush()
    return user


def _inquiry(session: Session, settings: Settings, level: int = 1) -> Inquiry:
    return service.receive(
        session,
        settings,
        NewInquiry(channel="chat", text="ログインできません", customer_name="佐藤"),
        actor="test",
        triage=TriageValues(
            incident_id=None, intent="status_inquiry", level=level, temperature=1, harassment=False
        ),
    )


def _actions(session: Session, inquiry: Inquiry) -> list[str]:
    return [e.action for e in events.history(session, "inquiry", inquiry.id)]


def test_agents_racing_for_one_inquiry_exactly_one_wins(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with sessions() as s:
        agents = [_user(s, "operator", n).id for n in range(8)]
        ref = _inquiry(s, settings).reference
        s.commit()
    start = threading.Barrier(len(agents))

    def race(user_id: int) -> str:
        with sessions() as s:
            user = s.get(User, user_id)
            assert user is not None
            inquiry = service.get(s, ref)
            start.wait()
            try:
                claims.claim(s, inquiry, user)
                s.commit()
                return "won"
            except claims.HeldByOther as lost:
                s.rollback()
                assert lost.status == 409
                assert lost.holder_id is not None and lost.holder_id != user_id
                assert lost.since is not None
                return f"lost to {lost.holder_id}"

    with ThreadPoolExecutor(max_workers=len(agents)) as pool:
        outcomes = list(pool.map(race, agents))
    assert outcomes.count("won") == 1
    winner = agents[outcomes.index("won")]
    assert sorted(set(outcomes) - {"won"}) == [f"lost to {winner}"]
    with sessions() as s:
        inquiry = service.get(s, ref)
        assert inquiry.claimed_by_id == winner
        assert _actions(s, inquiry).count("inquiry.claimed") == 1


def test_loser_is_told_who_holds_it_and_since_when(session: Session, settings: Settings) -> None:
    first, second = _user(session, "operator", 1), _user(session, "operator", 2)
    inquiry = _inquiry(session, settings)
    claims.claim(session, inquiry, first, zone="Asia/Tokyo")
    with pytest.raises(claims.HeldByOther) as lost:
        claims.claim(session, inquiry, second, zone="Asia/Tokyo")
    assert lost.value.params["name"] == "operator-1"
    assert "JST" in lost.value.params["since"]
    details = lost.value.details()
    assert details["holder"] == {"id": first.id, "name": "operator-1"}
    # Claiming one's own again changes nothing and records nothing.
    claims.claim(session, inquiry, first)
    assert _actions(session, inquiry) == ["inquiry.received", "inquiry.claimed"]


def test_level_decides_who_may_claim_and_the_skill_map_caps_it(
    session: Session, settings: Settings
) -> None:
    operator, senior = _user(session, "operator"), _user(session, "senior")
    lead = _user(session, "supervisor")
    l2 = _inquiry(session, settings, level=2)
    with pytest.raises(Forbidden):
        claims.claim(session, l2, operator)
    # A lead caps a new senior at level 1: the senior may not take level 2 either.
    skills.set_skill(session, lead, senior.id, max_level=1)
    assert claims.agent_level(session, senior) == 1
    with pytest.raises(Forbidden):
        claims.claim(session, l2, senior)
    skills.set_skill(session, lead, senior.id, max_level=2)
    claims.claim(session, l2, senior)
    assert l2.claimed_by_id == senior.id


def test_closed_inquiries_cannot_be_claimed(session: Session, settings: Settings) -> None:
    operator = _user(session, "operator")
    inquiry = _inquiry(session, settings)
    service.move(session, inquiry, "listening", actor="t")
    inquiry.closed_at = inquiry.received_at
    session.flush()
    with pytest.raises(Conflict):
        claims.claim(session, inquiry, operator)


def test_release_by_holder_or_lead_only(session: Session, settings: Settings) -> None:
    a, b = _user(session, "operator", 1), _user(session, "operator", 2)
    lead = _user(session, "senior")
    inquiry = _inquiry(session, settings)
    with pytest.raises(Conflict):
        claims.release(session, inquiry, a)
    claims.claim(session, inquiry, a)
    with pytest.raises(claims.HeldByOther):
        claims.release(session, inquiry, b)
    claims.release(session, inquiry, lead)
    assert inquiry.claimed_by_id is None
    claims.claim(session, inquiry, b)
    claims.release(session, inquiry, b)
    assert _actions(session, inquiry)[-4:] == [
        "inquiry.claimed",
        "inquiry.released",
        "inquiry.claimed",
        "inquiry.released",
    ]


def test_takeover_rules_and_event(session: Session, settings: Settings) -> None:
    holder, other = _user(session, "operator", 1), _user(session, "operator", 2)
    senior, supervisor = _user(session, "senior"), _user(session, "supervisor")
    l1 = _inquiry(session, settings, level=1)
    with pytest.raises(Conflict):  # nobody holds it: claim instead
        claims.take_over(session, l1, senior, "休憩に入るため")
    claims.claim(session, l1, holder)
    with pytest.raises(Forbidden):  # an operator is no lead
        claims.take_over(session, l1, other, "代わります")
    with pytest.raises(InvalidInput):  # a reason is required
        claims.take_over(session, l1, senior, "  ")
    claims.take_over(session, l1, senior, "お客さまが二度目の電話、私が対応します")
    assert l1.claimed_by_id == senior.id
    event = events.history(session, "inquiry", l1.id)[-1]
    assert event.action == "inquiry.taken_over"
    assert event.before is not None and event.before["claimed_by_id"] == holder.id
    assert event.after is not None and event.after["reason"].startswith("お客さま")
    with pytest.raises(Conflict):  # already theirs
        claims.take_over(session, l1, senior, "again")

    l3 = _inquiry(session, settings, level=3)
    claims.claim(session, l3, supervisor)
    with pytest.raises(Forbidden):  # a senior leads up to level 2 only
        claims.take_over(session, l3, senior, "代わります")
    other_lead = _user(session, "admin")
    claims.take_over(session, l3, other_lead, "スーパーバイザーが会議中")
    assert l3.claimed_by_id == other_lead.id


def test_require_holder_only_lets_the_holder_act(session: Session, settings: Settings) -> None:
    a, b = _user(session, "operator", 1), _user(session, "operator", 2)
    inquiry = _inquiry(session, settings)
    with pytest.raises(Conflict):
        claims.require_holder(session, inquiry, a)
    claims.claim(session, inquiry, a)
    claims.require_holder(session, inquiry, a)
    with pytest.raises(claims.HeldByOther):
        claims.require_holder(session, inquiry, b)


def test_require_holder_sees_a_takeover_committed_meanwhile(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """The replaced holder's reply, started before the takeover, is refused after it."""
    with sessions() as s:
        holder, lead = _user(s, "operator"), _user(s, "supervisor")
        inquiry = _inquiry(s, settings)
        claims.claim(s, inquiry, holder)
        s.commit()
        ids = holder.id, lead.id, inquiry.reference
    with sessions() as replying, sessions() as leading:
        old = replying.get(User, ids[0])
        stale = service.get(replying, ids[2])  # loaded while still the holder
        assert old is not None and stale.claimed_by_id == ids[0]
        replying.rollback()
        new = leading.get(User, ids[1])
        assert new is not None
        claims.take_over(leading, service.get(leading, ids[2]), new, "交代")
        leading.commit()
        with pytest.raises(claims.HeldByOther):
            claims.require_holder(replying, stale, old)


def test_skill_row_without_a_cap_keeps_the_role_level(session: Session) -> None:
    senior = _user(session, "senior")
    session.add(AgentSkill(user_id=senior.id, max_level=3, languages=["ja", "en"]))
    session.flush()
    assert claims.agent_level(session, senior) == 2  # the role caps what the row says


def test_the_skill_maps_role_cap_is_the_inquiry_rules_role_level() -> None:
    """team cannot import inquiries: the two tables of role levels must stay equal (R22)."""
    from anshin.inquiries import rules
    from anshin.team.rules import ROLES

    assert {role: skills.role_cap(role) for role in ROLES} == rules.ROLE_LEVEL
