"""Ranking details tuned on the relevance set's tuning half (branch kbtune), SQLite and PostgreSQL.

The word the customer typed leads its synonyms (a synonym expansion used to
weigh the same, so 障害 brought エラー articles up as high as 障害 ones), and
on PostgreSQL a rebuilt index has planner statistics at once.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from anshin.knowledge import analyse, index, match, rules, search, service

ARTICLES = [
    {
        "key": "faq-error",
        "kind": "faq",
        "title": "エラーが表示される",
        "body": "画面にエラーが表示されたら、再読み込みしてください。",
        "state": "published",
    },
    {
        "key": "faq-outage",
        "kind": "faq",
        "title": "障害が起きているか知りたい",
        "body": "障害の情報はステータスページでお知らせします。",
        "state": "published",
    },
]


@pytest.fixture
def kb(session: Session) -> Session:
    for values in ARTICLES:
        service.save(session, values, actor="lead@example.com")
    service.replace_synonyms(session, [["障害", "エラー"]], actor="lead@example.com")
    session.commit()
    return session


def keys(session: Session, words: str) -> list[str]:
    return [hit.key for hit in search.search(session, rules.check_query(words, limit=3))]


@pytest.mark.parametrize(
    ("words", "first", "second"),
    [("障害", "faq-outage", "faq-error"), ("エラー", "faq-error", "faq-outage")],
)
def test_the_typed_word_ranks_above_its_synonym(
    kb: Session, words: str, first: str, second: str
) -> None:
    assert keys(kb, words) == [first, second]  # the synonym still finds the other


def test_only_topic_words_lead_their_group() -> None:
    """できない is typed but says nothing about the topic: no lead for it over できへん."""
    groups = analyse.prepare_synonyms([["障害", "エラー"], ["できない", "できへん"]])
    concepts = analyse.query("障害でログインできない", groups)
    typed = {c.terms: c.typed for c in concepts if len(c.terms) > 1}
    assert [t for t in typed.values() if t] == [(("障害",),)]
    assert match.fts5(concepts).count('"障害"') == 2  # bm25 counts the typed phrase twice
    assert "障害" in match.tsquery_typed(concepts)
    assert "エラー" not in match.tsquery_typed(concepts)


def test_reindex_leaves_planner_statistics_on_postgresql(kb: Session) -> None:
    index.reindex(kb)
    kb.commit()
    if kb.get_bind().dialect.name != "postgresql":
        assert keys(kb, "障害")[0] == "faq-outage"
        return
    tuples = kb.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'kb_fts'")).scalar()
    assert tuples is not None and tuples >= len(ARTICLES)
    assert keys(kb, "障害")[0] == "faq-outage"


def test_a_very_common_word_ranks_only_the_newest_matches_on_sqlite(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over RANK_CAP matches, the newest are ranked; under it, every match, as before."""
    for n in range(6):
        body = "障害の情報です。" * (6 - n)  # the older, the more often: bm25 prefers them
        values = {"key": f"faq-{n}", "kind": "faq", "title": f"お知らせ{n}", "body": body}
        service.save(session, {**values, "state": "published"}, actor="lead@example.com")
    session.commit()
    everything = keys(session, "障害")
    assert everything == ["faq-0", "faq-1", "faq-2"]
    monkeypatch.setattr(search, "RANK_CAP", 6)
    assert keys(session, "障害") == everything
    monkeypatch.setattr(search, "RANK_CAP", 3)
    capped = keys(session, "障害")
    if session.get_bind().dialect.name == "postgresql":
        assert capped == everything  # tsvector ranking is not capped
    else:
        assert capped == ["faq-3", "faq-4", "faq-5"]
