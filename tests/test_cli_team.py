"""``anshin user|token`` on real SQLite and PostgreSQL: people and API tokens."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from anshin.cli import app
from anshin.team import service as team_service
from anshin.team.models import ApiToken, User


@pytest.fixture
def run(db_url: str) -> Any:
    runner = CliRunner()

    def invoke(*args: str, lang: str = "en_US.UTF-8", input: str | None = None) -> Result:
        env = {"ANSHIN_DATABASE_URL": db_url, "LANG": lang, "LC_ALL": "", "LC_MESSAGES": ""}
        return runner.invoke(app, list(args), env=env, input=input)

    return invoke


def users(sessions: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with sessions() as session:
        return [(u.email, u.name, u.role) for u in session.scalars(select(User).order_by(User.id))]


def test_user_add_with_option_and_prompt(run: Any, sessions: sessionmaker[Session]) -> None:
    added = run(
        "user", "add", "Lead@Example.com", "--name", "対応リーダー", "--role", "supervisor",
        "--password", "long enough", "--format", "json",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout) == {
        "id": 1,
        "email": "lead@example.com",
        "name": "対応リーダー",
        "role": "supervisor",
    }
    prompted = run(
        "user", "add", "agent@example.com", "--name", "一次対応担当", "--role", "operator",
        input="secret-pass\nsecret-pass\n",
    )  # fmt: skip
    assert prompted.exit_code == 0, prompted.output
    assert "Added agent@example.com (operator)." in prompted.stdout
    assert "secret-pass" not in prompted.output
    with sessions() as session:
        assert team_service.authenticate(session, "agent@example.com", "secret-pass") is not None
        assert team_service.authenticate(session, "lead@example.com", "long enough") is not None
    listed = json.loads(run("user", "list", "--format", "json").stdout)
    assert {u["email"] for u in listed} == {"lead@example.com", "agent@example.com"}


def test_user_add_refusals_change_nothing(run: Any, sessions: sessionmaker[Session]) -> None:
    ok = run(
        "user", "add", "a@example.com", "--name", "A", "--role", "admin", "--password", "x" * 8
    )
    assert ok.exit_code == 0
    before = users(sessions)
    cases = [
        (("user", "add", "a@example.com", "--name", "B", "--role", "admin", "--password", "y" * 9),
         "EMAIL: このメールアドレスのユーザーはすでに登録されています。"),
        (("user", "add", "b@example.com", "--name", "B", "--role", "boss", "--password", "y" * 9),
         "--role: 不明な役割です: boss。"
         "operator, senior, supervisor, admin のいずれかを指定してください。"),
        (("user", "add", "not-an-email", "--name", "B", "--role", "admin", "--password", "y" * 9),
         "EMAIL: 正しいメールアドレスを入力してください。"),
        (("user", "add", "c@example.com", "--name", "C", "--role", "admin", "--password", "short"),
         "--password: パスワードは 8 文字以上にしてください。"),
    ]  # fmt: skip
    for args, message in cases:
        result = run(*args, lang="ja_JP.UTF-8")
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.strip() == message
        assert users(sessions) == before
    mismatch = run(
        "user",
        "add",
        "d@example.com",
        "--name",
        "D",
        "--role",
        "admin",
        input="abcdefgh\nzzzzzzzz\n",
    )
    assert mismatch.exit_code != 0
    assert users(sessions) == before
    assert run("user", "add", "e@example.com", "--role", "admin").exit_code == 2


def test_token_create_prints_a_working_secret_once(
    run: Any, sessions: sessionmaker[Session]
) -> None:
    run(
        "user",
        "add",
        "bot@example.com",
        "--name",
        "Bot",
        "--role",
        "operator",
        "--password",
        "p" * 10,
    )
    created = run("token", "create", "--user", "BOT@example.com", "--name", "monitoring")
    assert created.exit_code == 0, created.output
    raw = created.stdout.strip()
    assert raw.startswith("anshin_")
    assert "shown only once" in created.stderr
    with sessions() as session:
        owner = team_service.user_for_token(session, raw)
        assert owner is not None and owner.email == "bot@example.com"
        token = session.scalars(select(ApiToken)).one()
        assert raw not in (token.token_hash, token.prefix)
    as_json = json.loads(run("token", "create", "--user", "bot@example.com", "--name", "ci",
                             "--format", "json").stdout)  # fmt: skip
    assert as_json["user"] == "bot@example.com" and as_json["token"].startswith("anshin_")
    revoked = run("token", "revoke", str(as_json["id"]))
    assert revoked.exit_code == 0
    with sessions() as session:
        assert team_service.user_for_token(session, as_json["token"]) is None
        count = session.scalar(select(func.count()).select_from(ApiToken))
    unknown = run(
        "token", "create", "--user", "nobody@example.com", "--name", "x", lang="ja_JP.UTF-8"
    )
    assert unknown.exit_code == 1
    assert unknown.stderr.strip() == "このメールアドレスのユーザーはいません: nobody@example.com"
    empty_name = run("token", "create", "--user", "bot@example.com", "--name", " ")
    assert empty_name.exit_code == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ApiToken)) == count
