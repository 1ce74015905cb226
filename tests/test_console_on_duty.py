"""The on-duty page: everyone sets their own flag, an admin anyone's; the staff channel's
set-up and the latest nudges are shown. SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from anshin import events
from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents import nudges, service
from anshin.team.models import User
from test_console_support import USERS, client_for, database, login, seed, text_of


def _user(settings: Settings, role: str) -> User:
    with database(settings) as session:
        return session.scalars(select(User).where(User.email == USERS[role][0])).one()


def test_everyone_sets_their_own_flag_and_an_admin_anyones(settings: Settings) -> None:
    settings = settings.model_copy(
        update={"staff_webhook_url": "https://hooks.example.com/services/T0/B0/SECRET"}
    )
    seed(settings)
    client = client_for(settings)
    token = login(client, "operator")
    me, other = _user(settings, "operator"), _user(settings, "senior")
    page = client.get("/console/on-duty")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "当番" in text and "5分前" in text
    assert "https://hooks.example.com/…" in text and "SECRET" not in page.text
    assert f'action="/console/users/{me.id}/on-duty"' in page.text
    assert f'action="/console/users/{other.id}/on-duty"' not in page.text  # not theirs to set

    on = client.post(f"/console/users/{me.id}/on-duty", data={"on_duty": "1", "csrf_token": token})
    assert on.status_code == 303 and on.headers["location"] == "/console/on-duty"
    assert "さんを当番にしました" in text_of(client.get("/console/on-duty").text)
    assert _user(settings, "operator").on_duty
    refused = client.post(
        f"/console/users/{other.id}/on-duty", data={"on_duty": "1", "csrf_token": token}
    )
    assert refused.status_code == 403 and "管理者だけ" in text_of(refused.text)
    assert not _user(settings, "senior").on_duty
    assert client.post(f"/console/users/{me.id}/on-duty", data={"on_duty": "1"}).status_code == 403
    bad = client.post(f"/console/users/{me.id}/on-duty", data={"on_duty": "y", "csrf_token": token})
    assert bad.status_code == 422
    missing = client.post("/console/users/999/on-duty", data={"on_duty": "1", "csrf_token": token})
    assert missing.status_code == 404

    admin = client_for(settings)
    admin_token = login(admin, "admin")
    assert f'action="/console/users/{other.id}/on-duty"' in admin.get("/console/on-duty").text
    done = admin.post(
        f"/console/users/{other.id}/on-duty", data={"on_duty": "1", "csrf_token": admin_token}
    )
    assert done.status_code == 303 and _user(settings, "senior").on_duty
    off = admin.post(
        f"/console/users/{me.id}/on-duty", data={"on_duty": "0", "csrf_token": admin_token}
    )
    assert off.status_code == 303 and not _user(settings, "operator").on_duty
    with database(settings) as session:
        actions = [e.action for e in events.history(session, "user", me.id)]
        assert actions.count("user.on_duty") == 1 and actions.count("user.off_duty") == 1


def test_the_latest_nudges_are_listed(settings: Settings, engine: Engine) -> None:
    seed(settings)
    with Session(engine, expire_on_commit=False) as session:
        for user in session.scalars(select(User)):
            user.on_duty = True
        incident = service.declare(
            session,
            settings,
            service.IncidentInput(title="決済が完了しない", severity="sev1"),
            actor="test",
            now=utcnow() - dt.timedelta(minutes=20),
        )
        session.commit()
    (sent,) = nudges.sweep(engine, settings)
    assert sent.kind == "overdue" and sent.recipients == 4
    client = client_for(settings)
    login(client, "operator")
    text = text_of(client.get("/console/on-duty").text)
    assert incident.reference in text and "期限超過" in text and "送信先 4件" in text
    english = text_of(client.get("/console/on-duty?lang=en").text)
    assert "Overdue" in english and "4 recipients" in english
