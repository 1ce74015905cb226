"""Training drills from past inquiries (R33): anonymised, answered, checked, followed."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.errors import Forbidden, InvalidInput
from anshin.inquiries import replies
from anshin.knowledge import service as kb
from anshin.review import drill_rules, drills
from inquiry_world import GOOD_JA, incident, inquiry, user


def test_anonymising_removes_contacts_references_and_known_names() -> None:
    text = (
        "株式会社テスト商事の山田 花子です。山田が申し上げた通り、090-1234-5678 か "
        "０３－１２３４－５６７８ へ。hanako@example.co.jp、Q-2026-000123 の件。"
        "https://example.com/a?b=1 エラー E-502 が 2026年12月6日 10時から3回。"
    )
    out = drill_rules.anonymise(text, names=["山田 花子"], organisations=["株式会社テスト商事"])
    for gone in ("山田", "花子", "テスト商事", "090", "０３", "hanako", "000123", "example.com"):
        assert gone not in out
    assert "[会社名]の[氏名]です。[氏名]が" in out and "[電話番号]" in out
    assert "E-502" in out and "2026年12月6日 10時から3回" in out  # facts that teach stay


def test_a_supervisor_makes_a_drill_and_a_trainee_gets_feedback(
    session: Session, settings: Settings
) -> None:
    on = incident(session, settings)
    agent = user(session, "operator", "agent")
    lead = user(session, "supervisor", "lead")
    asked = inquiry(session, settings, on, holder=agent)
    replies.reply(session, settings, asked, agent, text=GOOD_JA)
    faq = {"key": "faq-login", "kind": "faq", "title": "ログインできないとき"}
    kb.save(session, faq | {"body": "再読み込みを", "state": "published"}, actor="lead")
    avoid = {"key": "avoid-shiyou", "kind": "avoid_expression", "title": "仕様です"}
    kb.save(
        session,
        avoid | {"alternative": "現在の動作をご説明します", "state": "published"},
        actor="lead",
    )
    session.commit()

    draft = drills.draft_from_inquiry(session, asked.reference)
    assert "山田" not in draft.customer_text and "customer@example.com" not in draft.customer_text
    assert draft.sent_reply and "山田" not in draft.sent_reply
    with pytest.raises(Forbidden):
        drills.create(session, agent, customer_text=draft.customer_text)
    with pytest.raises(InvalidInput):
        drills.create(session, lead, customer_text="  ")
    with pytest.raises(InvalidInput):
        drills.create(session, lead, customer_text="x", label="great")
    drill = drills.create(
        session, lead, customer_text=draft.customer_text, sent_reply=draft.sent_reply,
        incident_title=draft.incident_title, label="good", source_reference=asked.reference,
    )  # fmt: skip
    session.commit()
    assert [d.id for d in drills.library(session, "good")] == [drill.id]
    assert drills.library(session, "bad") == []

    trainee = user(session, "operator", "trainee")
    with pytest.raises(InvalidInput):
        drills.attempt(session, drill, trainee, "   ")
    feedback = drills.attempt(session, drill, trainee, "それは仕様です。")
    rules = {f["rule"] for f in feedback.findings}
    assert "avoid-expression" in rules  # the team's own list, live
    assert any("現在の動作をご説明します" in f["suggestion"] for f in feedback.findings)
    assert [hit.key for hit in feedback.articles] == ["faq-login"]
    assert feedback.sent_reply == drill.sent_reply
    drills.attempt(session, drill, trainee, GOOD_JA)
    session.commit()
    (summary,) = drills.trainees(session)
    assert summary.trainee.id == trainee.id and summary.attempts == 2 and summary.errors >= 1
    assert [a.reply for a in drills.attempts_of(session, trainee)][1] == "それは仕様です。"
