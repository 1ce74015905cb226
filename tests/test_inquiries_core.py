"""The inquiry record at the core: level rules, the flow, storing and references (R18–R22)."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.orm import Session, sessionmaker

from anshin import events
from anshin.config import Settings
from anshin.errors import Conflict, InvalidInput
from anshin.inquiries import rules, service
from anshin.inquiries.policy import parse, policy
from anshin.inquiries.rules import Stage, Tier


@pytest.mark.parametrize(
    ("intent", "harassment", "tier", "has_workaround"),
    list(itertools.product(rules.INTENT_ORDER, (False, True), tuple(Tier), (False, True))),
)
def test_level_rules_cover_every_combination(
    intent: str, harassment: bool, tier: str, has_workaround: bool
) -> None:
    """R22: the call-centre table, written out independently of rules.level_for."""
    level = rules.level_for(
        intent, harassment=harassment, tier=tier, incident_has_workaround=has_workaround
    )
    handed_on = intent in ("complaint", "technical_question", "data_concern")
    if intent == "compensation_request" or harassment or (tier == "important" and handed_on):
        expected = 3
    elif handed_on or (intent == "workaround_request" and not has_workaround):
        expected = 2
    else:
        expected = 1
    assert level == expected


def test_flow_moves_forward_and_refuses_skips() -> None:
    rules.check_transition(Stage.RECEIVED, Stage.LISTENING)
    rules.check_transition(Stage.LISTENING, Stage.FACT_CHECKING)
    rules.check_transition(Stage.FACT_CHECKING, Stage.SOLUTION_PROPOSED)
    with pytest.raises(Conflict):
        rules.check_transition(Stage.RECEIVED, Stage.SOLUTION_PROPOSED)
    with pytest.raises(Conflict):
        rules.check_transition(Stage.LISTENING, Stage.LISTENING)
    with pytest.raises(InvalidInput):
        rules.check_transition(Stage.LISTENING, "closed")


def test_resolved_needs_the_result_reply_and_shared_needs_a_note() -> None:
    with pytest.raises(InvalidInput) as refused:
        rules.check_transition(Stage.SOLUTION_PROPOSED, Stage.RESOLVED)
    assert refused.value.field == "reply"
    rules.check_transition(Stage.SOLUTION_PROPOSED, Stage.RESOLVED, has_result_reply=True)
    with pytest.raises(InvalidInput) as refused:
        rules.check_transition(Stage.RESOLVED, Stage.SHARED, note="   ")
    assert refused.value.field == "note"
    rules.check_transition(Stage.RESOLVED, Stage.SHARED, note="原因と対応をチームに共有")


def test_policy_is_data_and_bad_policy_files_say_which_entry(settings: Settings) -> None:
    loaded = policy(settings)
    assert loaded.authority["refund"] == 3
    assert loaded.first_response_minutes[(1, "important")] == 15
    with pytest.raises(InvalidInput) as refused:
        parse("[first_response_minutes]\n'1.standard' = 0\n")
    assert "first_response_minutes.1.standard" in str(refused.value)
    with pytest.raises(InvalidInput):
        parse("not toml [")
    with pytest.raises(Conflict):
        rules.check_authority(loaded, "refund", 2)
    rules.check_authority(loaded, "callback", 1)


def test_receive_stores_words_unaltered_with_a_reference(
    session: Session, settings: Settings
) -> None:
    words = "  ﾛｸﾞｲﾝできへん！！\n\n早く直して😡  "
    inquiry = service.receive(
        session,
        settings,
        service.NewInquiry(channel="form", text=words, customer_email="a@example.com"),
        actor="public",
    )
    session.commit()
    assert inquiry.reference.startswith(f"Q-{inquiry.received_at.year}-")
    assert len(inquiry.reference.rsplit("-", 1)[1]) == 6
    assert inquiry.original_text == words
    assert inquiry.messages[0].body == words
    assert inquiry.first_response_due_at is not None
    actions = [e.action for e in events.history(session, "inquiry", inquiry.id)]
    assert actions == ["inquiry.received"]
    assert service.get(session, inquiry.reference.lower()).id == inquiry.id


@pytest.mark.parametrize("text", ["", "   \n ", "x" * (service.TEXT_MAX + 1), "a\x00b"])
def test_receive_refuses_bad_text_and_stores_nothing(
    session: Session, settings: Settings, text: str
) -> None:
    with pytest.raises(InvalidInput):
        service.receive(session, settings, service.NewInquiry(channel="chat", text=text), actor="t")
    session.rollback()
    from anshin.inquiries.models import Inquiry

    assert session.query(Inquiry).count() == 0


def test_concurrent_intake_gets_distinct_consecutive_references(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    def one(i: int) -> str:
        with sessions() as s:
            row = service.receive(
                s, settings, service.NewInquiry(channel="chat", text=f"つながらない {i}"), actor="t"
            )
            s.commit()
            return row.reference

    with ThreadPoolExecutor(max_workers=8) as pool:
        refs = list(pool.map(one, range(30)))
    numbers = sorted(int(r.rsplit("-", 1)[1]) for r in refs)
    assert numbers == list(range(numbers[0], numbers[0] + 30))


def test_move_records_each_stage_and_closing_needs_the_result(
    session: Session, settings: Settings
) -> None:
    inquiry = service.receive(
        session, settings, service.NewInquiry(channel="phone", text="請求が二重です"), actor="t"
    )
    for stage in (Stage.LISTENING, Stage.FACT_CHECKING, Stage.SOLUTION_PROPOSED):
        service.move(session, inquiry, stage, actor="user:1:a@example.com")
    with pytest.raises(InvalidInput):
        service.move(session, inquiry, Stage.RESOLVED, actor="user:1:a@example.com")
    inquiry.messages[-1].reports_result = False
    from anshin.inquiries.models import InquiryMessage

    inquiry.messages.append(
        InquiryMessage(
            direction="out", channel="phone", body="返金手続き完了", author="x", reports_result=True
        )
    )
    service.move(session, inquiry, Stage.RESOLVED, actor="user:1:a@example.com")
    assert inquiry.closed_at is not None
    service.move(session, inquiry, Stage.SHARED, actor="u", note="請求処理の二重実行を共有")
    session.commit()
    actions = [e.action for e in service.history(session, inquiry)]
    assert actions.count("inquiry.stage_changed") == 5
    assert inquiry.messages[-1].direction == "note"
