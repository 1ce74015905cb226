"""Output safety (issue 7): Slack texts arrive inert, CSV cells are never formulas, a CSV
field over 128 KiB refuses the whole file, unknown API fields are refused — on real
SQLite and PostgreSQL, through the CLI and the API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from anshin.config import Settings
from anshin.notify import csvio, models, rules, webhook
from anshin.notify.__main__ import app
from anshin.notify.models import Subscriber

assert models

HOSTILE = "<!channel> 至急 <https://phish.example|公式サイト> & <@U123> a>b"
TEXTS = {
    "ja": {"subject": "【障害】" + HOSTILE, "text": HOSTILE, "short": HOSTILE},
    "en": {"subject": "[Incident] " + HOSTILE, "text": HOSTILE},
}


def _body(fmt: str) -> dict[str, Any]:
    raw = webhook.body_for(
        fmt=fmt,
        delivery_id=7,
        message_id=3,
        kind="first_notice",
        locale="ja",
        created_at="2026-01-01T00:00:00+00:00",
        texts=TEXTS,
        component_ids=[],
        data={"url": "https://status.example.com/incidents/1?a=1&b=2"},
    )
    return dict(json.loads(raw))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_slack_payload_escapes_every_text_field() -> None:
    slack = _body("slack")
    texts = [s for s in _strings(slack) if s not in ("header", "section", "context")]
    texts = [s for s in texts if s not in ("plain_text", "mrkdwn")]
    assert texts
    link = "<https://status.example.com/incidents/1?a=1&amp;b=2>"
    for text in texts:
        if text == link:  # the only markup: anshin's own link to the incident
            continue
        assert "<" not in text and ">" not in text, text
        assert "&" not in text.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")
    assert "&lt;!channel&gt;" in slack["text"]
    assert "&lt;https://phish.example|公式サイト&gt;" in slack["blocks"][1]["text"]["text"]
    assert slack["blocks"][0]["text"]["text"].startswith("【障害】&lt;!channel&gt;")


def test_anshin_json_keeps_the_text_as_written() -> None:
    plain = _body("anshin")
    assert plain["text"] == HOSTILE
    assert plain["texts"]["en"]["text"] == HOSTILE
    assert plain["subject"] == "【障害】" + HOSTILE


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_a_spreadsheet_would_run_are_kept_text(prefix: str) -> None:
    value = prefix + 'HYPERLINK("https://evil.example")'
    assert rules.csv_cell(value) == "'" + value
    assert rules.csv_uncell(rules.csv_cell(value)) == value
    assert rules.csv_cell("ok@example.com") == "ok@example.com"
    assert rules.csv_uncell("'plain") == "'plain"  # a mark anshin did not add stays


@pytest.fixture
def run(settings: Settings) -> Any:
    runner = CliRunner()

    def invoke(*args: str, lang: str = "en_US.UTF-8") -> Result:
        env = {
            "ANSHIN_DATABASE_URL": settings.database_url,
            "ANSHIN_SECRET_KEY": settings.secret_key,
            "LANG": lang,
            "LC_ALL": "",
            "LC_MESSAGES": "",
        }
        return runner.invoke(app, list(args), env=env)

    return invoke


def test_export_neutralises_formulas_and_import_reads_them_back(
    run: Any, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session:
        from anshin.incidents import components

        components.add_component(session, "=SUM(A1)", actor="t", name_en="-Payments")
        session.commit()
    source = tmp_path / "in.csv"
    source.write_text(
        "email,locale,components,status\n"
        "-dash@example.com,ja,'=SUM(A1),active\n"
        "=cmd@example.com,en,,active\n"
        "plain@example.com,ja,,pending\n",
        encoding="utf-8",
    )
    assert run("subscribers", "import", str(source)).exit_code == 0
    out = tmp_path / "out.csv"
    assert run("subscribers", "export", "--output", str(out)).exit_code == 0
    exported = out.read_text(encoding="utf-8")
    import csv
    import io

    cells = [c for row in csv.reader(io.StringIO(exported)) for c in row]
    for cell in cells:
        assert not cell.startswith(rules.CSV_FORMULA_PREFIXES), cell
    assert "'-dash@example.com" in cells and "'=cmd@example.com" in cells
    assert "'=SUM(A1)" in cells
    # The exported file imports back unchanged (the marks come off).
    again = run("subscribers", "import", str(out))
    assert again.exit_code == 0, again.output
    assert "0 new, 0 updated, 3 unchanged" in again.output


def test_a_field_over_128_kib_refuses_the_file_on_the_cli(
    run: Any, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    big = tmp_path / "big.csv"
    big.write_text(
        "email,locale,components,status\n"
        "first@example.com,ja,,active\n"
        "ok@example.com,ja," + "x" * (129 * 1024) + ",active\n",
        encoding="utf-8",
    )
    result = run("subscribers", "import", str(big))
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Line 3: a field is longer than 128 KiB. Nothing was imported."
    ]
    ja = run("subscribers", "import", str(big), lang="ja_JP.UTF-8")
    assert ja.exit_code == 2 and "128 KiB を超える項目" in ja.output
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 0
    assert csvio.FIELD_MAX_KIB == 128
