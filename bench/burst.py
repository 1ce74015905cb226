"""Burst benchmark: the status page while wrong-password logins and subscribes pour in (issue 7).

During an incident two things arrive at once: customers who subscribe and
people who mistype passwords (or a script that guesses them), and everyone
reloading the status page. Issue 7 found 20 concurrent wrong-password logins
freezing ``/api/v2/summary.json`` for 90 s. This script measures, on one
server and side by side:

1. idle: the status page (``/api/v2/summary.json`` and ``/``, one request at
   a time) for ``--idle-seconds``;
2. burst: the same polling while ``--logins`` wrong-password sign-ins and
   ``--subscribes`` public subscriptions are sent all at once;

and reports p50/p99 of the status page in each phase with their ratio, the
polls that failed or waited past ``--poll-timeout``, and what the burst's
requests got (status codes, unanswered ones, the slowest). The server is
``create_asgi`` (what ``anshin serve`` runs) under uvicorn in a subprocess,
with the rate limit of the subscribe form and the sign-in throttle off; the database is a temporary
SQLite file, or a throwaway database on the PostgreSQL server that
``--database-url`` names. ``--src`` runs another checkout's ``src`` (an older
commit, for comparison); ``--write`` replaces this benchmark's section of
bench/RESULTS.md (``burst``, or ``burst-LABEL`` with ``--label``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from common import (
    console,
    free_port,
    load_average,
    machine,
    markdown_table,
    percentile,
    progress,
    running,
    today,
    write_section,
)
from fanout_setup import throwaway_database

BENCH = Path(__file__).resolve().parent
SECRET = "bench-secret-not-for-production"
STATUS_PATHS = ("/api/v2/summary.json", "/")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Polls:
    """The status page as one client saw it: latency of every answered poll, failures."""

    latencies_ms: list[float] = field(default_factory=list)
    failed: int = 0  # not 200, or no answer within --poll-timeout

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q) if self.latencies_ms else float("nan")


@dataclass
class Burst:
    """What the burst's requests got, per kind."""

    statuses: dict[str, Counter[str]] = field(default_factory=dict)
    slowest_s: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


async def poll(base: str, polls: Polls, stop: asyncio.Event, timeout: float) -> None:
    """GET the status paths one after the other until ``stop`` is set."""
    async with httpx.AsyncClient(base_url=base, timeout=timeout) as client:
        while not stop.is_set():
            for path in STATUS_PATHS:
                began = time.perf_counter()
                try:
                    response = await client.get(path)
                except httpx.HTTPError:
                    polls.failed += 1
                    continue
                if response.status_code == 200:
                    polls.latencies_ms.append((time.perf_counter() - began) * 1000)
                else:
                    polls.failed += 1
            await asyncio.sleep(0.05)


async def idle_phase(base: str, seconds: float, timeout: float) -> Polls:
    polls, stop = Polls(), asyncio.Event()
    task = asyncio.create_task(poll(base, polls, stop, timeout))
    await asyncio.sleep(seconds)
    stop.set()
    await task
    return polls


