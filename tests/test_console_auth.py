"""Signing in and out, CSRF, roles, API tokens and users in the console (issue 2, scope 6)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import make_engine
from anshin.team import service as team_service
from anshin.team.models import ApiToken, User
from test_console_support import (
    PASSWORD,
    USERS,
    client_for,
    count,
    csrf_from,
    login,
    page_csrf,
    seed,
    text_of,
)


@pytest.fixture
def client(settings: Settings) -> TestClient:
    seed(settings)
    return client_for(settings)


def test_anonymous_pages_redirect_to_login_with_next(client: TestClient) -> None:
    for path in ("/console", "/console/incidents/new", "/console/tokens", "/console/components"):
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=" + path


def test_login_page_is_japanese_first_and_english_on_request(client: TestClient) -> None:
    ja = client.get("/login")
    assert ja.status_code == 200
    assert '<html lang="ja">' in ja.text
    assert "ログイン" in ja.text and "パスワード" in ja.text
    en = client.get("/login?lang=en")
    assert '<html lang="en">' in en.text
    assert "Password" in en.text and "パスワード" not in en.text


def test_login_success_shows_dashboard_with_name_and_role(client: TestClient) -> None:
    login(client, "senior")
    page = client.get("/console")
    assert page.status_code == 200
    text = text_of(page.text)
    assert USERS["senior"][1] in text
    assert "シニア（L2）" in text
    assert "ログアウト" in text
    assert 'hx-headers=\'{"X-CSRF-Token": "' in page.text


def test_wrong_password_and_unknown_email_get_the_same_answer(client: TestClient) -> None:
    token = csrf_from(client.get("/login").text)
    wrong = client.post(
        "/login",
        data={"email": USERS["operator"][0], "password": "nope-nope-nope", "csrf_token": token},
    )
    unknown = client.post(
        "/login", data={"email": "ghost@example.com", "password": PASSWORD, "csrf_token": token}
    )
    assert wrong.status_code == unknown.status_code == 401
    message = "メールアドレスまたはパスワードが正しくありません。"
    assert message in wrong.text and message in unknown.text
    assert USERS["operator"][0] in wrong.text  # the email is kept
    assert client.get("/console").status_code == 303  # still signed out


def test_login_without_csrf_is_refused(client: TestClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"email": USERS["admin"][0], "password": PASSWORD})
    assert response.status_code == 403
    assert "フォームの有効期限" in response.text
    assert client.get("/console").status_code == 303


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/console/components", "/console/components"),
        ("//evil.example/x", "/console"),
        ("https://evil.example/", "/console"),
        ("/\\evil.example", "/console"),
    ],
)
def test_next_is_only_followed_to_local_paths(
    client: TestClient, given: str, expected: str
) -> None:
    token = csrf_from(client.get("/login", params={"next": given}).text)
    response = client.post(
        "/login",
        data={
            "email": USERS["operator"][0],
            "password": PASSWORD,
            "csrf_token": token,
            "next": given,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == expected


def test_login_rotates_the_csrf_token(client: TestClient) -> None:
    before = csrf_from(client.get("/login").text)
    after = login(client, "operator")
    assert before != after


def test_logout_needs_csrf_and_ends_the_session(client: TestClient) -> None:
    token = login(client, "operator")
    assert client.post("/logout").status_code == 403
    assert client.get("/console").status_code == 200
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/console").status_code == 303


@pytest.mark.parametrize("role", ["operator", "senior", "supervisor"])
def test_only_admins_manage_tokens_and_users(client: TestClient, role: str) -> None:
    token = login(client, role)
    for path in ("/console/tokens", "/console/users"):
        response = client.get(path)
        assert response.status_code == 403
        assert "権限がありません" in response.text
    response = client.post("/console/tokens", data={"name": "x", "csrf_token": token})
    assert response.status_code == 403
    assert "APIトークン" not in text_of(client.get("/console").text)  # not in the nav


def test_admin_creates_a_token_shown_once_and_revokes_it(
    client: TestClient, settings: Settings
) -> None:
    token = login(client, "admin")
    assert client.post("/console/tokens", data={"name": "監視"}).status_code == 403
    assert count(settings, ApiToken) == 0
    created = client.post("/console/tokens", data={"name": "監視アラート", "csrf_token": token})
    assert created.status_code == 201
    raw = created.text.split('id="new-token">', 1)[1].split("<", 1)[0]
    assert raw.startswith("anshin_")
    assert "no-store" in created.headers["cache-control"]
    listing = client.get("/console/tokens")
    assert raw not in listing.text and raw[:12] in listing.text
    # The token really works for the API and the console.
    api = TestClient(client.app, follow_redirects=False)
    assert api.get("/console", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        token_id = session.query(ApiToken).one().id
    engine.dispose()
    revoked = client.post(f"/console/tokens/{token_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    assert "失効" in client.get("/console/tokens").text
    assert api.get("/console", headers={"Authorization": f"Bearer {raw}"}).status_code == 303


def test_token_for_an_unknown_user_is_refused(client: TestClient, settings: Settings) -> None:
    token = login(client, "admin")
    response = client.post(
        "/console/tokens", data={"name": "x", "user_id": "999", "csrf_token": token}
    )
    assert response.status_code == 422
    assert count(settings, ApiToken) == 0


def test_admin_adds_a_user_and_bad_input_keeps_the_values(
    client: TestClient, settings: Settings
) -> None:
    token = login(client, "admin")
    bad = client.post(
        "/console/users",
        data={
            "name": "新人 四郎",
            "email": "not-an-email",
            "role": "operator",
            "password": "longenough1",
            "csrf_token": token,
        },
    )
    assert bad.status_code == 422
    assert "新人 四郎" in bad.text and "not-an-email" in bad.text
    assert "longenough1" not in bad.text  # passwords are never echoed
    assert "正しいメールアドレスを入力してください。" in bad.text
    assert count(settings, User) == 4
    good = client.post(
        "/console/users",
        data={
            "name": "新人 四郎",
            "email": "new@example.com",
            "role": "senior",
            "password": "longenough1",
            "locale": "en",
            "csrf_token": token,
        },
    )
    assert good.status_code == 303
    assert "新人 四郎" in client.get("/console/users").text
    duplicate = client.post(
        "/console/users",
        data={
            "name": "x",
            "email": "new@example.com",
            "role": "operator",
            "password": "longenough1",
            "csrf_token": token,
        },
    )
    assert duplicate.status_code == 409
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        assert team_service.authenticate(session, "new@example.com", "longenough1") is not None
    engine.dispose()


def test_error_page_renders_for_anonymous_visitors(client: TestClient) -> None:
    response = client.get("/console/nowhere")
    assert response.status_code == 404
    assert "ページが見つかりません" in response.text
    english = client.get("/console/nowhere", headers={"Accept-Language": "en"})
    assert "Page not found." in english.text


def test_page_csrf_helper_reads_the_session_token(client: TestClient) -> None:
    token = login(client, "operator")
    assert page_csrf(client) == token


def test_error_pages_keep_the_signed_in_users_navigation(client: TestClient) -> None:
    """A 404 or a refusal is a page to carry on from: the user's name, nav and sign-out."""
    login(client, "operator")
    missing = client.get("/console/no-such-page")
    assert missing.status_code == 404
    text = text_of(missing.text)
    assert "ページが見つかりません" in text
    assert USERS["operator"][1] in text and "ログアウト" in text
    assert 'href="/console/incidents/new"' in missing.text
    assert 'href="/console/users"' not in missing.text  # the nav of an operator, not an admin
    assert csrf_from(missing.text)  # the sign-out form works from here
    token = page_csrf(client)
    refused = client.post("/console/components", data={"name": "API", "csrf_token": token})
    assert refused.status_code == 403
    assert USERS["operator"][1] in text_of(refused.text)
    assert 'href="/console/maintenance"' in refused.text

    client.cookies.clear()
    login(client, "admin")
    admin_missing = client.get("/console/no-such-page?lang=en")
    assert admin_missing.status_code == 404
    assert 'href="/console/users"' in admin_missing.text and "Sign out" in admin_missing.text


def test_error_page_for_a_visitor_has_no_navigation_and_sets_no_cookie(
    client: TestClient,
) -> None:
    missing = client.get("/console/no-such-page")
    assert missing.status_code == 404
    assert 'href="/console/incidents/new"' not in missing.text
    assert 'href="/login"' in missing.text
    assert "set-cookie" not in missing.headers


def test_error_page_renders_when_the_user_cannot_be_loaded(
    client: TestClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The database failing is a likely cause of errors: the page still renders, without nav."""
    login(client, "senior")
    engine = make_engine(settings.database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE users RENAME TO users_elsewhere")
    try:
        missing = client.get("/console/no-such-page")
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE users_elsewhere RENAME TO users")
        engine.dispose()
    assert missing.status_code == 404
    assert "ページが見つかりません" in text_of(missing.text)
    assert "could not load the signed-in user" in caplog.text  # the failure was met, and logged
    assert USERS["senior"][1] not in missing.text
    assert 'href="/console/incidents/new"' not in missing.text
    back = client.get("/console/no-such-page")
    assert USERS["senior"][1] in text_of(back.text)
