"""bench/intake.py's report: the RESULTS.md section from the rounds measured.

Apart from the benchmark so that each file stays short; what the figures mean
is written by ``report`` itself.
"""

from __future__ import annotations

import argparse
from collections import Counter

from common import machine, markdown_table, percentile, today
from intake_load import Round


def latency_figures(found: list[Round]) -> tuple[float, float]:
    """p50 and p99 over the rounds: of every latency (httpx); else wrk's per round.

    wrk gives each round's percentiles, not its latencies: the median round's p50
    and the worst round's p99 are reported.
    """
    latencies = [ms for r in found for ms in r.latencies_ms]
    if latencies:
        return percentile(latencies, 50), percentile(latencies, 99)
    p50s = sorted(r.p50_ms or 0.0 for r in found)
    return p50s[len(p50s) // 2], max(r.p99_ms or 0.0 for r in found)


def load_text(args: argparse.Namespace) -> str:
    """How the load was made, for the report."""
    if args.client == "wrk":
        return (
            f"`wrk -t1 -c{args.connections} -d{args.duration:g}s` on the same machine (one "
            "C thread; a Lua script sends a table of bodies in turn), "
            f"{args.duration:g} s per round"
        )
    return (
        f"{args.connections} concurrent keep-alive httpx clients in the same machine (asyncio, "
        f"in the script's process), {args.requests} requests per round"
    )


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
        rates = [r.rate for r in found]
        errors = sum(sum(n for code, n in r.statuses.items() if code != "201") for r in found)
        best = sorted(rates)[len(rates) // 2]  # the median round
        p50, p99 = latency_figures(found)
        summary[name] = (best, p50, p99, errors)
        stored = max(1, sum(r.ok for r in found))
        cpu[name] = sum(r.server_cpu for r in found) * 1000 / stored
        client_cpu = sum(r.client_cpu for r in found) * 1000 / stored
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
                f"{client_cpu:.2f}",
                ", ".join(f"{code} × {n}" for code, n in sorted(statuses.items())),
            ]
        )
    rate, _p50, p99, errors = summary["product"]
    repeated = sum(r.bodies_repeated for found in rounds.values() for r in found)
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
            f"{info['python']}; 1-minute load average {args.load_before:.2f} before the run, "
            f"{args.load_after:.2f} after it. "
            f"Database: {backend}. Server: `create_asgi` under uvicorn ({processes}, no access "
            f"log) with the baseline route mounted by the script. Load: {load_text(args)}, "
            f"{args.rounds} rounds each, alternating, after {args.warmup} warm-up requests each "
            "(httpx). Bodies vary, and no text is sent twice in a run (triage remembers the "
            "texts it answered): five texts (Japanese of several registers, English) numbered, "
            "nine in ten with a mail address (2,000 customers, so some write again), one in "
            "seventeen an important customer, one in seven in English. Triage: "
            f"{triage}. Product: token, body, `intake_group.take` (concurrent requests "
            "stored together by `intake.take_many`: references, inquiries, first messages, "
            "triage, `inquiry_ack` composed in each customer's language and queued to the "
            "contact row, events; one commit a group, each request answered with its own "
            "inquiry). Baseline: token, body, one INSERT, commit.",
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
                    "client CPU ms/req",
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
            f"- Errors: {errors} non-201 answers to the product."
            + (f" Texts sent again (wrk past its table): {repeated}." if repeated else ""),
            "- Rows written: "
            + ", ".join(f"{name} {n:,}" for name, n in written.items())
            + " (every 201 stored; one acknowledgement and one delivery per inquiry with an "
            "address"
            + (
                "; with wrk the requests in flight when a round ends are stored, not counted)."
                if args.client == "wrk"
                else ")."
            ),
        ]
    )
