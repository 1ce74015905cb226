"""The message check with the team's expressions to avoid read per check, against a cached list.

R17 asks that an expression a lead publishes is flagged the next second, on
every server process. ``comms.avoid`` therefore reads the published pairs
with one indexed query for every check instead of keeping them in memory.
This measures what that costs, side by side in one run on the same data:

- **baseline**: ``check()`` with the pairs read once beforehand (what a
  per-process cache would do, and be stale on other processes);
- **per check**: ``comms.avoid.expressions`` (the query, in a session whose
  transaction is open, as a request's is) then ``check()`` — what
  ``POST /api/lint`` and the publish gate do;
- the query alone, for reference;
- and the same two through the app: ``POST /api/lint`` with an API token,
  the dependency as shipped against it overridden with the cached pairs.

The knowledge base holds ``--avoid`` published expressions to avoid, a fifth
as many drafts, and ``--articles`` other articles. ``--write`` updates the
``avoid`` section of bench/RESULTS.md (``avoid-postgresql`` with
``--database-url``).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from anshin.app import create_app
from anshin.comms import avoid
from anshin.comms.lint import check
from anshin.comms.lint_api import avoid_expressions
from anshin.config import Settings
from anshin.db import Base, import_all_models, make_engine, make_sessionmaker, utcnow
from anshin.knowledge import service as kb
from anshin.knowledge.models import Article
from anshin.team import service as team_service
from common import console, machine, markdown_table, percentile, progress, today, write_section
from fanout_setup import throwaway_database

TEXTS = (
    "本日14:05頃より、ログインできない障害が発生しております。ご不便をおかけし申し訳ございません。"
    "現在、認証サーバーの切り替え作業を行っております。次回は15:30までにご連絡いたします。",
    "決済の遅延は解消いたしました。ご迷惑とご心配をおかけし、誠に申し訳ございませんでした。"
    "原因と再発防止策は、12月8日までに報告書でお知らせいたします。",
    "お問い合わせいただき、ありがとうございます。ログインできない状態が続き、"
    "ご不便をおかけしております。システムの都合により、復旧作業を進めております。",
)


def seed(url: str, expressions: int, articles: int) -> None:
    """The knowledge base: published and draft expressions to avoid, and other articles."""
    import_all_models()
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    now = utcnow()
    rows = []
    kinds = ("faq", "explanation", "workaround", "script")
    for n in range(expressions + expressions // 5 + articles):
        avoid_kind = n < expressions + expressions // 5
        rows.append(
            {
                "key": f"a-{n}",
                "kind": "avoid_expression" if avoid_kind else kinds[n % len(kinds)],
                "title": f"避けたい表現{n}" if avoid_kind else f"ログインできないとき {n}",
                "body": "お客様を突き放して聞こえます。" if avoid_kind else "パスワードの再設定を…",
                "alternative": f"言い換え{n}" if avoid_kind else None,
                "tags": [],
                "components": [],
                "locale": "ja",
                "state": "published" if n < expressions or not avoid_kind else "draft",
                "public": False,
                "version": 1,
                "usage_count": 0,
                "helpful": 0,
                "not_helpful": 0,
                "created_by": "bench",
                "updated_by": "bench",
                "created_at": now,
                "updated_at": now,
            }
        )
    with engine.begin() as conn:
        conn.execute(insert(Article), rows)
    engine.dispose()


def measure(url: str, checks: int) -> dict[str, list[float]]:
    """Seconds per check on each path, interleaved so both see the same machine load."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        cached = avoid.expressions(session)
    times: dict[str, list[float]] = {"baseline": [], "per_check": [], "query": []}
    with progress() as bar, sessions() as session:
        task = bar.add_task("checks", total=checks)
        for n in range(checks):
            text = TEXTS[n % len(TEXTS)]
            start = time.perf_counter()
            check(text, kind="update", locale="ja", avoid_expressions=cached)
            times["baseline"].append(time.perf_counter() - start)
            # A request's session has its transaction open already (the sign-in lookup):
            # what the pairs add is the SELECT, timed in such a transaction.
            session.execute(select(1))
            start = time.perf_counter()
            pairs = avoid.expressions(session)
            queried = time.perf_counter()
            check(text, kind="update", locale="ja", avoid_expressions=pairs)
            times["per_check"].append(time.perf_counter() - start)
            times["query"].append(queried - start)
            session.rollback()
            bar.advance(task)
    engine.dispose()
    return times


