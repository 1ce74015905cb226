"""Versioned templates on real SQLite and PostgreSQL: edits keep the old text and who changed it,
refused texts write nothing, compose starts from the right template (R11, R4, R5, R7)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from anshin import events
from anshin.comms import models, rules, service
from anshin.config import Settings
from anshin.errors import Conflict, InvalidInput, NotFound
from anshin.incidents import messages
from anshin.incidents.context_kinds import build_context
from anshin.incidents.models import Component, Incident, IncidentComponent, IncidentUpdate

NOW = dt.datetime(2026, 11, 22, 5, 0, tzinfo=dt.UTC)
LEAD = "user:2:lead@example.jp"
OTHER = "user:3:senior@example.jp"
BODY_V1 = (
    "{{ started_at }}頃から{{ components_text }}が{{ impact_text }}となっております。\n"
    "ご不便をおかけし、誠に申し訳ございません。\n"
    "次回は{{ next_update_at }}までにお知らせいたします。"
)
BODY_V2 = BODY_V1 + "\n確認できていない点は現在確認中です。"


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _template_events(session: Session) -> list[events.Event]:
    stmt = select(events.Event).where(events.Event.entity_type == "message_template")
    return list(session.scalars(stmt.order_by(events.Event.id)))


@pytest.fixture
def incident(session: Session) -> Incident:
    """An open incident stored as the incidents domain stores it."""
    login = Component(name="ログイン", name_en="Sign-in")
    row = Incident(
        reference="INC-2026-0001",
        title="ログインできない障害",
        title_en="Sign-in failures",
        summary="",
        severity="sev1",
        status="investigating",
        started_at=NOW - dt.timedelta(minutes=20),
        detected_at=NOW - dt.timedelta(minutes=15),
        declared_at=NOW - dt.timedelta(minutes=10),
        created_by="test",
    )
    row.components = [IncidentComponent(component=login, impact="major_outage")]
    session.add(row)
    session.commit()
    return row


def test_defaults_are_active_until_edited(session: Session) -> None:
    texts = service.list_templates(session)
    assert len(texts) == len(rules.all_keys())
    assert all(t.is_default and t.version == 0 for t in texts)
    active = service.get_active(session, "first_notice", "ja", "email")
    assert (
        active.is_default
        and active.subject
        and active.subject.startswith("【{{ notice_label }}】障害発生のお知らせ")
    )


def test_editing_adds_versions_and_keeps_the_old_one_with_its_author(
    session: Session, settings: Settings
) -> None:
    first, changed = service.save(
        session, settings, "first_notice", "ja", "status_page",
        subject=None, body=BODY_V1, actor=LEAD, note="短くしました", now=NOW,
    )  # fmt: skip
    session.commit()
    assert changed and first.version == 1 and first.created_by == LEAD
    later = NOW + dt.timedelta(hours=1)
    second, changed = service.save(
        session, settings, "first_notice", "ja", "status_page",
        subject=None, body=BODY_V2, actor=OTHER, now=later,
    )  # fmt: skip
    session.commit()
    assert changed and second.version == 2
    active = service.get_active(session, "first_notice", "ja", "status_page")
    assert (active.version, active.body, active.created_by) == (2, BODY_V2, OTHER)
    versions = service.list_versions(session, "first_notice", "ja", "status_page")
    assert [(v.version, v.created_by) for v in versions] == [(2, OTHER), (1, LEAD), (0, None)]
    assert versions[1].body == BODY_V1 and versions[1].note == "短くしました"
    assert versions[1].created_at == NOW
    assert versions[2].body == service.load_default("first_notice", "ja", "status_page").body
    # other templates are untouched
    assert service.get_active(session, "first_notice", "en", "status_page").is_default
    listed = {(t.kind, t.locale, t.channel): t for t in service.list_templates(session)}
    assert listed[("first_notice", "ja", "status_page")].version == 2
    # every edit is an event with the text before and after
    logged = _template_events(session)
    assert [(e.action, e.actor) for e in logged] == [
        ("template.edited", LEAD),
        ("template.edited", OTHER),
    ]
    assert logged[0].before is not None and logged[0].before["version"] == 0
    assert logged[1].before is not None and logged[1].before["body"] == BODY_V1
    assert logged[1].after is not None and logged[1].after["body"] == BODY_V2


TOY = "A test text, not a customer message."


def test_saving_the_same_text_adds_nothing(session: Session, settings: Settings) -> None:
    service.save(
        session,
        settings,
        "update",
        "en",
        "short",
        subject=None,
        body="x {{ title }} sorry",
        actor=LEAD,
        override_reason=TOY,
    )
    session.commit()
    text, changed = service.save(
        session,
        settings,
        "update",
        "en",
        "short",
        subject=None,
        body="x {{ title }} sorry\n",
        actor=LEAD,
        override_reason=TOY,
    )
    session.commit()
    assert not changed and text.version == 1
    assert _count(session, models.MessageTemplateVersion) == 1
    assert len(_template_events(session)) == 1
    # saving the shipped default unchanged adds nothing either
    default = service.load_default("resolution", "ja", "email")
    _, changed = service.save(
        session, settings, "resolution", "ja", "email",
        subject=default.subject, body=default.body, actor=LEAD,
    )  # fmt: skip
    assert not changed and _count(session, models.MessageTemplate) == 1


@pytest.mark.parametrize(
    ("channel", "subject", "body", "expected"),
    [
        (
            "status_page",
            None,
            "一行目\n{% if workaround %}回避策",
            "The template has a syntax error",
        ),
        ("status_page", None, "{{ customer_nmae }} 様", "The template uses an unknown variable"),
        ("status_page", None, "{{ title.__class__ }}", "The template tried something"),
        ("email", "", "本文", "An email template needs a subject."),
        ("email", "{{ titel }}", "本文", "The template uses an unknown variable"),
        ("short", None, "あ" * 141, "The short text is 141 characters"),
        ("status_page", None, "   \n", "The template body is empty."),
    ],
)
def test_refused_texts_write_nothing(
    session: Session,
    settings: Settings,
    channel: str,
    subject: str | None,
    body: str,
    expected: str,
) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.save(
            session, settings, "update", "ja", channel, subject=subject, body=body, actor=LEAD
        )
    assert str(caught.value).startswith(expected), str(caught.value)
    session.commit()
    assert _count(session, models.MessageTemplate) == 0
    assert _count(session, models.MessageTemplateVersion) == 0
    assert _template_events(session) == []
    assert service.get_active(session, "update", "ja", channel).is_default


def test_restore_brings_an_old_text_back_as_a_new_version(
    session: Session, settings: Settings
) -> None:
    for body in (BODY_V1, BODY_V2):
        service.save(
            session, settings, "no_news_update", "ja", "status_page",
            subject=None, body=body, actor=LEAD,
        )  # fmt: skip
    session.commit()
    restored = service.restore(
        session, settings, "no_news_update", "ja", "status_page", 1, actor=OTHER
    )
    session.commit()
    assert restored.version == 3 and restored.body == BODY_V1
    assert restored.note == "restored from version 1" and restored.created_by == OTHER
    assert [
        v.version for v in service.list_versions(session, "no_news_update", "ja", "status_page")
    ] == [3, 2, 1, 0]
    assert _template_events(session)[-1].action == "template.restored"
    back = service.restore(session, settings, "no_news_update", "ja", "status_page", 0, actor=OTHER)
    session.commit()
    assert back.version == 4
    assert back.body == service.load_default("no_news_update", "ja", "status_page").body
    with pytest.raises(Conflict):
        service.restore(session, settings, "no_news_update", "ja", "status_page", 0, actor=OTHER)
    with pytest.raises(NotFound):
        service.restore(session, settings, "no_news_update", "ja", "status_page", 9, actor=OTHER)
    session.rollback()
    assert _count(session, models.MessageTemplateVersion) == 4


def test_compose_uses_the_active_text_and_the_stored_incident(
    session: Session, settings: Settings, incident: Incident
) -> None:
    """The compose box starts from the right template, filled from the shared record (R2, R4)."""
    assert messages.suggest_kind(incident) == "first_notice"
    first = messages.compose(session, settings, incident, "first_notice", "ja", "email", NOW)
    assert first.subject == "【第1報】障害発生のお知らせ：ログインできない障害（11月22日 14:00）"
    assert "11月22日 13:40頃から、ログインがご利用いただけない状態" in first.text
    # sev1: the next update is due 30 minutes from now, shown in Tokyo time (R5)
    assert "次回は11月22日 14:30までに" in first.text
    session.add(
        IncidentUpdate(
            incident=incident,
            kind="first_notice",
            status="investigating",
            body_ja="ログインできない状態です。申し訳ございません。",
            body_en="Sign-in is failing. We are sorry.",
            audience="public",
            published_at=NOW,
            next_update_at=NOW + dt.timedelta(minutes=30),
            author="test",
        )
    )
    session.commit()
    session.refresh(incident)
    assert messages.suggest_kind(incident) == "update"
    assert messages.suggest_kind(incident, resolving=True) == "resolution"
    script = messages.compose(session, settings, incident, "phone_script", "en", "script", NOW)
    assert "Sign-in is failing. We are sorry." in script.text  # the latest public update (R2)
    short_body = (
        "【続報】{{ title }}：{{ status_label }}。申し訳ございません。次回{{ next_update_short }}"
    )
    service.save(
        session, settings, "update", "ja", "short", subject=None, body=short_body, actor=LEAD
    )
    session.commit()
    short = messages.compose(session, settings, incident, "update", "ja", "short", NOW)
    assert short.text == "【続報】ログインできない障害：原因を調査中。申し訳ございません。次回14:30"
    assert short.limit == 140 and not short.over_limit
    with pytest.raises(InvalidInput):
        messages.compose(session, settings, None, "update", "ja", "short", NOW)


def test_a_resolution_drafted_on_an_open_incident_names_a_recovery_time(
    session: Session, settings: Settings, incident: Incident
) -> None:
    """The draft says "now" for the author to correct, never 「…は、に復旧いたしました」 (R7)."""
    assert incident.resolved_at is None
    for locale in ("ja", "en"):
        draft = messages.compose(
            session, settings, incident, "resolution", locale, "status_page", NOW
        )
        stamp = "11月22日 14:00" if locale == "ja" else "22 November, 14:00 JST"
        assert stamp in draft.text, draft.text
    assert (
        "、に復旧"
        not in messages.compose(session, settings, incident, "resolution", "ja", "email", NOW).text
    )
    # An update on the open incident still has no recovery time to show.
    values = build_context(settings, "update", "ja", NOW, incident=incident)
    assert values["resolved_at"] == ""


def test_concurrent_editors_get_distinct_versions(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """Several app servers saving the same template at once: no lost edit, no duplicate version."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def editor(number: int) -> None:
        try:
            barrier.wait(timeout=10)
            for round_ in range(3):
                with sessions() as own:
                    body = f"Sorry. Editor {number}, round {round_}."
                    service.save(
                        own, settings, "update", "en", "status_page",
                        subject=None, body=body, actor=f"t:{number}",
                        override_reason="a concurrency test text",
                    )  # fmt: skip
                    own.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=editor, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    with sessions() as check:
        versions = service.list_versions(check, "update", "en", "status_page")
        assert [v.version for v in versions] == list(range(12, -1, -1))
        assert len({v.body for v in versions}) == 13
        assert _count(check, models.MessageTemplate) == 1
        assert len(_template_events(check)) == 12
