"""The contact row an inquiry's acknowledgement goes to (``notify.staff.direct_row``, R18).

Written with one ``INSERT … ON CONFLICT DO NOTHING`` (no savepoint), found by
address when it exists, and a row another server wrote between the look-up
and the INSERT is the one returned. SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from anshin.config import Settings
from anshin.db import make_engine, make_sessionmaker, utcnow
from anshin.notify import contacts
from anshin.notify.models import Subscriber


def _sent(engine: Engine) -> list[str]:
    sent: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(statement.lstrip().split()[0].upper())

    event.listen(engine, "before_cursor_execute", count)
    return sent


def test_a_new_customer_gets_a_contact_row_in_one_insert_then_it_is_found(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    sent = _sent(engine)
    with sessions() as session:
        row = contacts.email_row(session, "Yamada@Example.com", "ja", utcnow())
        assert sent == ["SELECT", "INSERT"]  # no SAVEPOINT, no component load
        assert (row.kind, row.address, row.status, row.source) == (
            "email",
            "yamada@example.com",
            "contact",
            "inquiry",
        )
        assert row.secret is None and row.created_at is not None
        session.commit()
        first_id = row.id
    sent.clear()
    with sessions() as session:
        again = contacts.email_row(session, "yamada@example.com", "en", utcnow())
        assert again.id == first_id and again.locale == "en"
        assert again.component_ids == []  # loaded when asked for
        session.commit()
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 1
        stored = session.get(Subscriber, first_id)
        assert stored is not None and stored.locale == "en"


def test_a_row_written_elsewhere_between_look_up_and_insert_is_the_one_returned(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings
) -> None:
    if not settings.database_url.startswith("postgresql"):
        # SQLite: intake holds the write lock before it looks the row up (the reference
        # counter is its first write), so no other connection can write in between.
        pytest.skip("only PostgreSQL lets another connection write between the two statements")
    other = make_engine(settings.database_url)
    written: list[int] = []

    def write_first(_conn: object, _cursor: object, statement: str, *_: Any) -> None:
        if statement.lstrip().startswith("INSERT INTO notify_subscribers") and not written:
            with make_sessionmaker(other)() as elsewhere:
                row = contacts.email_row(elsewhere, "race@example.com", "en", utcnow())
                elsewhere.commit()
                written.append(row.id)

    event.listen(engine, "before_cursor_execute", write_first)
    try:
        with sessions() as session:
            row = contacts.email_row(session, "race@example.com", "ja", utcnow())
            assert written and row.id == written[0]
            session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", write_first)
        other.dispose()
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 1
