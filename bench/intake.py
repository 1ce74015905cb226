"""Intake benchmark: inquiries per second through ``POST /api/inquiries``, against a bare insert.

During an outage inquiries arrive by the hundred per minute; each must be
stored before anything else happens, triaged, linked and acknowledged (R18).
This script measures, on one server and side by side:

1. **product**: ``POST /api/inquiries`` — the bearer token checked, the body
   validated, ``inquiries.intake.take`` (reference from the shared counter,
   the inquiry and its first message, triage through its hook, the
   ``inquiry_ack`` template composed and queued through the outbox to the
   customer's contact row, the events) and the commit;
2. **baseline**: ``POST /bench/baseline``, defined in this script and mounted
   only on the benchmark's server: the same token check and the same request
   model, then one INSERT of the same inquiry row and the commit.

Both run in the same server process (``create_asgi`` under uvicorn, one
process, no access log), one after the other, in rounds (baseline, product,
baseline, product …) so drift hits both alike; the load is ``--connections``
concurrent keep-alive clients (httpx) sending ``--requests`` requests per
round. Reported: requests per second, p50/p99 latency as the client saw it,
errors, and the product's share of the baseline's throughput. The database is
a temporary SQLite file, or a throwaway database on the PostgreSQL server that
``--database-url`` names. ``--write`` replaces the ``intake`` section of
bench/RESULTS.md (``intake-LABEL`` with ``--label``).

    python bench/intake.py --requests 3000 --rounds 3 --write
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shlex
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, Request
from starlette.types import ASGIApp

from anshin.app import create_app
from anshin.db import utcnow
from anshin.inquiries import rules, service
from anshin.inquiries.intake_api import InquiryCreate
from anshin.inquiries.models import Inquiry
from anshin.statuspage.views import StatusPageFastPath
from anshin.web.auth import DbSession, Operator
from common import (
    console,
    free_port,
    load_average,
    machine,
    markdown_table,
    percentile,
    process_tree,
    progress,
    running,
    today,
    write_section,
)
from fanout_setup import throwaway_database

BENCH = Path(__file__).resolve().parent
SECRET = "bench-secret-not-for-production"
PRODUCT = "/api/inquiries"
BASELINE = "/bench/baseline"
TEXTS = (
    "ログインできません。いつ直りますか？",
    "ﾛｸﾞｲﾝできない！！ 仕事にならないんですけど😡",
    "Since this morning I cannot sign in. Is there an outage?",
    "決済画面でエラー E-502 が出ます。回避策はありますか",
    "昨日の請求が二重になっている気がします。確認してください。",
)


# --- the server side: the app with the baseline endpoint mounted (uvicorn --factory) ---------

baseline_router = APIRouter()
_numbers = itertools.count(1)
_RUN = uuid.uuid4().hex[:6]


@baseline_router.post(BASELINE, status_code=201)
def baseline(
    request: Request, session: DbSession, user: Operator, body: InquiryCreate
) -> dict[str, str]:
    """Only the row: the same inquiry, none of triage, the counter, the ack or the events."""
    customer = body.customer
    now = utcnow()
    service.check_text(body.text)
    row = Inquiry(
        reference=f"B-{_RUN}-{next(_numbers):08d}",
        received_at=now,
        channel=body.channel,
        locale=body.locale or "ja",
        customer_name=customer.name if customer else None,
        customer_email=customer.email if customer else None,
        customer_tier=customer.tier if customer else rules.Tier.STANDARD,
        original_text=body.text,
        keep_informed=body.keep_informed,
        intent=rules.Intent.UNRELATED,
        level=1,
        stage=rules.Stage.RECEIVED,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.commit()
    return {"reference": row.reference}


def app() -> ASGIApp:
    """``create_asgi`` with ``POST /bench/baseline`` added; what the benchmark's server runs.

    The baseline lives here, not in the app: it exists only to be compared with.
    """
    application = create_app()
    application.include_router(baseline_router)
    return StatusPageFastPath(application)


# --- the client side -------------------------------------------------------------------------


@dataclass
class Round:
    """What one round of one endpoint got."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    server_cpu: float = 0.0  # CPU seconds the server's processes spent during the round

    @property
    def cpu_ms(self) -> float:
        """Server CPU per stored request: the cost, whatever else shares the machine."""
        return 1000 * self.server_cpu / self.ok if self.ok else 0.0

    @property
    def ok(self) -> int:
        return self.statuses.get("201", 0)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def body(i: int) -> dict[str, Any]:
    """A varied inquiry: texts, customers (some writing again), tiers, languages."""
    customer: dict[str, Any] = {"name": f"顧客 {i % 997}", "tier": "standard"}
    if i % 10:
        customer["email"] = f"c{i % 2000}@example.com"  # nine in ten leave an address
    if i % 17 == 0:
        customer["tier"] = "important"
    return {
        "text": TEXTS[i % len(TEXTS)] + f" (#{i})",
        "customer": customer,
        "locale": "en" if i % 7 == 0 else "ja",
        "channel": "chat" if i % 3 else "form",
    }


