"""Incident use cases on real SQLite and PostgreSQL; every change writes an event (R1, R5)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anshin import events
from anshin.config import Settings
from anshin.errors import Conflict, InvalidInput
from anshin.incidents import cadence, components, maintenance, service
from anshin.incidents.models import Component, Incident, IncidentUpdate
from notice_texts import FIRST_NOTICE_JA, RESOLUTION_JA, UPDATE_JA

NOW = dt.datetime(2026, 11, 22, 5, 0, tzinfo=dt.UTC)
ACTOR = "test:lead"


@pytest.fixture
def api_component(session: Session) -> Component:
    login = components.add_component(
        session, "ログイン", group="基盤", actor=ACTOR, name_en="Login"
    )
    components.add_component(session, "決済", group="基盤", actor=ACTOR, name_en="Payments")
    session.commit()
    return login


def _declare(session: Session, settings: Settings, **overrides: object) -> Incident:
    data = service.IncidentInput(
        title="ログインできない障害",
        severity="sev2",
        summary="一部のお客様がログインできません。",
        components=["ログイン"],
        estimated_affected_customers=1200,
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    incident = service.declare(session, settings, data, actor=ACTOR, now=NOW)
    session.commit()
    return incident


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_declare_records_facts_marks_components_and_logs(
    session: Session, settings: Settings, api_component: Component
) -> None:
    incident = _declare(session, settings)
    assert incident.reference == "INC-2026-0001"
    assert incident.status == "investigating"
    assert incident.declared_at == NOW
    session.refresh(api_component)
    assert api_component.status == "partial_outage"
    actions = [e.action for e in events.history(session, "incident", incident.id)]
    assert actions == ["incident.declared"]
    second = _declare(session, settings, title="二件目")
    assert second.reference == "INC-2026-0002"


def test_first_public_update_is_the_first_notice_with_next_update(
    session: Session, settings: Settings, api_component: Component
) -> None:
    incident = _declare(session, settings)
    first = service.publish_update(
        session,
        settings,
        incident,
        body_ja=FIRST_NOTICE_JA,
        actor=ACTOR,
        now=NOW + dt.timedelta(minutes=5),
    )
    session.commit()
    assert first.kind == "first_notice"
    assert first.next_update_at == NOW + dt.timedelta(minutes=65)
    due = cadence.due(settings, incident, now=NOW + dt.timedelta(minutes=10))
    assert due is not None and due.kind == "update" and not due.overdue
    later = cadence.due(settings, incident, now=NOW + dt.timedelta(minutes=70))
    assert later is not None and later.overdue


def test_internal_update_promises_nothing_and_stays_off_the_clock(
    session: Session, settings: Settings, api_component: Component
) -> None:
    incident = _declare(session, settings)
    note = service.publish_update(
        session, settings, incident, body_ja="社内メモ", audience="internal", actor=ACTOR, now=NOW
    )
    session.commit()
    assert note.next_update_at is None
    due = cadence.due(settings, incident, now=NOW)
    assert due is not None and due.kind == "first_notice"


def test_resolve_restores_components_only_when_no_other_incident_holds_them(
    session: Session, settings: Settings, api_component: Component
) -> None:
    first = _declare(session, settings)
    second = _declare(session, settings, severity="sev1", title="全面停止")
    session.refresh(api_component)
    assert api_component.status == "major_outage"
    service.resolve(session, settings, second, body_ja=RESOLUTION_JA, actor=ACTOR, now=NOW)
    session.commit()
    session.refresh(api_component)
    assert api_component.status == "partial_outage"
    service.resolve(session, settings, first, body_ja=RESOLUTION_JA, actor=ACTOR, now=NOW)
    session.commit()
    session.refresh(api_component)
    assert api_component.status == "operational"
    assert first.resolved_at == NOW
    assert first.updates[-1].kind == "resolution"
    assert cadence.due(settings, first, now=NOW) is None


def test_update_on_resolved_incident_is_refused_and_changes_nothing(
    session: Session, settings: Settings, api_component: Component
) -> None:
    incident = _declare(session, settings)
    service.resolve(session, settings, incident, body_ja=RESOLUTION_JA, actor=ACTOR, now=NOW)
    session.commit()
    before = _count(session, IncidentUpdate)
    with pytest.raises(Conflict):
        service.publish_update(session, settings, incident, body_ja=UPDATE_JA, actor=ACTOR, now=NOW)
    session.rollback()
    assert _count(session, IncidentUpdate) == before


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"body_ja": ""}, "body_ja"),
        (
            {"body_ja": FIRST_NOTICE_JA, "next_update_at": NOW - dt.timedelta(minutes=1)},
            "next_update_at",
        ),
        # the length is refused before the message check runs on the text
        ({"body_ja": "あ" * 5001}, "body_ja"),
        ({"body_ja": FIRST_NOTICE_JA, "status": "fixed"}, "status"),
        ({"body_ja": FIRST_NOTICE_JA, "audience": "everyone"}, "audience"),
    ],
)
def test_bad_update_is_refused_and_changes_nothing(
    session: Session,
    settings: Settings,
    api_component: Component,
    kwargs: dict[str, object],
    field: str | None,
) -> None:
    incident = _declare(session, settings)
    before = _count(session, IncidentUpdate)
    events_before = len(events.history(session, "incident", incident.id))
    with pytest.raises(InvalidInput) as refused:
        service.publish_update(session, settings, incident, actor=ACTOR, now=NOW, **kwargs)  # type: ignore[arg-type]
    # the rule under test refused it, not the message check (a subclass of InvalidInput)
    assert type(refused.value) is InvalidInput
    assert refused.value.field == field
    session.rollback()
    assert _count(session, IncidentUpdate) == before
    assert len(events.history(session, "incident", incident.id)) == events_before


def test_unknown_component_refuses_the_declaration(
    session: Session, settings: Settings, api_component: Component
) -> None:
    # A mistake in the request (422), not a missing resource (404): issue 7.
    with pytest.raises(InvalidInput):
        _declare(session, settings, components=["ログイン", "存在しない"])
    session.rollback()
    assert _count(session, Incident) == 0


def test_edit_keeps_old_facts_in_the_event(
    session: Session, settings: Settings, api_component: Component
) -> None:
    incident = _declare(session, settings)
    data = service.IncidentInput(
        title=incident.title,
        severity="sev1",
        summary=incident.summary,
        components=["ログイン", "決済"],
        estimated_affected_customers=5000,
    )
    service.edit(session, settings, incident, data, actor=ACTOR, now=NOW)
    session.commit()
    edited = events.history(session, "incident", incident.id)[-1]
    assert edited.action == "incident.edited"
    assert edited.before is not None and edited.after is not None
    assert edited.before["estimated_affected_customers"] == 1200
    assert edited.after["estimated_affected_customers"] == 5000
    payments = components.get_component(session, "決済")
    assert payments.status == "major_outage"


def test_maintenance_puts_components_under_maintenance_then_back(
    session: Session, settings: Settings, api_component: Component
) -> None:
    window = maintenance.schedule(
        session,
        settings,
        title="決済基盤のメンテナンス",
        scheduled_start=NOW + dt.timedelta(days=1),
        scheduled_end=NOW + dt.timedelta(days=1, hours=2),
        components=["決済"],
        actor=ACTOR,
        now=NOW,
    )
    session.commit()
    assert window.reference == "MNT-2026-0001"
    maintenance.set_status(session, settings, window, "in_progress", actor=ACTOR, now=NOW)
    session.commit()
    payments = components.get_component(session, "決済")
    assert payments.status == "under_maintenance"
    maintenance.set_status(session, settings, window, "completed", actor=ACTOR, now=NOW)
    session.commit()
    session.refresh(payments)
    assert payments.status == "operational"
    with pytest.raises(Conflict):
        maintenance.set_status(session, settings, window, "in_progress", actor=ACTOR, now=NOW)


def test_maintenance_end_before_start_is_refused(session: Session, settings: Settings) -> None:
    with pytest.raises(InvalidInput):
        maintenance.schedule(
            session,
            settings,
            title="逆転",
            scheduled_start=NOW + dt.timedelta(hours=2),
            scheduled_end=NOW + dt.timedelta(hours=1),
            actor=ACTOR,
            now=NOW,
        )


def test_no_news_text_says_still_working_and_when_next(
    session: Session, settings: Settings, api_component: Component
) -> None:
    """R5: the prepared no-news update comes from the no_news_update template (R11)."""
    incident = _declare(session, settings)
    texts, next_at = cadence.no_news_draft(session, settings, incident, NOW)
    assert next_at == NOW + dt.timedelta(minutes=settings.cadence_minutes()["sev2"])
    ja, en = texts["ja"], texts["en"]
    assert "引き続き" in ja and "現在確認中" in ja and "11月22日 15:00" in ja
    assert "申し訳" in ja
    assert "still working" in en and "22 November, 15:00 JST" in en and "sorry" in en
