"""Sign-in throttle per account and per client address (issue 7).

After N failed sign-ins within the window the answer is 429 with Retry-After
and a message in the user's language, before any password is hashed; a
success clears the account's count. The count is in the database, so two app
instances (two workers) share it. Time is driven by the stored timestamps.
Real SQLite and PostgreSQL (``settings``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import update

from anshin.config import Settings
from anshin.db import utcnow
from anshin.notify.models import SubscribeRequest
from anshin.team import service as team_service
from test_console_support import PASSWORD, USERS, client_for, csrf_from, database, seed

EMAIL = USERS["operator"][0]


@pytest.fixture
def limited(settings: Settings) -> Settings:
    tight = settings.model_copy(
        update={"login_failures_per_account": 3, "login_failures_per_address": 6}
    )
    seed(tight)
    return tight


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the argon2 checks (the real ones still run)."""
    calls: list[int] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            calls.append(1)
            return super().verify(hash, password)

    monkeypatch.setattr(team_service, "_hasher", Counting())
    return calls


def attempt(client: TestClient, email: str, password: str, lang: str = "ja") -> Any:
    token = csrf_from(client.get("/login").text)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        headers={"Accept-Language": lang},
    )


def test_an_account_is_throttled_after_n_failures_without_hashing(
    limited: Settings, hashes: list[int]
) -> None:
    client = client_for(limited)
    for _ in range(3):
        assert attempt(client, EMAIL, "wrong-password").status_code == 401
    assert len(hashes) == 3
    refused = attempt(client, EMAIL, PASSWORD)  # even the right password waits
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 15 * 60
    assert "ログインの失敗が続いたため" in refused.text
    assert len(hashes) == 3, "no password was hashed for a throttled attempt"
    english = attempt(client, EMAIL.upper(), "wrong-password", lang="en")
    assert english.status_code == 429
    assert "Too many failed sign-ins." in english.text
    assert client.get("/console").status_code == 303
    # Another account from the same address is not locked by this one's failures.
    assert attempt(client, USERS["senior"][0], PASSWORD).status_code == 303


def test_the_count_is_shared_by_app_instances_and_ends_with_its_window(
    limited: Settings,
) -> None:
    first, second = client_for(limited), client_for(limited)
    for client in (first, second, first):
        assert attempt(client, EMAIL, "wrong-password").status_code == 401
    assert attempt(second, EMAIL, PASSWORD).status_code == 429
    with database(limited) as session:
        session.execute(
            update(SubscribeRequest).values(created_at=utcnow() - dt.timedelta(minutes=16))
        )
        session.commit()
    assert attempt(second, EMAIL, PASSWORD).status_code == 303


def test_a_success_clears_the_accounts_failures(limited: Settings) -> None:
    client = client_for(limited)
    for _ in range(2):
        assert attempt(client, EMAIL, "wrong-password").status_code == 401
    assert attempt(client, EMAIL, PASSWORD).status_code == 303
    other = client_for(limited)
    for _ in range(2):
        assert attempt(other, EMAIL, "wrong-password").status_code == 401
    assert attempt(other, EMAIL, PASSWORD).status_code == 303


def test_an_address_is_throttled_across_accounts(limited: Settings, hashes: list[int]) -> None:
    client = client_for(limited)
    for n in range(6):
        assert attempt(client, f"guess{n}@example.com", "wrong-password").status_code == 401
    refused = attempt(client, EMAIL, PASSWORD, lang="en")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "Too many failed sign-ins." in refused.text


def test_zero_turns_the_limits_off(settings: Settings) -> None:
    off = settings.model_copy(
        update={"login_failures_per_account": 0, "login_failures_per_address": 0}
    )
    seed(off)
    client = client_for(off)
    for _ in range(4):
        assert attempt(client, EMAIL, "wrong-password").status_code == 401
    assert attempt(client, EMAIL, PASSWORD).status_code == 303