def _csrf(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    if not found:
        raise RuntimeError(f"no CSRF token on {page.url}: {page.status_code}")
    return found.group(1)


async def burst_phase(base: str, args: argparse.Namespace) -> tuple[Polls, Burst]:
    """Every login and subscribe at once, the status page polled until all are answered."""
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    timeout = httpx.Timeout(args.request_timeout)
    result = Burst(statuses={"login": Counter(), "subscribe": Counter()})
    polls, stop = Polls(), asyncio.Event()
    async with (
        httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as logins,
        httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as subs,
    ):
        login_token = _csrf(await logins.get("/login"))
        sub_token = _csrf(await subs.get("/subscribe"))

        async def one(
            kind: str, client: httpx.AsyncClient, path: str, form: dict[str, str]
        ) -> None:
            began = time.perf_counter()
            try:
                response = await client.post(path, data=form)
                key = str(response.status_code)
            except httpx.TimeoutException:
                key = f"no answer in {args.request_timeout:g} s"
            except httpx.HTTPError as exc:
                key = type(exc).__name__
            result.statuses[kind][key] += 1
            result.slowest_s[kind] = max(
                result.slowest_s.get(kind, 0.0), time.perf_counter() - began
            )

        requests = [
            one(
                "login",
                logins,
                "/login",
                {"email": "operator@example.com", "password": f"no-{i}", "csrf_token": login_token},
            )
            for i in range(args.logins)
        ] + [
            one(
                "subscribe",
                subs,
                "/subscribe",
                {"email": f"c{i}@example.com", "locale": "ja", "csrf_token": sub_token},
            )
            for i in range(args.subscribes)
        ]
        poller = asyncio.create_task(poll(base, polls, stop, args.poll_timeout))
        began = time.perf_counter()
        await asyncio.gather(*requests)
        result.seconds = time.perf_counter() - began
        stop.set()
        await poller
    return polls, result


def run(args: argparse.Namespace, url: str, work: Path) -> tuple[Polls, Polls, Burst]:
    env = {
        "ANSHIN_DATABASE_URL": url,
        "ANSHIN_SECRET_KEY": SECRET,
        "ANSHIN_SUBSCRIBE_RATE_PER_HOUR": "0",
        # The sign-in throttle off too: every wrong password is really checked (argon2),
        # the load this benchmark is about; with it on, most would be a cheap 429.
        "ANSHIN_LOGIN_FAILURES_PER_ACCOUNT": "0",
        "ANSHIN_LOGIN_FAILURES_PER_ADDRESS": "0",
        "PYTHONUNBUFFERED": "1",
    }
    if args.src:
        env["PYTHONPATH"] = str(Path(args.src).resolve())
    subprocess.run(
        [sys.executable, str(BENCH / "burst_seed.py"), url],
        env={**os.environ, **env},
        check=True,
    )
    port = free_port()
    env["ANSHIN_BASE_URL"] = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "uvicorn", "anshin.app:create_asgi", "--factory"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    base = f"http://127.0.0.1:{port}"
    with (
        running(
            argv, port=port, env=env, log=work / "server.log", ready_path="/api/v2/status.json"
        ),
        progress() as bar,
    ):
        task = bar.add_task("idle, then the burst", total=2)
        idle = asyncio.run(idle_phase(base, args.idle_seconds, args.poll_timeout))
        bar.advance(task)
        busy, burst = asyncio.run(burst_phase(base, args))
        bar.advance(task)
    return idle, busy, burst


def report(
    args: argparse.Namespace, command: str, url: str, idle: Polls, busy: Polls, burst: Burst
) -> str:
    info = machine()
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    tree = f"the code in `{args.src}`" if args.src else "this checkout"
    rows = []
    for name, polls in (("idle", idle), ("burst", busy)):
        rows.append(
            [
                name,
                len(polls.latencies_ms),
                polls.p(50),
                polls.p(99),
                max(polls.latencies_ms, default=0.0),
                polls.failed,
            ]
        )
    ratio_50 = busy.p(50) / idle.p(50)
    ratio_99 = busy.p(99) / idle.p(99)
    answers = [
        [
            kind,
            ", ".join(f"{code} × {n}" for code, n in sorted(counts.items())),
            burst.slowest_s.get(kind, 0.0),
        ]
        for kind, counts in burst.statuses.items()
    ]
    return "\n".join(
        [
            f"## Burst{f' ({args.label})' if args.label else ''}: the status page during "
            f"{args.logins} wrong-password logins and {args.subscribes} subscribes",
            "",
            f"Measured {today()} with `{command}`, running {tree}.",
            "",
            f"Machine: {info['cpus']} CPUs ({info['model']}), {info['ram']} RAM, Python "
            f"{info['python']}; 1-minute load average {args.load_before:.2f} before the run. "
            f"Database: {backend}. Server: `create_asgi` under uvicorn (1 process, no access "
            "log), subscribe rate limit and sign-in throttle off. The status page is polled "
            "one request at a time "
            f"(`/api/v2/summary.json`, then `/`) for {args.idle_seconds:g} s idle, then while "
            f"every login and subscribe is sent at once (httpx, one connection each); a poll "
            f"fails when it is not 200 or takes over {args.poll_timeout:g} s.",
            "",
            markdown_table(["status page", "polls", "p50 ms", "p99 ms", "max ms", "failed"], rows),
            "",
            f"- Burst / idle: p50 × {ratio_50:.1f}, p99 × {ratio_99:.1f}; "
            f"{busy.failed} failed polls during the burst.",
            f"- The burst took {burst.seconds:.1f} s until its last request was answered.",
            "",
            markdown_table(["burst requests", "answers", "slowest s"], answers),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logins", type=int, default=100, help="wrong-password sign-ins")
    parser.add_argument("--subscribes", type=int, default=100, help="public subscriptions")
    parser.add_argument("--idle-seconds", type=float, default=5.0, help="status page alone")
    parser.add_argument("--poll-timeout", type=float, default=10.0, help="a poll fails after this")
    parser.add_argument("--request-timeout", type=float, default=300.0, help="per burst request")
    parser.add_argument("--database-url", help="a PostgreSQL server (a throwaway database is made)")
    parser.add_argument("--src", help="another checkout's src directory to run instead")
    parser.add_argument("--label", default="", help="names the RESULTS.md section: burst-LABEL")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args(argv)
    command = "python bench/burst.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    args.load_before = load_average()
    with (
        tempfile.TemporaryDirectory(prefix="anshin-burst-") as tmp,
        throwaway_database(Path(tmp), args.database_url) as url,
    ):
        idle, busy, burst = run(args, url, Path(tmp))
        console.print(f"server log: {(Path(tmp) / 'server.log').read_text()[-1500:]}")
        section = report(args, command, url, idle, busy, burst)
    print(section)
    if args.write:
        write_section("burst" + (f"-{args.label}" if args.label else ""), section)
        console.print("bench/RESULTS.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
