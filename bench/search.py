"""Knowledge search at scale: p50/p95 of ``search.search`` against a bare index query, same run.

    .venv/bin/python bench/search.py                       # 10,000 articles, 100,000 inquiries
    .venv/bin/python bench/search.py --database-url postgresql+psycopg://postgres@127.0.0.1/x
    .venv/bin/python bench/search.py --relevance           # the relevance set: tuning-half misses
    .venv/bin/python bench/search.py --articles 200 --inquiries 1000 --queries 20 --rounds 1
    .venv/bin/python bench/search.py --database-url postgresql+psycopg://postgres@127.0.0.1/x \
        --keep                                             # prints the kept database's name
    .venv/bin/python bench/search.py --database-url postgresql+psycopg://postgres@127.0.0.1/x \
        --reuse NAME [--reindex]                           # measure again without building

A fresh database (a SQLite file, or a throwaway database on the PostgreSQL
server ``--database-url`` names) gets the product's schema from the
migrations. Articles are composed from phrase banks (bench/search_data.py,
seeded) and saved one by one through ``service.save`` — the path an import
takes, which also indexes them; inquiries are bulk-inserted (intake is
bench/intake.py's subject) and indexed by the index's own rebuild
(``index.reindex``). Both are timed: that is the index build time. The
database size is read after.

Then every query of the set (the relevance set's customer wording first,
then generated ones) runs through the service layer —
``search.search(session, rules.check_query(q, limit=10))``, articles only
(the reply panel) and all sources (the console's search box) — alternating
with a bare query on the same index (SQLite: FTS5 ``MATCH`` with bm25;
PostgreSQL: ``tsvector @@ tsquery`` with ``ts_rank``) built from the same
analysed words, so both see the same cache and the same machine load.
Targets (issue 9 §8): p95 under 30 ms and within 1.5× of the bare query.

The relevance set (tests/data/kb/) is measured on the same backend: the top-3
hit rate (target 90%). ``--write`` replaces the ``search`` (or
``search-postgresql``) section of bench/RESULTS.md.

Building the full size on PostgreSQL takes minutes (saving the articles,
then the index's rebuild). To iterate on the search alone: ``--keep`` keeps
the throwaway PostgreSQL database (its name is printed), ``--reuse NAME``
measures a database built before — it is migrated to the tree's head (a new
migration applies) and nothing is built, so the step table stays empty and
the section says it was reused; ``--reindex`` with it rebuilds the index
first (``index.reindex``, timed), for a change of what the index stores.
``--reuse`` never drops the database it was given.
"""

from __future__ import annotations

import argparse
import secrets
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import search_data  # noqa: E402
import search_index  # noqa: E402
import search_relevance as relevance  # noqa: E402
from anshin import migrations  # noqa: E402
from anshin.db import make_engine, make_sessionmaker, normalise_url  # noqa: E402
from anshin.inquiries.models import Inquiry  # noqa: E402
from anshin.knowledge import rules, search, service  # noqa: E402
from common import (  # noqa: E402
    console,
    load_average,
    machine,
    markdown_table,
    percentile,
    progress,
    today,
    write_section,
)
from fanout_setup import throwaway_database  # noqa: E402

BATCH = 500
LIMIT = 10


@contextmanager
def data_database(tmp: Path, args: argparse.Namespace) -> Iterator[str]:
    """The database the timed part runs on: throwaway, kept (``--keep``) or reused (``--reuse``)."""
    if not (args.keep or args.reuse):
        with throwaway_database(tmp, args.database_url) as url:
            yield url
        return
    if not args.database_url:
        raise SystemExit("--keep and --reuse need --database-url (a PostgreSQL server)")
    server = make_url(normalise_url(args.database_url))
    name = args.reuse or f"anshin_search_{secrets.token_hex(4)}"
    if not args.reuse:
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        console.print(f"building into database {name} (kept: --reuse {name} measures it again)")
    yield server.set(database=name).render_as_string(hide_password=False)


