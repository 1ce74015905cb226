"""``anshin incident|component|maintenance`` on real SQLite and PostgreSQL.

Exit codes: 0 done, 1 refused (message on stderr in the terminal's language),
2 used wrongly. A refusal leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from anshin.cli import app
from anshin.events import Event
from anshin.incidents.models import Component, Incident, IncidentUpdate
from notice_texts import RESOLUTION_JA, notice_en, notice_ja

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def run(db_url: str) -> Any:
    runner = CliRunner()

    def invoke(*args: str, lang: str = "en_US.UTF-8", input: str | None = None) -> Result:
        env = {"ANSHIN_DATABASE_URL": db_url, "LANG": lang, "LC_ALL": "", "LC_MESSAGES": ""}
        return runner.invoke(app, list(args), env=env, input=input)

    return invoke


@pytest.fixture
def components(run: Any) -> None:
    for name, group, name_en in (("ログイン", "認証", "Login"), ("決済", "決済", "Payments")):
        result = run("component", "add", name, "--group", group, "--name-en", name_en)
        assert result.exit_code == 0, result.output


def state(sessions: sessionmaker[Session]) -> tuple[Any, ...]:
    with sessions() as session:
        rows = session.execute(
            select(
                Incident.reference,
                Incident.title,
                Incident.status,
                Incident.severity,
                Incident.estimated_affected_customers,
                Incident.updated_at,
            )
        ).all()
        return (
            rows,
            session.scalar(select(func.count()).select_from(IncidentUpdate)),
            session.scalar(select(func.count()).select_from(Event)),
            session.execute(select(Component.name, Component.status)).all(),
        )


def declare(run: Any, *extra: str) -> dict[str, Any]:
    result = run(
        "incident", "declare", "--title", "ログインできない障害", "--severity", "sev2",
        "--component", "ログイン", "--format", "json", *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_components_add_and_list(run: Any, components: None) -> None:
    listed = run("component", "list", "--format", "json")
    assert listed.exit_code == 0
    data = json.loads(listed.stdout)["components"]
    assert [(c["name"], c["name_en"], c["group"], c["status"]) for c in data] == [
        ("ログイン", "Login", "認証", "operational"),
        ("決済", "Payments", "決済", "operational"),
    ]
    table = run("component", "list", lang="ja_JP.UTF-8")
    assert "グループ" in table.stdout and "ログイン" in table.stdout
    again = run("component", "add", "ログイン", lang="ja_JP.UTF-8")
    assert again.exit_code == 1
    assert again.stderr.strip() == "同じ名前のコンポーネントがすでにあります: ログイン"


def test_declare_with_every_field_prints_the_stored_record(
    run: Any, components: None, sessions: sessionmaker[Session]
) -> None:
    started = (dt.datetime.now(TOKYO) - dt.timedelta(hours=1)).replace(second=0, microsecond=0)
    recovery = started + dt.timedelta(hours=4)
    data = declare(
        run,
        "--title-en", "Some customers cannot sign in",
        "--summary", "一部のお客様がログインできません。",
        "--summary-en", "Some customers cannot sign in.",
        "--component", "決済",
        "--impact", "major_outage",
        "--started-at", started.replace(tzinfo=None).isoformat(timespec="minutes"),
        "--detected-at", (started + dt.timedelta(minutes=5)).isoformat(),
        "--affected-customers", "1200",
        "--recovery-at", recovery.isoformat(),
        "--recovery-unconfirmed",
        "--cause", "認証サーバーの証明書期限切れ",
        "--cause-confirmed",
        "--workaround", "アプリからはログインできます。",
        "--workaround-en", "The app still signs in.",
        "--internal-notes", "担当: 認証チーム",
    )  # fmt: skip
    assert data["title_en"] == "Some customers cannot sign in"
    assert data["summary_en"] == "Some customers cannot sign in."
    assert {(c["name"], c["impact"]) for c in data["components"]} == {
        ("ログイン", "major_outage"),
        ("決済", "major_outage"),
    }
    assert dt.datetime.fromisoformat(data["started_at"]) == started
    assert data["started_at"].endswith("+09:00")
    assert dt.datetime.fromisoformat(data["detected_at"]) == started + dt.timedelta(minutes=5)
    assert data["estimated_affected_customers"] == 1200
    assert dt.datetime.fromisoformat(data["estimated_recovery_at"]) == recovery
    assert data["recovery_confirmed"] is False
    assert data["cause"] == "認証サーバーの証明書期限切れ" and data["cause_confirmed"] is True
    assert data["workaround"] == "アプリからはログインできます。"
    assert data["workaround_en"] == "The app still signs in."
    assert data["internal_notes"] == "担当: 認証チーム"
    assert data["due"]["kind"] == "first_notice" and data["due"]["overdue"] is False
    with sessions() as session:
        event = session.scalars(select(Event).where(Event.action == "incident.declared")).one()
        assert event.actor == f"cli:{getpass.getuser()}"
        assert data["created_by"] == event.actor


def test_update_resolve_and_refusals(
    run: Any, components: None, sessions: sessionmaker[Session]
) -> None:
    ref = declare(run)["reference"]
    soon = (dt.datetime.now(TOKYO) + dt.timedelta(minutes=40)).replace(second=0, microsecond=0)
    first = run(
        "incident", "update", ref,
        "--body-ja", notice_ja("ログインできない事象が発生しております。", next_at=f"{soon:%H:%M}"),
        "--body-en", notice_en("Some customers cannot sign in.", next_at=f"{soon:%H:%M}"),
        "--next-update-at", soon.replace(tzinfo=None).isoformat(), "--format", "json",
    )  # fmt: skip
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert data["updates"][-1]["kind"] == "first_notice"
    assert dt.datetime.fromisoformat(data["next_update_at"]) == soon
    internal = run(
        "incident", "update", ref, "--body-ja", "社内向けメモ", "--internal",
        "--status", "identified", "--format", "json",
    )  # fmt: skip
    assert internal.exit_code == 0, internal.output
    data = json.loads(internal.stdout)
    assert data["updates"][-1]["audience"] == "internal" and data["status"] == "identified"
    no_news = run("incident", "update", ref, "--no-news", "--format", "json")
    assert no_news.exit_code == 0, no_news.output
    last = json.loads(no_news.stdout)["updates"][-1]
    assert last["kind"] == "no_news_update" and "引き続き" in last["body_ja"]
    assert last["body_en"].startswith("We are still working")
    shown = run("incident", "show", ref, lang="ja_JP.UTF-8")
    assert shown.exit_code == 0
    assert (
        ref in shown.stdout
        and "次の連絡期限" in shown.stdout
        and "推定影響顧客数" not in shown.stdout
    )
    resolved = run("incident", "resolve", ref, "--body-ja", RESOLUTION_JA, "--format", "json")
    assert resolved.exit_code == 0, resolved.output
    assert json.loads(resolved.stdout)["status"] == "resolved"
    before = state(sessions)
    late = run("incident", "update", ref, "--body-ja", "追加", lang="ja_JP.UTF-8")
    assert late.exit_code == 1
    assert late.stderr.strip() == "このインシデントはすでに復旧済みのため、これ以上更新できません。"
    assert "Traceback" not in late.output
    english = run("incident", "resolve", ref, "--body-ja", "再度")
    assert english.exit_code == 1
    assert english.stderr.strip() == "This incident is already resolved; it takes no more updates."
    forced = run("--lang", "en", "incident", "update", ref, "--body-ja", "x", lang="ja_JP.UTF-8")
    assert forced.stderr.strip() == "This incident is already resolved; it takes no more updates."
    assert state(sessions) == before


def test_bad_input_is_refused_and_changes_nothing(
    run: Any, components: None, sessions: sessionmaker[Session]
) -> None:
    ref = declare(run)["reference"]
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    refused: list[tuple[tuple[str, ...], str]] = [
        (("incident", "declare", "--title", "障害", "--severity", "sev9"),
         "--severity: 不明な重大度です: sev9。sev1、sev2、sev3 のいずれかを指定してください。"),
        (("incident", "declare", "--title", "あ" * 201, "--severity", "sev1"),
         "--title: 長すぎます。200 文字以内で入力してください。"),
        (("incident", "declare", "--title", "障害", "--severity", "sev1", "-c", "無い"),
         "--component: 存在しないコンポーネントです: 無い"),
        (("incident", "declare", "--title", "障害", "--severity", "sev1",
          "--affected-customers", "-3"),
         "--affected-customers: 推定影響顧客数は 0 以上で入力してください。"),
        (("incident", "update", ref, "--body-en", "English only"), "--body-ja: 必須項目です。"),
        (("incident", "update", ref, "--body-ja", "続報", "--next-update-at", past),
         "--next-update-at: 次回更新予定は現在より後の日時にしてください。"),
        (("incident", "update", ref, "--body-ja", "続報", "--status", "fixed"),
         "--status: 不明な状態です: fixed。investigating（調査中）、identified（原因特定）、"
         "monitoring（経過観察）、resolved（復旧）のいずれかを指定してください。"),
        (("incident", "show", "INC-1999-0001"), "該当するインシデントがありません: INC-1999-0001"),
        (("incident", "edit", ref, "--severity", "urgent"),
         "--severity: 不明な重大度です: urgent。sev1、sev2、sev3 のいずれかを指定してください。"),
    ]  # fmt: skip
    before = state(sessions)
    for args, message in refused:
        result = run(*args, lang="ja_JP.UTF-8")
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.strip() == message, args
        assert result.stdout == ""
        assert state(sessions) == before, args
    usage: list[tuple[str, ...]] = [
        ("incident", "declare", "--severity", "sev1"),
        ("incident", "declare", "--title", "障害", "--severity", "sev1", "--started-at", "昨日"),
        ("incident", "list", "--format", "xml"),
        ("incident", "list", "--status", "later"),
        ("incident", "update", ref, "--body-ja", "x", "--next-update-at", "soon"),
        (
            "incident",
            "declare",
            "--title",
            "障害",
            "--severity",
            "sev1",
            "--affected-customers",
            "many",
        ),
        ("incident", "frobnicate"),
        ("--lang", "fr", "incident", "list"),
    ]
    for args in usage:
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
        assert state(sessions) == before, args
    bad_time = run(
        "incident", "declare", "--title", "x", "--severity", "sev1", "--started-at", "昨日"
    )
    assert "ISO 8601" in bad_time.stderr


def test_edit_keeps_what_is_not_given(run: Any, components: None) -> None:
    recovery = (dt.datetime.now(TOKYO) + dt.timedelta(hours=3)).replace(microsecond=0)
    ref = declare(
        run,
        "--affected-customers",
        "100",
        "--recovery-at",
        recovery.isoformat(),
        "--cause",
        "調査中",
    )["reference"]
    edited = run(
        "incident", "edit", ref, "--affected-customers", "2500", "--recovery-at", "",
        "--component", "決済", "--format", "json",
    )  # fmt: skip
    assert edited.exit_code == 0, edited.output
    data = json.loads(edited.stdout)
    assert data["estimated_affected_customers"] == 2500
    assert data["estimated_recovery_at"] is None
    assert data["cause"] == "調査中"
    assert [c["name"] for c in data["components"]] == ["決済"]
    assert data["title"] == "ログインできない障害"
    cleared = run("incident", "edit", ref, "--cause", "", "--format", "json")
    assert json.loads(cleared.stdout)["cause"] is None


def test_list_filters_and_text_output(run: Any, components: None) -> None:
    first = declare(run)["reference"]
    second = declare(run, "--title", "決済の障害")["reference"]
    assert run("incident", "resolve", first, "--body-ja", RESOLUTION_JA).exit_code == 0
    open_only = json.loads(run("incident", "list", "--status", "open", "--format", "json").stdout)
    assert [i["reference"] for i in open_only["incidents"]] == [second]
    resolved = json.loads(
        run("incident", "list", "--status", "resolved", "--format", "json").stdout
    )
    assert [i["reference"] for i in resolved["incidents"]] == [first]
    table = run("incident", "list")
    assert table.exit_code == 0
    assert first in table.stdout and second in table.stdout and "Next due" in table.stdout


def test_maintenance_commands(run: Any, components: None) -> None:
    start = (dt.datetime.now(TOKYO) + dt.timedelta(days=7)).replace(
        hour=2, minute=0, second=0, microsecond=0
    )
    created = run(
        "maintenance", "schedule", "--title", "決済の定期メンテナンス",
        "--start", start.replace(tzinfo=None).isoformat(),
        "--end", (start + dt.timedelta(hours=2)).isoformat(),
        "-c", "決済", "--body", "メンテナンスを実施いたします。", "--format", "json",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    window = json.loads(created.stdout)
    assert dt.datetime.fromisoformat(window["scheduled_start"]) == start
    ref = window["reference"]
    skipped = run("maintenance", "status", ref, "verifying")
    assert skipped.exit_code == 1
    assert skipped.stderr.strip() == "Maintenance cannot go from scheduled to verifying."
    assert run("maintenance", "status", ref, "in_progress").exit_code == 0
    statuses = json.loads(run("component", "list", "--format", "json").stdout)["components"]
    assert {c["name"]: c["status"] for c in statuses}["決済"] == "under_maintenance"
    listed = run("maintenance", "list")
    assert ref in listed.stdout
    backwards = run(
        "maintenance", "schedule", "--title", "x", "--start", "2030-01-02T10:00",
        "--end", "2030-01-02T09:00",
    )  # fmt: skip
    assert backwards.exit_code == 1
    assert backwards.stderr.strip() == "--end: The end must be after the start."


def test_a_bare_clock_time_means_today_in_the_team_zone() -> None:
    from anshin.cliutil import parse_time
    from anshin.config import Settings

    settings = Settings(timezone="Asia/Tokyo")
    parsed = parse_time("9:05", settings, "--next-update-at")
    assert parsed is not None and parsed.tzinfo is not None
    local = parsed.astimezone(TOKYO)
    assert (local.hour, local.minute) == (9, 5)
    assert local.date() == dt.datetime.now(TOKYO).date()
    for bad in ("25:00", "9:5", "soon", "١:05"):
        with pytest.raises(Exception) as info:
            parse_time(bad, settings, "--next-update-at")
        # Bad input (exit 2, one line naming the option), by the API's rules (anshin.inputs).
        assert type(info.value).__name__ == "BadInput"
        assert getattr(info.value, "field", None) == "--next-update-at"
