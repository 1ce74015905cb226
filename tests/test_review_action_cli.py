"""``anshin review note|action|actions`` (R31): the review's notes and prevention actions from the
terminal, through the services the console uses; bad values exit 2, refusals exit 1."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from anshin.cli import app
from anshin.config import Settings
from anshin.db import utcnow
from anshin.review.models import EffectCheck, PreventionAction, ReviewNote
from inquiry_world import incident, user


def test_notes_actions_checks_and_refixes_from_the_terminal(
    session: Session, settings: Settings
) -> None:
    on = incident(session, settings)
    user(session, "senior", "owner")
    session.commit()
    ref = on.reference
    env = {"ANSHIN_DATABASE_URL": settings.database_url, "ANSHIN_SECRET_KEY": settings.secret_key}
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, ["--lang", "ja", "review", *args], env=env)
        return result.exit_code, result.stdout, result.stderr

    today = utcnow().astimezone(ZoneInfo(settings.timezone)).date()
    due = (today + dt.timedelta(days=10)).isoformat()
    assert run("note", ref, "--kind", "went_well", "第一報が早かった")[0] == 0
    code, _out, err = run("note", ref, "--kind", "cause", "確認手順がなかった")
    assert code == 1 and "原因を分類してください" in err
    code, _out, err = run("note", ref, "--kind", "memo", "x")
    assert code == 2 and "went_well" in err
    assert (
        run("note", ref, "--kind", "cause", "--cause-class", "process", "確認手順がなかった")[0]
        == 0
    )

    code, _out, err = run(
        "action",
        "add",
        ref,
        "手順書を直す",
        "--owner",
        "owner@example.com",
        "--due-on",
        (today - dt.timedelta(days=1)).isoformat(),
    )
    assert code == 1 and "期限が過去の日付です" in err
    code, _out, err = run(
        "action",
        "add",
        ref,
        "手順書を直す",
        "--owner",
        "owner@example.com",
        "--due-on",
        "2030/01/01",
    )
    assert code == 2 and err.strip().startswith("--due-on") and len(err.strip().splitlines()) == 1
    code, _out, err = run(
        "action", "add", ref, "手順書を直す", "--owner", "nobody@example.com", "--due-on", due
    )
    assert code == 1
    code, out, _err = run(
        "action", "add", ref, "手順書を直す", "--owner", "owner@example.com", "--due-on", due
    )
    assert code == 0
    action_id = session.scalars(select(PreventionAction.id)).one()
    assert str(action_id) in out
    code, _out, err = run("action", "check", str(action_id), "--result", "effective")
    assert code == 1 and "完了後" in err
    assert run("action", "done", str(action_id))[0] == 0
    assert run("action", "done", str(action_id))[0] == 1
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    code, _out, err = run(
        "action", "check", str(action_id), "--result", "effective", "--checked-on", tomorrow
    )
    assert code == 1 and "未来" in err
    assert run("action", "check", str(action_id), "--result", "maybe")[0] == 2
    assert (
        run(
            "action",
            "refix",
            str(action_id),
            "二重に確認する",
            "--owner",
            "owner@example.com",
            "--due-on",
            due,
        )[0]
        == 1
    )
    code, _out, _err = run(
        "action", "check", str(action_id), "--result", "not_effective", "--note", "再発した"
    )
    assert code == 0
    code, out, _err = run(
        "action",
        "refix",
        str(action_id),
        "二重に確認する",
        "--owner",
        "owner@example.com",
        "--due-on",
        due,
    )
    assert code == 0
    assert run("action", "done", "999999")[0] == 1

    code, out, _err = run("actions", ref, "--format", "json")
    assert code == 0
    listed = json.loads(out)
    assert listed["incident"] == ref
    first, refix = listed["actions"]
    assert first["state"] == "not_effective" and first["checks"][0]["note"] == "再発した"
    assert refix["refix_of"] == first["id"] and refix["overdue"] is False
    code, out, _err = run("actions", ref)
    assert code == 0 and "手順書を直す" in out and "再発防止策" in out
    session.expire_all()
    assert len(session.scalars(select(ReviewNote)).all()) == 2
    assert session.scalar(select(EffectCheck.effective)) is False