def build(session: Session, args: argparse.Namespace) -> dict[str, float]:
    """Save the articles, insert the inquiries, index them; seconds per step."""
    seconds: dict[str, float] = {}
    with progress() as bar:
        task = bar.add_task("articles (service.save)", total=args.articles)
        began = time.perf_counter()
        for n, draft in enumerate(search_data.articles(args.articles, args.seed), 1):
            service.save(session, draft, actor="bench")
            if n % BATCH == 0:
                session.commit()
                bar.advance(task, BATCH)
        session.commit()
        bar.update(task, completed=args.articles)
        seconds["articles saved and indexed (service.save)"] = time.perf_counter() - began
        task = bar.add_task("inquiries (bulk insert)", total=args.inquiries)
        began = time.perf_counter()
        rows = []
        for row in search_data.inquiries(args.inquiries, args.seed):
            rows.append(row)
            if len(rows) == 5_000:
                session.execute(insert(Inquiry), rows)
                bar.advance(task, len(rows))
                rows = []
        if rows:
            session.execute(insert(Inquiry), rows)
        session.commit()
        bar.update(task, completed=args.inquiries)
        seconds["inquiries inserted (bulk, not timed as index)"] = time.perf_counter() - began
        task = bar.add_task("index rebuild (index.reindex)", total=args.articles + args.inquiries)
        began = time.perf_counter()
        indexed = search_index.rebuild(session, lambda done: bar.update(task, completed=done))
        if indexed is not None:
            seconds["index rebuilt: articles + inquiries (index.reindex)"] = (
                time.perf_counter() - began
            )
        bar.update(task, completed=args.articles + args.inquiries)
    # What autovacuum does soon after a bulk load; without it PostgreSQL plans the
    # freshly rebuilt index as if it were empty (nested loops over every document),
    # and (PostgreSQL) the rebuild's deleted rows stay in the tables' pages.
    seconds.update(analyse_tables(session))
    return seconds


def analyse_tables(session: Session) -> dict[str, float]:
    """ANALYZE (SQLite); VACUUM ANALYZE (PostgreSQL, outside a transaction), timed."""
    began = time.perf_counter()
    session.commit()
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        with bind.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        return {"VACUUM ANALYZE (dead rows, planner statistics)": time.perf_counter() - began}
    session.execute(text("ANALYZE"))
    session.commit()
    return {"ANALYZE (planner statistics)": time.perf_counter() - began}


def counted(session: Session) -> tuple[int, int]:
    """``--reuse``: the articles and inquiries the database holds (the report states them)."""
    from anshin.knowledge.models import Article

    articles = session.execute(text(f"SELECT count(*) FROM {Article.__tablename__}")).scalar()
    inquiries = session.execute(text(f"SELECT count(*) FROM {Inquiry.__tablename__}")).scalar()
    return int(articles or 0), int(inquiries or 0)


def rebuild_only(session: Session) -> dict[str, float]:
    """``--reuse --reindex``: the index rebuilt from the records already there, then ANALYZE."""
    began = time.perf_counter()
    search_index.rebuild(session, lambda done: None)
    seconds = {"index rebuilt: articles + inquiries (index.reindex)": time.perf_counter() - began}
    seconds.update(analyse_tables(session))
    return seconds


