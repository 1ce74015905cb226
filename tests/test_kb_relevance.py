"""Relevance of the knowledge search on customer wording (issue 9 §7): a top-3 hit rate floor.

The corpus (tests/data/kb/articles.jsonl) is loaded into a fresh database
through ``service.save``; every query of the relevance set
(tests/data/kb/relevance.jsonl) goes through ``search.search`` exactly as the
reply panel asks (``rules.check_query(q, limit=3)``). The floor sits just
below the rate measured when it was set, so a change that loses answers
fails here; raise it when the search gets better. The misses and the rate by
kind of wording: ``python bench/search.py --relevance``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from anshin.knowledge import rules

BENCH = Path(__file__).resolve().parents[1] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import search_relevance as relevance  # noqa: E402

# The set is split by a stable hash of the query (search_relevance.half): tuning looked only at
# the tuning half's misses, the held-out half is the honest figure. Measured 2026-12-06 on
# branch kbtune, (full set, tuning half, held-out half):
#   no synonyms    SQLite 86.7% 84.9% 88.2%   PostgreSQL 88.8% 88.4% 89.1%
#   starter list   SQLite 91.3% 91.9% 90.9%   PostgreSQL 91.8% 93.0% 90.9%
# (before kbtune, starter list: SQLite 87.2% 87.2% 87.3%, PostgreSQL 86.7% 89.5% 84.5%.)
# The floors sit just below the lower backend; raise them when the search improves.
FLOOR = 0.86
FLOOR_HALVES = {relevance.TUNING: 0.84, relevance.HELD_OUT: 0.88}
FLOOR_STARTER = 0.91
FLOOR_STARTER_HALVES = {relevance.TUNING: 0.91, relevance.HELD_OUT: 0.90}
TARGET = 0.90  # issue 9 §7; reported in bench/RESULTS.md, not asserted


def _articles() -> list[dict[str, Any]]:
    return relevance.read_jsonl(relevance.ARTICLES)


def _queries() -> list[dict[str, Any]]:
    return relevance.read_jsonl(relevance.QUERIES)


def test_the_corpus_is_what_a_support_team_would_import() -> None:
    """Every article passes the same check as an import; keys are unique; ja and en both."""
    articles = _articles()
    drafts = [rules.check_draft(row) for row in articles]
    assert 40 <= len(drafts) <= 120
    assert len({d.key for d in drafts}) == len(drafts)
    assert {d.locale for d in drafts} == {"ja", "en"}
    kinds = {d.kind for d in drafts}
    assert {"faq", "workaround", "explanation", "script"} <= kinds


def test_the_relevance_set_is_large_varied_and_sourced() -> None:
    """>= 100 queries, each answerable by the corpus; real wording carries its source address."""
    keys = {row["key"] for row in _articles()}
    queries = _queries()
    assert len(queries) >= 100
    assert len({row["q"] for row in queries}) == len(queries)
    for row in queries:
        assert row["expected"] and set(row["expected"]) <= keys, row
        rules.check_query(row["q"], limit=3)  # a query a user could type
        if row["origin"] == "real":
            assert re.match(r"https?://", row["source"]), row
        else:
            assert row["origin"] == "written" and row["source"] is None, row
    real = sum(row["origin"] == "real" for row in queries)
    assert real >= len(queries) // 5  # a good share comes from what customers wrote
    variations = {kind for row in queries for kind in row["variation"].split()}
    wanted = {"width", "kana", "okurigana", "synonym", "dialect", "keigo", "typo", "english"}
    assert wanted <= variations


def test_top3_hit_rate_stays_above_the_floor(session: Session) -> None:
    assert relevance.load_articles(session) == len(_articles())
    outcome = relevance.measure(session)
    assert outcome.total == len(_queries())
    detail = relevance.misses_text(outcome)
    assert outcome.rate >= FLOOR, f"top-3 hit rate {outcome.rate:.1%} < {FLOOR:.0%}:\n{detail}"
    for name, floor in FLOOR_HALVES.items():
        hits, total, rate = relevance.half_rate(outcome, name)
        assert rate >= floor, f"{name} half {hits} / {total} = {rate:.1%} < {floor:.0%}"


@pytest.mark.skipif(
    not relevance.STARTER_SYNONYMS.exists(), reason="no starter synonym list in this tree"
)
def test_top3_hit_rate_with_the_starter_synonyms(session: Session) -> None:
    """As a team starts: the shipped synonym list loaded (what `anshin demo` does)."""
    relevance.load_articles(session)
    assert relevance.load_synonyms(session, relevance.STARTER_SYNONYMS) > 0
    outcome = relevance.measure(session)
    detail = relevance.misses_text(outcome)
    assert outcome.rate >= FLOOR_STARTER, (
        f"top-3 hit rate {outcome.rate:.1%} < {FLOOR_STARTER:.0%} with the starter synonyms:\n"
        f"{detail}"
    )
    for name, floor in FLOOR_STARTER_HALVES.items():
        hits, total, rate = relevance.half_rate(outcome, name)
        assert rate >= floor, f"{name} half {hits} / {total} = {rate:.1%} < {floor:.0%}"


def test_the_halves_are_fixed_by_the_query_text_alone() -> None:
    """The split cannot drift: same text, same half; both halves hold a good share of the set."""
    queries = [row["q"] for row in _queries()]
    halves = [relevance.half(q) for q in queries]
    assert halves == [relevance.half(q) for q in queries]
    assert relevance.half("二重請求されてる") == relevance.half("二重請求されてる")
    assert 0.35 <= halves.count(relevance.TUNING) / len(halves) <= 0.65
    assert set(halves) == {relevance.TUNING, relevance.HELD_OUT}


def test_a_missing_answer_counts_as_a_miss(session: Session) -> None:
    """The measure is not blind: drop the articles a query needs and it becomes a miss."""
    query = {"q": "二重請求されてる", "expected": ["faq-double-charge"], "variation": "plain"}
    kept = [row for row in _articles() if row["key"] != "faq-double-charge"]
    relevance.load_articles(session, kept)
    outcome = relevance.measure(session, [query])
    assert (outcome.hits, outcome.total) == (0, 1)
    assert outcome.misses[0].query == "二重請求されてる"
    assert "faq-double-charge" not in outcome.misses[0].got


@pytest.mark.parametrize("text", ["二重請求されてる", "ﾊﾟｽﾜｰﾄﾞ忘れた"])
def test_known_good_queries_find_their_article_first_three(session: Session, text: str) -> None:
    relevance.load_articles(session)
    expected = next(row["expected"] for row in _queries() if row["q"] == text)
    assert set(expected) & set(relevance.top_keys(session, text))
