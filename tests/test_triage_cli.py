"""``anshin triage`` on real SQLite and PostgreSQL with open incidents (issue 8 §3, §8)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from anshin.cli import app
from anshin.inquiries.triage import Triager
from anshin.inquiries.triage_cli import parse_line, triage_stream
from triage_world import add_incidents


@pytest.fixture
def run(db_url: str, sessions: sessionmaker[Session]) -> Any:
    with sessions() as session:
        add_incidents(session)
        session.commit()
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, lang: str = "en_US.UTF-8") -> Result:
        env = {"ANSHIN_DATABASE_URL": db_url, "LANG": lang, "LC_ALL": "", "LC_MESSAGES": ""}
        return runner.invoke(app, ["triage", *args], env=env, input=input)

    return invoke


LINES = [
    {"id": "a", "text": "ログインできません。AUTH-503 と出ます", "customer_tier": "standard"},
    {"id": 7, "text": "二重請求されてる！！返金しろ😡", "customer_tier": "important"},
    {"id": "c", "text": "請求書の送付先を変えたいです", "received_at": "2026-06-01T10:00:00+09:00"},
]


def _jsonl(rows: list[Any]) -> str:
    return "".join(
        (r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows
    )


def test_prints_one_json_line_per_input(run: Any) -> None:
    result = run(input=_jsonl(LINES))
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", 7, "c"]
    keys = {"id", "incident", "intent", "level", "temperature", "harassment", "reasons"}
    assert all(set(o) == keys | {"suggested_template"} for o in out)
    assert out[0]["incident"] == "INC-2026-0101"
    assert out[1]["incident"] == "INC-2026-0102"
    assert out[1]["intent"] == "compensation_request" and out[1]["level"] == 3
    assert out[2]["incident"] is None  # the resolved upload incident is not a candidate
    assert all(1 <= o["level"] <= 3 and 0 <= o["temperature"] <= 3 for o in out)


def test_bad_lines_are_reported_with_their_number_and_the_rest_processed(
    run: Any, tmp_path: Path
) -> None:
    rows: list[Any] = [
        LINES[0],
        "{not json",
        {"id": "x"},
        ["a", "list"],
        {"id": "t", "text": "ログイン", "customer_tier": "vip"},
        {"id": "r", "text": "ログイン", "received_at": "yesterday"},
        {"id": True, "text": "ログイン"},
        {"id": "big", "text": "あ" * 50_001},
        "",
        LINES[2],
    ]
    path = tmp_path / "in.jsonl"
    data = _jsonl(rows).encode("utf-8") + '{"id": "l1", "text": "caf\xe9"}\n'.encode("latin-1")
    path.write_bytes(data + b'{"id": "nul", "text": "a\x00b"}\n' + _jsonl([LINES[1]]).encode())
    result = run(str(path))
    assert result.exit_code == 1
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["a", "c", 7]
    errors = result.stderr.splitlines()
    numbers = (2, 3, 4, 5, 6, 7, 8, 11, 12)
    assert [e.split(":")[0] for e in errors] == [f"Line {n}" for n in numbers]
    assert "not UTF-8" in errors[-2] and "NUL" in errors[-1]
    assert "not valid JSON" in errors[0]
    assert '"customer_tier" must be standard or important' in errors[3]


def test_japanese_messages_and_missing_file(run: Any, tmp_path: Path) -> None:
    result = run(input="{oops\n", lang="ja_JP.UTF-8")
    assert result.exit_code == 1
    assert result.stderr.startswith("1 行目")
    missing = run(str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 2
    assert "nope.jsonl" in missing.stderr and "Traceback" not in missing.output
    assert run("--format", "xml", input="").exit_code == 2


def test_streams_in_batches() -> None:
    """Lines are triaged batch by batch while reading: output grows before input ends."""
    seen: list[int] = []

    class Watching(io.StringIO):
        def write(self, s: str) -> int:
            seen.append(consumed[0])
            return super().write(s)

    consumed = [0]

    def lines() -> Any:
        for i in range(600):
            consumed[0] = i + 1
            yield json.dumps({"id": i, "text": "ログインできない"}) + "\n"

    out, err = Watching(), io.StringIO()
    done, bad = triage_stream(Triager([]), lines(), out, err)  # type: ignore[arg-type]
    assert (done, bad) == (600, 0)
    assert len(out.getvalue().splitlines()) == 600
    assert min(seen) < 600  # the first batch was written before the last line was read


def test_parse_line_accepts_defaults() -> None:
    assert parse_line('{"id": 1, "text": "x"}') == (1, "x", "standard")
    assert parse_line('{"id": "1", "text": "x", "customer_tier": null}')[2] == "standard"
