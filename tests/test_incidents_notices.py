"""Publishing checks the message first, for real on SQLite and PostgreSQL (R3, R12–R16).

A public text with an error finding of the message check is refused and
nothing is written; a senior may publish it anyway with a reason, which the
event log keeps. A published notice is one outbox message with a delivery per
subscriber of its components, written in the update's transaction (R4, R26).
What the subscribers receive is in ``test_incidents_notices_delivery.py``; the
API and the command line in ``test_incidents_notices_edges.py``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.comms.lint import IncidentFacts, check, has_errors
from anshin.config import Settings
from anshin.errors import Forbidden, InvalidInput
from anshin.incidents import notices, service
from anshin.incidents.models import IncidentUpdate
from anshin.notify.models import Delivery, OutboxMessage
from notice_texts import (
    FIRST_NOTICE_EN,
    FIRST_NOTICE_JA,
    RESOLUTION_EN,
    RESOLUTION_JA,
    SPECULATIVE_JA,
    UPDATE_EN,
    UPDATE_JA,
    notice_en,
    notice_ja,
)
from notice_world import ACTOR, World, build, count, overrides, recipients

REASON = "Legal asked for this exact wording; the lead reviewed it."


@pytest.fixture
def world(session: Session, settings: Settings) -> World:
    """The world, its webhook pointing at the discard port: nothing is sent here."""
    return build(session, settings, "http://127.0.0.1:9/hook")


@pytest.mark.parametrize(
    ("text", "kind", "locale"),
    [
        (FIRST_NOTICE_JA, "first_notice", "ja"),
        (FIRST_NOTICE_EN, "first_notice", "en"),
        (UPDATE_JA, "update", "ja"),
        (UPDATE_EN, "update", "en"),
        (RESOLUTION_JA, "resolution", "ja"),
        (RESOLUTION_EN, "resolution", "en"),
        (notice_ja("決済に時間がかかっております。", next_at="15:30"), "no_news_update", "ja"),
        (notice_en("Payments are slow.", next_at="15:30"), "no_news_update", "en"),
        (notice_ja("決済の遅延は解消いたしました。", kind="resolution"), "resolution", "ja"),
        (notice_en("Payments are fast again.", kind="resolution"), "resolution", "en"),
    ],
)
def test_the_shared_test_texts_pass_the_check_as_publishing_runs_it(
    text: str, kind: str, locale: str
) -> None:
    """The texts other tests publish are good notices, with the facts publishing uses (R3)."""
    facts = IncidentFacts(recovery_confirmed=kind == "resolution")
    findings = check(text, kind=kind, locale=locale, facts=facts)
    assert [f for f in findings if f.severity != "info"] == [], findings


def test_a_speculative_first_notice_is_refused_and_nothing_is_written(
    session: Session, settings: Settings, world: World
) -> None:
    with pytest.raises(notices.MessageCheckFailed) as refused:
        service.publish_update(
            session, settings, world.incident, body_ja=SPECULATIVE_JA, actor=ACTOR
        )
    found = refused.value.findings
    # The English text publishing writes from the template is checked too, and passes.
    assert set(found) == {"ja", "en"} and not has_errors(found["en"])
    errors = {f.rule for f in found["ja"] if f.severity == "error"}
    assert errors == {"speculation"}
    marked = [SPECULATIVE_JA[f.start : f.end] for f in found["ja"] if f.rule == "speculation"]
    assert "おそらく" in marked
    details = refused.value.details()["findings"]
    assert isinstance(details, dict)
    assert "speculation" in {item["rule"] for item in details["ja"]}
    # Nothing reached the session, not even unflushed: the refusal comes before any write.
    assert count(session, IncidentUpdate) == 0
    assert count(session, OutboxMessage) == 0
    assert count(session, Delivery) == 0
    assert world.incident.status == "investigating"
    assert overrides(session, world.incident) == []
    session.rollback()
    session.refresh(world.incident)
    assert world.incident.status == "investigating" and world.incident.updates == []


def test_the_english_text_is_checked_too(
    session: Session, settings: Settings, world: World
) -> None:
    guess = "Some customers cannot sign in. It is probably the network. " + notice_en("")
    with pytest.raises(notices.MessageCheckFailed) as refused:
        service.publish_update(
            session,
            settings,
            world.incident,
            body_ja=FIRST_NOTICE_JA,
            body_en=guess,
            actor=ACTOR,
        )
    found = refused.value.findings
    assert not has_errors(found["ja"])
    assert {f.rule for f in found["en"] if f.severity == "error"} == {"speculation"}
    assert refused.value.field == "body_en"  # the form and the CLI point at the English text
    assert count(session, IncidentUpdate) == 0


def test_an_internal_note_is_not_checked(
    session: Session, settings: Settings, world: World
) -> None:
    note = service.publish_update(
        session,
        settings,
        world.incident,
        body_ja="社内メモ: おそらく認証の設定変更が原因。",
        audience="internal",
        actor=ACTOR,
    )
    session.commit()
    assert note.audience == "internal"
    assert notices.message_for_update(session, note.id) is None
    assert count(session, OutboxMessage) == 0


def test_only_a_senior_may_override_and_the_override_is_recorded(
    session: Session, settings: Settings, world: World
) -> None:
    with pytest.raises(Forbidden) as forbidden:
        service.publish_update(
            session,
            settings,
            world.incident,
            body_ja=SPECULATIVE_JA,
            actor=ACTOR,
            actor_role="operator",
            override_reason=REASON,
        )
    assert forbidden.value.field == "override_reason"
    assert count(session, IncidentUpdate) == 0 and overrides(session, world.incident) == []
    with pytest.raises(notices.MessageCheckFailed):  # a blank reason is no reason
        service.publish_update(
            session,
            settings,
            world.incident,
            body_ja=SPECULATIVE_JA,
            actor=ACTOR,
            actor_role="senior",
            override_reason="   ",
        )
    update = service.publish_update(
        session,
        settings,
        world.incident,
        body_ja=SPECULATIVE_JA,
        actor="user:senior",
        actor_role="senior",
        override_reason=f"  {REASON}  ",
    )
    session.commit()
    assert update.kind == "first_notice" and update.body_ja == SPECULATIVE_JA
    (event,) = overrides(session, world.incident)
    assert event.actor == "user:senior"
    assert event.after is not None
    assert event.after["kind"] == "first_notice"
    assert event.after["reason"] == REASON
    assert set(event.after["findings"]) == {"ja"}
    assert set(event.after["findings"]["ja"]) == {"speculation"}
    message = notices.message_for_update(session, update.id)
    assert message is not None and message.recipients == 3  # an override still tells everyone


def test_a_good_text_published_with_a_reason_records_no_override(
    session: Session, settings: Settings, world: World
) -> None:
    service.publish_update(
        session,
        settings,
        world.incident,
        body_ja=FIRST_NOTICE_JA,
        actor=ACTOR,
        actor_role="supervisor",
        override_reason=REASON,
    )
    session.commit()
    assert overrides(session, world.incident) == []


def test_an_overlong_reason_is_refused(session: Session, settings: Settings, world: World) -> None:
    longest = "理" * notices.OVERRIDE_REASON_MAX
    with pytest.raises(InvalidInput) as refused:
        service.publish_update(
            session,
            settings,
            world.incident,
            body_ja=SPECULATIVE_JA,
            actor=ACTOR,
            actor_role="senior",
            override_reason=longest + "由",
        )
    assert type(refused.value) is InvalidInput and refused.value.field == "override_reason"
    assert count(session, IncidentUpdate) == 0 and overrides(session, world.incident) == []
    service.publish_update(
        session,
        settings,
        world.incident,
        body_ja=SPECULATIVE_JA,
        actor=ACTOR,
        actor_role="senior",
        override_reason=longest,
    )
    session.commit()
    (event,) = overrides(session, world.incident)
    assert event.after is not None and event.after["reason"] == longest


def test_resolution_is_checked_for_an_apology(
    session: Session, settings: Settings, world: World
) -> None:
    service.publish_update(session, settings, world.incident, body_ja=FIRST_NOTICE_JA, actor=ACTOR)
    session.commit()
    with pytest.raises(notices.MessageCheckFailed) as refused:
        service.resolve(
            session, settings, world.incident, body_ja="復旧いたしました。", actor=ACTOR
        )
    assert {f.rule for f in refused.value.findings["ja"] if f.severity == "error"} == {
        "missing-apology"
    }
    session.rollback()
    session.refresh(world.incident)
    assert world.incident.status == "investigating"
    assert count(session, OutboxMessage) == 1  # the first notice's only


def test_a_first_notice_is_queued_for_its_subscribers_in_the_same_transaction(
    session: Session, settings: Settings, world: World
) -> None:
    update = service.publish_update(
        session, settings, world.incident, body_ja=FIRST_NOTICE_JA, actor=ACTOR
    )
    message = notices.message_for_update(session, update.id)
    assert message is not None
    assert (message.kind, message.incident_id, message.update_id) == (
        "first_notice",
        world.incident.id,
        update.id,
    )
    assert message.component_ids == [world.login.id]
    assert message.recipients == 3
    assert recipients(session, message) == {world.ja.id, world.en.id, world.hook.id}
    channels = sorted(session.scalars(select(Delivery.channel)))
    assert channels == ["email", "email", "webhook"]
    assert message.data["reference"] == world.incident.reference
    assert message.data["status"] == "investigating"
    assert message.data["next_update_at"] == update.next_update_at.isoformat()  # type: ignore[union-attr]
    session.rollback()  # the update and its message go together
    assert count(session, IncidentUpdate) == 0
    assert count(session, OutboxMessage) == 0
    assert count(session, Delivery) == 0

    update = service.publish_update(
        session, settings, world.incident, body_ja=FIRST_NOTICE_JA, actor=ACTOR
    )
    session.commit()
    assert count(session, OutboxMessage) == 1 and count(session, Delivery) == 3
    assert set(notices.messages_for_incident(session, world.incident.id)) == {update.id}
