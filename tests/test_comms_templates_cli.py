"""``anshin template`` on real SQLite and PostgreSQL: show, edit from a file, versions, restore,
render; refusals exit 1 with the reason, wrong usage exits 2, nothing half-saved (R11)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from anshin.cliutil import AnshinGroup
from anshin.comms import cli as template_cli
from anshin.comms import models, service
from anshin.config import Settings
from anshin.incidents import components
from anshin.incidents import service as incident_service


def _app() -> typer.Typer:
    """The root command as anshin.cli builds it, with ``template`` registered."""
    try:
        from anshin.cli import app as root
    except ImportError:  # pragma: no cover - the root CLI is assembled elsewhere
        root = typer.Typer(cls=AnshinGroup)
    names = {group.name for group in root.registered_groups}
    if "template" not in names:
        template_cli.register(root)
    return root


@pytest.fixture
def run(db_url: str) -> Any:
    runner = CliRunner()
    app = _app()

    def invoke(*args: str, lang: str = "en_US.UTF-8", input: str | None = None) -> Result:
        env = {"ANSHIN_DATABASE_URL": db_url, "LANG": lang, "LC_ALL": "", "LC_MESSAGES": ""}
        return runner.invoke(app, list(args), env=env, input=input)

    return invoke


def _versions(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(
            session.scalar(select(func.count()).select_from(models.MessageTemplateVersion)) or 0
        )


def test_show_prints_the_file_format_and_list_shows_defaults(run: Any) -> None:
    shown = run("template", "show", "first_notice", "ja", "email")
    assert shown.exit_code == 0, shown.output
    shipped = service.default_path("first_notice", "ja", "email").read_text("utf-8")
    assert shown.stdout.strip() == shipped.strip()
    listed = run("template", "list", "--format", "json")
    assert listed.exit_code == 0
    templates = json.loads(listed.stdout)["templates"]
    assert len(templates) == 64 and {t["version"] for t in templates} == {0}


def test_edit_from_a_file_then_versions_and_restore(
    run: Any, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    folder = tmp_path / "ja"
    folder.mkdir()
    draft = folder / "update.email.txt"
    draft.write_text(
        "件名: 【続報】{{ title }}\n\n"
        "{{ components_text }}の障害について、引き続き対応しております。\n"
        "ご不便をおかけし申し訳ございません。\n"
        "次回は{{ next_update_at }}までにお知らせいたします。\n",
        encoding="utf-8",
    )
    saved = run("template", "edit", str(draft), "--note", "短くした", lang="ja_JP.UTF-8")
    assert saved.exit_code == 0, saved.output
    assert "update/ja/email を第 1 版として保存しました。" in saved.stdout
    same = run("template", "edit", str(draft))
    assert same.exit_code == 0 and "nothing was saved" in same.stdout
    shown = run("template", "show", "update", "ja", "email", "--format", "json")
    data = json.loads(shown.stdout)
    assert data["version"] == 1 and data["subject"] == "【続報】{{ title }}"
    assert data["created_by"].startswith("cli:") and data["note"] == "短くした"
    versions = json.loads(
        run("template", "versions", "update", "ja", "email", "--format", "json").stdout
    )
    assert [v["version"] for v in versions["versions"]] == [1, 0]
    back = run("template", "restore", "update", "ja", "email", "0")
    assert back.exit_code == 0 and "Saved version 2 of update/ja/email." in back.stdout
    old = run("template", "show", "update", "ja", "email", "--version", "1")
    assert old.stdout.startswith("件名: 【続報】{{ title }}\n")
    assert _versions(sessions) == 2


def test_refusals_exit_1_and_save_nothing(
    run: Any, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    broken = tmp_path / "first_notice.ja.status_page.txt"
    broken.write_text("一行目\n二行目 {{ title ", encoding="utf-8")
    result = run("template", "edit", str(broken), lang="ja_JP.UTF-8")
    assert result.exit_code == 1
    assert "2 行目に書き方の誤りがあります" in result.stderr
    unknown = tmp_path / "first_notice.en.status_page.txt"
    unknown.write_text("Sorry. {{ titel }}", encoding="utf-8")
    result = run("template", "edit", str(unknown))
    assert result.exit_code == 1
    assert "unknown variable: titel" in result.stderr
    no_subject = tmp_path / "update.en.email.txt"
    no_subject.write_text("Body without a subject line", encoding="utf-8")
    result = run("template", "edit", str(no_subject))
    assert result.exit_code == 1 and "Subject:" in result.stderr
    assert run("template", "restore", "update", "ja", "email", "7").exit_code == 1
    assert _versions(sessions) == 0


def test_wrong_usage_exits_2(run: Any, tmp_path: Path) -> None:
    result = run("template", "show", "apology", "ja", "email")
    assert result.exit_code == 2 and "first_notice" in result.output
    assert run("template", "show", "update", "fr", "email").exit_code == 2
    assert run("template", "show", "inquiry_ack", "ja", "status_page").exit_code == 2
    nameless = tmp_path / "draft.txt"
    nameless.write_text("x", encoding="utf-8")
    result = run("template", "edit", str(nameless))
    assert result.exit_code == 2 and "--kind" in result.output
    assert run("template", "edit", str(tmp_path / "ja" / "update.email.txt")).exit_code == 2
    latin1 = tmp_path / "update.ja.short.txt"
    latin1.write_bytes("caf\xe9".encode("latin-1"))
    assert run("template", "edit", str(latin1)).exit_code == 2


def test_render_with_an_incident(
    run: Any, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session:
        components.add_component(session, "決済", name_en="Payments", actor="test")
        incident = incident_service.declare(
            session,
            settings,
            incident_service.IncidentInput(
                title="決済できない障害",
                severity="sev1",
                components=["決済"],
                workaround="銀行振込をご利用いただけます。",
            ),
            actor="test",
        )
        session.commit()
        reference = incident.reference
    result = run("template", "render", "first_notice", "ja", "short", "--incident", reference)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("【anshin】決済がご利用いただけない状態です。")
    assert "of 140 characters" in result.stderr
    as_json = json.loads(
        run(
            "template",
            "render",
            "first_notice",
            "ja",
            "email",
            "--incident",
            reference,
            "--format",
            "json",
        ).stdout
    )
    assert "■ 回避策：銀行振込をご利用いただけます。" in as_json["text"]
    assert not [f for f in as_json["findings"] if f["severity"] == "error"]
    missing = run("template", "render", "update", "ja", "email", "--incident", "INC-1999-0001")
    assert missing.exit_code == 1
