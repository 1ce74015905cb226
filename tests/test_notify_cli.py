"""``anshin subscribers …`` and ``anshin deliveries …`` on real SQLite and PostgreSQL.

Exit codes: 0 done, 1 refused (bad rows: nothing imported), 2 used wrongly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from anshin.config import Settings
from anshin.incidents import components
from anshin.notify import models, service
from anshin.notify.__main__ import app
from anshin.notify.models import Delivery, Subscriber
from anshin.notify.service import MessageTexts

assert models


@pytest.fixture
def run(settings: Settings) -> Any:
    runner = CliRunner()

    def invoke(*args: str, lang: str = "en_US.UTF-8", input: str | None = None) -> Result:
        env = {
            "ANSHIN_DATABASE_URL": settings.database_url,
            "ANSHIN_SECRET_KEY": settings.secret_key,
            "LANG": lang,
            "LC_ALL": "",
            "LC_MESSAGES": "",
        }
        return runner.invoke(app, list(args), env=env, input=input)

    return invoke


def rows(sessions: sessionmaker[Session]) -> list[tuple[str, str, str, list[int]]]:
    with sessions() as session:
        return [
            (s.address, s.locale, s.status, s.component_ids)
            for s in session.scalars(select(Subscriber).order_by(Subscriber.id))
        ]


@pytest.fixture
def login_id(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        login = components.add_component(session, "ログイン", actor="t", name_en="Login")
        session.commit()
        return login.id


def test_import_then_export_round_trip(
    run: Any, sessions: sessionmaker[Session], tmp_path: Path, login_id: int
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        "\ufeffemail,locale,components,status\n"
        "Hanako@Example.com,ja,ログイン,active\n"
        "\n"
        "bob@example.com,en,Login;ログイン,unsubscribed\n"
        "carol@example.com,,,\n",
        encoding="utf-8",
    )
    done = run("subscribers", "import", str(source))
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == "Imported: 3 new, 0 updated, 0 unchanged."
    assert rows(sessions) == [
        ("hanako@example.com", "ja", "active", [login_id]),
        ("bob@example.com", "en", "unsubscribed", [login_id]),
        ("carol@example.com", "ja", "active", []),
    ]
    again = run("subscribers", "import", str(source), lang="ja_JP.UTF-8")
    assert again.exit_code == 0
    assert again.stdout.strip() == "取り込みました: 新規 0 件、更新 0 件、変更なし 3 件。"

    exported = run("subscribers", "export")
    assert exported.exit_code == 0
    lines = exported.stdout.splitlines()
    assert lines[0] == "email,locale,components,status"
    assert "bob@example.com,en,ログイン,unsubscribed" in lines
    edited = tmp_path / "edited.csv"
    edited.write_text(
        exported.stdout.replace(
            "bob@example.com,en,ログイン,unsubscribed", "bob@example.com,ja,,active"
        ),
        encoding="utf-8",
    )
    updated = run("subscribers", "import", str(edited))
    assert updated.stdout.strip() == "Imported: 0 new, 1 updated, 2 unchanged."
    assert rows(sessions)[1] == ("bob@example.com", "ja", "active", [])
    out = tmp_path / "out.csv"
    assert run("subscribers", "export", "--output", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8").count("\n") == 4


def test_bad_rows_refuse_the_whole_file(
    run: Any, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(
        "email,locale,components,status\nok@example.com,ja,,\nnope,ja,,\nx@example.com,ja,,maybe\n",
        encoding="utf-8",
    )
    refused = run("subscribers", "import", str(source), lang="ja_JP.UTF-8")
    assert refused.exit_code == 1
    assert "3 行目: nope はメールアドレスの形式になっていません" in refused.stderr
    assert "4 行目: 状態「maybe」は使えません" in refused.stderr
    assert "取り込んでいません" in refused.stderr
    assert rows(sessions) == []
    header = tmp_path / "header.csv"
    header.write_text("mail,lang\na@example.com,ja\n", encoding="utf-8")
    no_email = run("subscribers", "import", str(header))
    assert no_email.exit_code == 1 and "line 1: The header row must name an email column." in (
        no_email.stderr
    )
    missing = run("subscribers", "import", str(tmp_path / "missing.csv"))
    assert missing.exit_code == 2 and "Cannot read" in missing.stderr
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00broken")
    assert run("subscribers", "import", str(binary)).exit_code == 2


def test_retry_sweep_and_status(
    run: Any, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session:
        from anshin.notify import subscribers

        subscribers.subscribe_email(
            session, settings, email="a@example.com", confirmed=True, actor="t"
        )
        message = service.fan_out(
            session, settings, kind="update", texts={"ja": MessageTexts("件名", "本文")}
        )
        session.commit()
        delivery = session.scalars(select(Delivery)).one()
    assert run("deliveries", "retry").exit_code == 2
    assert run("deliveries", "retry", "1", "--all-dead").exit_code == 2
    not_dead = run("deliveries", "retry", str(delivery.id))
    assert not_dead.exit_code == 1
    assert "Only a failed delivery (dead letter) can be retried; this one is pending." in (
        not_dead.stderr
    )
    with sessions() as session:
        row = session.get(Delivery, delivery.id)
        assert row is not None
        row.status, row.attempts, row.last_error = "dead", 6, "SMTP 550 no such user"
        session.commit()
    done = run("deliveries", "retry", "--all-dead", "--message", str(message.id))
    assert done.exit_code == 0 and done.stdout.strip() == "1 deliveries queued again."
    with sessions() as session:
        row = session.get(Delivery, delivery.id)
        assert row is not None and (row.status, row.attempts) == ("pending", 0)
    status = run("deliveries", "status", str(message.id))
    assert status.exit_code == 0
    counts = json.loads(status.stdout)
    assert counts["queued"] == 1 and counts["total"] == 1
    assert run("deliveries", "status", "424242").exit_code == 1
    swept = run("deliveries", "sweep")
    assert swept.exit_code == 0 and "due now 1" in swept.stdout


def test_worker_refuses_an_unknown_queue_url(run: Any, settings: Settings) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["worker"],
        env={"ANSHIN_DATABASE_URL": settings.database_url, "ANSHIN_QUEUE_URL": "amqp://x"},
    )
    assert result.exit_code == 2 and "ANSHIN_QUEUE_URL" in result.stderr
