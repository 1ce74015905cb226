"""``anshin kb`` on real SQLite and PostgreSQL: import/export/search/synonyms/starter, the exit
codes of anshin.cliutil (0 done, 2 bad input with the file and line, nothing saved)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from anshin.cli import app
from anshin.knowledge import exchange, service
from kb_io_support import SAMPLES, snapshot


@pytest.fixture
def run(db_url: str) -> Any:
    runner = CliRunner()

    def invoke(*args: str, lang: str = "en_US.UTF-8") -> Result:
        env = {"ANSHIN_DATABASE_URL": db_url, "LANG": lang, "LC_ALL": "", "LC_MESSAGES": ""}
        return runner.invoke(app, list(args), env=env)

    return invoke


def _write_samples(folder: Path) -> None:
    folder.mkdir()
    lines = [json.dumps(values, ensure_ascii=False) for values in SAMPLES]
    (folder / "kb.jsonl").write_text("\n".join(lines) + "\n", "utf-8")


def test_import_export_round_trip_through_the_command_line(
    run: Any, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    _write_samples(tmp_path / "in")
    first = run("kb", "import", str(tmp_path / "in" / "kb.jsonl"))
    assert first.exit_code == 0, first.output
    assert "Created 3, updated 0, unchanged 0." in first.stdout
    before = snapshot(sessions)
    exported = run("kb", "export", str(tmp_path / "out"))
    assert exported.exit_code == 0 and "Wrote 3 articles" in exported.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "avoid_x-1.md",
        "faq-login.md",
        "script.phone.md",
    ]
    again = run("kb", "import", str(tmp_path / "out"))
    assert "Created 0, updated 0, unchanged 3." in again.stdout
    assert run("kb", "export", str(tmp_path / "out.jsonl")).exit_code == 0
    lines = (tmp_path / "out.jsonl").read_text("utf-8").splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["avoid_x-1", "faq-login", "script.phone"]
    assert (
        "Created 0, updated 0, unchanged 3."
        in run("kb", "import", str(tmp_path / "out.jsonl")).stdout
    )
    assert snapshot(sessions) == before


BAD_FILES: list[tuple[str, bytes, str]] = [
    ("bad.md", b"---\nkind: faq\ntitle: [x\n---\n", "bad.md:3: The front matter is not valid YAML"),
    ("bad.md", b"---\nkind: faq\ntitle: x\n---\n\n\xff\n", "bad.md:6: The file is not UTF-8"),
    ("good2.md", b"---\nkey: good\nkind: faq\ntitle: x\n---\n", "good2.md:1: The key good is used"),
    ("kb.jsonl", b'{"key": "a", "kind": "faq", "title": "t"}\n{"key": ', "kb.jsonl:2: The line"),
]


@pytest.mark.parametrize(("name", "content", "words"), BAD_FILES)
def test_any_bad_file_in_a_folder_leaves_the_database_as_it_was(
    run: Any, sessions: sessionmaker[Session], tmp_path: Path, name: str, content: bytes, words: str
) -> None:
    assert run("kb", "starter").exit_code == 0
    folder = tmp_path / "kb"
    folder.mkdir()
    changed = "---\nkind: faq\ntitle: 変更した件名\npublic: true\n---\n本文\n"
    (folder / "faq-outage-status.md").write_text(changed, "utf-8")  # would update
    (folder / "good.md").write_text("---\nkind: faq\ntitle: 良い\n---\n本文\n", "utf-8")
    (folder / name).write_bytes(content)
    target = folder / name if name.endswith(".jsonl") else folder
    before = snapshot(sessions)
    result = run("kb", "import", str(target))
    assert result.exit_code == 2, result.output
    assert words in result.stderr and "Nothing was imported." in result.stderr
    assert snapshot(sessions) == before


def test_a_bad_file_exits_2_naming_file_and_line_and_saves_nothing(
    run: Any, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "good.md").write_text("---\nkind: faq\ntitle: 良い\n---\n本文\n", "utf-8")
    (folder / "bad.md").write_text("---\nkind: faq\ntitle: x\nowner: me\n---\n", "utf-8")
    before = snapshot(sessions)
    result = run("kb", "import", str(folder))
    assert result.exit_code == 2
    assert f"{folder / 'bad.md'}:4: Unknown field in the front matter: owner." in result.stderr
    assert "Nothing was imported." in result.stderr
    assert snapshot(sessions) == before
    ja = run("kb", "import", str(folder), lang="ja_JP.UTF-8")
    assert ja.exit_code == 2 and "何も取り込んでいません" in ja.stderr
    checked = run("kb", "import", "--check", str(folder))
    assert checked.exit_code == 2 and "bad.md:4:" in checked.stderr
    (folder / "bad.md").unlink()
    fine = run("kb", "import", "--check", str(folder))
    assert fine.exit_code == 0 and "1 articles checked: no problems." in fine.stdout
    assert snapshot(sessions) == before
    missing = run("kb", "import", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2 and "PATH: No such file or folder" in missing.stderr
    as_file = tmp_path / "file.txt"
    as_file.write_text("x", "utf-8")
    assert run("kb", "export", str(as_file)).exit_code == 2


def test_search_prints_json_best_first_with_filters(run: Any, tmp_path: Path) -> None:
    assert run("kb", "starter").exit_code == 0
    result = run("kb", "search", "ログイン", "--format", "json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert hits and all(set(hit) == {"key", "kind", "title", "score", "snippet"} for hit in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert "faq-login-during-outage" in [h["key"] for h in hits[:3]]
    only = json.loads(run("kb", "search", "ログイン", "--kind", "faq", "--format", "json").stdout)
    assert only and {h["kind"] for h in only} == {"faq"}
    assert (
        len(json.loads(run("kb", "search", "障害", "--limit", "2", "--format", "json").stdout)) == 2
    )
    table = run("kb", "search", "ログイン")
    assert table.exit_code == 0 and "faq-login-during-outage" in table.stdout
    none = run("kb", "search", "zzzzqqq", "--format", "json")
    assert none.exit_code == 0 and json.loads(none.stdout) == []
    # User-typed operators and quotes are text, never syntax.
    assert run("kb", "search", '"障害" OR NEAR(', "--format", "json").exit_code == 0


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("",), "QUERY: Type something to search for."),
        (("   ",), "QUERY: Type something to search for."),
        (("あ" * 10_000,), "QUERY: The search must be at most 200 characters."),
        (("障害", "--limit", "0"), "--limit: The limit must be from 1 to 50."),
        (("障害", "--kind", "memo"), "--kind: The kind must be one of"),
        (("障害", "--format", "xml"), "--format: Unknown format"),
    ],
)
def test_a_bad_query_exits_2_with_the_reason(run: Any, args: tuple[str, ...], words: str) -> None:
    result = run("kb", "search", *args)
    assert result.exit_code == 2
    assert words in result.stderr
    assert "Traceback" not in result.output


def test_synonyms_import_and_export(
    run: Any, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    source = tmp_path / "syn.txt"
    source.write_text("# comment\nログイン, サインイン\n\n返金、払い戻し、お金返して\n", "utf-8")
    result = run("kb", "synonyms", "import", str(source))
    assert result.exit_code == 0 and "2 groups" in result.stdout
    with sessions() as session:
        assert service.synonym_groups(session) == [
            ["ログイン", "サインイン"],
            ["返金", "払い戻し", "お金返して"],
        ]
    assert run("kb", "synonyms", "export", str(tmp_path / "out.txt")).exit_code == 0
    exported = (tmp_path / "out.txt").read_bytes()
    assert exchange.parse_synonyms(exported) == [
        ["ログイン", "サインイン"],
        ["返金", "払い戻し", "お金返して"],
    ]
    shown = run("kb", "synonyms", "export", "-")
    assert "ログイン, サインイン" in shown.stdout
    before = snapshot(sessions)
    for bad, words in [
        (b"a, b\nlonely\n", "Line 2: a group needs"),
        (b"\xff\xfe, x\n", "not UTF-8"),
        (b"a, b\x00\n", "NUL"),
    ]:
        source.write_bytes(bad)
        refused = run("kb", "synonyms", "import", str(source))
        assert refused.exit_code == 2 and words in refused.stderr, refused.output
    assert run("kb", "synonyms", "import", str(tmp_path / "none.txt")).exit_code == 2
    assert snapshot(sessions) == before


def test_starter_and_demo_load_the_knowledge_base_once(
    run: Any, sessions: sessionmaker[Session], settings: Any
) -> None:
    from anshin.demo import load_demo

    with sessions() as session:
        report = load_demo(session, settings, actor="demo", inquiries=0)
        session.commit()
    assert "kb starter" in report.created
    with sessions() as session:
        assert service.get(session, "avoid-tantou-dewanai").state == "published"
    result = run("kb", "starter")
    assert result.exit_code == 0 and "0 articles added" in result.stdout
    with sessions() as session:
        again = load_demo(session, settings, actor="demo", inquiries=0)
    assert "kb starter" not in again.created


def test_reindex_rebuilds_the_index_and_search_still_finds(run: Any) -> None:
    assert run("kb", "starter").exit_code == 0
    before = json.loads(run("kb", "search", "ログイン", "--format", "json").stdout)
    rebuilt = run("kb", "reindex")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "Indexed" in rebuilt.stdout
    after = json.loads(run("kb", "search", "ログイン", "--format", "json").stdout)
    assert [h["key"] for h in after] == [h["key"] for h in before]
    assert "索引" in run("kb", "reindex", lang="ja_JP.UTF-8").stdout
