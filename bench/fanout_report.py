"""The fan-out benchmark's figures: one run's numbers, the exactly-once check, the markdown."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from typing import Any

from common import machine, markdown_table, today

TARGET_SECONDS = 60.0
TARGET_RATIO = 0.5
TARGET_RSS_MB = 300.0


@dataclass
class Run:
    """One sending run as the sink saw it (times from the first send to the last accept)."""

    label: str
    messages: int  # accepted by the sink, mail + webhooks
    expected: int
    seconds: float
    first_accept: float
    mail_bytes: int
    mails: int
    cpu: float  # CPU seconds of the sending process(es)
    sink_cpu: float  # CPU seconds of the receiving process
    rss: list[float]  # peak RSS per worker process, MiB (empty: not measured)
    publish: float | None = None  # seconds of the fan_out transaction
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Messages accepted per second."""
        return self.messages / self.seconds if self.seconds > 0 else 0.0

    @property
    def mail_rate(self) -> float:
        """Mails accepted per second (what the baseline also sends)."""
        return self.mails / self.seconds if self.seconds > 0 else 0.0


def check_copies(copies: dict[str, Any], emails: int, webhooks: int) -> list[str]:
    """Every subscriber exactly one copy: nobody missing, nobody twice, nobody unknown."""
    problems: list[str] = []
    mails: dict[str, int] = copies["mails"]
    expected = {f"user{i}@example.com" for i in range(emails)}
    missing = len(expected - mails.keys())
    unknown = len(mails.keys() - expected)
    twice = sum(1 for n in mails.values() if n > 1)
    if missing or unknown or twice:
        problems.append(
            f"mail: {missing:,} subscribers got nothing, {twice:,} got more than one copy, "
            f"{unknown:,} unknown recipients"
        )
    if copies["message_ids"] != len(mails) and not problems:
        problems.append(f"mail: {copies['message_ids']:,} Message-IDs for {len(mails):,} people")
    hooks: dict[str, int] = copies["hooks"]
    paths = {f"/hook/{i}" for i in range(webhooks)}
    h_missing = len(paths - hooks.keys())
    h_twice = sum(1 for n in hooks.values() if n > 1)
    h_unknown = len(hooks.keys() - paths)
    if h_missing or h_twice or h_unknown:
        problems.append(
            f"webhooks: {h_missing:,} got nothing, {h_twice:,} more than once, "
            f"{h_unknown:,} unknown paths"
        )
    if webhooks and copies["signed"] != sum(hooks.values()):
        problems.append("webhooks: some requests came without a signature")
    return problems


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report(product: Run, baseline: Run | None, args: argparse.Namespace, command: str) -> str:
    """The markdown section: setup, the two runs side by side, the targets."""
    info = machine()
    database = "PostgreSQL (a fresh database)" if args.database_url else "SQLite (a temp file)"
    queue = "Redis (Huey)" if args.redis_url else "Huey on SQLite (the default)"
    runs = [product] + ([baseline] if baseline else [])
    rows = []
    for run in runs:
        rows.append(
            [
                run.label,
                f"{run.messages:,} / {run.expected:,}",
                round(run.seconds, 2),
                round(run.rate),
                round(run.first_accept, 2),
                round(run.mail_bytes / run.mails) if run.mails else 0,
                round(run.cpu, 1),
                round(run.sink_cpu, 1),
                " + ".join(f"{m:.0f}" for m in run.rss) or "-",
                "yes" if not run.problems else "**NO**",
            ]
        )
    busy = args.load_before > 1.0
    lines = [
        "## Fan-out: one first notice to every subscriber, against plain smtplib",
        "",
        f"Measured {today()} with `{command}`.",
        "",
        f"Machine: {info['cpus']} CPUs ({info['model']}), {info['ram']} RAM, "
        f"Linux {info['kernel']}, Python {info['python']}. 1-minute load average "
        f"{args.load_before:.2f} before the run"
        + (" (other work was running on the machine: every figure is lower)." if busy else "."),
        "",
        f"Product: {args.emails:,} active mail subscribers and {args.webhooks:,} webhook "
        f"subscribers (bulk-inserted, not measured); database {database}; queue {queue}; "
        f"{args.processes} `anshin worker` process(es) with {args.workers} thread(s) each, "
        f"claims of {args.batch_size}. The clock starts before `notify.service.fan_out` "
        "(one transaction: the message, an INSERT … SELECT of the deliveries, the event) and "
        "stops when the sink accepts the last mail or webhook. The workers were started and "
        "idle before. Baseline: the same number of mails, rendered by the product (only "
        "`To` and the Message-ID differ), sent over one persistent `smtplib` connection by a "
        "process with no database. Both send to the product's aiosmtpd sink handler "
        "(`anshin.notify.sink.MailSink`, on uvloop) in a process of its own on 127.0.0.1 (a "
        "fresh one per run); the product's webhooks go to the product's webhook receiver in "
        f"the same process. Everything shares the {info['cpus']} CPUs; nothing is pinned.",
        "",
        markdown_table(
            [
                "run",
                "accepted",
                "seconds",
                "msg/s",
                "first accept after s",
                "bytes per mail",
                "sender CPU s",
                "sink CPU s",
                "worker peak RSS MiB",
                "exactly once",
            ],
            rows,
        ),
        "",
    ]
    if product.publish is not None:
        lines.append(
            f"- `fan_out` transaction (message, {product.expected:,} deliveries, event, "
            f"commit and wake-up): {product.publish:.2f} s of the product's time."
        )
    for run in runs:
        for problem in run.problems:
            lines.append(f"- **{run.label}: {problem}.**")
    complete = not product.problems and product.messages == product.expected
    in_time = complete and product.seconds <= TARGET_SECONDS
    lines.append(
        f"- All {product.expected:,} messages within {TARGET_SECONDS:.0f} s: "
        f"{product.seconds:.1f} s, {_verdict(in_time)}."
    )
    if baseline is not None and baseline.seconds > 0 and not math.isnan(product.seconds):
        ratio = product.mail_rate / baseline.mail_rate if baseline.mail_rate else 0.0
        lines.append(
            f"- Throughput: the product accepted {product.mail_rate:,.0f} mails/s "
            f"({product.rate:,.0f} messages/s with the webhooks), the baseline "
            f"{baseline.mail_rate:,.0f} mails/s: {ratio:.0%} of the baseline "
            f"(target >= {TARGET_RATIO:.0%}; counted on mail only, the webhooks' time "
            f"included): {_verdict(ratio >= TARGET_RATIO)}."
        )
    if product.messages and product.seconds > 0:
        worker_ms = product.cpu / product.messages * 1000
        sink_ms = product.sink_cpu / product.messages * 1000
        cpus = int(info["cpus"]) or 1
        bound = cpus / ((worker_ms + sink_ms) / 1000)
        lines.append(
            f"- CPU per message in the product run: {worker_ms:.2f} ms in the worker(s) "
            f"(claim, render, sign, SMTP client, one commit per delivery), {sink_ms:.2f} ms in "
            f"the sink. With nothing else running, {cpus} CPUs could not pass about "
            f"{bound:,.0f} messages/s ({product.expected / bound:.0f} s for this run) with these "
            "costs, however the work is spread."
        )
    peak = sum(product.rss)
    lines.append(
        f"- Peak resident memory (VmHWM) of the worker process(es): {peak:.0f} MiB "
        f"(target < {TARGET_RSS_MB:.0f} MB): {_verdict(peak < TARGET_RSS_MB)}."
    )
    return "\n".join(lines)
