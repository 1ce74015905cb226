"""The search's speed work on PostgreSQL (migration 0014), checked on both databases.

- the reply panel's article search reads the articles' table only, never the
  100,000 inquiries' one (on SQLite and PostgreSQL);
- a common word's many matches: only a capped set is ranked on PostgreSQL,
  and the article with the words in its title stays first (the cap is forced
  small here; SQLite ranks every match);
- the vectors stay in the table's rows (``STORAGE MAIN``), the title words
  have their own GIN-indexed column, and a narrow table of their own
  (``kb_fts_heads``, migration 0016) kept in step with the articles;
- ``match.tsquery_plain`` matches whatever ``match.tsquery`` matches.

docs/knowledge-search.md, "PostgreSQL: capped ranking".
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from anshin.knowledge import analyse, index, match, rules, search, search_pg, service
from anshin.knowledge.index_models import FTS_ARTICLES, FTS_RECORDS


def _save(session: Session, key: str, title: str, body: str) -> None:
    service.save(
        session,
        {"key": key, "kind": "faq", "title": title, "body": body, "state": "published"},
        actor="t",
    )


def test_article_search_reads_the_articles_table_only(session: Session) -> None:
    _save(session, "faq-login", "ログインできない場合", "パスワードを再設定してください。")
    session.commit()
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = session.get_bind().engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        found = search.search(session, rules.check_query("ろぐいんできない"))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert [h.key for h in found] == ["faq-login"]
    full_text = [s for s in statements if FTS_ARTICLES in s]
    assert full_text  # the articles' table was searched …
    assert not [s for s in statements if FTS_RECORDS in s]  # … and the records' never


def test_capped_ranking_keeps_the_title_match_first(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The best answer is the oldest: the newest-first tiers must still bring it in.
    _save(session, "faq-refund", "返金の手続き", "返金は五営業日以内に行います。")
    for n in range(12):
        _save(
            session,
            f"note-{n:02}",
            f"お知らせ{n}",
            f"ご請求と返金について、詳細はお問い合わせください{n}。",
        )
    session.commit()
    uncapped = [h.key for h in search.search(session, rules.check_query("返金"))]
    monkeypatch.setattr(search_pg, "PG_PRESELECT", 4)
    monkeypatch.setattr(search_pg, "PG_RANK_CAP", 2)
    capped = [h.key for h in search.search(session, rules.check_query("返金"))]
    filtered = search.search(session, rules.check_query("返金", state="published", kinds=("faq",)))
    assert uncapped[0] == capped[0] == filtered[0].key == "faq-refund"
    assert len(uncapped) == 10
    if session.get_bind().dialect.name == "postgresql":
        assert len(capped) == 2  # only PG_RANK_CAP were ranked
    else:
        assert capped == uncapped  # SQLite: the PostgreSQL cap does not apply


def test_capped_ranking_prefers_documents_with_every_concept(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _save(session, "faq-double", "請求について", "二重請求の返金は自動で行われます。")
    for n in range(12):
        _save(session, f"note-{n:02}", f"ご案内{n}", f"請求書の発行についてのご案内です{n}。")
    session.commit()
    monkeypatch.setattr(search_pg, "PG_PRESELECT", 3)
    monkeypatch.setattr(search_pg, "PG_RANK_CAP", 3)
    found = [h.key for h in search.search(session, rules.check_query("請求の返金"))]
    assert found[0] == "faq-double"


def test_the_vectors_stay_in_the_row_on_postgresql(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL storage")
    storage = dict(
        session.execute(
            text(
                "SELECT c.relname || '.' || a.attname, a.attstorage FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid "
                "WHERE c.relname IN ('kb_fts', 'kb_fts_records') AND a.attname IN ('tsv', 'head')"
            )
        ).all()
    )
    assert storage == {
        f"{t}.{c}": "m" for t in ("kb_fts", "kb_fts_records") for c in ("tsv", "head")
    }
    _save(session, "faq-x", "アプリが落ちる", "再起動してください。")
    session.flush()
    head = session.execute(text("SELECT head::text FROM kb_fts")).scalar()
    assert head is not None and "アプリ" in head and "再起動" not in head  # the title's words


def test_the_title_vectors_have_a_narrow_table_of_their_own(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL storage")

    def heads() -> list[tuple[str, str]]:
        return [
            (row[0], row[1])
            for row in session.execute(
                text(
                    "SELECT f.head::text, h.head::text FROM kb_fts f "
                    "JOIN kb_fts_heads h ON h.doc_id = f.doc_id"
                )
            )
        ]

    _save(session, "faq-x", "アプリが落ちる", "再起動してください。")
    session.flush()
    [(head, narrow)] = heads()
    assert head == narrow and "アプリ" in narrow
    _save(session, "faq-x", "画面が固まる", "再起動してください。")  # saved again: replaced
    session.flush()
    [(head, narrow)] = heads()
    assert head == narrow and "画面" in narrow and "アプリ" not in narrow
    article_id = session.execute(text("SELECT id FROM kb_articles WHERE key = 'faq-x'")).scalar()
    index.remove_article(session, int(article_id))
    session.flush()
    assert (
        heads() == [] and session.execute(text("SELECT count(*) FROM kb_fts_heads")).scalar() == 0
    )


@pytest.mark.parametrize(
    "query", ["ログインできない", "ぱすわーど", "ロック解除", "passw", "it's o'clock", "できない"]
)
def test_the_plain_tsquery_matches_whatever_the_tsquery_matches(
    session: Session, query: str
) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("tsquery")
    texts = [
        "ログインできないときはパスワードを再設定",
        "ロックが解除されます",
        "The password is at o'clock",
        "できないこと",
        "関係のない文章です",
    ]
    concepts = analyse.query(query)
    exact, plain = match.tsquery(concepts), match.tsquery_plain(concepts)
    for body in texts:
        form = analyse.document("", body)
        row = session.execute(
            text(
                "SELECT v @@ to_tsquery('simple', :q), v @@ to_tsquery('simple', :p) FROM "
                "(SELECT setweight(to_tsvector('simple', :b), 'B') || "
                "setweight(to_tsvector('simple', :g), 'D') AS v) AS x"
            ),
            {"q": exact, "p": plain, "b": form.body, "g": form.grams},
        ).one()
        assert row[1] or not row[0], (query, body)
