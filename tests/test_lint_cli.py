"""``anshin lint`` from the terminal: output formats and the exit-code contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from anshin.comms.lint import EXTRA_DIR_ENV
from anshin.comms.lint_cli import line_col, register
from test_lint_api import MALFORMED

GOOD = (
    "本日14:05頃より、ログインできない障害が発生しております。\n"
    "急にご利用いただけなくなり、驚かれたことと思います。ご不便をおかけし申し訳ございません。\n"
    "次回は15:30までにご連絡いたします。"
)
BAD = "障害が発生しました。\nおそらくサーバーの問題です。"


@pytest.fixture()
def app() -> typer.Typer:
    """A CLI like the main one: several commands, ``lint`` among them."""
    application = typer.Typer()

    @application.command("version")
    def version() -> None:
        typer.echo("0")

    register(application)
    return application


def test_clean_text_from_stdin_exits_0(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["lint", "--kind", "update"], input=GOOD)
    assert result.exit_code == 0, result.output
    assert "指摘はありません" in result.stdout


def test_errors_exit_1_with_line_and_column(app: typer.Typer, tmp_path: Path) -> None:
    path = tmp_path / "draft.txt"
    path.write_text(BAD, encoding="utf-8")
    result = CliRunner().invoke(app, ["lint", "--kind", "update", str(path)])
    assert result.exit_code == 1
    out = result.stdout
    assert "2:1  エラー  speculation  おそらく" in out
    assert "『おそらく』は推測です" in out
    assert "2:5  警告  jargon  サーバー" in out
    assert "エラー 3 件" in out  # speculation, missing apology, missing next update


def test_warnings_only_exit_0(app: typer.Typer) -> None:
    text = GOOD + "\nDNSの設定を見直しております。"
    result = CliRunner().invoke(app, ["lint", "--kind", "update"], input=text)
    assert result.exit_code == 0
    assert "jargon" in result.stdout


def test_json_format(app: typer.Typer) -> None:
    result = CliRunner().invoke(
        app, ["lint", "--kind", "update", "--format", "json", "-"], input=BAD
    )
    assert result.exit_code == 1
    findings = json.loads(result.stdout)
    assert {"rule", "severity", "start", "end", "message", "suggestion"} == set(findings[0])
    speculation = next(f for f in findings if f["rule"] == "speculation")
    assert BAD[speculation["start"] : speculation["end"]] == "おそらく"


def test_english_locale(app: typer.Typer) -> None:
    text = "We are sorry. It is probably the network. Next update by 15:30."
    result = CliRunner().invoke(app, ["lint", "--kind", "update", "--locale", "en"], input=text)
    assert result.exit_code == 1
    assert "1:21  error  speculation  probably" in result.stdout
    assert "is a guess" in result.stdout


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--kind", "tweet"], "不明な文書の種類です: tweet"),
        (["--kind", "update", "--locale", "fr"], "Unknown locale: fr"),
        (["--kind", "update", "--format", "xml"], "不明な出力形式です: xml"),
        (["--kind", "update", "/nonexistent/draft.txt"], "/nonexistent/draft.txt を読み込めません"),
    ],
)
def test_bad_usage_exits_2_with_a_message(
    app: typer.Typer, args: list[str], complaint: str
) -> None:
    result = CliRunner().invoke(app, ["lint", *args], input=GOOD)
    assert result.exit_code == 2
    assert complaint in result.stderr
    assert "Traceback" not in result.output


def test_missing_kind_is_a_usage_error(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["lint"], input=GOOD)
    assert result.exit_code == 2


def test_a_file_that_is_not_utf8_exits_2(app: typer.Typer, tmp_path: Path) -> None:
    path = tmp_path / "sjis.txt"
    path.write_bytes("障害のお知らせ".encode("shift_jis"))
    result = CliRunner().invoke(app, ["lint", "--kind", "update", str(path)])
    assert result.exit_code == 2
    assert "UTF-8" in result.stderr


def test_line_col_counts_from_one() -> None:
    assert line_col("ab\ncd", 0) == (1, 1)
    assert line_col("ab\ncd", 4) == (2, 2)


@pytest.mark.parametrize(("name", "content", "named"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_extra_file_exits_2_naming_file_and_entry(
    app: typer.Typer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    content: bytes,
    named: tuple[str, ...],
) -> None:
    """Whatever the file's locale: a Japanese check also refuses a broken English file."""
    (tmp_path / name).write_bytes(content)
    monkeypatch.setenv(EXTRA_DIR_ENV, str(tmp_path))
    result = CliRunner().invoke(app, ["lint", "--kind", "update"], input=GOOD)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("伝え方チェックの語彙ファイルを読み込めません: ")
    for words in named:
        assert words in result.stderr
    assert "Traceback" not in result.output