async def load(base: str, token: str, path: str, count: int, connections: int) -> Round:
    """``count`` POSTs to ``path`` from ``connections`` concurrent keep-alive clients."""
    result = Round()
    numbers = iter(range(count))
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "ja"}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)

    async def worker(client: httpx.AsyncClient) -> None:
        for i in numbers:
            began = time.perf_counter()
            try:
                response = await client.post(path, json=body(i), headers=headers)
                key = str(response.status_code)
            except httpx.HTTPError as exc:
                key = type(exc).__name__
            result.latencies_ms.append((time.perf_counter() - began) * 1000)
            result.statuses[key] += 1

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60.0) as client:
        began = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(connections)))
        result.seconds = time.perf_counter() - began
    return result


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of the server and its worker processes so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def measured(pid: int, base: str, token: str, path: str, args: argparse.Namespace) -> Round:
    """One round against ``path``, with the server's CPU time over it."""
    before = cpu_seconds(pid)
    result = asyncio.run(load(base, token, path, args.requests, args.connections))
    result.server_cpu = cpu_seconds(pid) - before
    return result


def seed(url: str, token_file: Path) -> None:
    """The schema from the migrations, an operator's API token, an open incident."""
    from anshin import migrations
    from anshin.config import Settings
    from anshin.db import make_engine, make_sessionmaker
    from anshin.incidents import components
    from anshin.incidents import service as incidents
    from anshin.team import service as team

    migrations.upgrade(url)
    settings = Settings(database_url=url, secret_key=SECRET)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        user = team.create_user(
            session, email="widget@example.com", name="chat", role="operator", password="x" * 12
        )
        raw, _ = team.create_token(session, user=user, name="bench", actor="bench")
        components.add_component(session, "ログイン", name_en="Sign-in", actor="bench")
        incidents.declare(
            session,
            settings,
            incidents.IncidentInput(
                title="ログインできない障害", severity="sev2", components=["ログイン"]
            ),
            actor="bench",
        )
        session.commit()
    engine.dispose()
    token_file.write_text(raw, encoding="utf-8")


def counts(url: str) -> dict[str, int]:
    """Rows written, to check every 201 stored what it says (and nothing else)."""
    from sqlalchemy import func, select

    from anshin.db import make_engine, make_sessionmaker
    from anshin.inquiries.models import Inquiry, InquiryMessage
    from anshin.notify.models import Delivery

    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        found = {
            "product inquiries": session.scalar(
                select(func.count()).select_from(Inquiry).where(Inquiry.reference.like("Q-%"))
            )
            or 0,
            "baseline rows": session.scalar(
                select(func.count()).select_from(Inquiry).where(Inquiry.reference.like("B-%"))
            )
            or 0,
            "acknowledgements": session.scalar(
                select(func.count())
                .select_from(InquiryMessage)
                .where(InquiryMessage.kind == "inquiry_ack")
            )
            or 0,
            "deliveries": session.scalar(select(func.count()).select_from(Delivery)) or 0,
        }
    engine.dispose()
    return found


def run(args: argparse.Namespace, url: str, work: Path) -> tuple[dict[str, list[Round]], str]:
    token_file = work / "token"
    seed(url, token_file)
    token = token_file.read_text(encoding="utf-8")
    port = free_port()
    env = {
        "ANSHIN_DATABASE_URL": url,
        "ANSHIN_SECRET_KEY": SECRET,
        "ANSHIN_BASE_URL": f"http://127.0.0.1:{port}",
        "PYTHONUNBUFFERED": "1",
    }
    argv = [sys.executable, "-m", "uvicorn", "intake:app", "--factory", "--app-dir", str(BENCH)]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    if args.workers > 1:
        argv += ["--workers", str(args.workers)]
    base = f"http://127.0.0.1:{port}"
    rounds: dict[str, list[Round]] = {"baseline": [], "product": []}
    with (
        running(
            argv, port=port, env=env, log=work / "server.log", ready_path="/api/v2/status.json"
        ) as server,
        progress() as bar,
    ):
        task = bar.add_task("baseline and product, in rounds", total=2 * args.rounds)
        for path in (BASELINE, PRODUCT):  # warm-up: imports, template cache, connections
            asyncio.run(load(base, token, path, args.warmup, args.connections))
        for _ in range(args.rounds):
            for name, path in (("baseline", BASELINE), ("product", PRODUCT)):
                rounds[name].append(measured(server.pid, base, token, path, args))
                bar.advance(task)
    return rounds, (work / "server.log").read_text(errors="replace")


def triage_installed() -> bool:
    from anshin.inquiries import intake

    return intake.triage_function(intake.TRIAGE_HOOK) is not None