def measure(
    session: Session, texts: list[str], rounds: int
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Milliseconds per query for each way, interleaved query by query; results found."""
    ways: dict[str, Callable[[str], object]] = {
        "product: search.search, articles": lambda q: search.search(
            session, rules.check_query(q, limit=LIMIT)
        ),
        "product: search.search, all sources": lambda q: search.search(
            session, rules.check_query(q, limit=LIMIT, sources=rules.SOURCES)
        ),
    }
    bare = search_index.bare_queries(session, texts, LIMIT)
    ways.update(bare)
    for warm in texts[: min(20, len(texts))]:  # warm-up: dictionary, caches, statements
        for way in ways.values():
            way(warm)
    times: dict[str, list[float]] = {name: [] for name in ways}
    found: dict[str, int] = dict.fromkeys(ways, 0)
    with progress() as bar:
        task = bar.add_task("queries", total=rounds * len(texts))
        for _ in range(rounds):
            for query in texts:
                for name, way in ways.items():
                    began = time.perf_counter()
                    result = way(query)
                    times[name].append((time.perf_counter() - began) * 1000)
                    found[name] += 1 if result else 0
                bar.advance(task)
    return times, found


def relevance_outcomes(url: str, synonyms: Path | None = None) -> dict[str, relevance.Outcome]:
    """The relevance set on a fresh database: without synonyms, then with the starter list.

    ``synonyms`` names another list to try instead of the starter list (tuning).
    """
    migrations.upgrade(url)
    engine = make_engine(url)
    outcomes = {}
    try:
        with make_sessionmaker(engine)() as session:
            relevance.load_articles(session)
            outcomes["no synonyms"] = relevance.measure(session)
            if synonyms is not None:
                relevance.load_synonyms(session, synonyms)
                outcomes[f"synonyms from {synonyms.name}"] = relevance.measure(session)
            elif relevance.STARTER_SYNONYMS.exists():
                relevance.load_synonyms(session, relevance.STARTER_SYNONYMS)
                outcomes["the starter synonym list"] = relevance.measure(session)
    finally:
        engine.dispose()
    return outcomes


def relevance_lines(backend: str, outcomes: dict[str, relevance.Outcome]) -> list[str]:
    lines = []
    for name, outcome in outcomes.items():
        verdict = "met" if outcome.rate >= 0.9 else "**missed**"
        lines.append(
            f"- Relevance (tests/data/kb/, {backend}, {name}): {outcome.hits} of "
            f"{outcome.total} customer-worded queries find an expected article in the top 3 "
            f"= **{outcome.rate:.1%}** (target 90%: {verdict}); "
            + "; ".join(
                "{} half {} / {} = {:.1%}".format(name_, *relevance.half_rate(outcome, name_))
                for name_ in (relevance.TUNING, relevance.HELD_OUT)
            )
            + "."
        )
    if "the starter synonym list" not in outcomes:
        lines.append("- No starter synonym list in this tree (knowledge/data/starter/).")
    lines.append(
        "- The misses and the rate by kind of wording: `python bench/search.py --relevance`; "
        "docs/knowledge-relevance.md."
    )
    return lines


def bare_of(times: dict[str, list[float]], name: str) -> str | None:
    """The bare way over the same sources as a product way ("…, articles" with "…, articles")."""
    if not name.startswith("product"):
        return None
    scope = name.rsplit(", ", 1)[-1]
    return next((n for n in times if n.startswith("bare") and n.endswith(", " + scope)), None)


def report(
    args: argparse.Namespace,
    command: str,
    backend: str,
    seconds: dict[str, float],
    size: dict[str, float],
    times: dict[str, list[float]],
    found: dict[str, int],
    texts: list[str],
    outcomes: dict[str, relevance.Outcome],
) -> str:
    info = machine()
    customer = next(iter(outcomes.values())).total
    synonyms = (
        "the starter synonym list loaded"
        if relevance.STARTER_SYNONYMS.exists()
        else "no synonym list (none in this tree)"
    )
    rows = []
    for name, values in times.items():
        p50, p95 = percentile(values, 50), percentile(values, 95)
        bare = bare_of(times, name)
        ratio = f"{p95 / percentile(times[bare], 95):.2f}×" if bare else "—"
        rows.append([name, len(values), p50, p95, max(values), ratio, found[name]])
    lines = [
        f"## Knowledge search{' on PostgreSQL' if backend == 'PostgreSQL' else ''}"
        f"{f' ({args.label})' if args.label else ''}: service layer against a bare index query",
        "",
        f"Measured {today()} with `{command}`.",
        "",
        f"Machine: {info['cpus']} CPUs ({info['model']}), {info['ram']} RAM, Python "
        f"{info['python']}; 1-minute load average {args.load_before:.2f} before the run "
        "(the machine is shared with other sessions). "
        f"Database: {backend}, schema from the migrations. Data (seed {args.seed}): "
        f"{args.articles:,} articles composed from phrase banks (bench/search_data.py; nine "
        f"in ten Japanese), {args.inquiries:,} inquiries in several registers (polite, angry, "
        f"Kansai, half-width kana, English); {synonyms}. Queries: "
        f"{len(texts)} ({min(len(texts), customer)} customer-worded from the relevance "
        f"set, the rest generated), {args.rounds} rounds, limit {LIMIT}, each way run "
        "query by query in turn after a warm-up.",
        "",
        (
            markdown_table(["step", "seconds"], [[k, v] for k, v in seconds.items()])
            if seconds
            else f"Data reused (`--reuse {args.reuse}`): built by an earlier run of this "
            "script with the same sizes and seed; build times are in that run's section."
        ),
        "",
        "Database size: " + ", ".join(f"{k} {v:,.1f} MiB" for k, v in size.items()) + ".",
        "",
        markdown_table(
            ["way", "queries", "p50 ms", "p95 ms", "max ms", "p95 × bare", "with results"], rows
        ),
        "",
    ]
    for name, values in times.items():
        bare = bare_of(times, name)
        if bare is not None:
            p95, bare95 = percentile(values, 95), percentile(times[bare], 95)
            within = "met" if p95 <= 1.5 * bare95 else "**missed**"
            own = next((n for n in times if n.startswith("search.baseline")), None)
            versus = (
                f"; {p95 / percentile(times[own], 95):.2f}× `search.baseline`'s"
                if own and name.endswith(", articles")
                else ""
            )
            lines.append(
                f"- {name}: p95 {p95:.1f} ms (target < 30 ms: "
                f"{'met' if p95 < 30 else '**missed**'}), {p95 / bare95:.2f}× the bare "
                f"query's p95 (target ≤ 1.5×: {within}){versus}."
            )
    if not any(name.startswith("bare") for name in times):
        lines.append("- No index in this tree: no bare query to compare with.")
    lines += relevance_lines(backend, outcomes)
    return "\n".join(lines)


def relevance_only(args: argparse.Namespace) -> int:
    """Print the relevance set's hit rate, by kind of wording, and every miss (for tuning)."""
    with (
        tempfile.TemporaryDirectory(prefix="anshin-kbrel-") as tmp,
        throwaway_database(Path(tmp), args.database_url) as url,
    ):
        outcomes = relevance_outcomes(url, args.synonyms)
    for name, outcome in outcomes.items():
        print(f"## {name}: top-3 hit rate {outcome.hits} / {outcome.total} = {outcome.rate:.1%}\n")
        rows = relevance.variation_rows(outcome)
        print(markdown_table(["wording", "queries", "hits", "rate"], rows))
        for name_ in (relevance.TUNING, relevance.HELD_OUT):
            print("{} half: {} / {} = {:.1%}".format(name_, *relevance.half_rate(outcome, name_)))
        # Only the tuning half's misses are shown: the held-out half stays unseen.
        shown = relevance.misses_text(outcome, relevance.TUNING)
        print(f"\nMisses of the tuning half:\n{shown}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--inquiries", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400, help="queries in the timed set")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the query set")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--database-url", help="a PostgreSQL server (a throwaway database is made)")
    parser.add_argument("--relevance", action="store_true", help="only the relevance set's misses")
    parser.add_argument(
        "--synonyms", type=Path, help="with --relevance: a synonym file to try (one group a line)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the PostgreSQL database built (name printed)"
    )
    parser.add_argument(
        "--reuse", metavar="NAME", help="measure PostgreSQL database NAME built before (no build)"
    )
    parser.add_argument(
        "--reindex", action="store_true", help="with --reuse: rebuild the index first (timed)"
    )
    parser.add_argument("--label", default="", help="names the RESULTS.md section: search-LABEL")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args(argv)
    if args.relevance:
        return relevance_only(args)
    command = "python bench/search.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    args.load_before = load_average()
    customer = [row["q"] for row in relevance.read_jsonl(relevance.QUERIES)]
    texts = search_data.queries(args.queries, args.seed, customer)
    with tempfile.TemporaryDirectory(prefix="anshin-search-") as tmp:
        with data_database(Path(tmp), args) as url:
            backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
            migrations.upgrade(url)
            engine = make_engine(url)
            with make_sessionmaker(engine)() as session:
                if args.reuse:
                    args.articles, args.inquiries = counted(session)
                    seconds = rebuild_only(session) if args.reindex else {}
                else:
                    if relevance.STARTER_SYNONYMS.exists():
                        relevance.load_synonyms(session, relevance.STARTER_SYNONYMS)
                    seconds = build(session, args)
                size = search_index.sizes(session, url)
                times, found = measure(session, texts, args.rounds)
            engine.dispose()
        (Path(tmp) / "rel").mkdir()
        with throwaway_database(Path(tmp) / "rel", args.database_url) as url:
            outcomes = relevance_outcomes(url)
    section = report(args, command, backend, seconds, size, times, found, texts, outcomes)
    print(section)
    if args.write:
        name = "search" if backend == "SQLite" else "search-postgresql"
        write_section(name + (f"-{args.label}" if args.label else ""), section)
        console.print("bench/RESULTS.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
