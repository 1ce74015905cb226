"""Review notes, prevention actions, effect checks and re-fixes; overdue ones on the dashboard."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from anshin import events
from anshin.config import Settings
from anshin.errors import Conflict, InvalidInput
from anshin.review import actions, dashboard
from inquiry_world import incident, user

TODAY = dt.date(2026, 12, 6)
TOKYO = ZoneInfo("Asia/Tokyo")


def test_notes_need_text_and_a_cause_needs_its_class(session: Session, settings: Settings) -> None:
    on = incident(session, settings)
    actions.add_note(session, on, kind="went_well", body="第一報を10分で出せた", actor="lead")
    cause = actions.add_note(
        session,
        on,
        kind="cause",
        body="証明書の期限切れ監視がなかった",
        cause_class="process",
        actor="lead",
    )
    assert cause.cause_class == "process"
    for kind, body, cls, field in (
        ("memo", "x", None, "kind"),
        ("to_improve", "  ", None, "body"),
        ("cause", "原因", None, "cause_class"),
        ("cause", "原因", "weather", "cause_class"),
    ):
        with pytest.raises(InvalidInput) as refused:
            actions.add_note(session, on, kind=kind, body=body, cause_class=cls, actor="lead")
        assert refused.value.field == field
    assert [n.kind for n in actions.notes(session, on)] == ["went_well", "cause"]


def test_an_action_is_done_checked_and_refixed_when_the_check_fails(
    session: Session, settings: Settings
) -> None:
    on = incident(session, settings)
    owner = user(session, "senior", "owner")
    action = actions.add_action(
        session,
        on,
        title="証明書の期限を監視する",
        owner=owner,
        due_on=TODAY,
        today=TODAY,
        actor="lead",
    )
    with pytest.raises(InvalidInput):
        actions.add_action(
            session,
            on,
            title="過去の日付",
            owner=owner,
            due_on=TODAY - dt.timedelta(days=1),
            today=TODAY,
            actor="lead",
        )
    with pytest.raises(Conflict):
        actions.record_check(
            session, action, checked_on=TODAY, effective=True, note="", actor="lead", zone=TOKYO
        )
    with pytest.raises(Conflict):
        actions.add_refix(
            session, action, title="x", owner=owner, due_on=TODAY, today=TODAY, actor="lead"
        )
    actions.mark_done(session, action, actor="owner")
    with pytest.raises(Conflict):
        actions.mark_done(session, action, actor="owner")
    done_day = action.done_at.astimezone(TOKYO).date()
    with pytest.raises(InvalidInput):
        actions.record_check(
            session,
            action,
            checked_on=done_day - dt.timedelta(days=1),
            effective=True,
            note="",
            actor="lead",
            zone=TOKYO,
        )
    result = actions.record_check(
        session,
        action,
        checked_on=done_day,
        effective=False,
        note="監視が通知先に届いていない",
        actor="lead",
        zone=TOKYO,
    )
    assert result.action.state == "not_effective"
    refix = actions.add_refix(
        session,
        action,
        title="通知先を当番表に合わせる",
        owner=owner,
        due_on=done_day,
        today=done_day,
        actor="lead",
    )
    assert refix.refix_of_id == action.id and refix.state == "open"
    assert [c.effective for c in actions.checks(session, action)] == [False]
    names = [e.action for e in events.history(session, "prevention_action", action.id)]
    assert names == ["review.action_added", "review.action_done", "review.effect_checked"]


def test_overdue_actions_reach_the_dashboard(session: Session, settings: Settings) -> None:
    on = incident(session, settings)
    owner = user(session, "senior", "owner")
    long_ago = dt.date(2026, 1, 10)
    late = actions.add_action(
        session,
        on,
        title="手順書を更新する",
        owner=owner,
        due_on=long_ago,
        today=long_ago,
        actor="lead",
    )
    actions.add_action(
        session,
        on,
        title="来年の訓練",
        owner=owner,
        due_on=dt.date(2099, 1, 1),
        today=long_ago,
        actor="lead",
    )
    session.commit()
    panel = dashboard.overdue_panel(session, settings, owner)
    assert panel is not None
    template, data = panel
    assert template == "review/_overdue_panel.html"
    assert [(a.id, ref) for a, ref in data["overdue"]] == [(late.id, on.reference)]
    actions.mark_done(session, late, actor="owner")
    session.commit()
    assert dashboard.overdue_panel(session, settings, owner) is None


def test_the_dashboard_page_shows_the_overdue_panel(settings: Settings, session: Session) -> None:
    from anshin.incidents import service as incidents
    from anshin.team.models import User
    from test_console_support import client_for, login, seed

    seed(settings)
    on = incidents.declare(
        session,
        settings,
        incidents.IncidentInput(title="決済の遅延", severity="sev2", components=["決済"]),
        actor="test",
    )
    owner = session.query(User).filter_by(role="senior").one()
    long_ago = dt.date(2026, 1, 10)
    actions.add_action(
        session,
        on,
        title="監視の閾値を見直す",
        owner=owner,
        due_on=long_ago,
        today=long_ago,
        actor="x",
    )
    session.commit()
    with client_for(settings) as client:
        login(client, "operator")
        page = client.get("/console")
        assert page.status_code == 200
        assert "overdue-actions" in page.text and "監視の閾値を見直す" in page.text
        assert "期限を過ぎた再発防止策" in page.text
