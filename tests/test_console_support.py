"""Shared helpers for the console tests (imported by tests/test_console_*.py).

The console is driven through the real app (``create_app``) with a real
database (SQLite and PostgreSQL via the ``settings`` fixture), a real session
cookie and real CSRF tokens read from the rendered forms.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anshin.app import create_app
from anshin.config import Settings
from anshin.db import make_engine, make_sessionmaker
from anshin.incidents import components
from anshin.team import service as team_service
from anshin.team.models import User

PASSWORD = "correct-horse-battery"
USERS = {
    "operator": ("op@example.com", "一次対応オペレーター"),
    "senior": ("senior@example.com", "二次対応シニア"),
    "supervisor": ("sv@example.com", "スーパーバイザー"),
    "admin": ("admin@example.com", "管理者"),
}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


_HASH: list[str] = []


def password_hash() -> str:
    """One real argon2 hash of PASSWORD, computed once: seeding stays fast."""
    if not _HASH:
        _HASH.append(team_service.hash_password(PASSWORD))
    return _HASH[0]


def seed(settings: Settings) -> None:
    """One user per role and two components in a group."""
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session:
        for role, (email, name) in USERS.items():
            session.add(User(email=email, name=name, role=role, password_hash=password_hash()))
        components.add_component(session, "ログイン", group="基盤", name_en="Login", actor="test")
        components.add_component(session, "決済", group="基盤", name_en="Payments", actor="test")
        session.commit()
    engine.dispose()


def client_for(settings: Settings) -> TestClient:
    """A browser-like client on a fresh app; redirects are not followed so tests see them."""
    return TestClient(create_app(settings), follow_redirects=False)


def csrf_from(page: str) -> str:
    """The CSRF token a rendered form carries."""
    found = CSRF.search(page)
    assert found, "no csrf_token field on the page"
    return html.unescape(found.group(1))


def login(client: TestClient, role: str) -> str:
    """Sign in as the seeded user of ``role``; returns the session's CSRF token."""
    email, _name = USERS[role]
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    return page_csrf(client)


def page_csrf(client: TestClient, path: str = "/console") -> str:
    """The CSRF token of the signed-in session, read from a page."""
    return csrf_from(client.get(path).text)


def count(settings: Settings, model: type) -> int:
    """Rows of a table, read on a connection of its own (what was really committed)."""
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        value = int(session.scalar(select(func.count()).select_from(model)) or 0)
    engine.dispose()
    return value


def text_of(page: str) -> str:
    """A page's visible text, roughly: tags dropped, entities decoded, blanks squeezed."""
    without_scripts = re.sub(r"<script.*?</script>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", without_scripts)))


@contextmanager
def database(settings: Settings) -> Iterator[Session]:
    """A session on the test's database whose engine is closed after, so no connection lingers."""
    engine = make_engine(settings.database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()