def measure_http(url: str, checks: int) -> dict[str, list[float]]:
    """Seconds per ``POST /api/lint`` answered, as shipped and with the pairs cached."""
    settings = Settings(database_url=url, secret_key="b" * 40, status_export_dir=None)
    app = create_app(settings)
    with app.state.sessions() as session:
        person = team_service.create_user(
            session, email="bench@example.com", name="bench", role="operator", password="x" * 12
        )
        token, _ = team_service.create_token(session, user=person, name="bench", actor="bench")
        session.commit()
        cached = avoid.expressions(session)
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    times: dict[str, list[float]] = {"baseline": [], "per_check": []}
    with progress() as bar:
        task = bar.add_task("POST /api/lint", total=checks)
        for n in range(checks):
            body = {"text": TEXTS[n % len(TEXTS)], "kind": "update", "locale": "ja"}
            app.dependency_overrides[avoid_expressions] = lambda: cached
            start = time.perf_counter()
            client.post("/api/lint", json=body).raise_for_status()
            times["baseline"].append(time.perf_counter() - start)
            app.dependency_overrides.clear()
            start = time.perf_counter()
            client.post("/api/lint", json=body).raise_for_status()
            times["per_check"].append(time.perf_counter() - start)
            bar.advance(task)
    app.state.engine.dispose()
    return times


def _rows(times: dict[str, list[float]], labels: tuple[str, ...]) -> list[list[object]]:
    base50 = percentile(times["baseline"], 50)
    return [
        [
            label,
            percentile(times[key], 50) * 1000,
            percentile(times[key], 95) * 1000,
            f"{percentile(times[key], 50) / base50:.2f}×",
        ]
        for key, label in zip(times, labels, strict=True)
    ]


def flags_a_new_one(url: str) -> bool:
    """The point of reading per check: an expression published now is flagged by the next one."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    values = {"key": "bench-new", "kind": "avoid_expression", "title": "仕様ですので"}
    with sessions() as writer:
        kb.save(writer, values | {"alternative": "現在の動作です", "state": "published"}, actor="b")
        writer.commit()
    with sessions() as session:
        found = check(
            "仕様ですのでご了承ください。",
            kind="report_notice",
            avoid_expressions=avoid.expressions(session),
        )
    engine.dispose()
    return any(f.rule == "avoid-expression" and "現在の動作です" in f.suggestion for f in found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=2000)
    parser.add_argument("--avoid", type=int, default=100, help="published expressions to avoid")
    parser.add_argument("--articles", type=int, default=5000, help="other articles")
    parser.add_argument("--database-url", help="a PostgreSQL server (a throwaway database)")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args(argv)
    command = "python bench/avoid.py " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    with (
        tempfile.TemporaryDirectory(prefix="anshin-avoid-") as tmp,
        throwaway_database(Path(tmp), args.database_url) as url,
    ):
        seed(url, args.avoid, args.articles)
        measure(url, min(200, args.checks))  # warm-up: compiled patterns, connections
        times = measure(url, args.checks)
        http = measure_http(url, args.checks)
        flagged = flags_a_new_one(url)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    info = machine()
    rows = _rows(
        times,
        (
            "baseline: `check()` with the pairs read once",
            "per check: `comms.avoid.expressions` + `check()`",
            "the query alone (in the request's open transaction)",
        ),
    )
    http_rows = _rows(
        http,
        (
            "`POST /api/lint`, the pairs cached (dependency overridden)",
            "`POST /api/lint` as shipped (pairs read per call)",
        ),
    )
    section = "\n".join(
        [
            f"## Expressions to avoid ({backend}): read per check against a cached list",
            "",
            f"Measured {today()} with `{command}`.",
            "",
            f"Machine: {info['cpus']} CPUs ({info['model']}), {info['ram']} RAM, Python "
            f"{info['python']}. Database: {backend}. {args.avoid} published expressions to "
            f"avoid, {args.avoid // 5} drafts, {args.articles} other articles; {args.checks} "
            "checks of three real-length Japanese notices, the two paths interleaved.",
            "",
            markdown_table(["path", "p50 ms", "p95 ms", "p50 vs baseline"], rows),
            "",
            markdown_table(["through the app", "p50 ms", "p95 ms", "p50 vs cached"], http_rows),
            "",
            f"- An expression published after the runs was flagged by the next check: "
            f"{'yes' if flagged else 'NO'}.",
        ]
    )
    print(section)
    if not flagged:
        console.print("the next check did not flag the expression just published")
        return 1
    if args.write:
        write_section("avoid" + ("-postgresql" if args.database_url else ""), section)
        console.print("bench/RESULTS.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
