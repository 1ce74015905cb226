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

Both run in the same server (``create_asgi`` under uvicorn, one process or
``--workers``, no access log), one after the other, in rounds (baseline,
product, baseline, product …) so drift hits both alike; the load is
``--connections`` concurrent keep-alive clients: httpx in this process sending
``--requests`` requests per round (default), or wrk for ``--duration``
seconds per round (``--client wrk``; bench/intake_load.py). No inquiry text
is sent twice in a run. Reported: requests per second, p50/p99 latency as the
client saw it, server and client CPU per request, errors, and the product's
share of the baseline's throughput. The database is
a temporary SQLite file, or a throwaway database on the PostgreSQL server that
``--database-url`` names. ``--write`` replaces the ``intake`` section of
bench/RESULTS.md (``intake-LABEL`` with ``--label``).

    python bench/intake.py --client wrk --duration 10 --rounds 3 --warmup 100 --write
"""

from __future__ import annotations

import argparse
import itertools
import os
import shlex
import sys
import tempfile
import uuid
from pathlib import Path

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
    ensure_debian_packages,
    free_port,
    load_average,
    process_tree,
    progress,
    running,
    write_section,
)
from fanout_setup import throwaway_database
from intake_load import Round, httpx_round, wrk_round
from intake_report import report

BENCH = Path(__file__).resolve().parent
SECRET = "bench-secret-not-for-production"
PRODUCT = "/api/inquiries"
BASELINE = "/bench/baseline"


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


# --- the client side (bench/intake_load.py) and the server's CPU ---------------------------


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


def measured(
    pid: int, base: str, token: str, path: str, first: int, args: argparse.Namespace, work: Path
) -> tuple[Round, int]:
    """One round against ``path`` with bodies from ``first`` on; the server's CPU time over it.

    Returns the round and how many bodies it used (the next round starts after them).
    """
    before = cpu_seconds(pid)
    if args.client == "wrk":
        result, sent = wrk_round(work, base, token, path, first, args.duration, args.connections)
    else:
        result = httpx_round(base, token, path, first, args.requests, args.connections)
        sent = args.requests
    result.server_cpu = cpu_seconds(pid) - before
    return result, sent


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
        for path in (BASELINE, PRODUCT):  # warm-up: imports, encoder, template cache, connections
            httpx_round(base, token, path, 0, args.warmup, args.connections)
        # Each endpoint numbers its bodies on from the warm-up's: no text is sent twice.
        first = {BASELINE: args.warmup, PRODUCT: args.warmup}
        for _ in range(args.rounds):
            for name, path in (("baseline", BASELINE), ("product", PRODUCT)):
                found, sent = measured(server.pid, base, token, path, first[path], args, work)
                first[path] += sent
                rounds[name].append(found)
                bar.advance(task)
    return rounds, (work / "server.log").read_text(errors="replace")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per endpoint")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up requests per endpoint")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients")
    parser.add_argument(
        "--client",
        choices=("httpx", "wrk"),
        default="httpx",
        help="load generator: httpx (in this process, needs nothing) or wrk (C, installed "
        "from Debian when missing)",
    )
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds per round (--client wrk)"
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--database-url", help="a PostgreSQL server (a throwaway database is made)")
    parser.add_argument("--label", default="", help="names the RESULTS.md section: intake-LABEL")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args(argv)
    command = "python bench/intake.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    if args.client == "wrk":
        ensure_debian_packages({"wrk": ("wrk",)})
    args.load_before = load_average()
    with (
        tempfile.TemporaryDirectory(prefix="anshin-intake-") as tmp,
        throwaway_database(Path(tmp), args.database_url) as url,
    ):
        rounds, log = run(args, url, Path(tmp))
        args.load_after = load_average()
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
