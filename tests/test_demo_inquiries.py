"""The demo's inquiry surge on real SQLite and PostgreSQL: through the real intake, every
channel, harassment at level 3, several incidents linked, work in hand, idempotent."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from anshin import events
from anshin.comms.lint import check, has_errors
from anshin.config import Settings
from anshin.db import utcnow
from anshin.demo import load_demo
from anshin.incidents.models import Incident
from anshin.inquiries import demo_burst, replies
from anshin.inquiries.models import Inquiry
from anshin.notify.models import OutboxMessage
from anshin.review import demo_review

COUNT = 48  # small: triage runs for each one

REVIEW_CALLERS = {call[1] for call in demo_review.CALLS}


def test_the_surge_goes_through_intake_and_some_of_it_is_in_hand(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session:
        report = load_demo(session, settings, actor="demo", inquiries=COUNT)
        session.commit()
    assert report.inquiries == COUNT
    with sessions() as session:
        every = session.scalars(select(Inquiry).order_by(Inquiry.id)).all()
        # The resolved incident's callers come with its review (review.demo_review), not the surge.
        assert len(every) == COUNT + len(demo_review.CALLS)
        rows = [r for r in every if r.customer_name not in REVIEW_CALLERS]
        assert len(rows) == COUNT
        assert set(Counter(r.channel for r in rows)) == {"form", "chat", "email", "phone"}
        # Every one was triaged by the shipped classifier (its event and reasons), not set here.
        for row in rows:
            actions = [e.action for e in events.history(session, "inquiry", row.id)]
            assert actions[:2] == ["inquiry.received", "inquiry.triaged"], row.reference
            assert row.triage_reasons
        flagged = [r for r in rows if r.harassment]
        assert flagged and all(r.level == 3 for r in flagged)
        assert {r.level for r in rows} == {1, 2, 3}
        assert max(r.temperature for r in rows) == 3
        assert any(r.customer_tier == "important" for r in rows)
        assert any(r.incident_id is None for r in rows)  # about nothing that is broken
        open_incidents = session.scalars(
            select(Incident.id).where(Incident.status != "resolved")
        ).all()
        assert len(open_incidents) == 3
        # The burst's incidents are announced, in words that pass the message check (R3, R5).
        for title in (demo_burst.WEBHOOK_TITLE, demo_burst.SMS_TITLE):
            incident = session.scalars(select(Incident).where(Incident.title == title)).one()
            (first,) = incident.updates
            assert first.kind == "first_notice" and first.next_update_at is not None
            for locale, body in (("ja", first.body_ja), ("en", first.body_en)):
                findings = check(body or "", kind="first_notice", locale=locale)
                assert not has_errors(findings), (title, locale, [f.as_dict() for f in findings])
        assert len({r.incident_id for r in rows if r.incident_id is not None}) >= 2
        # Only mail customers left an address: exactly they were acknowledged by mail.
        mailed = [r for r in rows if r.contact_id is not None]
        assert [r.channel for r in mailed] == ["email"] * len(mailed)
        assert len(mailed) == report.mailed == sum(r.channel == "email" for r in rows)
        acks = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "inquiry_ack")
        )
        assert acks == report.mailed

        by_state = {state: ref for ref, state in report.in_hand.items()}
        assert set(by_state) == {
            "claimed",
            "escalated",
            "commitment_kept",
            "commitment_open",
            "replied",
            "shared",
        }
        get = {r.reference: r for r in rows}
        assert sum(1 for s in report.in_hand.values() if s == "claimed") >= 2
        escalated = get[by_state["escalated"]]
        assert escalated.level == 2 and escalated.claimed_by_id is not None
        assert any(m.kind == "handoff_sheet" for m in escalated.messages)
        kept = get[by_state["commitment_kept"]]
        assert [c.state for c in kept.commitments] == ["kept"]
        assert [q.decision for q in kept.requests] == ["alternative"]
        still = get[by_state["commitment_open"]]
        assert [c.state for c in still.commitments] == ["open"]
        assert still.commitments[0].due_at.replace(tzinfo=None) > utcnow().replace(tzinfo=None)
        replied = get[by_state["replied"]]
        assert replied.first_responded_at is not None and replied.stage == "listening"
        shared = get[by_state["shared"]]
        assert shared.stage == "shared" and shared.closed_at is not None
        assert any(m.kind == "shared_note" for m in shared.messages)
        # The replies were calls: nothing but the acknowledgements went to the outbox.
        sent = select(func.count()).select_from(OutboxMessage)
        assert session.scalar(sent.where(OutboxMessage.kind.in_(replies.REPLY_KINDS))) == 0

    # A second run adds nothing: not to the inquiries, not to their history.
    with sessions() as session:
        before = session.scalar(select(func.count()).select_from(events.Event))
        again = load_demo(session, settings, actor="demo", inquiries=COUNT)
        session.commit()
        assert again.created == [] and again.inquiries == 0 and again.in_hand == {}
        total = session.scalar(select(func.count()).select_from(Inquiry))
        assert total == COUNT + len(demo_review.CALLS)
        assert session.scalar(select(func.count()).select_from(events.Event)) == before


def test_the_surge_is_the_same_every_time() -> None:
    import datetime as dt
    import random

    now = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
    runs = []
    for _ in range(2):
        rng = random.Random(demo_burst.SEED)
        runs.append([demo_burst.new_inquiry(rng, i, now) for i in range(1, 30)])
    assert runs[0] == runs[1]
    assert len({n.text for n in runs[0]}) > 20
    # Every register the triage must read is in the customers' words.
    words = "\n".join(t for texts in demo_burst.TEXTS.values() for t in texts)
    for sample in ("ご教示", "へん", "ｶｰﾄﾞ", "😡", "Card payments", "土下座"):
        assert sample in words
