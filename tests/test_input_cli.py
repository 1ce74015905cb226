"""Hostile arguments for every ``anshin`` command: exit 2, one line on stderr, nothing changed.

The commands are walked from the Typer app, so a new command or option that is
not listed here fails :func:`test_every_command_and_option_is_fuzzed`. Each
option gets the hostile values of its kind one at a time, the other options
valid: bytes that are not UTF-8 (Python reads them as lone surrogates), NUL,
times in year 1 and 9999 or as epoch numbers, ids past 2**63-1 or written in
other scripts' digits, files with a NUL (issue 7).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from anshin.cli import app
from anshin.config import Settings
from anshin.i18n import translate
from anshin.inputs import SURROGATE_MSGID
from input_world import World, build, digest

SOON = (dt.datetime.now() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")  # a valid due time
DUE_ON = (dt.date.today() + dt.timedelta(days=30)).isoformat()  # a prevention action's due day
TEXT = ("\udcff", "a\x00b")  # not UTF-8 on the command line; NUL
TIME = (*TEXT, "0001-01-01T00:00", "9999-12-31T23:59-12:00", "1700000000", "1900-01-01T00:00")
REF = (*TEXT, "²", "١٢", str(2**63))
ID = (*REF, "0", "-1")
COUNT = (*TEXT, "²", str(2**63), "-1")
INTEGER = (*TEXT, "²", "١٢", "x")
CHOICE = (*TEXT, "²")
KINDS: dict[str, tuple[str, ...]] = {
    "text": TEXT,
    "time": TIME,
    "ref": REF,
    "id": ID,
    "count": COUNT,
    "integer": INTEGER,
    "choice": CHOICE,
}
FORMAT = {"fmt": "choice"}
DEPARTMENT_OPTIONS = {
    name: "text"
    for name in ("name_ja", "name_en", "email", "locale", "webhook", "intent", "component", "tier")
}
INCIDENT_FACTS = {
    "title": "text",
    "severity": "text",
    "title_en": "text",
    "summary": "text",
    "summary_en": "text",
    "component": "text",
    "impact": "text",
    "affected_customers": "integer",
    "recovery_at": "time",
    "cause": "text",
    "workaround": "text",
    "workaround_en": "text",
    "internal_notes": "text",
    **FORMAT,
}
TEMPLATE_KEY = {"kind": "choice", "locale": "choice", "channel": "choice"}


def commands(
    world: World, files: dict[str, str]
) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
    """Per command: valid values for what it requires, and the kind of every option it takes.

    Flags take no value and are left out; ``file`` and ``output`` kinds get
    files (a NUL inside, not UTF-8, missing) and places that cannot be written.
    """
    key = {"kind": "update", "locale": "ja", "channel": "email"}
    return {
        "component add": (
            {"name": "新しい部品"},
            {"name": "text", "group": "text", "name_en": "text", "description": "text", **FORMAT},
        ),
        "component list": ({}, FORMAT),
        "db current": ({}, {}),
        "db downgrade": ({"revision": "base"}, {"revision": "ref"}),
        "db revision": ({"message": "x"}, {"message": "text"}),
        "db upgrade": ({"revision": "head"}, {"revision": "ref"}),
        "deliveries retry": (
            {"delivery_id": str(world.delivery_id)},
            {"delivery_id": "id", "message_id": "id"},
        ),
        "deliveries status": ({"message_id": str(world.message_id)}, {"message_id": "id"}),
        "deliveries sweep": ({}, {}),
        "demo": ({"inquiries": "0"}, {"inquiries": "count"}),
        "incident declare": (
            {"title": "障害", "severity": "sev3"},
            {**INCIDENT_FACTS, "started_at": "time", "detected_at": "time"},
        ),
        "incident edit": ({"ref": world.incident}, {"ref": "ref", **INCIDENT_FACTS}),
        "incident list": ({}, {"status": "choice", **FORMAT}),
        "incident resolve": (
            {"ref": world.to_resolve, "body_ja": "復旧しました。"},
            {
                "ref": "ref",
                "body_ja": "text",
                "body_en": "text",
                "override_reason": "text",
                "resolved_at": "time",
                "report_due_at": "time",
                **FORMAT,
            },
        ),
        "incident reopen": (
            {"ref": world.to_resolve},
            {
                "ref": "ref",
                "body_ja": "text",
                "body_en": "text",
                "status": "text",
                "next_update_at": "time",
                "override_reason": "text",
                **FORMAT,
            },
        ),
        "incident report": (
            {"ref": world.to_resolve},
            {
                "ref": "ref",
                "body_ja": "text",
                "body_en": "text",
                "override_reason": "text",
                **FORMAT,
            },
        ),
        "incident times": (
            {"ref": world.incident, "started_at": "2020-01-01T00:00"},
            {"ref": "ref", "started_at": "time", "resolved_at": "time", **FORMAT},
        ),
        "incident show": ({"ref": world.incident}, {"ref": "ref", **FORMAT}),
        "review metrics": ({"ref": world.incident}, {"ref": "ref", **FORMAT}),
        "review timeline": ({"ref": world.incident}, {"ref": "ref", **FORMAT}),
        "review gaps": ({"ref": world.incident}, {"ref": "ref", **FORMAT}),
        "review summary": (
            {},
            {"start": "time", "end": "time", "component": "text", "severity": "text", **FORMAT},
        ),
        "review report": (
            {"ref": world.incident},
            {
                "ref": "ref",
                "kind": "choice",
                "fmt": "choice",
                "output": "output",
                "lang": "choice",
                "changes": "text",
                "reflection": "text",
                "changes_en": "text",
                "reflection_en": "text",
            },
        ),
        "review publish": (
            {
                "ref": world.incident,
                "changes": "手順を改めます。",
                "reflection": "反省しています。",
            },
            {
                "ref": "ref",
                "changes": "text",
                "reflection": "text",
                "changes_en": "text",
                "reflection_en": "text",
                "override_reason": "text",
            },
        ),
        "review followups": ({"ref": world.incident}, {"ref": "ref", **FORMAT}),
        "review note": (
            {"ref": world.incident, "text": "手順書に確認がなかった", "kind": "cause"},
            {"ref": "ref", "text": "text", "kind": "choice", "cause_class": "choice"},
        ),
        "review actions": ({"ref": world.incident}, {"ref": "ref", **FORMAT}),
        "review action add": (
            {
                "ref": world.incident,
                "title": "手順書を直す",
                "owner": "admin@example.com",
                "due_on": DUE_ON,
            },
            {"ref": "ref", "title": "text", "owner": "text", "due_on": "time"},
        ),
        "review action done": ({"action_id": str(world.action_id)}, {"action_id": "id"}),
        "review action check": (
            {"action_id": str(world.done_action_id), "result": "effective"},
            {"action_id": "id", "result": "choice", "checked_on": "time", "note": "text"},
        ),
        "review action refix": (
            {
                "action_id": str(world.failed_action_id),
                "title": "監視を足す",
                "owner": "admin@example.com",
                "due_on": DUE_ON,
            },
            {"action_id": "id", "title": "text", "owner": "text", "due_on": "time"},
        ),
        "incident update": (
            {"ref": world.incident, "body_ja": "続報です。"},
            {
                "ref": "ref",
                "body_ja": "text",
                "body_en": "text",
                "status": "text",
                "next_update_at": "time",
                "override_reason": "text",
                **FORMAT,
            },
        ),
        "inquiry reply-all": (
            {"ref": world.incident, "file": files["good"]},
            {
                "ref": "ref",
                "file": "file",
                "file_en": "file",
                "intent": "choice",
                "channel": "choice",
                "override_reason": "text",
                **FORMAT,
            },
        ),
        "lint": (
            {"kind": "update", "path": files["good"]},
            {"kind": "choice", "locale": "choice", "format": "choice", "path": "file"},
        ),
        "maintenance list": ({}, FORMAT),
        "maintenance schedule": (
            {"title": "メンテナンス", "start": "2030-01-01T02:00", "end": "2030-01-01T04:00"},
            {
                "title": "text",
                "start": "time",
                "end": "time",
                "body": "text",
                "title_en": "text",
                "body_en": "text",
                "component": "text",
                **FORMAT,
            },
        ),
        "maintenance status": (
            {"ref": world.maintenance, "status": "in_progress"},
            {"ref": "ref", "status": "text", **FORMAT},
        ),
        "serve": ({}, {"host": "text", "port": "integer"}),
        "mail-in": ({}, {"host": "text", "port": "integer"}),
        # A file's contents are judged as mail (a failed import, exit 1); its path as input.
        "inquiry import": ({"path": files["good"]}, {"path": "path"}),
        # Not JSON, or a file a rule refuses: exit 2 naming the JSON path (review.history_cli).
        "incident import": ({"file": files["good"]}, {"file": "file"}),
        "triage": (
            {"file": files["good"]},
            {"file": "file", "output_format": "choice", "encoder": "choice"},
        ),
        "status export": ({"directory": files["dir"]}, {"directory": "output"}),
        "subscribers add-webhook": (
            {"url": "https://93.184.215.14/hook"},
            {"url": "text", "fmt": "choice", "locale": "choice", "component": "id"},
        ),
        "subscribers export": ({"output": files["csv_out"]}, {"output": "output"}),
        "subscribers import": ({"path": files["csv"]}, {"path": "file"}),
        "template edit": (
            {"path": files["good"], **key},
            {"path": "file", **TEMPLATE_KEY, "note": "text", "override_reason": "text"},
        ),
        "template list": ({}, {"format": "choice"}),
        "template render": (
            key,
            {
                **TEMPLATE_KEY,
                "incident": "ref",
                "maintenance": "ref",
                "customer_name": "text",
                "inquiry": "text",
                "reply_by": "time",
                "file": "file",
                "format": "choice",
            },
        ),
        "template restore": ({**key, "version": "0"}, {**TEMPLATE_KEY, "version": "count"}),
        "template show": (key, {**TEMPLATE_KEY, "version": "count", "format": "choice"}),
        "template versions": (key, {**TEMPLATE_KEY, "format": "choice"}),
        "token create": (
            {"user": "admin@example.com", "name": "ci"},
            {"user": "text", "name": "text", "expires_in_days": "count", **FORMAT},
        ),
        "token revoke": ({"token_id": str(world.token_id)}, {"token_id": "id"}),
        "user add": (
            {"email": "new@example.com", "name": "New", "role": "operator", "password": "x" * 12},
            {
                "email": "text",
                "name": "text",
                "role": "text",
                "password": "text",
                "locale": "text",
                **FORMAT,
            },
        ),
        "user list": ({}, FORMAT),
        "user role": (
            {"email": "agent@example.com", "role": "senior"},
            {"email": "text", "role": "text"},
        ),
        "user deactivate": ({"email": "agent@example.com"}, {"email": "text"}),
        "user activate": ({"email": "agent@example.com"}, {"email": "text"}),
        "user password": (
            {"email": "agent@example.com", "password": "x" * 12},
            {"email": "text", "password": "text"},
        ),
        "worker": ({}, {"workers": "integer"}),
        "inquiry list": (
            {},
            {
                "level": "text",
                "view": "text",
                "incident": "text",
                "intent": "text",
                "channel": "text",
                "as_user": "text",
                "page": "text",
                **FORMAT,
            },
        ),
        "inquiry show": ({"ref": world.inquiry}, {"ref": "ref", **FORMAT}),
        "inquiry claim": (
            {"ref": world.inquiry, "as_user": "admin@example.com"},
            {"ref": "ref", "as_user": "text"},
        ),
        "inquiry escalate": (
            {
                "ref": world.inquiry,
                "level": "2",
                "reason": "詳しい説明が必要",
                "as_user": "admin@example.com",
            },
            {"ref": "ref", "level": "text", "reason": "text", "as_user": "text"},
        ),
        "inquiry stage": (
            {"ref": world.inquiry, "target": "listening", "as_user": "admin@example.com"},
            {"ref": "ref", "target": "text", "note": "text", "as_user": "text"},
        ),
        "inquiry handoff": ({"ref": world.inquiry}, {"ref": "ref"}),
        "inquiry request": ({"ref": world.inquiry, "text": "返金"}, {"ref": "ref", "text": "text"}),
        "inquiry decide": (
            {"ref": world.inquiry, "request_id": str(world.request_id), "decision": "accepted"},
            {"ref": "ref", "request_id": "id", "decision": "text", "alternative": "text"},
        ),
        "inquiry commit": (
            {
                "ref": world.inquiry,
                "kind": "callback",
                "description": "折り返し",
                "due": SOON,
                "member": "admin@example.com",
            },
            {
                "ref": "ref",
                "kind": "text",
                "description": "text",
                "due": "time",
                "member": "text",
                "owner": "text",
                **FORMAT,
            },
        ),
        "inquiry kept": (
            {"ref": world.inquiry, "commitment_id": str(world.commitment_id)},
            {"ref": "ref", "commitment_id": "id"},
        ),
        "inquiry next": (
            {"ref": world.inquiry, "step": "報告", "due": SOON},
            {"ref": "ref", "step": "text", "due": "time"},
        ),
        "inquiry evidence": ({"ref": world.inquiry}, {"ref": "ref", **FORMAT}),
        "kb import": ({"path": files["good"]}, {"path": "path"}),
        "kb export": ({"path": files["dir"]}, {"path": "output"}),
        "kb search": (
            {"query": "障害"},
            {
                "query": "text",
                "kind": "choice",
                "limit": "integer",
                "locale": "choice",
                "format": "choice",
            },
        ),
        "kb synonyms import": ({"file": files["good"]}, {"file": "file"}),
        "kb synonyms export": ({"file": files["csv_out"]}, {"file": "output"}),
        "kb starter": ({}, {}),
        "kb reindex": ({}, {}),
        "inquiry hand-over": (
            {"ref": world.inquiry, "member": "admin@example.com"},
            {"ref": "ref", "member": "text"},
        ),
        # R21: departments and sharing an inquiry with them.
        "department add": (
            {"key": "ops", "name_ja": "運用部", "name_en": "Ops", "email": "ops@example.com"},
            {"key": "text", **DEPARTMENT_OPTIONS},
        ),
        "department edit": ({"key": world.department}, {"key": "text", **DEPARTMENT_OPTIONS}),
        "department list": ({}, FORMAT),
        "department disable": ({"key": world.department}, {"key": "text"}),
        "department enable": ({"key": world.department}, {"key": "text"}),
        "inquiry share": (
            {"ref": world.inquiry, "note": "確認をお願いします"},
            {"ref": "ref", "to": "text", "note": "text", **FORMAT},
        ),
    }


def _leaves(command: Any, path: tuple[str, ...] = ()) -> dict[str, Any]:
    if hasattr(command, "commands"):
        found: dict[str, Any] = {}
        for name, sub in command.commands.items():
            found.update(_leaves(sub, (*path, name)))
        return found
    return {" ".join(path): command}


def argv(command: Any, name: str, values: dict[str, str]) -> list[str]:
    """The command line: arguments in order, then options with their first spelling."""
    args = name.split()
    for param in command.params:
        if param.name in values and param.param_type_name == "argument":
            args.append(values[param.name])
    for param in command.params:
        if param.name in values and param.param_type_name == "option":
            args += [param.opts[0], values[param.name]]
    return args


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "good.txt").write_text("ただいま確認中です。", encoding="utf-8")
    (tmp_path / "nul.txt").write_text("件名: x\n\n本文\x00です。", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("café".encode("latin-1"))
    (tmp_path / "subscribers.csv").write_text("email,locale,components,status\n", encoding="utf-8")
    (tmp_path / "not-a-dir").write_text("x", encoding="utf-8")
    return {
        "good": str(tmp_path / "good.txt"),
        "nul": str(tmp_path / "nul.txt"),
        "latin1": str(tmp_path / "latin1.txt"),
        "missing": str(tmp_path / "missing.txt"),
        "csv": str(tmp_path / "subscribers.csv"),
        "csv_out": str(tmp_path / "out.csv"),
        "dir": str(tmp_path / "public"),
        "unwritable": str(tmp_path / "not-a-dir" / "below"),
    }


def hostile(kind: str, files: dict[str, str]) -> tuple[str, ...]:
    if kind == "file":
        return (*TEXT, files["nul"], files["latin1"], files["missing"])
    if kind == "path":
        return (*TEXT, files["missing"])
    if kind == "output":
        return (*TEXT, files["unwritable"])
    return KINDS[kind]


@pytest.fixture
def world(sessions: sessionmaker[Session], settings: Settings) -> World:
    return build(sessions, settings)


def test_every_command_and_option_is_fuzzed(world: World, files: dict[str, str]) -> None:
    table = commands(world, files)
    leaves = _leaves(typer.main.get_command(app))
    assert set(leaves) == set(table)
    for name, command in leaves.items():
        takes_values = {
            p.name for p in command.params if p.name != "help" and not getattr(p, "is_flag", False)
        }
        assert takes_values == set(table[name][1]), name


def test_hostile_arguments_exit_2_in_one_line(
    world: World,
    files: dict[str, str],
    settings: Settings,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runner = CliRunner()
    # The command tree is built once, not for each of the few hundred invocations.
    command = typer.main.get_command(app)
    monkeypatch.setattr("typer.testing._get_command", lambda _app: command)
    env = {
        "ANSHIN_DATABASE_URL": settings.database_url,
        # Set, as in a deployment: no generated key is stored by the first command.
        "ANSHIN_SECRET_KEY": settings.secret_key,
        "LANG": "en_US.UTF-8",
        "LC_ALL": "",
        "LC_MESSAGES": "",
    }
    leaves = _leaves(command)
    problems: list[str] = []
    invoked = 0
    for name, (base, kinds) in commands(world, files).items():
        before = digest(sessions)
        for param, kind in kinds.items():
            for value in hostile(kind, files):
                args = argv(leaves[name], name, {**base, param: value})
                result: Result = runner.invoke(app, args, env=env)
                invoked += 1
                case = f"anshin {name} {param}={value[:30]!r}"
                lines = result.stderr.strip().splitlines()
                if result.exit_code != 2:
                    problems.append(f"{case}: exit {result.exit_code}: {result.output[-300:]!r}")
                elif "Traceback" in result.output or len(lines) != 1 or result.stdout:
                    problems.append(f"{case}: not one line on stderr: {result.output[-300:]!r}")
        if digest(sessions) != before:
            problems.append(f"anshin {name}: refused, but the database changed")
    assert invoked > 200
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def test_bytes_that_are_not_utf8_in_a_real_terminal(settings: Settings, world: World) -> None:
    """The real path: the shell hands over bytes, Python decodes them with surrogateescape."""
    anshin = Path(sys.executable).parent / "anshin"
    env = {**os.environ, "ANSHIN_DATABASE_URL": settings.database_url, "LANG": "ja_JP.UTF-8"}
    result = subprocess.run(
        [anshin, "incident", "declare", "--title", b"\xff\xfe", "--severity", "sev1"],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == b""
    lines = result.stderr.decode("utf-8").strip().splitlines()
    surrogate = translate("ja", SURROGATE_MSGID)
    assert surrogate.startswith("有効な Unicode ではない文字")
    assert lines == [f"--title: {surrogate}"]


def test_times_printed_are_in_the_teams_zone(settings: Settings, tmp_path: Path) -> None:
    """As the API answers (docs/api.md): template versions in JSON and in the table."""
    runner = CliRunner()
    env = {"ANSHIN_DATABASE_URL": settings.database_url, "LANG": "ja_JP.UTF-8", "LC_ALL": ""}
    draft = tmp_path / "update.ja.short.txt"
    draft.write_text("{{ title }}: 対応中です。", encoding="utf-8")
    reason = ["--override-reason", "a test text, not a customer message"]
    assert runner.invoke(app, ["template", "edit", str(draft), *reason], env=env).exit_code == 0
    key = ["template", "versions", "update", "ja", "short"]
    listed = json.loads(runner.invoke(app, [*key, "--format", "json"], env=env).stdout)
    assert listed["versions"][0]["created_at"].endswith("+09:00")
    assert "(JST)" in runner.invoke(app, key, env=env).stdout
