"""PostgreSQL's capped ranking against the uncapped one: same results? how fast? (issue 9)

    .venv/bin/python bench/search_cap.py postgresql+psycopg://postgres@127.0.0.1/NAME

``NAME``: a database bench/search.py built and kept (``--keep``). Each way
runs the bench's query set (the relevance set's customer wording, then
generated queries; articles only, limit 10) through ``search.search`` in
one process, one way after the other; the uncapped way is the reference
(``search_pg.PG_PRESELECT = 0``). Printed: p50/p95 per way and how many
queries keep the same first result, the same top 3 and the same top 10.
docs/knowledge-search.md, "capped ranking".
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import search_data
import search_relevance as relevance
from anshin.db import make_engine, make_sessionmaker
from anshin.knowledge import rules, search, search_pg
from common import markdown_table, percentile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="a PostgreSQL database bench/search.py built (--keep)")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args(argv)
    customer = [row["q"] for row in relevance.read_jsonl(relevance.QUERIES)]
    texts = search_data.queries(args.queries, args.seed, customer)
    ways = {
        "uncapped (PG_PRESELECT = 0)": (0, search_pg.PG_RANK_CAP),
        (
            f"shipped (PG_PRESELECT = {search_pg.PG_PRESELECT}, "
            f"PG_RANK_CAP = {search_pg.PG_RANK_CAP})"
        ): (
            search_pg.PG_PRESELECT,
            search_pg.PG_RANK_CAP,
        ),
    }
    results: dict[str, list[list[str]]] = {}
    rows = []
    engine = make_engine(args.url)
    with make_sessionmaker(engine)() as session:
        for name, (preselect, cap) in ways.items():
            search_pg.PG_PRESELECT, search_pg.PG_RANK_CAP = preselect, cap
            found, times = [], []
            for q in texts:
                began = time.perf_counter()
                hits = search.search(session, rules.check_query(q, limit=10))
                times.append((time.perf_counter() - began) * 1000)
                found.append([h.key for h in hits])
                session.rollback()
            results[name] = found
            reference = next(iter(results.values()))
            same = [
                sum(a[:n] == b[:n] for a, b in zip(reference, found, strict=True))
                for n in (1, 3, 10)
            ]
            rows.append([name, percentile(times, 50), percentile(times, 95), *same])
    engine.dispose()
    print(
        markdown_table(["way", "p50 ms", "p95 ms", "top 1 same", "top 3 same", "top 10 same"], rows)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
