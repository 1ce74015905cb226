"""The relevance set: customer-worded queries against a support team's articles, top-3 hit rate.

Shared by tests/test_kb_relevance.py (a floor, so a regression fails) and
bench/search.py (the figure in RESULTS.md, and ``--relevance`` to print the
misses while tuning). The data is in tests/data/kb/:

* ``articles.jsonl`` — an outage support team's articles, one JSON line each,
  the fields of ``knowledge.rules.check_draft``;
* ``relevance.jsonl`` — ``{"q", "expected": [keys], "variation", "origin",
  "source"}``: a query as a customer would type it and the article(s) that
  answer it (a hit when any of them is in the top 3). ``origin`` is ``real``
  when the wording was taken from a public page (``source`` is its address)
  and ``written`` when it was written for the set. docs/knowledge-relevance.md
  says how it was built.

Everything goes through the product: ``service.save`` stores (and indexes)
the articles, ``search.search(session, rules.check_query(q, limit=3))`` answers.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

import anshin.knowledge
from anshin.knowledge import rules, search, service

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "kb"
ARTICLES = DATA / "articles.jsonl"
QUERIES = DATA / "relevance.jsonl"
TOP = 3
ACTOR = "kbbench"
TUNING = "tuning"
HELD_OUT = "held-out"
# The starter synonym list shipped with the product (branch kbio; loaded by `anshin demo`).
STARTER_SYNONYMS = Path(anshin.knowledge.__file__).parent / "data" / "starter" / "synonyms.txt"


@dataclass(frozen=True)
class Miss:
    """A query whose expected article was not in the top 3, with what came instead."""

    query: str
    expected: tuple[str, ...]
    got: tuple[str, ...]
    variation: str
    half: str = TUNING


@dataclass
class Outcome:
    """The hit rate of one run, overall and by kind of variation."""

    total: int = 0
    hits: int = 0
    misses: list[Miss] = field(default_factory=list)
    by_variation: Counter[str] = field(default_factory=Counter)
    hits_by_variation: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.hits / self.total if self.total else 0.0


def half(text: str) -> str:
    """The half of the set a query belongs to, fixed by a stable hash of its text.

    Tuning looks only at the misses of the ``tuning`` half; the ``held-out``
    half is the honest figure (docs/knowledge-relevance.md). The split was made
    before any tuning and depends on nothing but the query's own text.
    """
    return TUNING if hashlib.sha256(text.encode("utf-8")).digest()[0] % 2 == 0 else HELD_OUT


def half_rate(outcome: Outcome, name: str) -> tuple[int, int, float]:
    """Hits, total and rate of one half (``TUNING`` or ``HELD_OUT``)."""
    total = outcome.by_variation[f"half: {name}"]
    hits = outcome.hits_by_variation[f"half: {name}"]
    return hits, total, hits / total if total else 0.0


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of a file (blank lines skipped)."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def load_articles(session: Session, articles: Sequence[dict[str, Any]] | None = None) -> int:
    """Save every article of the corpus through the service (validated and indexed), commit."""
    rows = read_jsonl(ARTICLES) if articles is None else articles
    for row in rows:
        service.save(session, row, actor=ACTOR)
    session.commit()
    return len(rows)


def read_synonyms(path: Path) -> list[list[str]]:
    """Groups of a synonym file: one group per line, words split by ``,`` or ``、``; ``#`` comments.

    The format of the starter list (knowledge/data/starter/synonyms.txt).
    """
    groups = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            groups.append([w.strip() for w in re.split(r"[,、]", line) if w.strip()])
    return groups


def load_synonyms(session: Session, path: Path | None) -> int:
    """Replace the team's synonym list with a file's groups (none: an empty list), commit."""
    groups = read_synonyms(path) if path is not None else []
    service.replace_synonyms(session, groups, actor=ACTOR)
    session.commit()
    return len(groups)


def top_keys(session: Session, text: str, limit: int = TOP) -> tuple[str, ...]:
    """The keys the product's search returns for a query, best first."""
    return tuple(hit.key for hit in search.search(session, rules.check_query(text, limit=limit)))


def measure(session: Session, queries: Sequence[dict[str, Any]] | None = None) -> Outcome:
    """Run every query of the set; a hit when an expected key is among the top 3."""
    outcome = Outcome()
    for row in read_jsonl(QUERIES) if queries is None else queries:
        got = top_keys(session, row["q"])
        expected = tuple(row["expected"])
        variation = row.get("variation", "")
        kinds = [
            *variation.split(),
            f"origin: {row.get('origin', 'written')}",
            f"half: {half(row['q'])}",
        ]
        outcome.total += 1
        for kind in kinds:
            outcome.by_variation[kind] += 1
        if set(expected) & set(got):
            outcome.hits += 1
            for kind in kinds:
                outcome.hits_by_variation[kind] += 1
        else:
            outcome.misses.append(Miss(row["q"], expected, got, variation, half(row["q"])))
    return outcome


def misses_text(outcome: Outcome, only: str | None = None) -> str:
    """The misses, one line each: the query, its variation, what was expected, what came.

    ``only`` keeps one half (tuning prints the ``TUNING`` half's misses only).
    """
    lines = [
        f"- 「{m.query}」 ({m.variation}): expected {', '.join(m.expected)}; "
        f"got {', '.join(m.got) or 'nothing'}"
        for m in outcome.misses
        if only is None or m.half == only
    ]
    return "\n".join(lines)


def variation_rows(outcome: Outcome) -> list[list[object]]:
    """Hit rate by kind of wording (a query can have two, e.g. ``english typo``) and by origin."""
    return [
        [kind, n, outcome.hits_by_variation[kind], f"{outcome.hits_by_variation[kind] / n:.0%}"]
        for kind, n in sorted(outcome.by_variation.items(), key=lambda item: (-item[1], item[0]))
    ]
