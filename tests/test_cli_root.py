"""``anshin serve|db|demo|lint`` and the CLI's error contract, on real SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from anshin import __version__, migrations
from anshin.cli import app
from anshin.comms.lint import check, has_errors
from anshin.db import Base, import_all_models
from anshin.demo import ACTIVE_TITLE, MAINTENANCE_TITLE, RESOLVED_TITLE
from anshin.incidents.models import Component, ComponentGroup, Incident, Maintenance
from anshin.inquiries.demo_burst import SMS_TITLE, WEBHOOK_TITLE
from anshin.team import service as team_service

runner = CliRunner()


def invoke(url: str, *args: str, lang: str = "en_US.UTF-8") -> Result:
    env = {"ANSHIN_DATABASE_URL": url, "LANG": lang, "LC_ALL": "", "LC_MESSAGES": ""}
    return runner.invoke(app, list(args), env=env)


def everything(sessions: sessionmaker[Session]) -> dict[str, list[Any]]:
    """Every row of every table, for comparing two runs."""
    import_all_models()
    out: dict[str, list[Any]] = {}
    with sessions() as session:
        for table in Base.metadata.sorted_tables:
            rows = session.execute(select(table)).all()
            out[table.name] = sorted(
                (tuple(str(v) for v in row) for row in rows), key=lambda r: r[0]
            )
    return out


def test_version_and_help() -> None:
    assert runner.invoke(app, ["--version"]).stdout.strip() == f"anshin {__version__}"
    helptext = runner.invoke(app, ["--help"]).stdout
    for command in ("serve", "db", "demo", "incident", "component", "user", "token", "lint"):
        assert command in helptext
    assert runner.invoke(app, []).exit_code in (0, 2)


def test_demo_is_complete_and_idempotent(db_url: str, sessions: sessionmaker[Session]) -> None:
    first = invoke(db_url, "demo", "--inquiries", "12")
    assert first.exit_code == 0, first.output
    assert "Demo data loaded" in first.stdout
    assert "12 inquiries taken in and triaged" in first.stdout
    for email in ("admin@example.com", "operator@example.com", "senior@example.com"):
        assert email in first.stdout
    # A password of this installation's own, printed once: none is written in the source.
    shown = re.search(r"Demo accounts \(password: (\S+)\)", first.stdout)
    assert shown is not None and len(shown.group(1)) >= 12
    password = shown.group(1)
    snapshot = everything(sessions)
    second = invoke(db_url, "demo", "--inquiries", "12", lang="ja_JP.UTF-8")
    assert second.exit_code == 0, second.output
    assert "デモデータはすでに登録済みです" in second.stdout
    assert password not in second.stdout and "anshin user password" in second.stdout
    assert everything(sessions) == snapshot

    with sessions() as session:
        roles = {u.role for u in team_service.list_users(session)}
        assert roles == {"operator", "senior", "supervisor", "admin"}
        assert team_service.authenticate(session, "operator@example.com", password)
        assert not team_service.authenticate(session, "operator@example.com", "anshin-demo")
        groups = session.scalars(select(ComponentGroup)).all()
        assert {g.name for g in groups} >= {
            "ログイン/認証",
            "決済",
            "API",
            "管理画面",
            "メール配信",
        }
        assert all(g.name_en for g in groups)
        assert session.scalar(select(func.count()).select_from(Component)) >= 10
        assert all(c.name_en for c in session.scalars(select(Component)))
        active = session.scalars(select(Incident).where(Incident.title == ACTIVE_TITLE)).one()
        resolved = session.scalars(select(Incident).where(Incident.title == RESOLVED_TITLE)).one()
        window = session.scalars(
            select(Maintenance).where(Maintenance.title == MAINTENANCE_TITLE)
        ).one()
        now = dt.datetime.now(dt.UTC)

        assert active.severity == "sev2" and active.status != "resolved"
        assert [u.kind for u in active.updates] == ["first_notice", "update"]
        assert active.components[0].component.status == "partial_outage"
        promised = active.updates[-1].next_update_at
        assert promised is not None and promised > now
        for update in active.updates:
            assert "申し訳ございません" in update.body_ja and "現在確認中" in update.body_ja
            assert update.body_en and "sorry" in update.body_en
            assert update.next_update_at is not None
            assert (
                f"{update.next_update_at.astimezone(dt.timezone(dt.timedelta(hours=9))):%H:%M}"
                in update.body_ja
            )
        assert resolved.status == "resolved"
        assert [u.kind for u in resolved.updates] == ["first_notice", "resolution"]
        assert "報告書" in resolved.updates[-1].body_ja
        assert window.status == "scheduled"
        assert dt.timedelta(days=6) < window.scheduled_start - now < dt.timedelta(days=8)

        texts = [(u.kind, u.body_ja, u.body_en) for u in active.updates + resolved.updates]
        texts.append(("maintenance_notice", window.body, window.body_en))
        for kind, body_ja, body_en in texts:
            for locale, body in (("ja", body_ja), ("en", body_en)):
                findings = check(body or "", kind=kind, locale=locale)
                assert not has_errors(findings), (kind, locale, [f.as_dict() for f in findings])


def test_incidents_from_the_demo_show_their_timer(db_url: str) -> None:
    assert invoke(db_url, "demo", "--inquiries", "0").exit_code == 0
    listed = json.loads(
        invoke(db_url, "incident", "list", "--status", "open", "--format", "json").stdout
    )
    assert {i["title"] for i in listed["incidents"]} == {ACTIVE_TITLE, WEBHOOK_TITLE, SMS_TITLE}
    (active,) = [i for i in listed["incidents"] if i["title"] == ACTIVE_TITLE]
    assert active["due"]["kind"] == "update" and active["due"]["overdue"] is False
    assert active["next_update_at"] == active["due"]["due_at"]


def test_missing_schema_is_a_clear_refusal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    listed = invoke(url, "incident", "list")
    assert listed.exit_code == 1
    assert listed.stderr.startswith("The database is not ready (no such table")
    assert "anshin db upgrade" in listed.stderr
    assert "Traceback" not in listed.output
    # The demo signs links: the missing key table is one log line, never a traceback.
    demo = invoke(url, "demo")
    assert demo.exit_code == 1
    assert "anshin db upgrade" in demo.stderr
    assert "Traceback" not in demo.output
    assert {r.exc_info for r in caplog.records if r.name.startswith("anshin")} == {None}
    served = invoke(url, "serve", "--port", "1", lang="ja_JP.UTF-8")
    assert served.exit_code == 1
    head = ", ".join(sorted(migrations.heads()))
    assert served.stderr.strip() == (
        f"データベースのスキーマが最新ではありません（現在: -、必要: {head}）。"
        "先に `anshin db upgrade` を実行してください。"
    )
    unreachable = invoke("postgresql://nobody@127.0.0.1:1/none", "incident", "list")
    assert unreachable.exit_code == 1
    assert unreachable.stderr.startswith("The database is not ready (")


def test_db_upgrade_current_and_revision_guard(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    head = ", ".join(sorted(migrations.heads()))
    assert invoke(url, "db", "current").stdout.strip() == f"Database: -; newest: {head}."
    refused = invoke(url, "db", "revision", "-m", "too early")
    assert refused.exit_code == 1 and "anshin db upgrade" in refused.stderr
    assert invoke(url, "db", "upgrade").exit_code == 0
    assert invoke(url, "db", "current").stdout.strip() == f"Database: {head}; newest: {head}."


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_on_a_migrated_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'served.db'}"
    assert invoke(url, "db", "upgrade").exit_code == 0
    assert invoke(url, "demo", "--inquiries", "12").exit_code == 0
    port = _free_port()
    env = {**os.environ, "ANSHIN_DATABASE_URL": url, "ANSHIN_SECRET_KEY": "serve-test"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "anshin.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        response = None
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/me", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    break
                time.sleep(0.2)
        assert response is not None, proc.stdout.read().decode() if proc.stdout else ""
        assert response.status_code == 401
        docs = httpx.get(f"http://127.0.0.1:{port}/api/docs", timeout=5)
        assert docs.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_lint_is_registered() -> None:
    result = runner.invoke(
        app, ["lint", "--kind", "update", "--locale", "ja", "-"], input="おそらく15時に復旧します。"
    )
    assert result.exit_code == 1
    assert "speculation" in result.stdout


@pytest.mark.parametrize("lang", ["ja_JP.UTF-8", "en_US.UTF-8"])
def test_bad_usage_exits_2_without_traceback(lang: str, tmp_path: Path) -> None:
    result = invoke(f"sqlite:///{tmp_path / 'u.db'}", "incident", "declare", "--nope", lang=lang)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_status_export_writes_the_public_page_without_internal_notes(
    db_url: str, tmp_path: Path
) -> None:
    assert invoke(db_url, "demo", "--inquiries", "0").exit_code == 0
    out = tmp_path / "public"
    result = invoke(db_url, "status", "export", str(out))
    assert result.exit_code == 0, result.output
    files = [p for p in out.rglob("*") if p.is_file()]
    assert result.stdout.strip() == f"Wrote {len(files)} files to {out}."
    summary = json.loads((out / "api" / "v2" / "summary.json").read_text(encoding="utf-8"))
    assert {i["name"] for i in summary["incidents"]} == {ACTIVE_TITLE, WEBHOOK_TITLE, SMS_TITLE}
    assert [m["name"] for m in summary["scheduled_maintenances"]] == [MAINTENANCE_TITLE]
    for path in files:
        assert "チケット #48213" not in path.read_text(encoding="utf-8", errors="ignore"), path


def test_db_revision_writes_the_next_numbered_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a copy of the scripts folder, so the package's own stays untouched."""
    import shutil

    copy = tmp_path / "migrations"
    shutil.copytree(migrations.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrations, "MIGRATIONS_DIR", copy)
    url = f"sqlite:///{tmp_path / 'rev.db'}"
    assert invoke(url, "db", "upgrade").exit_code == 0
    before = sorted(p.name for p in (copy / "versions").glob("*.py"))
    (head,) = migrations.heads()  # the new script chains onto it
    number = f"{max(int(name[:4]) for name in before) + 1:04d}"  # after the highest, gaps or not
    result = invoke(url, "db", "revision", "-m", "add widgets", "--empty")
    assert result.exit_code == 0, result.output
    written = copy / "versions" / f"{number}_add_widgets.py"
    assert result.stdout.strip().splitlines()[-1] == f"Wrote {written}. Read it before committing."
    script = written.read_text(encoding="utf-8")
    assert f'revision: str = "{number}"' in script
    assert f'down_revision: str | None = "{head}"' in script
    assert "def upgrade() -> None:\n    pass" in script


def test_serve_refuses_a_malformed_word_list_with_exit_2(tmp_path: Path) -> None:
    """Before anything else (here even the schema check): the file and the entry on stderr."""
    url = f"sqlite:///{tmp_path / 'lint.db'}"
    extra = tmp_path / "lint-extra"
    extra.mkdir()
    (extra / "team.toml").write_text(
        'locale = "ja"\n[[jargon]]\nwords = ["テナント"]\nsevirity = "error"\n', encoding="utf-8"
    )
    env = {"ANSHIN_DATABASE_URL": url, "LANG": "en_US.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
    result = runner.invoke(
        app, ["serve", "--port", "1"], env={**env, "ANSHIN_LINT_EXTRA_DIR": str(extra)}
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("The message check could not load its word lists: ")
    assert "team.toml [[jargon]] #1: unknown keys ['sevirity']" in result.stderr
    assert "Traceback" not in result.output
