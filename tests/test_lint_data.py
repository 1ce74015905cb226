"""The message check's data files: the shipped lists and a support lead's extra folder."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from anshin.comms.lint import EXTRA_DIR_ENV, LexiconError, check
from anshin.comms.lint.lexicon import ENTRY_RULES, MARKERS, load

EXTRA = """
locale = "ja"

[limits]
long_sentence_info = 30

[markers]
apology = ['深く反省しております']

[[jargon]]
words = ["テナント"]
alternative = "ご契約単位の環境"

[[avoid-expression]]
words = ["担当外です"]
message = "『{term}』はお客様を突き放す言い方です。"
suggestion = "『{alternative}』と伝えてください。"
alternative = "担当部署におつなぎいたします"
"""


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_shipped_data_covers_every_rule_and_marker(locale: str) -> None:
    lexicon = load(locale)
    for rule in ENTRY_RULES:
        assert lexicon.entries[rule], f"{locale}: no entries for {rule}"
    for name in ("apology", "empathy", "time", "contact", "hedge"):
        assert name in MARKERS
        assert lexicon.marker(name).pattern != r"(?!x)x", f"{locale}: marker {name} empty"


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_every_shipped_jargon_entry_offers_a_plain_alternative(locale: str) -> None:
    for entry in load(locale).entries["jargon"]:
        assert entry.alternative, entry.source


def test_extra_folder_is_merged_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "team.toml").write_text(EXTRA, encoding="utf-8")
    text = "テナントごとに設定が異なります。"
    assert [f.rule for f in check(text, kind="report_notice")] == []

    monkeypatch.setenv(EXTRA_DIR_ENV, str(tmp_path))
    findings = check(text, kind="report_notice")
    assert [(f.rule, text[f.start : f.end]) for f in findings] == [("jargon", "テナント")]
    assert "ご契約単位の環境" in findings[0].suggestion
    # shipped entries still apply alongside the extra ones
    assert any(f.rule == "jargon" for f in check("DNSの設定", kind="report_notice"))


def test_extra_entries_may_carry_their_own_wording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "team.toml").write_text(EXTRA, encoding="utf-8")
    monkeypatch.setenv(EXTRA_DIR_ENV, str(tmp_path))
    (finding,) = [
        f
        for f in check("その件は担当外です。", kind="report_notice")
        if f.rule == "avoid-expression"
    ]
    assert finding.message == "『担当外です』はお客様を突き放す言い方です。"
    assert finding.suggestion == "『担当部署におつなぎいたします』と伝えてください。"


def test_extra_markers_and_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "team.toml").write_text(EXTRA, encoding="utf-8")
    text = "今回の障害を深く反省しております。"
    assert any(f.rule == "missing-apology" for f in check(text, kind="resolution"))
    monkeypatch.setenv(EXTRA_DIR_ENV, str(tmp_path))
    findings = check(text, kind="resolution")
    assert not any(f.rule == "missing-apology" for f in findings)
    assert not any(f.rule == "long-sentence" for f in findings)  # 17 characters
    longer = "今回の障害につきましては、ご利用の皆様に大変なご迷惑をおかけいたしました。"
    assert any(f.rule == "long-sentence" for f in check(longer, kind="resolution"))


def test_an_edited_extra_file_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "team.toml"
    path.write_text(EXTRA, encoding="utf-8")
    monkeypatch.setenv(EXTRA_DIR_ENV, str(tmp_path))
    assert check("ワークスペースを選択", kind="report_notice") == []
    path.write_text(EXTRA + '\n[[jargon]]\nwords = ["ワークスペース"]\n', encoding="utf-8")
    stamp = time.time() + 5
    os.utime(path, (stamp, stamp))
    assert [f.rule for f in check("ワークスペースを選択", kind="report_notice")] == ["jargon"]


def test_files_for_another_locale_are_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "en.toml").write_text('locale = "en"\n[[jargon]]\nwords = ["tenant"]\n', "utf-8")
    monkeypatch.setenv(EXTRA_DIR_ENV, str(tmp_path))
    assert check("tenantの設定", kind="report_notice", locale="ja") == []
    text = "Your tenant is ready."
    assert [f.rule for f in check(text, kind="report_notice", locale="en")] == ["jargon"]


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ('locale = "ja"\n[[jargon]]\npattern = "(unclosed"\n', "invalid pattern"),
        ('locale = "ja"\n[[jargon]]\nalternative = "x"\n', "needs 'words' or 'pattern'"),
        ('locale = "ja"\n[[jargons]]\nwords = ["x"]\n', "unknown sections"),
        ('locale = "ja"\n[[jargon]]\nwords = ["x"]\nseverity = "fatal"\n', "severity"),
        ('locale = "ja"\n[markers]\nsmile = ["x"]\n', "unknown marker"),
        ('[[jargon]]\nwords = ["x"]\n', "'locale'"),
        ('locale = "ja"\n[[unconfirmed-as-fact]]\nwords = ["x"]\n', "'about'"),
        ("locale = ja\n", "team.toml"),
    ],
)
def test_malformed_extra_files_are_refused_with_the_file_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, complaint: str
) -> None:
    (tmp_path / "team.toml").write_text(content, encoding="utf-8")
    monkeypatch.setenv(EXTRA_DIR_ENV, str(tmp_path))
    with pytest.raises(LexiconError, match=r"team\.toml") as raised:
        check("テスト", kind="report_notice")
    assert complaint in str(raised.value)


def test_extra_folder_that_does_not_exist_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(EXTRA_DIR_ENV, str(tmp_path / "missing"))
    with pytest.raises(LexiconError, match="not a folder"):
        check("テスト", kind="report_notice")


def test_the_documented_example_file_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = Path(__file__).resolve().parent.parent / "docs" / "message-check.md"
    example = docs.read_text(encoding="utf-8").split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "example.toml").write_text(example, encoding="utf-8")
    monkeypatch.setenv(EXTRA_DIR_ENV, str(tmp_path))
    text = "その件は担当外です。テナントの設定をご確認ください。"
    found = {(f.rule, text[f.start : f.end]) for f in check(text, kind="report_notice")}
    assert found == {("avoid-expression", "担当外です"), ("jargon", "テナント")}
