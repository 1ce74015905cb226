"""The incident as messages read it (``incidents.reading``): one SELECT, a copy per state.

The copy must give every message the same variables the ORM-loaded incident
gives, and any change, made through another engine (as another process or
server would), must show at the next read. SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event, update
from sqlalchemy.orm import Session, sessionmaker

from anshin.config import Settings
from anshin.db import make_engine, make_sessionmaker, utcnow
from anshin.incidents import components, reading
from anshin.incidents import service as incidents
from anshin.incidents.context_kinds import inquiry_context
from anshin.incidents.models import Component, Incident
from notice_texts import FIRST_NOTICE_EN, FIRST_NOTICE_JA, notice_en, notice_ja

T0 = utcnow().replace(microsecond=0) - dt.timedelta(minutes=40)
NOW = T0 + dt.timedelta(minutes=40)


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements sent on ``engine`` inside the block."""
    sent: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _declare(session: Session, settings: Settings) -> int:
    components.add_component(session, "ログイン", name_en="Sign-in", actor="test")
    components.add_component(session, "決済", name_en="Payments", actor="test")
    incident = incidents.declare(
        session,
        settings,
        incidents.IncidentInput(
            title="ログインできない障害",
            title_en="Sign-in failures",
            severity="sev2",
            components=["ログイン", "決済"],
            summary="一部のお客様がログインできません。",
        ),
        actor="test",
        now=T0,
    )
    incidents.publish_update(
        session,
        settings,
        incident,
        body_ja=FIRST_NOTICE_JA,
        body_en=FIRST_NOTICE_EN,
        actor="test",
        now=T0 + dt.timedelta(minutes=5),
    )
    incidents.publish_update(
        session,
        settings,
        incident,
        body_ja="社内メモ: DB を再起動",
        audience="internal",
        actor="test",
        now=T0 + dt.timedelta(minutes=10),
    )
    session.commit()
    return incident.id


def _contexts(settings: Settings, incident: Incident) -> list[dict[str, object]]:
    return [
        inquiry_context(
            settings,
            locale,
            NOW,
            customer_name="山田",
            inquiry_reference="Q-2026-000001",
            incident=incident,
        )
        for locale in ("ja", "en")
    ]


def test_the_copy_gives_the_same_variables_as_the_orm_in_one_statement(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings
) -> None:
    with sessions() as session:
        incident_id = _declare(session, settings)
    with sessions() as session:
        loaded = session.get(Incident, incident_id)
        assert loaded is not None
        expected = _contexts(settings, loaded)
    with sessions() as session, statements(engine) as sent:
        copy = reading.for_messages(session, incident_id)
        assert copy is not None
        assert len(sent) == 1
        assert _contexts(settings, copy) == expected
        assert [(u.id, u.audience, u.body_ja) for u in copy.updates] == [
            (u.id, u.audience, u.body_ja) for u in loaded.updates
        ]
        assert [u.audience for u in copy.updates] == ["public", "internal"]
        assert sorted(c.component.name_en or "" for c in copy.components) == [
            "Payments",
            "Sign-in",
        ]
        # The reference is known to this session from then on: no statement for it.
        assert reading.reference(session, incident_id) == loaded.reference
        assert len(sent) == 1
    with sessions() as session, statements(engine) as sent:
        assert reading.reference(session, incident_id) == loaded.reference
        assert len(sent) == 1


def test_a_change_made_elsewhere_shows_at_the_next_read(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with sessions() as session:
        incident_id = _declare(session, settings)
    with sessions() as session:
        first = reading.for_messages(session, incident_id)
        assert first is not None
        assert reading.for_messages(session, incident_id) is first  # same rows, same copy
    # Another engine: what another process or server would do, committed there.
    other = make_engine(settings.database_url)
    try:
        with make_sessionmaker(other)() as elsewhere:
            incident = elsewhere.get(Incident, incident_id)
            assert incident is not None
            incidents.publish_update(
                elsewhere,
                settings,
                incident,
                body_ja=notice_ja("回避策: アプリを再起動してください。"),
                body_en=notice_en("Workaround: restart the app."),
                actor="test",
                now=T0 + dt.timedelta(minutes=20),
            )
            elsewhere.commit()
        with sessions() as session:
            second = reading.for_messages(session, incident_id)
            assert second is not None and second is not first
            ja, en = _contexts(settings, second)
            assert str(ja["latest_update"]).startswith("回避策: アプリを再起動してください。")
            assert str(en["latest_update"]).startswith("Workaround: restart the app.")
        # A component renamed: the incident's own row does not change, its rows do.
        with make_sessionmaker(other)() as elsewhere:
            elsewhere.execute(
                update(Component).where(Component.name == "決済").values(name_en="Checkout")
            )
            elsewhere.commit()
        with sessions() as session:
            third = reading.for_messages(session, incident_id)
            assert third is not None and third is not second
            assert "Checkout" in str(_contexts(settings, third)[1]["components_text"])
        # A field of the record, written without touching updated_at.
        with make_sessionmaker(other)() as elsewhere:
            elsewhere.execute(
                update(Incident)
                .where(Incident.id == incident_id)
                .values(workaround="アプリを再起動", recovery_confirmed=True)
            )
            elsewhere.commit()
        with sessions() as session:
            fourth = reading.for_messages(session, incident_id)
            assert fourth is not None
            assert fourth.workaround == "アプリを再起動" and fourth.recovery_confirmed is True
            assert _contexts(settings, fourth)[0]["workaround"] == "アプリを再起動"
    finally:
        other.dispose()


def test_no_such_incident_is_none(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert reading.for_messages(session, 424242) is None
        assert reading.reference(session, 424242) is None