def report(
    args: argparse.Namespace,
    command: str,
    url: str,
    rounds: dict[str, list[Round]],
    written: dict[str, int],
) -> str:
    info = machine()
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    summary: dict[str, tuple[float, float, float, int]] = {}
    cpu: dict[str, float] = {}
    rows = []
    for name, found in rounds.items():
        latencies = [ms for r in found for ms in r.latencies_ms]
        rates = [r.rate for r in found]
        errors = sum(sum(n for code, n in r.statuses.items() if code != "201") for r in found)
        best = sorted(rates)[len(rates) // 2]  # the median round
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        summary[name] = (best, p50, p99, errors)
        cpu[name] = sum(r.server_cpu for r in found) * 1000 / max(1, sum(r.ok for r in found))
        statuses: Counter[str] = Counter()
        for r in found:
            statuses.update(r.statuses)
        rows.append(
            [
                "`POST /api/inquiries` (product)"
                if name == "product"
                else "`POST /bench/baseline`",
                sum(r.ok for r in found),
                f"{best:,.0f}",
                f"{min(rates):,.0f}–{max(rates):,.0f}",
                p50,
                p99,
                f"{cpu[name]:.2f}",
                ", ".join(f"{code} × {n}" for code, n in sorted(statuses.items())),
            ]
        )
    rate, _p50, p99, errors = summary["product"]
    share = rate / summary["baseline"][0] if summary["baseline"][0] else 0.0
    cost = cpu["baseline"] / cpu["product"] if cpu["product"] else 0.0
    processes = f"{args.workers} worker processes" if args.workers > 1 else "1 process"
    triage = (
        "installed (`anshin.inquiries.triage:for_intake`)"
        if triage_installed()
        else "not installed in this tree (the hook finds no module: inquiries stay at level 1)"
    )

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    return "\n".join(
        [
            f"## Intake{f' ({args.label})' if args.label else ''}: `POST /api/inquiries` "
            "against a bare insert of the same row",
            "",
            f"Measured {today()} with `{command}`.",
            "",
            f"Machine: {info['cpus']} CPUs ({info['model']}), {info['ram']} RAM, Python "
            f"{info['python']}; 1-minute load average {args.load_before:.2f} before the run. "
            f"Database: {backend}. Server: `create_asgi` under uvicorn ({processes}, no access "
            f"log) with the baseline route mounted by the script. Load: {args.connections} "
            f"concurrent keep-alive httpx clients in the same machine, {args.requests} requests "
            f"per round, {args.rounds} rounds each, alternating, after {args.warmup} warm-up "
            "requests each. Bodies vary: five texts (Japanese of several registers, English), "
            "nine in ten with a mail address (2,000 customers, so some write again), one in "
            "seventeen an important customer, one in seven in English. Triage: "
            f"{triage}. Product: token, body, `intake.take` (reference, inquiry, first "
            "message, triage, `inquiry_ack` composed in the customer's language and queued to "
            "the contact row, events), commit. Baseline: token, body, one INSERT, commit.",
            "",
            markdown_table(
                [
                    "endpoint",
                    "stored",
                    "req/s (median round)",
                    "range",
                    "p50 ms",
                    "p99 ms",
                    "server CPU ms/req",
                    "answers",
                ],
                rows,
            ),
            "",
            f"- Product / baseline throughput: {share:.0%} (target ≥ 50%): "
            f"{verdict(share >= 0.5)}.",
            f"- Server CPU per request, baseline / product: {cost:.0%} (the throughput share "
            "the product would have if the server had the CPUs to itself; user + system time "
            "of the server's processes over the rounds, so other load on the machine does not "
            "enter it).",
            f"- Product throughput: {rate:,.0f}/s (target ≥ 500/s): {verdict(rate >= 500)}.",
            f"- Product p99: {p99:.1f} ms (target < 200 ms): {verdict(p99 < 200)}.",
            f"- Errors: {errors} non-201 answers to the product.",
            "- Rows written: "
            + ", ".join(f"{name} {n:,}" for name, n in written.items())
            + " (every 201 stored; one acknowledgement and one delivery per inquiry with an "
            "address).",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per endpoint")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up requests per endpoint")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--database-url", help="a PostgreSQL server (a throwaway database is made)")
    parser.add_argument("--label", default="", help="names the RESULTS.md section: intake-LABEL")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args(argv)
    command = "python bench/intake.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    args.load_before = load_average()
    with (
        tempfile.TemporaryDirectory(prefix="anshin-intake-") as tmp,
        throwaway_database(Path(tmp), args.database_url) as url,
    ):
        rounds, log = run(args, url, Path(tmp))
        if "Traceback" in log:
            console.print(f"server log: {log[-3000:]}")
        written = counts(url)
        section = report(args, command, url, rounds, written)
    print(section)
    if args.write:
        write_section("intake" + (f"-{args.label}" if args.label else ""), section)
        console.print("bench/RESULTS.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
